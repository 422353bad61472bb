"""Every exception octavo-tub raises, with Foolscap's names and meanings.

``BananaError`` and ``Violation`` are octavo.banana's classes (a peer's bad bytes or
refused values), re-exported here so that ``octavo.tub`` has one place for errors.
"""

from __future__ import annotations

from typing import Any

from octavo.banana import BananaError, Violation

__all__ = [
    "BadArgumentsError",
    "BananaError",
    "CertificateError",
    "DeadReferenceError",
    "DuplicateConnection",
    "FailureStateError",
    "InvalidHintError",
    "MissingPluginError",
    "NegotiationError",
    "NoLocationError",
    "NoLocationHintsError",
    "PBError",
    "RemoteException",
    "RemoteNegotiationError",
    "RevokedReferenceError",
    "TubStoppedError",
    "UnknownMethodError",
    "Violation",
    "WrongNameError",
    "WrongTubIdError",
]


# -- calls and references ------------------------------------------------------


class DeadReferenceError(Exception):
    """The connection behind a RemoteReference is gone (Foolscap's ``DeadReferenceError``).

    ``why`` says what happened, ``remote_tubid`` names the far Tub (short form) and
    ``request`` is the outstanding call that was abandoned, if any.
    """

    def __init__(
        self, why: str | None = None, remote_tubid: str | None = None, request: Any = None
    ) -> None:
        super().__init__(why, remote_tubid, request)
        self.why = why
        self.remote_tubid = remote_tubid
        self.request = request

    def __str__(self) -> str:
        parts: list[str] = []
        if self.why:
            parts.append(self.why)
        if self.remote_tubid:
            parts.append(f"(to tubid={self.remote_tubid})")
        if self.request is not None:
            iname, mname = self.request.getMethodNameInfo()
            parts.append(f"(during method={iname}:{mname})")
        return " ".join(parts)


class RemoteException(Exception):  # noqa: N818 - Foolscap's name
    """A remote call failed, wrapped because ``expose-remote-exception-types`` is off.

    ``failure`` is the CopiedFailure describing what happened on the far end.
    """

    def __init__(self, failure: Any) -> None:
        super().__init__(failure)
        self.failure = failure

    def __str__(self) -> str:
        return f"<RemoteException around '{self.failure}'>"


class UnknownMethodError(AttributeError):
    """A call named a method the object does not have (``remote_<name>``).

    An AttributeError, as in Foolscap (``check(AttributeError)`` matches it on both
    ends); sent back without a traceback, since nothing of the object ran.
    """


class BadArgumentsError(TypeError):
    """A call's arguments do not fit the method's signature (nothing of it ran).

    A TypeError, as Python says it; sent back without a traceback.
    """


#: failures of a call that never reached application code: their error answers
#: carry no traceback, so they stay a small multiple of the call that caused them
CALL_REFUSALS: tuple[type[BaseException], ...] = (Violation, UnknownMethodError, BadArgumentsError)


class FailureStateError(ValueError):
    """The attributes of a received failure do not have the expected shape."""


# -- the Tub -----------------------------------------------------------------------


class PBError(Exception):
    """A Tub was used in a way it does not allow."""


class NoLocationError(PBError):
    """The Tub has no location yet: call setLocation() first."""


class WrongTubIdError(PBError):
    """A FURL (e.g. in a furlFile) names a different TubID than this Tub's."""


class WrongNameError(PBError):
    """A furlFile holds a FURL with a different name than the one requested."""


class TubStoppedError(RuntimeError):
    """This Tub has been stopped; Tubs cannot be restarted or reused."""


class RevokedReferenceError(KeyError):
    """The object was revoked with Tub.revokeReference and can no longer be reached."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "reference revoked"


class MissingPluginError(RuntimeError):
    """An option needs a plug-in (e.g. octavo-logging) that is not installed."""


# -- connecting ------------------------------------------------------------------------


class CertificateError(ValueError):
    """The certificate data given to a Tub could not be used."""


class NoLocationHintsError(Exception):
    """A FURL offered no connection hint we could use."""


class InvalidHintError(Exception):
    """A location hint could not be understood or turned into an endpoint."""


class NegotiationError(Exception):
    """Negotiation with the peer failed; the message says why."""


class DuplicateConnection(NegotiationError):  # noqa: N818 (Foolscap's name)
    """The master refused this connection: one to the same Tub already exists."""


class RemoteNegotiationError(NegotiationError):
    """The peer reported that negotiation failed (its message is the argument)."""
