# mypy: disable-error-code="no-untyped-call"
# (Twisted's Failure, Protocol and error classes are not annotated.)
"""Test helpers for the broker side: a fake Tub and an in-memory pumped connection.

Example::

    clock = Clock()
    conn = BrokerConnection.between(FakeTub("a"), FakeTub("b"), clock=clock)
    d = conn.left.getYourReferenceByName("name")
    conn.pump()
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from twisted.internet import error as twisted_error
from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred, fail
from twisted.internet.interfaces import ITransport
from twisted.internet.protocol import Protocol
from twisted.internet.task import Clock
from twisted.python.failure import Failure
from zope.interface import implementer  # type: ignore[import-untyped,unused-ignore]

from octavo.furl import TubRef, parse_hint

from ._broker._broker import Broker
from ._eventual import queue_for

__all__ = ["BrokerConnection", "FakeTub", "PipeTransport", "pump_until_quiet"]

_B32 = "abcdefghijklmnopqrstuvwxyz234567"


def make_tubid(seed: str) -> str:
    """A valid-looking 32-character base32 TubID derived from ``seed``."""
    out = []
    for i in range(32):
        out.append(_B32[(ord(seed[i % len(seed)]) + i * 7) % 32])
    return "".join(out)


class FakeTub:
    """A minimal BrokerTub: a name table, flags, and a record of detached brokers."""

    unsafeTracebacks = True
    logLocalFailures = False
    logRemoteFailures = False
    debugBanana = False
    expose_remote_exception_types = True
    accept_gifts = True

    def __init__(self, seed: str = "tub", *, location: str | None = "127.0.0.1:1") -> None:
        self.tubID = make_tubid(seed)
        self.location = location
        self.names: dict[str, Any] = {}
        self.detached: list[tuple[Any, Failure]] = []
        self.gift_resolver: Callable[[str], Deferred[Any]] | None = None

    def getTubID(self) -> str:
        """The TubID."""
        return self.tubID

    def getShortTubID(self) -> str:
        """First four characters of the TubID."""
        return self.tubID[:4]

    def tubref(self) -> TubRef:
        """This Tub's TubRef."""
        return TubRef(self.tubID, (parse_hint(self.location),) if self.location else ())

    def register(self, obj: Any, name: str | None = None) -> str:
        """Publish ``obj``; return its FURL."""
        if name is None:
            name = os.urandom(8).hex()
        self.names[name] = obj
        return self.buildURL(name)

    def buildURL(self, name: str) -> str:
        """The FURL of ``name`` in this Tub."""
        return f"pb://{self.tubID}@{self.location or ''}/{name}"

    def getReferenceForName(self, name: str) -> Any:
        """The object registered as ``name`` (KeyError if none)."""
        try:
            return self.names[name]
        except KeyError:
            raise KeyError(
                f"unable to find reference for name starting with {name[:2]!r}"
            ) from None

    def getOrCreateURLForReference(self, ref: Any) -> str | None:
        """The FURL of ``ref``, registering it under a fresh name if needed."""
        if self.location is None:
            return None
        for name, obj in self.names.items():
            if obj is ref:
                return self.buildURL(name)
        return self.register(ref)

    def getReference(self, sturdyOrURL: Any) -> Deferred[Any]:
        """Resolve a gift through ``gift_resolver`` (set by the test)."""
        if self.gift_resolver is None:
            return fail(twisted_error.ConnectError("this FakeTub cannot connect anywhere"))
        return self.gift_resolver(str(sturdyOrURL))

    def brokerDetached(self, broker: Any, why: Failure) -> None:
        """Record the detach."""
        self.detached.append((broker, why))


