"""Exceptions of the broker side of octavo-tub (Foolscap's names and meanings)."""

from __future__ import annotations

from typing import Any

__all__ = ["DeadReferenceError", "RemoteException"]


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
