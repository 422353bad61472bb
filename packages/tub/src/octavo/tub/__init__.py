"""octavo-tub: the Tub runtime, wire-compatible with Foolscap 24.9.

A :class:`Tub` holds a certificate (its TubID), listens, names local
:class:`Referenceable` objects with FURLs and reaches remote ones as
:class:`RemoteReference` objects, talking Foolscap's negotiation and PB
protocol over TLS. A :class:`Copyable` is sent by value and arrives as the
:class:`RemoteCopy` registered for its copytype.
"""

from octavo.banana import (
    Any,
    AnyStringConstraint,
    BooleanConstraint,
    ByteStringConstraint,
    ChoiceOf,
    Constraint,
    DictOf,
    IntegerConstraint,
    ListOf,
    Nothing,
    NumberConstraint,
    Optional,
    SetOf,
    Shared,
    StringConstraint,
    TupleOf,
    UnicodeConstraint,
)
from octavo.furl import BadFURLError, SturdyRef, TubRef

from ._broker._failure import CopiedFailure
from ._copy_registry import (
    CopyableRegistry,
    copyable_unslicers,
    registerCopier,
    registerRemoteCopyFactory,
    registerRemoteCopyUnslicerFactory,
)
from ._copy_schema import AttributeDictConstraint
from ._copyable import (
    Copyable,
    ICopyable,
    RemoteCopy,
    copyable_slicers,
    registerRemoteCopy,
)
from ._errors import (
    BadArgumentsError,
    BananaError,
    CertificateError,
    DeadReferenceError,
    DuplicateConnection,
    InvalidHintError,
    MissingPluginError,
    NegotiationError,
    NoLocationError,
    NoLocationHintsError,
    PBError,
    RemoteException,
    RemoteNegotiationError,
    RevokedReferenceError,
    TubStoppedError,
    UnknownMethodError,
    Violation,
    WrongNameError,
    WrongTubIdError,
)
from ._eventual import eventually, fireEventually, flushEventualQueue
from ._info import ConnectionInfo
from ._net._hints import DefaultTCP, IConnectionHintHandler
from ._net._identity import create_certificate
from ._net._listener import Listener
from ._net._tor import TorHintHandler, tor_handler
from ._options import PLUGIN_GROUP, TubLoggingPlugin
from ._promise import Promise, UsageError, makePromise, resolvedPromise, send, sendOnly, when
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
from ._schema._annotations import (
    InstanceOf,
    MaxLength,
    MinLength,
    OneOf,
    constraint_from_annotation,
)
from ._schema._interface import RemoteInterface, RemoteInterfaceClass, getRemoteInterface
from ._schema._method import InvalidRemoteInterface, RemoteMethodSchema, UnconstrainedMethod
from ._schema._refs import LocalInterfaceConstraint, RemoteInterfaceConstraint
from ._schema._registry import (
    DuplicateRemoteInterfaceError,
    getRemoteInterfaceByName,
    registerRemoteInterface,
)
from ._tub import Tub
from ._version import __version__
from ._wire._copyables import RemoteCopyUnslicer

__all__ = [
    "PLUGIN_GROUP",
    "Any",
    "AnyStringConstraint",
    "AttributeDictConstraint",
    "BadArgumentsError",
    "BadFURLError",
    "BananaError",
    "BooleanConstraint",
    "ByteStringConstraint",
    "CertificateError",
    "ChoiceOf",
    "ConnectionInfo",
    "Constraint",
    "CopiedFailure",
    "Copyable",
    "CopyableRegistry",
    "DeadReferenceError",
    "DefaultTCP",
    "DictOf",
    "DuplicateConnection",
    "DuplicateRemoteInterfaceError",
    "IConnectionHintHandler",
    "ICopyable",
    "IReferenceable",
    "IRemoteReference",
    "InstanceOf",
    "IntegerConstraint",
    "InvalidHintError",
    "InvalidRemoteInterface",
    "ListOf",
    "Listener",
    "LocalInterfaceConstraint",
    "LocalReferenceable",
    "MaxLength",
    "MinLength",
    "MissingPluginError",
    "NegotiationError",
    "NoLocationError",
    "NoLocationHintsError",
    "Nothing",
    "NumberConstraint",
    "OneOf",
    "OnlyReferenceable",
    "Optional",
    "PBError",
    "Promise",
    "Referenceable",
    "RemoteCopy",
    "RemoteCopyUnslicer",
    "RemoteException",
    "RemoteInterface",
    "RemoteInterfaceClass",
    "RemoteInterfaceConstraint",
    "RemoteMethodReference",
    "RemoteMethodSchema",
    "RemoteNegotiationError",
    "RemoteReference",
    "RemoteReferenceOnly",
    "RevokedReferenceError",
    "SetOf",
    "Shared",
    "StringConstraint",
    "SturdyRef",
    "TorHintHandler",
    "Tub",
    "TubLoggingPlugin",
    "TubRef",
    "TubStoppedError",
    "TupleOf",
    "UnconstrainedMethod",
    "UnicodeConstraint",
    "UnknownMethodError",
    "UsageError",
    "Violation",
    "WrongNameError",
    "WrongTubIdError",
    "__version__",
    "constraint_from_annotation",
    "copyable_slicers",
    "copyable_unslicers",
    "create_certificate",
    "eventually",
    "fireEventually",
    "flushEventualQueue",
    "generateSwissnumber",
    "getRemoteInterface",
    "getRemoteInterfaceByName",
    "makePromise",
    "registerCopier",
    "registerRemoteCopy",
    "registerRemoteCopyFactory",
    "registerRemoteCopyUnslicerFactory",
    "registerRemoteInterface",
    "resolvedPromise",
    "send",
    "sendOnly",
    "tor_handler",
    "when",
]
