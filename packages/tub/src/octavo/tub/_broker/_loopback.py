# mypy: disable-error-code="no-untyped-call"
# (Twisted's Failure, Protocol and error classes are not annotated.)
"""Connections to our own Tub: two Brokers joined by an in-memory transport.

Each write is delivered to the other side on a later eventual-send turn, so a
loopback call behaves like a network call (never re-entrant), as in Foolscap.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from twisted.internet.interfaces import IAddress, ITransport
from twisted.internet.protocol import Protocol, connectionDone
from twisted.python.failure import Failure
from zope.interface import implementer  # type: ignore[import-untyped,unused-ignore]

from octavo.reconnector import ClockLike
from octavo.tub._eventual import EventualQueue, queue_for
from octavo.tub._negotiation._machine import loopback_params

from ._broker import Broker
from ._tub_protocol import BrokerTub, TubRefLike

__all__ = ["LoopbackAddress", "LoopbackTransport", "make_loopback_brokers"]


@implementer(IAddress)
class LoopbackAddress:
    """The peer address of a loopback connection."""

    def __repr__(self) -> str:
        return "LoopbackAddress()"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LoopbackAddress)

    def __hash__(self) -> int:
        return hash(LoopbackAddress)


@implementer(ITransport)
class LoopbackTransport:
    """One end of an in-memory connection; create two and :meth:`setPeer` them."""

    disconnecting = False

    def __init__(self, queue: EventualQueue) -> None:
        self.connected = True
        self._queue = queue
        self.peer: LoopbackTransport | None = None
        self.protocol: Protocol | None = None
        self.producer: Any = None
        #: data for our protocol held while it does not read (pauseProducing)
        self._held: list[bytes] | None = None

    def setPeer(self, peer: LoopbackTransport) -> None:
        """Join this end to ``peer``."""
        self.peer = peer

    def write(self, data: bytes) -> None:
        """Deliver ``data`` to the peer's protocol on a later turn."""
        if self.connected and data and self.peer is not None:
            self._queue.eventually(self.peer._deliver, bytes(data))

    def writeSequence(self, data: Iterable[bytes]) -> None:
        """Deliver the concatenation of ``data``."""
        self.write(b"".join(data))

    def _deliver(self, data: bytes) -> None:
        if self._held is not None:
            self._held.append(data)
        elif self.connected and self.protocol is not None:
            self.protocol.dataReceived(data)

    def registerProducer(self, producer: Any, streaming: bool) -> None:
        """Keep ``producer`` (an in-memory connection never fills up: never paused)."""
        self.producer = producer

    def unregisterProducer(self) -> None:
        """Forget the producer."""
        self.producer = None

    def pauseProducing(self) -> None:
        """Our protocol stops reading: hold what arrives for it."""
        if self._held is None:
            self._held = []

    def resumeProducing(self) -> None:
        """Our protocol reads again: what was held is delivered on a later turn."""
        held, self._held = self._held, None
        if held:
            self._queue.eventually(self._deliver, b"".join(held))

    def stopProducing(self) -> None:
        """Stop reading for good (the connection is closing)."""
        self.loseConnection()

    def loseConnection(self) -> None:
        """Close both ends (each protocol hears connectionLost on a later turn)."""
        if not self.connected:
            return
        self.disconnecting = True
        peer = self.peer
        self._queue.eventually(self._lost, Failure(connectionDone.value))
        if peer is not None and peer.connected:
            peer.disconnecting = True
            self._queue.eventually(peer._lost, Failure(connectionDone.value))

    abortConnection = loseConnection

    def _lost(self, reason: Failure) -> None:
        if not self.connected:
            return
        self.connected = False
        if self.protocol is not None:
            self.protocol.connectionLost(reason)

    def getPeer(self) -> LoopbackAddress:
        """A LoopbackAddress."""
        return LoopbackAddress()

    def getHost(self) -> LoopbackAddress:
        """A LoopbackAddress."""
        return LoopbackAddress()


def make_loopback_brokers(
    tub: BrokerTub,
    tubref: TubRefLike,
    *,
    clock: ClockLike | None = None,
    connection_info: object = None,
    **broker_kwargs: Any,
) -> tuple[Any, Any]:
    """Two connected Brokers for a connection of ``tub`` to itself: (ours, theirs).

    The Tub keeps ``ours`` (and calls ``brokerAttached`` for it); ``theirs`` serves
    the calls. Both are connected when this returns.
    """
    queue = queue_for(clock)
    t1, t2 = LoopbackTransport(queue), LoopbackTransport(queue)
    t1.setPeer(t2)
    t2.setPeer(t1)
    ours = Broker(
        tub,
        tubref,
        loopback_params(),
        connection_info=connection_info,
        clock=clock,
        **broker_kwargs,
    )
    theirs = Broker(tub, tubref, loopback_params(), clock=clock, **broker_kwargs)
    t1.protocol = ours
    t2.protocol = theirs
    ours.makeConnection(t1)
    theirs.makeConnection(t2)
    return ours, theirs
