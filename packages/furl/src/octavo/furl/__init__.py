"""octavo-furl: parse and produce Foolscap FURLs (``pb://TUBID@HINT,HINT/NAME``).

Standard library only.  See the package README for the differences from Foolscap.
"""

from ._errors import BadFURLError
from ._furl import FURL, SturdyRef, TubRef, check_tubid, decode_furl, encode_furl, parse_furl
from ._hints import I2PHint, InvalidHint, LocationHint, TCPHint, TorHint, UnknownHint, parse_hint
from ._version import __version__

__all__ = [
    "FURL",
    "BadFURLError",
    "I2PHint",
    "InvalidHint",
    "LocationHint",
    "SturdyRef",
    "TCPHint",
    "TorHint",
    "TubRef",
    "UnknownHint",
    "__version__",
    "check_tubid",
    "decode_furl",
    "encode_furl",
    "parse_furl",
    "parse_hint",
]
