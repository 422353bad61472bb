"""octavo.api: Foolscap's one-stop import, from the Octavo distributions.

Every name ``foolscap.api`` 24.9 exports is here with the same meaning, so porting a
Foolscap program is a change of imports (``foolscap.api`` -> ``octavo.api``,
``foolscap.logging`` -> ``octavo.logging``). Where Octavo differs on purpose, see the
migration table of the user guide; in short: ``serialize`` stores no instance of an
arbitrary class (make it Copyable), and every refusal is a typed error.
"""

from octavo.banana import (
    Any,
    ChoiceOf,
    DictOf,
    IntegerConstraint,
    ListOf,
    SetOf,
    StringConstraint,
    TupleOf,
)
from octavo.logging import app_versions
from octavo.tub import (
    BananaError,
    Copyable,
    DeadReferenceError,
    IConnectionHintHandler,
    Referenceable,
    RemoteCopy,
    RemoteException,
    RemoteInterface,
    SturdyRef,
    Tub,
    Violation,
    eventually,
    fireEventually,
    flushEventualQueue,
    registerCopier,
    registerRemoteCopy,
    registerRemoteCopyFactory,
)

from ._storage import serialize, unserialize
from ._version import __version__

__all__ = [
    "Any",
    "BananaError",
    "ChoiceOf",
    "Copyable",
    "DeadReferenceError",
    "DictOf",
    "IConnectionHintHandler",
    "IntegerConstraint",
    "ListOf",
    "Referenceable",
    "RemoteCopy",
    "RemoteException",
    "RemoteInterface",
    "SetOf",
    "StringConstraint",
    "SturdyRef",
    "Tub",
    "TupleOf",
    "Violation",
    "__version__",
    "app_versions",
    "eventually",
    "fireEventually",
    "flushEventualQueue",
    "registerCopier",
    "registerRemoteCopy",
    "registerRemoteCopyFactory",
    "serialize",
    "unserialize",
]
