"""octavo-tub: the Tub runtime, wire-compatible with Foolscap 24.9.

A :class:`Tub` holds a certificate (its TubID), listens, names local
:class:`Referenceable` objects with FURLs and reaches remote ones as
:class:`RemoteReference` objects, talking Foolscap's negotiation and PB
protocol over TLS.
"""

from octavo.furl import BadFURLError, SturdyRef, TubRef

from ._errors import DeadReferenceError, RemoteException
from ._eventual import eventually, fireEventually, flushEventualQueue
from ._failure import CopiedFailure
from ._hints import DefaultTCP, IConnectionHintHandler, InvalidHintError
from ._identity import CertificateError
from ._info import ConnectionInfo
from ._listener import Listener
from ._negotiation import DuplicateConnection, NegotiationError, RemoteNegotiationError
from ._options import PLUGIN_GROUP, MissingPluginError, TubLoggingPlugin
from ._referenceable import (
    IReferenceable,
    IRemoteReference,
    LocalReferenceable,
    OnlyReferenceable,
    Referenceable,
    RemoteMethodReference,
    RemoteReference,
    RemoteReferenceOnly,
)
from ._registry import generateSwissnumber
from ._tor import TorHintHandler, tor_handler
from ._tub import Tub
from ._tub_errors import (
    NoLocationError,
    NoLocationHintsError,
    PBError,
    RevokedReferenceError,
    TubStoppedError,
    WrongNameError,
    WrongTubIdError,
)
from ._version import __version__
from ._violation import BananaError, Violation

__all__ = [
    "PLUGIN_GROUP",
    "BadFURLError",
    "BananaError",
    "CertificateError",
    "ConnectionInfo",
    "CopiedFailure",
    "DeadReferenceError",
    "DefaultTCP",
    "DuplicateConnection",
    "IConnectionHintHandler",
    "IReferenceable",
    "IRemoteReference",
    "InvalidHintError",
    "Listener",
    "LocalReferenceable",
    "MissingPluginError",
    "NegotiationError",
    "NoLocationError",
    "NoLocationHintsError",
    "OnlyReferenceable",
    "PBError",
    "Referenceable",
    "RemoteException",
    "RemoteMethodReference",
    "RemoteNegotiationError",
    "RemoteReference",
    "RemoteReferenceOnly",
    "RevokedReferenceError",
    "SturdyRef",
    "TorHintHandler",
    "Tub",
    "TubLoggingPlugin",
    "TubRef",
    "TubStoppedError",
    "Violation",
    "WrongNameError",
    "WrongTubIdError",
    "__version__",
    "eventually",
    "fireEventually",
    "flushEventualQueue",
    "generateSwissnumber",
    "tor_handler",
]
