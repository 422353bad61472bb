"""A stand-in Broker for connection tests: records what negotiation hands it.

It provides the Tub-facing Broker API (``ManagedBroker``) and nothing of PB.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import reactor
from twisted.internet.protocol import Protocol
from twisted.python.failure import Failure

from octavo.tub._tub import Tub


class ProbeBroker(Protocol):
    """Takes over a negotiated transport; detaches from its Tub when it ends."""

    def __init__(
        self, tub: Tub, tubref: Any, params: dict[str, object], connection_info: Any
    ) -> None:
        self.tub = tub
        self.connection_info = connection_info
        self.remote_tubref = tubref
        self.params = params
        self.current_slave_IR = params.get("current-slave-IR")
        self.current_seqnum = params.get("current-seqnum")
        self.creation_timestamp = reactor.seconds()
        self.inboundDeliveryQueue: list[Any] = []
        self.waitingForAnswers: dict[int, Any] = {}
        self.revoked: list[Any] = []
        self.received = b""
        self.lost: Failure | None = None
        self._lost_watchers: list[Any] = []

    def dataReceived(self, data: bytes) -> None:
        self.received += data

    def connectionLost(self, reason: Failure = None) -> None:  # type: ignore[assignment]
        self.lost = reason
        self.tub.brokerDetached(self, reason)
        for cb in self._lost_watchers:
            cb()

    def shutdown(self, why: Failure, fireDisconnectWatchers: bool = True) -> None:
        self.transport.loseConnection()

    def revokeReference(self, obj: Any) -> None:
        self.revoked.append(obj)

    def getYourReferenceByName(self, name: str) -> Any:
        raise NotImplementedError("a ProbeBroker speaks no PB")

    def getConnectionInfo(self) -> Any:
        return self.connection_info

    def _notifyOnConnectionLost(self, cb: Any) -> None:
        if self.lost is not None:
            cb()
        else:
            self._lost_watchers.append(cb)


class ProbeTub(Tub):
    """A Tub whose connections end in ProbeBrokers."""

    def _make_broker(self, tubref: Any, params: dict[str, object], connection_info: Any) -> Any:
        return ProbeBroker(self, tubref, params, connection_info)
