"""Errors raised by the Tub and its connection machinery (Foolscap's names)."""

from __future__ import annotations

__all__ = [
    "NoLocationError",
    "NoLocationHintsError",
    "PBError",
    "RevokedReferenceError",
    "TubStoppedError",
    "WrongNameError",
    "WrongTubIdError",
]


class PBError(Exception):
    """A Tub was used in a way it does not allow."""


class NoLocationError(PBError):
    """The Tub has no location yet: call setLocation() first."""


class NoLocationHintsError(Exception):
    """A FURL offered no connection hint we could use."""


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
