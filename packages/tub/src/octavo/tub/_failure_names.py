"""The names of shared error classes on the wire: Foolscap's, in both directions.

A failure travels with the qualified names of its class and of the class's bases.
Where Octavo and Foolscap have the same error (``Violation``, ``BananaError``, ...),
Octavo sends Foolscap's name, so that ``f.check(Violation)`` matches in a Foolscap
peer, and Octavo's ``CopiedFailure.check`` treats either name as the same class, so
``f.check(octavo.tub.Violation)`` matches a failure copied from Foolscap.
"""

from __future__ import annotations

from octavo.furl import BadFURLError

from ._errors import (
    BananaError,
    DeadReferenceError,
    DuplicateConnection,
    InvalidHintError,
    NegotiationError,
    NoLocationError,
    NoLocationHintsError,
    PBError,
    RemoteException,
    RemoteNegotiationError,
    Violation,
    WrongNameError,
    WrongTubIdError,
)

__all__ = ["FOOLSCAP_NAMES", "wire_name"]

#: our class -> the qualified name Foolscap gives the same error
FOOLSCAP_NAMES: dict[type[Exception], str] = {
    Violation: "foolscap.tokens.Violation",
    BananaError: "foolscap.tokens.BananaError",
    RemoteException: "foolscap.tokens.RemoteException",
    DeadReferenceError: "foolscap.ipb.DeadReferenceError",
    PBError: "foolscap.tokens.PBError",
    NegotiationError: "foolscap.tokens.NegotiationError",
    DuplicateConnection: "foolscap.tokens.DuplicateConnection",
    RemoteNegotiationError: "foolscap.tokens.RemoteNegotiationError",
    WrongTubIdError: "foolscap.tokens.WrongTubIdError",
    WrongNameError: "foolscap.tokens.WrongNameError",
    NoLocationError: "foolscap.tokens.NoLocationError",
    NoLocationHintsError: "foolscap.tokens.NoLocationHintsError",
    InvalidHintError: "foolscap.ipb.InvalidHintError",
    BadFURLError: "foolscap.furl.BadFURLError",
}

_TO_WIRE = {f"{cls.__module__}.{cls.__qualname__}": name for cls, name in FOOLSCAP_NAMES.items()}


def wire_name(qualname: str) -> str:
    """The name sent for the class named ``qualname`` (Foolscap's for shared errors)."""
    return _TO_WIRE.get(qualname, qualname)
