"""Backpressure between two Brokers over in-memory pipes that fill up like TCP's."""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from octavo.tub._broker._broker import Broker
from octavo.tub._referenceable import Referenceable
from octavo.tub.testing import BrokerConnection, FakeTub

BIG = b"\xa5" * 40_000


class Target(Referenceable):
    def __init__(self) -> None:
        self.seen = 0
        self.pending: list[Deferred[None]] = []

    def remote_echo(self, value: Any) -> Any:
        self.seen += 1
        return value

    def remote_later(self) -> Deferred[None]:
        d: Deferred[None] = Deferred()
        self.pending.append(d)
        return d


class PairTestCase(SynchronousTestCase):
    """A calls B's Target over pipes whose buffers pause their producer past a mark."""

    broker_kwargs: dict[str, Any] = {}

    def setUp(self) -> None:
        self.clock = Clock()
        self.tub_a, self.tub_b = FakeTub("a"), FakeTub("b")
        self.target = Target()
        self.tub_b.names["target"] = self.target
        self.conn = BrokerConnection.between(
            self.tub_a, self.tub_b, clock=self.clock, **self.broker_kwargs
        )
        self.a: Broker = self.conn.left  # type: ignore[assignment]
        self.b: Broker = self.conn.right  # type: ignore[assignment]
        got: list[Any] = []
        self.a.getYourReferenceByName("target").addBoth(got.append)
        self.conn.pump()
        self.ref = got[0]


class FlowTests(PairTestCase):
    def test_a_full_send_buffer_stops_reading_until_it_drains(self) -> None:
        """Answers pile up unread: B stops reading A's calls; once A reads, B goes on."""
        self.conn.right_transport.high_water = 100_000
        out: list[Any] = []
        for _ in range(6):
            self.ref.callRemote("echo", BIG).addBoth(out.append)
        self.clock.advance(0)  # A's turn ends: its last held call is written
        # deliver A's calls to B, but never B's answers to A
        self.b.dataReceived(self.conn.left_transport.take())
        self.assertTrue(self.b.flow.send_blocked)
        self.assertTrue(self.b.flow.reading_paused)
        self.assertFalse(self.conn.right_transport.reading)
        self.assertEqual(self.target.seen, 6)  # what was read is answered
        self.ref.callRemote("echo", 1).addBoth(out.append)
        self.conn.pump()  # A reads B's answers: B's buffer drains, B reads again
        self.assertFalse(self.b.flow.send_blocked)
        self.assertFalse(self.b.flow.reading_paused)
        self.assertEqual(out, [BIG] * 6 + [1])

    def test_when_writable_waits_for_the_drain(self) -> None:
        """A bulk sender waits on when_writable() between calls."""
        self.conn.left_transport.high_water = 100_000
        for _ in range(3):
            self.ref.callRemote("echo", BIG)
        self.assertTrue(self.a.flow.send_blocked)
        waited: list[Any] = []
        self.ref.when_writable().addBoth(waited.append)
        self.assertEqual(waited, [])
        self.conn.pump()
        self.assertEqual(waited, [None])
        ready: list[Any] = []
        self.ref.when_writable().addBoth(ready.append)
        self.assertEqual(ready, [None])  # not blocked: at once

    def test_when_writable_fires_when_the_connection_is_lost(self) -> None:
        """Whoever waits to send is not left hanging by a lost connection."""
        self.conn.left_transport.high_water = 100_000
        for _ in range(3):
            self.ref.callRemote("echo", BIG)
        waited: list[Any] = []
        self.ref.when_writable().addBoth(waited.append)
        self.conn.sever()
        self.assertEqual(waited, [None])

    def test_a_paused_connection_is_not_timed_out(self) -> None:
        """While B does not read (its own choice), A's silence is not held against it:
        the disconnect timeout waits for reading to resume."""
        conn = BrokerConnection.between(
            FakeTub("x"), self.tub_b, clock=self.clock, disconnect_timeout=10
        )
        b: Broker = conn.right  # type: ignore[assignment]
        b.flow.pauseProducing()
        self.clock.advance(30)
        self.assertFalse(b.disconnected)
        b.flow.resumeProducing()
        self.clock.advance(5)
        self.assertFalse(b.disconnected)
        self.clock.advance(20)
        self.assertTrue(b.disconnected)


class RunningLimitTests(PairTestCase):
    broker_kwargs = {"max_inbound_calls": 2}

    def test_reading_stops_at_the_running_limit(self) -> None:
        """With max_inbound_calls running, B stops reading; an answer lets it go on."""
        out: list[Any] = []
        for _ in range(2):
            self.ref.callRemote("later").addBoth(out.append)
        self.conn.pump()
        self.assertTrue(self.b.flow.reading_paused)
        self.ref.callRemote("echo", 7).addBoth(out.append)
        self.conn.pump()
        self.assertEqual(out, [])  # not read
        self.target.pending[0].callback(None)
        self.conn.pump()
        self.assertEqual(out, [None, 7])  # room for one: the waiting call was read, run
        self.assertFalse(self.b.flow.reading_paused)
        self.target.pending[1].callback(None)
        self.conn.pump()
        self.assertEqual(out, [None, 7, None])
