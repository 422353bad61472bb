"""The public logging module, as ``foolscap.logging.log``: change the import and go.

``from octavo.logging import log; log.msg("hello", level=log.UNUSUAL)``. Importing it
the first time applies FLOGFILE, FLOGLEVEL, FLOGTWISTED and FLOGTOTWISTED (see
``_environ``), as Foolscap does.
"""

from __future__ import annotations

from ._bridges import (
    FoolscapHandler,
    TwistedLogBridge,
    bridgeLogsFromLogging,
    bridgeLogsFromTwisted,
    bridgeLogsToLogging,
    bridgeLogsToTwisted,
    unbridgeLogsFromTwisted,
)
from ._environ import LogFileObserver, apply_environment
from ._events import format_message
from ._flogfile import add_version
from ._levels import BAD, CURIOUS, INFREQUENT, NOISY, OPERATIONAL, SCARY, UNUSUAL, WEIRD
from ._logger import FoolscapLogger, theLogger

__all__ = [
    "BAD",
    "CURIOUS",
    "INFREQUENT",
    "NOISY",
    "OPERATIONAL",
    "SCARY",
    "UNUSUAL",
    "WEIRD",
    "FoolscapHandler",
    "FoolscapLogger",
    "LogFileObserver",
    "TwistedLogBridge",
    "add_version",
    "bridgeLogsFromLogging",
    "bridgeLogsFromTwisted",
    "bridgeLogsToLogging",
    "bridgeLogsToTwisted",
    "err",
    "explain_facility",
    "format_message",
    "get_generation_threshold",
    "msg",
    "setLogDir",
    "set_buffer_size",
    "set_generation_threshold",
    "theLogger",
    "unbridgeLogsFromTwisted",
]

msg = theLogger.msg
err = theLogger.err
setLogDir = theLogger.setLogDir
explain_facility = theLogger.explain_facility
set_buffer_size = theLogger.set_buffer_size
set_generation_threshold = theLogger.set_generation_threshold
get_generation_threshold = theLogger.get_generation_threshold

#: the FLOGFILE observer, if FLOGFILE was set when this module was first imported
flogfile_observer = apply_environment(theLogger)
