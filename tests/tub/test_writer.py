"""Adaptive corking: how many transport writes a Broker makes, driven by a Clock.

A lone message is written at once and schedules nothing; what is written while input
is handled leaves in one write; writes close after an alone one (same turn, no input
between) leave together at the turn's end; half a window of calls in flight leaves
before the read's end (the far side starts on it); held writes wait out a full send
buffer to the end of the turn and are dropped when the connection is lost.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.protocols.tls import TLSMemoryBIOProtocol
from twisted.trial.unittest import SynchronousTestCase

from octavo.tub._broker._broker import Broker
from octavo.tub._broker._tls_read import cork_tls_reads
from octavo.tub._broker._writer import (
    FLUSH_AT,
    SLICE_MIN,
    SLICE_MIN_ALONE,
    SPOOL_AT,
    SPOOL_SLICE,
    TURN_WINDOW,
    CorkedWriter,
)
from octavo.tub._referenceable import Referenceable
from octavo.tub.testing import BrokerConnection, FakeTub


class Target(Referenceable):
    def __init__(self) -> None:
        self.pending: list[Deferred[int]] = []

    def remote_echo(self, value: Any) -> Any:
        return value

    def remote_later(self) -> Deferred[int]:
        d: Deferred[int] = Deferred()
        self.pending.append(d)
        return d


class Recording:
    """A transport that records each write."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.writes.append(data)


class WriterTests(SynchronousTestCase):
    """CorkedWriter alone, on a recording transport."""

    def setUp(self) -> None:
        self.clock = Clock()
        self.flow = SimpleNamespace(send_blocked=False)
        self.writer = CorkedWriter(self.clock, self.flow)
        self.transport = Recording()
        self.writer.attach(self.transport)

    def test_alone_at_once_then_the_rest_at_the_turns_end(self) -> None:
        """The first write goes out at once; the others of that turn in one write."""
        w = self.writer
        w.write(b"a")
        self.assertEqual(self.transport.writes, [b"a"])
        for piece in (b"b", b"c", b"d"):
            w.write(piece)
        self.assertEqual(self.transport.writes, [b"a"])
        self.clock.advance(0)
        self.assertEqual(self.transport.writes, [b"a", b"bcd"])
        w.write(b"e")  # a new turn: at once again
        self.assertEqual(self.transport.writes, [b"a", b"bcd", b"e"])

    def test_an_alone_write_schedules_nothing(self) -> None:
        """A write alone goes out at once with no timer (a serial call's cost); a write
        after it further than TURN_WINDOW away is alone too."""
        w = self.writer
        w.write(b"a")
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.clock.advance(TURN_WINDOW * 2)
        w.write(b"b")
        self.assertEqual(self.transport.writes, [b"a", b"b"])
        self.assertEqual(self.clock.getDelayedCalls(), [])
        w.write(b"c")  # close after b: opens a turn
        self.assertEqual(self.transport.writes, [b"a", b"b"])
        self.assertEqual(len(self.clock.getDelayedCalls()), 1)
        self.clock.advance(0)
        self.assertEqual(self.transport.writes, [b"a", b"b", b"c"])

    def test_input_makes_the_next_write_alone(self) -> None:
        """After input (a burst) the next write goes out at once, however close."""
        w = self.writer
        w.write(b"a")
        self.assertTrue(w.cork())
        w.uncork()
        w.write(b"b")
        self.assertEqual(self.transport.writes, [b"a", b"b"])
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_a_big_message_close_after_an_alone_write_is_not_held(self) -> None:
        """Past FLUSH_AT, a turn's first held message is written at once."""
        w = self.writer
        w.write(b"a")
        big = b"\xa5" * (FLUSH_AT + 1)
        w.write_message([b"head", big])
        self.assertEqual(self.transport.writes, [b"a", b"head", big])

    def test_a_burst_is_one_write(self) -> None:
        """Corked: everything leaves at uncork, in order, as one write."""
        w = self.writer
        self.assertTrue(w.cork())
        self.assertFalse(w.cork())  # nested: the outer caller uncorks
        for piece in (b"x", b"y", b"z"):
            w.write(piece)
        self.assertEqual(self.transport.writes, [])
        w.uncork()
        self.assertEqual(self.transport.writes, [b"xyz"])
        self.assertEqual(self.clock.getDelayedCalls(), [])  # no timer for a burst

    def test_input_ends_the_turn(self) -> None:
        """Input during a turn ends it: what it held leaves with the burst's writes, no
        timer is left, and the next write is the first of a new turn."""
        w = self.writer
        w.write(b"a")
        w.write(b"b")
        self.assertTrue(w.cork())
        self.assertEqual(self.clock.getDelayedCalls(), [])
        w.write(b"c")
        w.uncork()
        self.assertEqual(self.transport.writes, [b"a", b"bc"])
        w.write(b"d")
        w.write(b"e")
        self.assertEqual(self.transport.writes, [b"a", b"bc", b"d"])
        self.clock.advance(0)
        self.assertEqual(self.transport.writes, [b"a", b"bc", b"d", b"e"])

    def test_bulk_is_not_held(self) -> None:
        """Past FLUSH_AT held bytes are written at once; big pieces are not joined."""
        w = self.writer
        w.write(b"a")
        big = b"\xa5" * (FLUSH_AT + 1)
        w.write(b"b")
        w.write_message([b"head", big])
        self.assertEqual(self.transport.writes, [b"a", b"bhead", big])
        self.assertIs(self.transport.writes[2], big)

    def test_blocked_writes_wait_for_the_turns_end(self) -> None:
        """While the send buffer is full, even a first write is held to the turn's end."""
        self.flow.send_blocked = True
        self.writer.write(b"a")
        self.writer.write(b"b")
        self.assertEqual(self.transport.writes, [])
        self.clock.advance(0)
        self.assertEqual(self.transport.writes, [b"ab"])

    def test_lost_drops_held_writes(self) -> None:
        """Once the transport is gone nothing is written, held writes are dropped."""
        w = self.writer
        w.write(b"a")
        w.write(b"b")
        w.lost()
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.clock.advance(0)
        w.write(b"c")
        w.flush()
        self.assertEqual(self.transport.writes, [b"a"])
        self.assertEqual(w.holding, 0)


