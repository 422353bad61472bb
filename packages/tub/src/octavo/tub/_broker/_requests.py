"""Our calls waiting for an answer: the Deferred behind each ``callRemote``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twisted.internet.defer import Deferred

if TYPE_CHECKING:
    from ._roles import RequestBroker

__all__ = ["PendingRequest"]


class PendingRequest:
    """A call we sent that waits for its answer (Foolscap's PendingRequest).

    The connection keeps it by ``reqID`` until the answer, an error, or the end of
    the connection; ``constraint`` (if set) is what the answer must satisfy.
    """

    __slots__ = (
        "active",
        "broker",
        "constraint",
        "deferred",
        "interfaceName",
        "methodName",
        "reqID",
        "rref",
    )

    def __init__(self, reqID: int, rref: Any, interface_name: str | None, method: str) -> None:
        self.reqID = reqID
        self.rref = rref  # keeps the target's proxy alive until answered
        self.broker: RequestBroker | None = None
        self.deferred: Deferred[Any] = Deferred()
        self.constraint: Any = None
        self.interfaceName = interface_name
        self.methodName = method
        self.active = True

    def getMethodNameInfo(self) -> tuple[str | None, str]:
        """(interface name, method name), for error messages."""
        return self.interfaceName, self.methodName

    def complete(self, res: object) -> None:
        """The answer arrived."""
        if self.active:
            self.active = False
            self.deferred.callback(res)

    def fail(self, why: Any) -> None:
        """The call failed (error answer, violation, or lost connection)."""
        if not self.active:
            return
        if self.broker is not None:
            self.broker.logRemoteFailure(self, why)
        self.active = False
        self.deferred.errback(why)