@implementer(ITransport)
class PipeTransport:
    """One end of an in-memory pipe: writes are buffered until the pipe is pumped.

    Flow control as a TCP transport does it: with ``high_water`` set, a registered
    producer is paused once more than that many bytes wait in :attr:`buffer`, and
    resumed when :meth:`take` empties it; ``pauseProducing`` stops the pipe from
    delivering to our protocol (``reading``) until ``resumeProducing``.
    """

    disconnecting = False

    def __init__(self, host: IPv4Address, peer: IPv4Address) -> None:
        self.buffer: list[bytes] = []
        self.protocol: Protocol | None = None
        self.connected = True
        self.lose_requested = False
        self._host = host
        self._peer = peer
        #: bytes waiting in buffer past which a registered producer is paused (None: never)
        self.high_water: int | None = None
        self.producer: Any = None
        self._producer_paused = False
        #: whether our protocol reads (False after pauseProducing)
        self.reading = True

    def write(self, data: bytes) -> None:
        """Buffer ``data`` for the other end."""
        if self.connected and not self.lose_requested:
            self.buffer.append(bytes(data))
            high = self.high_water
            if (
                high is not None
                and self.producer is not None
                and not self._producer_paused
                and sum(map(len, self.buffer)) > high
            ):
                self._producer_paused = True
                self.producer.pauseProducing()

    def registerProducer(self, producer: Any, streaming: bool) -> None:
        """Tell ``producer`` when the buffer passes ``high_water`` and drains."""
        self.producer = producer

    def unregisterProducer(self) -> None:
        """Forget the producer."""
        self.producer = None

    def pauseProducing(self) -> None:
        """Our protocol stops reading: the pipe holds what comes for it."""
        self.reading = False

    def resumeProducing(self) -> None:
        """Our protocol reads again."""
        self.reading = True

    def stopProducing(self) -> None:
        """Stop for good."""
        self.loseConnection()

    def writeSequence(self, data: list[bytes]) -> None:
        """Buffer the concatenation."""
        self.write(b"".join(data))

    def loseConnection(self) -> None:
        """Close after the buffered bytes are delivered."""
        self.lose_requested = True
        self.disconnecting = True

    abortConnection = loseConnection

    def getPeer(self) -> IPv4Address:
        """The far end's address."""
        return self._peer

    def getHost(self) -> IPv4Address:
        """Our address."""
        return self._host

    def take(self) -> bytes:
        """Remove and return everything buffered (a paused producer is resumed)."""
        data = b"".join(self.buffer)
        self.buffer = []
        if self._producer_paused and self.producer is not None:
            self._producer_paused = False
            self.producer.resumeProducing()
        return data


class BrokerConnection:
    """Two protocols joined by :class:`PipeTransport` ends, moved by :meth:`pump`."""

    def __init__(self, left: Protocol, right: Protocol, clock: Clock) -> None:
        self.left = left
        self.right = right
        self.clock = clock
        a = IPv4Address("TCP", "127.0.0.1", 40001)
        b = IPv4Address("TCP", "127.0.0.1", 40002)
        self.left_transport = PipeTransport(a, b)
        self.right_transport = PipeTransport(b, a)
        self.left_transport.protocol = left
        self.right_transport.protocol = right
        self.closed = False
        left.makeConnection(self.left_transport)
        right.makeConnection(self.right_transport)

    @classmethod
    def between(
        cls,
        left_tub: FakeTub,
        right_tub: FakeTub,
        *,
        clock: Clock | None = None,
        params: dict[str, object] | None = None,
        **broker_kwargs: Any,
    ) -> BrokerConnection:
        """Two connected Brokers: ``left`` belongs to ``left_tub``, ``right`` to ``right_tub``."""
        clock = clock if clock is not None else Clock()
        if params is None:
            params = {"banana-decision-version": 3, "initial-vocab-table-index": 1}
        left = Broker(left_tub, right_tub.tubref(), params, clock=clock, **broker_kwargs)
        right = Broker(right_tub, left_tub.tubref(), params, clock=clock, **broker_kwargs)
        return cls(left, right, clock)

    def pump(self, max_rounds: int = 1000) -> int:
        """Move bytes and run eventual-sends until nothing is left; return the rounds."""
        return pump_until_quiet(self._step, self.clock, max_rounds)

    def _step(self) -> bool:
        moved = False
        for src, dst in (
            (self.left_transport, self.right_transport),
            (self.right_transport, self.left_transport),
        ):
            if not dst.reading:
                continue  # dst does not read now: the bytes wait in src's buffer
            data = src.take()
            if data and dst.connected and dst.protocol is not None:
                dst.protocol.dataReceived(data)
                moved = True
        if not self.closed and (
            self.left_transport.lose_requested or self.right_transport.lose_requested
        ):
            self.sever(Failure(twisted_error.ConnectionDone("connection closed")))
            moved = True
        return moved

    def sever(self, reason: Failure | None = None) -> None:
        """Drop the connection now: both protocols hear connectionLost(reason)."""
        if self.closed:
            return
        self.closed = True
        if reason is None:
            reason = Failure(twisted_error.ConnectionLost("connection lost"))
        for t in (self.left_transport, self.right_transport):
            t.connected = False
            t.buffer = []
            if t.protocol is not None:
                t.protocol.connectionLost(reason)


def pump_until_quiet(step: Callable[[], bool], clock: Clock, max_rounds: int) -> int:
    """Call ``step()`` and run the clock's zero-delay calls until both are idle."""
    queue = queue_for(clock)
    for rounds in range(1, max_rounds + 1):
        moved = step()
        ran = False
        now = clock.seconds()
        if any(c.getTime() <= now for c in clock.calls):
            clock.advance(0)
            ran = True
        if not moved and not ran and not queue.pending():
            return rounds
    raise RuntimeError(f"the connection did not settle within {max_rounds} rounds")
