"""octavo-logging: Foolscap-compatible structured logging, incidents and flogfiles."""

from ._events import format_message
from ._flogfile import (
    FlogFileError,
    FlogLineError,
    FlogWriter,
    NotAFlogFileError,
    PickleFlogFileError,
    read_flogfile,
)
from ._incidents import (
    IncidentClassifier,
    IncidentQualifier,
    IncidentReporter,
    NonTrailingIncidentReporter,
)
from ._levels import BAD, CURIOUS, INFREQUENT, NOISY, OPERATIONAL, SCARY, UNUSUAL, WEIRD
from ._logger import FoolscapLogger
from ._version import __version__

__all__ = [
    "BAD",
    "CURIOUS",
    "INFREQUENT",
    "NOISY",
    "OPERATIONAL",
    "SCARY",
    "UNUSUAL",
    "WEIRD",
    "FlogFileError",
    "FlogLineError",
    "FlogWriter",
    "FoolscapLogger",
    "IncidentClassifier",
    "IncidentQualifier",
    "IncidentReporter",
    "NonTrailingIncidentReporter",
    "NotAFlogFileError",
    "PickleFlogFileError",
    "__version__",
    "format_message",
    "read_flogfile",
]