class SliceTests(SynchronousTestCase):
    """CorkedWriter.handling: half a window of held messages leaves at once, once."""

    def setUp(self) -> None:
        self.flow = SimpleNamespace(send_blocked=False)
        self.writer = CorkedWriter(Clock(), self.flow)
        self.transport = Recording()
        self.writer.attach(self.transport)

    def pieces(self, count: int, start: int = 0) -> list[bytes]:
        return [b"%d," % i for i in range(start, start + count)]

    def test_half_the_window_then_the_rest_at_the_end(self) -> None:
        w = self.writer
        w.cork()
        w.handling(4 * SLICE_MIN)
        first = self.pieces(2 * SLICE_MIN)
        for piece in first[:-1]:
            w.write_message(piece)
        self.assertEqual(self.transport.writes, [])
        w.write_message(first[-1])
        self.assertEqual(self.transport.writes, [b"".join(first)])
        rest = self.pieces(2 * SLICE_MIN + 3, 2 * SLICE_MIN)
        for piece in rest:
            w.write_message(piece)
        self.assertEqual(len(self.transport.writes), 1)  # once per read
        w.uncork()
        self.assertEqual(self.transport.writes, [b"".join(first), b"".join(rest)])

    def test_small_windows_are_not_sliced(self) -> None:
        """A window under 2 * SLICE_MIN is written whole at the end."""
        w = self.writer
        w.cork()
        w.handling(2 * SLICE_MIN - 1)
        pieces = self.pieces(2 * SLICE_MIN - 1)
        for piece in pieces:
            w.write_message(piece)
        self.assertEqual(self.transport.writes, [])
        w.uncork()
        self.assertEqual(self.transport.writes, [b"".join(pieces)])

    def test_smaller_windows_while_alone(self) -> None:
        """Windows from 2 * SLICE_MIN_ALONE are sliced while this connection is the only
        one of the process getting answers (no other writer handled a batch since its
        last one); with others getting answers in between, from 2 * SLICE_MIN."""
        a, b = self.writer, CorkedWriter(Clock(), self.flow)
        small = 2 * SLICE_MIN_ALONE
        a.handling(small)
        self.assertEqual(a.slice_at, 0)  # its first batch: nothing known yet
        a.handling(small)
        self.assertEqual(a.slice_at, small // 2)  # alone
        b.handling(small)
        self.assertEqual(b.slice_at, 0)
        a.handling(small)
        self.assertEqual(a.slice_at, 0)  # b got answers in between
        a.handling(small - 1)
        self.assertEqual(a.slice_at, 0)  # alone again, but under 2 * SLICE_MIN_ALONE
        b.handling(2 * SLICE_MIN)
        self.assertEqual(b.slice_at, SLICE_MIN)  # big windows: always

    def test_not_while_the_send_buffer_is_full(self) -> None:
        w = self.writer
        w.cork()
        w.handling(2 * SLICE_MIN)
        self.flow.send_blocked = True
        pieces = self.pieces(2 * SLICE_MIN)
        for piece in pieces:
            w.write_message(piece)
        self.assertEqual(self.transport.writes, [])
        self.flow.send_blocked = False
        w.uncork()
        self.assertEqual(self.transport.writes, [b"".join(pieces)])


class SpoolTests(SynchronousTestCase):
    """A piece past SPOOL_AT goes a slice at a time, as the transport drains."""

    def setUp(self) -> None:
        self.clock = Clock()
        self.transport = Recording()
        self.waiters: list[Deferred[None]] = []
        self.writer = CorkedWriter(self.clock, self, self.when_writable)
        self.writer.attach(self.transport)

    @property
    def send_blocked(self) -> bool:
        """As a TCP transport: past its high-water mark after each big write."""
        return bool(self.transport.writes) and len(self.transport.writes[-1]) > FLUSH_AT

    def when_writable(self) -> Deferred[None]:
        d: Deferred[None] = Deferred()
        self.waiters.append(d)
        return d

    def drained(self) -> None:
        self.transport.writes.append(b"")  # (the buffer is empty: not blocked)
        self.waiters.pop().callback(None)

    def test_a_big_piece_goes_a_slice_at_a_time_and_later_writes_wait(self) -> None:
        """Each slice is written once the last one drained; writes made meanwhile follow
        the big piece, in order; the slices together are the piece."""
        big = bytes(range(256)) * ((SPOOL_AT + 3 * SPOOL_SLICE) // 256)
        w = self.writer
        w.write_message([b"head", big, b"tail"])
        self.assertEqual(self.transport.writes, [b"head", big[:SPOOL_SLICE]])
        self.clock.advance(0)
        w.write(b"later")
        w.write_message([b"x" * (SPOOL_AT + 1)])  # (queued: no second wait)
        self.assertEqual(len(self.waiters), 1)
        self.assertGreater(w.spooled, 0)
        while self.waiters:
            self.assertEqual(len(self.waiters), 1)
            self.drained()
        self.clock.advance(0)  # (nothing left held)
        data = b"".join(bytes(x) for x in self.transport.writes)
        self.assertEqual(data, b"head" + big + b"tail" + b"later" + b"x" * (SPOOL_AT + 1))
        self.assertEqual(w.spooled, 0)

    def test_write_out_writes_everything_now(self) -> None:
        """Before a close, what is spooled is written at once; after loss, nothing."""
        big = b"\xa5" * (SPOOL_AT + 1)
        self.writer.write_message([big, b"end"])
        self.writer.write_out()
        self.assertEqual(b"".join(bytes(x) for x in self.transport.writes), big + b"end")
        self.writer.write_message([big])
        self.writer.lost()
        while self.waiters:
            self.drained()
        self.assertEqual(self.writer.spooled, 0)
        written = b"".join(bytes(x) for x in self.transport.writes)
        self.assertEqual(len(written), len(big) + 3 + SPOOL_SLICE)  # one slice, then lost


class PairTestCase(SynchronousTestCase):
    """Two Brokers over in-memory pipes; counts the writes on each side."""

    def setUp(self) -> None:
        self.clock = Clock()
        self.target = Target()
        tub_a, tub_b = FakeTub("a"), FakeTub("b")
        tub_b.names["target"] = self.target
        self.conn = BrokerConnection.between(tub_a, tub_b, clock=self.clock)
        self.a: Broker = self.conn.left  # type: ignore[assignment]
        self.b: Broker = self.conn.right  # type: ignore[assignment]
        got: list[Any] = []
        self.a.getYourReferenceByName("target").addBoth(got.append)
        self.conn.pump()
        self.ref = got[0]
        self.out = self.conn.left_transport  # what A writes
        self.back = self.conn.right_transport  # what B writes

    def results(self, ds: list[Deferred[Any]]) -> list[Any]:
        got: list[Any] = []
        for d in ds:
            d.addBoth(got.append)
        return got


class BrokerWriteTests(PairTestCase):
    def test_one_call_alone_is_written_at_once(self) -> None:
        """A lone call is on the wire before the turn ends; its answer too."""
        d = self.ref.callRemote("echo", 1)
        self.assertEqual(len(self.out.buffer), 1)
        self.b.dataReceived(self.out.take())
        self.assertEqual(len(self.back.buffer), 1)  # answered within the read
        self.a.dataReceived(self.back.take())
        self.assertEqual(self.results([d]), [1])

    def test_calls_of_one_turn_leave_together(self) -> None:
        """N calls in one turn: the first at once, the other N-1 in one write."""
        ds = [self.ref.callRemote("echo", i) for i in range(10)]
        self.assertEqual(len(self.out.buffer), 1)
        self.clock.advance(0)
        self.assertEqual(len(self.out.buffer), 2)
        self.b.dataReceived(self.out.take())
        self.assertEqual(len(self.back.buffer), 1)  # ten answers, one write
        self.conn.pump()
        self.assertEqual(self.results(ds), list(range(10)))

    def test_calls_made_while_input_is_handled_are_one_write(self) -> None:
        """Calls fanned out by the callback of an arriving answer (one call in flight)
        leave in one write at the end of the read."""
        more: list[Deferred[Any]] = []

        def fan_out(_: object) -> None:
            more.extend(self.ref.callRemote("echo", i) for i in range(9))

        self.ref.callRemote("echo", 0).addCallback(fan_out)
        self.b.dataReceived(self.out.take())
        self.a.dataReceived(self.back.take())
        self.assertEqual([len(self.b_calls(w)) for w in self.out.buffer], [9])
        self.conn.pump()
        self.assertEqual(self.results(more), list(range(9)))

    def refill_window(
        self, in_flight: int, answered: int, before: Callable[[], object] = lambda: None
    ) -> list[Deferred[Any]]:
        """``in_flight`` calls out, of which B answers ``answered`` at once (the rest
        wait in B); each answer's callback makes a new call. Returns the new calls'
        Deferreds; B's answers have reached A in one read (``before`` runs just
        before it)."""
        refills: list[Deferred[Any]] = []

        def refill(_: object) -> None:
            refills.append(self.ref.callRemote("echo", len(refills)))

        later = [self.ref.callRemote("later") for _ in range(in_flight - answered)]
        for i in range(answered):
            self.ref.callRemote("echo", i).addCallback(refill)
        self.clock.advance(0)  # the turn's end: all sent
        self.b.dataReceived(self.out.take())
        self.assertEqual(len(self.back.buffer), 1)  # B's answers: one write
        before()
        self.a.dataReceived(self.back.take())
        self.addCleanup(self.finish, later, refills, answered)
        return refills

    def finish(self, later: list[Deferred[Any]], refills: list[Deferred[Any]], n: int) -> None:
        for d in self.target.pending:
            d.callback(0)
        self.conn.pump()
        self.assertEqual(self.results(refills), list(range(n)))
        self.assertEqual(self.results(later), [0] * len(later))

    def test_a_refilled_window_goes_out_in_halves(self) -> None:
        """A client with 4 * SLICE_MIN calls in flight, whose answers all arrive in one
        read, sends the calls their callbacks make in two writes of half the window
        (the far side starts on the first while this side makes the second); the
        server, awaiting nothing, answers a read of calls in one write."""
        window = 4 * SLICE_MIN
        self.refill_window(window, window)
        self.assertEqual([len(self.b_calls(w)) for w in self.out.buffer], [window // 2] * 2)

    def test_a_small_window_is_sliced_while_alone(self) -> None:
        """Ten calls in flight (under 2 * SLICE_MIN), this connection the only one of
        the process getting answers (its last window, reported just before, was the
        process's last): the ten refills go in two writes of five."""
        self.refill_window(10, 10, before=lambda: self.a.writer.handling(10))
        self.assertEqual([len(self.b_calls(w)) for w in self.out.buffer], [5, 5])

    def test_a_small_window_is_not_sliced_beside_other_connections(self) -> None:
        """Ten calls in flight while another connection of the process gets answers
        too: the ten refills are one write (the far side has other work anyway)."""
        other = CorkedWriter(self.clock)
        self.refill_window(10, 10, before=lambda: other.handling(1))
        self.assertEqual([len(self.b_calls(w)) for w in self.out.buffer], [10])

    def test_no_slices_while_the_send_buffer_is_full(self) -> None:
        """With the send buffer past its high-water mark, calls made while answers are
        handled are held to the end of the read, as one write."""
        window = 4 * SLICE_MIN
        self.a.flow.send_blocked = True
        self.refill_window(window, window)
        self.a.flow.send_blocked = False
        self.assertEqual([len(self.b_calls(w)) for w in self.out.buffer], [window])

    def test_a_partly_answered_window_is_not_sliced(self) -> None:
        """4 * SLICE_MIN calls in flight, fewer than half of them answered in a read:
        the calls their callbacks make leave in one write at the read's end."""
        answered = 2 * SLICE_MIN - 1
        self.refill_window(4 * SLICE_MIN, answered)
        self.assertEqual([len(self.b_calls(w)) for w in self.out.buffer], [answered])

    @staticmethod
    def b_calls(data: bytes) -> list[bytes]:
        """The calls to ``echo`` in one write: the method name's token (a 4-byte
        STRING) once per call."""
        return [b"echo"] * data.count(b"\x04\x82echo")


class SplitTLS(TLSMemoryBIOProtocol):
    """Hands each record of a read to the Broker by itself, as Twisted's TLS does."""

    def __init__(self, broker: Broker) -> None:  # no TLS machinery needed
        self.broker = broker

    def dataReceived(self, data: Any) -> None:
        for record in data:
            self.broker.dataReceived(record)


class TLSReadTests(PairTestCase):
    def test_records_of_one_read_are_answered_in_one_write(self) -> None:
        """Three calls in three records of one read: one write of three answers."""
        tls = SplitTLS(self.b)
        self.back.TLS = True  # type: ignore[attr-defined]
        self.back.protocol = tls
        self.assertTrue(cork_tls_reads(self.back, self.b.writer))
        records = []
        ds = []
        for i in range(3):
            ds.append(self.ref.callRemote("echo", i))
            records.append(self.out.take())
            self.clock.advance(0)
        tls.dataReceived(records)
        self.assertEqual(len(self.back.buffer), 1)
        self.a.dataReceived(self.back.take())
        self.assertEqual(self.results(ds), [0, 1, 2])

    def test_without_tls_nothing_is_wrapped(self) -> None:
        """Plain transports read whole chunks already: nothing to do."""
        self.assertFalse(cork_tls_reads(self.back, self.b.writer))
