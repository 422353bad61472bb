"""Hostile input: a peer sending garbage, deep nesting, unknown targets, floods.

Each case shows the bad message is answered with an error (connection kept) or the
connection is closed with an ERROR token, and that another connection of the same
Tub is not disturbed.
"""

from __future__ import annotations

import gc
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from octavo.banana import Violation, b128_encode
from octavo.tub._broker._broker import Broker
from octavo.tub._broker._requests import PendingRequest
from octavo.tub._referenceable import Referenceable
from octavo.tub.testing import BrokerConnection, FakeTub

CALL, ARGUMENTS, ANSWER, ERROR = b"call", b"arguments", b"answer", b"error"


def tint(n: int) -> bytes:
    return b128_encode(n) + b"\x81"


def tneg(n: int) -> bytes:
    return b128_encode(n) + b"\x83"


def tstr(s: bytes) -> bytes:
    return b128_encode(len(s)) + b"\x82" + s


def topen(n: int, *opentype: bytes) -> bytes:
    return b128_encode(n) + b"\x88" + b"".join(tstr(t) for t in opentype)


def tclose(n: int) -> bytes:
    return b128_encode(n) + b"\x89"


def call_bytes(reqid: int, clid: int, method: bytes, *args: bytes) -> bytes:
    """A call sequence whose positional arguments are the given raw token bytes."""
    clid_tok = tint(clid) if clid >= 0 else tneg(-clid)
    return (
        topen(0, CALL)
        + tint(reqid)
        + clid_tok
        + tstr(method)
        + topen(1, ARGUMENTS)
        + tint(len(args))
        + b"".join(args)
        + tclose(1)
        + tclose(0)
    )


class Target(Referenceable):
    def __init__(self) -> None:
        self.seen: list[Any] = []
        self.pending: list[Deferred[None]] = []

    def remote_echo(self, value: Any) -> Any:
        self.seen.append(value)
        return value

    def remote_never(self) -> Deferred[None]:
        return Deferred()

    def remote_fail(self) -> None:
        raise ValueError("the method failed")

    def remote_make(self) -> Target:
        return Target()

    def remote_typo(self) -> None:
        len(5)  # type: ignore[arg-type]

    def remote_later(self) -> Deferred[None]:
        d: Deferred[None] = Deferred()
        self.pending.append(d)
        return d


class HostileTestCase(SynchronousTestCase):
    """Tub B publishes a Target; A (the attacker side) and C (a bystander) connect to it."""

    broker_kwargs: dict[str, Any] = {}

    def setUp(self) -> None:
        self.clock = Clock()
        self.tub_a, self.tub_b, self.tub_c = FakeTub("a"), FakeTub("b"), FakeTub("c")
        self.tub_b.names["target"] = Target()
        self.conn = BrokerConnection.between(
            self.tub_a, self.tub_b, clock=self.clock, **self.broker_kwargs
        )
        self.bystander = BrokerConnection.between(self.tub_c, self.tub_b, clock=self.clock)
        self.a: Broker = self.conn.left  # type: ignore[assignment]
        self.b: Broker = self.conn.right  # type: ignore[assignment]
        self.ref = self.result(self.a.getYourReferenceByName("target"), self.conn)
        self.clid = self.ref.tracker.clid
        self.c_ref = self.result(
            self.bystander.left.getYourReferenceByName("target"),  # type: ignore[attr-defined]
            self.bystander,
        )

    def result(self, d: Deferred[Any], conn: BrokerConnection | None = None) -> Any:
        out: list[Any] = []
        d.addBoth(out.append)
        (conn or self.conn).pump()
        self.assertTrue(out, "the Deferred did not fire")
        return out[0]

    def expect(self, reqid: int) -> Deferred[Any]:
        """Have A wait for an answer to a hand-made call ``reqid``."""
        req = PendingRequest(reqid, None, None, "hostile")
        req.broker = self.a
        self.a.connection.waiting[reqid] = req
        return req.deferred

    def inject(self, data: bytes) -> None:
        """Deliver raw bytes to B as if A had sent them."""
        self.b.dataReceived(data)

    def assert_bystander_fine(self) -> None:
        self.assertEqual(self.result(self.c_ref.callRemote("echo", "ok"), self.bystander), "ok")

    def assert_closed_with_error(self) -> None:
        """B sent an ERROR token and closed; A saw the connection go."""
        sent = b"".join(self.conn.right_transport.buffer)
        self.assertTrue(self.conn.right_transport.lose_requested)
        self.assertIn(b"\x8d", sent)
        self.conn.pump()
        self.assertTrue(self.a.disconnected)
        self.assertTrue(self.b.disconnected)

    def assert_alive(self) -> None:
        self.assertFalse(self.conn.right_transport.lose_requested)
        self.assertEqual(self.result(self.ref.callRemote("echo", 1)), 1)


class DefaultLimitTests(HostileTestCase):
    def test_overlong_method_name_is_an_error_answer(self) -> None:
        """A method name over 1000 bytes gets an error answer; the connection goes on."""
        d = self.expect(111)
        self.inject(call_bytes(111, self.clid, b"m" * 1001, tint(1)))
        f = self.result(d)
        self.assertTrue(f.check(Violation))
        self.assertIn("method name too long", f.value)
        self.assert_alive()


class ErrorAnswerTests(HostileTestCase):
    broker_kwargs = {"codec_limits": {"max_depth": 50, "max_token_size": 1000}}

    def test_unknown_clid(self) -> None:
        """A call to an unknown clid gets an error answer naming the clid."""
        d = self.expect(100)
        self.inject(call_bytes(100, 999, b"echo", tint(1)))
        f = self.result(d)
        self.assertTrue(f.check(Violation))
        self.assertIn("unknown CLID 999", f.value)
        self.assert_alive()
        self.assert_bystander_fine()

    def test_refused_call_arguments_are_not_decoded(self) -> None:
        """A call refused at its clid is discarded: a my-reference in it makes no proxy."""
        d = self.expect(110)
        ref = topen(2, b"my-reference") + tint(77) + tclose(2)
        self.inject(call_bytes(110, 999, b"echo", ref))
        self.assertIn("unknown CLID 999", self.result(d).value)
        self.assertNotIn(77, self.b.connection.their_references.by_clid)
        self.assert_alive()

    def test_duplicate_keyword_is_an_error_answer(self) -> None:
        """The same keyword twice in one call gets an error answer."""
        d = self.expect(112)
        args = tint(0) + tstr(b"value") + tint(1) + tstr(b"value") + tint(2)
        self.inject(
            topen(0, CALL) + tint(112) + tint(self.clid) + tstr(b"echo")
            + topen(1, ARGUMENTS) + args + tclose(1) + tclose(0)
        )  # fmt: skip
        f = self.result(d)
        self.assertIn("duplicate keyword argument", f.value)
        self.assert_alive()

    def test_arguments_nested_elsewhere_is_an_error_answer(self) -> None:
        """An 'arguments' sequence inside an argument is refused like any unknown type."""
        d = self.expect(113)
        stray = topen(2, b"list") + topen(3, ARGUMENTS) + tint(0) + tclose(3) + tclose(2)
        self.inject(call_bytes(113, self.clid, b"echo", stray))
        f = self.result(d)
        self.assertTrue(f.check(Violation))
        self.assertIn("unknown OPEN type ('arguments',)", f.value)
        self.assert_alive()

    def test_second_arguments_sequence_closes(self) -> None:
        """A call with two 'arguments' sequences is a protocol error."""
        args = topen(1, ARGUMENTS) + tint(0) + tclose(1)
        self.inject(
            topen(0, CALL) + tint(114) + tint(self.clid) + tstr(b"echo") + args
            + args.replace(b"\x01\x88", b"\x02\x88").replace(b"\x01\x89", b"\x02\x89")
            + tclose(0)
        )  # fmt: skip
        self.assert_closed_with_error()
        self.assert_bystander_fine()

    def test_arguments_before_method_name_closes(self) -> None:
        """An 'arguments' sequence where the method name belongs is a protocol error."""
        self.inject(topen(0, CALL) + tint(115) + tint(self.clid) + topen(1, ARGUMENTS))
        self.assert_closed_with_error()
        self.assert_bystander_fine()

    def test_negative_request_id_closes(self) -> None:
        """A call whose request ID is not a non-negative INT is a protocol error."""
        self.inject(topen(0, CALL) + tneg(5) + tint(self.clid) + tstr(b"echo"))
        self.assert_closed_with_error()
        self.assert_bystander_fine()

    def test_unknown_method(self) -> None:
        """A call to an unknown method gets an error answer."""
        d = self.expect(101)
        self.inject(call_bytes(101, self.clid, b"__class__", tint(1)))
        self.assertTrue(self.result(d).check(AttributeError))
        self.assert_alive()

    def test_deep_nesting_is_refused(self) -> None:
        """Arguments nested deeper than max_depth get an error answer, not a crash."""
        depth = 200
        nested = b"".join(topen(2 + i, b"list") for i in range(depth))
        nested += b"".join(tclose(2 + i) for i in reversed(range(depth)))
        d = self.expect(102)
        self.inject(call_bytes(102, self.clid, b"echo", nested))
        f = self.result(d)
        self.assertTrue(f.check(Violation))
        self.assertIn("max_depth", f.value)
        self.assert_alive()

    def test_oversized_token_is_refused_and_skipped(self) -> None:
        """A string bigger than max_token_size is skipped and the call answered with an error."""
        d = self.expect(103)
        self.inject(call_bytes(103, self.clid, b"echo", tstr(b"x" * 5000)))
        f = self.result(d)
        self.assertTrue(f.check(Violation))
        self.assert_alive()

    def test_unknown_copyable_argument(self) -> None:
        """An argument of an unknown copyable class gets an error answer."""
        d = self.expect(104)
        self.inject(
            call_bytes(104, self.clid, b"echo", topen(2, b"copyable", b"os.system") + tclose(2))
        )
        self.assertTrue(self.result(d).check(Violation))
        self.assert_alive()

    def test_duplicate_reqid(self) -> None:
        """A second call reusing an outstanding reqID gets an error answer."""
        d = self.expect(105)
        self.inject(call_bytes(105, self.clid, b"never"))
        self.conn.pump()
        self.inject(call_bytes(105, self.clid, b"echo", tint(1)))
        f = self.result(d)
        self.assertIn("duplicate reqID", f.value)

    def test_bad_method_name_type(self) -> None:
        """A method name that is not a string is a protocol error: closed."""
        self.inject(topen(0, CALL) + tint(106) + tint(self.clid) + tint(5))
        self.assert_closed_with_error()
        self.assert_bystander_fine()

    def test_answer_for_unknown_request_is_ignored(self) -> None:
        """An answer nobody asked for is dropped; the connection goes on."""
        self.a.dataReceived(topen(0, ANSWER) + tint(4242) + tint(1) + tclose(0))
        self.assertFalse(self.conn.left_transport.lose_requested)
        self.assert_alive()

    def test_unknown_top_level_sequence_is_dropped(self) -> None:
        """An unknown top-level sequence is refused without closing the connection."""
        self.inject(topen(0, b"launch-missiles") + tint(1) + tclose(0))
        self.assert_alive()

    def test_oversized_failure_fails_the_request(self) -> None:
        """An error whose failure text is too long fails the call with a Violation."""
        d = self.expect(107)
        failure = (
            topen(1, b"copyable", b"twisted.python.failure.Failure")
            + tstr(b"value")
            + tstr(b"v" * 5000)
            + tclose(1)
        )
        self.a.dataReceived(topen(0, ERROR) + tint(107) + failure + tclose(0))
        f = self.result(d)
        self.assertTrue(f.check(Violation))
        self.assertIn("too long", str(f.value))

    def test_failure_with_odd_type_name(self) -> None:
        """A failure whose type name no Python class could have still arrives intact."""
        d = self.expect(109)
        failure = (
            topen(1, b"copyable", b"twisted.python.failure.Failure")
            + tstr(b"type")
            + tstr(b"evil.\x00name")
            + tstr(b"value")
            + tstr(b"v")
            + tclose(1)
        )
        self.a.dataReceived(topen(0, ERROR) + tint(109) + failure + tclose(0))
        f = self.result(d)
        self.assertEqual(f.type_name, "evil.\x00name")
        self.assert_alive()

    def test_failure_with_unknown_attribute(self) -> None:
        """A failure carrying an unexpected attribute fails the call with a Violation."""
        d = self.expect(108)
        failure = (
            topen(1, b"copyable", b"twisted.python.failure.Failure")
            + tstr(b"__class__")
            + tstr(b"x")
            + tclose(1)
        )
        self.a.dataReceived(topen(0, ERROR) + tint(108) + failure + tclose(0))
        self.assertTrue(self.result(d).check(Violation))


class AmplificationTests(HostileTestCase):
    """The error answer to a bad call is a small multiple of the call, traceback-free."""

    def answer_to(self, data: bytes) -> bytes:
        self.conn.right_transport.take()
        self.inject(data)
        return self.conn.right_transport.take()

    def test_refusals_are_small_and_carry_no_traceback(self) -> None:
        """Unknown clid, unknown method, arguments that do not fit: each error answer is
        at most 10x the call's bytes, and has no traceback (unsafeTracebacks is on)."""
        self.assertTrue(self.b.unsafeTracebacks)
        for call in (
            call_bytes(901, 4242, b"echo", tint(1)),
            call_bytes(902, self.clid, b"nope"),
            call_bytes(903, self.clid, b"echo", tint(1), tint(2), tint(3)),
        ):
            answer = self.answer_to(call)
            self.assertTrue(answer, "no error answer")
            self.assertLessEqual(len(answer), 10 * len(call), answer)
            self.assertIn(b"traceback\x00\x82", answer)  # an empty traceback string
            self.assertNotIn(b"File ", answer)
        self.assert_alive()

    def test_application_failures_keep_their_tracebacks(self) -> None:
        """An exception raised by the method itself goes back with its traceback."""
        answer = self.answer_to(call_bytes(904, self.clid, b"fail"))
        self.assertIn(b"File ", answer)

    def test_a_type_error_inside_the_method_is_not_bad_arguments(self) -> None:
        """A TypeError the method raises is the method's failure (with its traceback)."""
        answer = self.answer_to(call_bytes(905, self.clid, b"typo"))
        self.assertIn(b"builtins.TypeError", answer)
        self.assertNotIn(b"BadArgumentsError", answer)
        self.assertIn(b"File ", answer)


class ReferenceLimitTests(HostileTestCase):
    broker_kwargs = {"max_references": 3}

    def test_a_peer_holds_at_most_max_references_of_our_objects(self) -> None:
        """Past the limit, an answer carrying one more new object is refused with an
        error (the peer must release some first); the connection goes on."""
        made = [self.result(self.ref.callRemote("make")) for _ in range(2)]  # target + 2
        f = self.result(self.ref.callRemote("make"))
        self.assertIsInstance(f, Failure)
        self.assertIn("too many of our objects held by this peer (limit 3)", f.getErrorMessage())
        self.assertEqual(len(self.b.connection.my_references.by_clid), 3)
        self.assertEqual(self.result(self.ref.callRemote("echo", 5)), 5)
        del made[:]  # A lets go: its decref frees room on B
        gc.collect()
        self.conn.pump()
        self.assertEqual(len(self.b.connection.my_references.by_clid), 1)
        self.assertNotIsInstance(self.result(self.ref.callRemote("make")), Failure)


class FloodTests(HostileTestCase):
    broker_kwargs = {"max_inbound_calls": 5}

    def test_calls_beyond_the_limit_wait_and_reading_stops(self) -> None:
        """With max_inbound_calls running, later calls wait their turn (as many again at
        most; beyond that they are refused) and B stops reading from A; answers let
        the waiting calls run and reading resume."""
        out: list[Any] = []
        for _ in range(12):
            self.ref.callRemote("later").addBoth(out.append)
        self.conn.pump()
        target = self.tub_b.names["target"]
        self.assertEqual(len(target.pending), 5)  # running
        self.assertEqual(len(self.b.inboundDeliveryQueue), 5)  # waiting their turn
        self.assertEqual(len(out), 2)  # refused: the queue was full
        for f in out:
            self.assertIn("too many queued calls (limit 5)", f.value)
        self.assertTrue(self.b.flow.reading_paused)
        self.assertFalse(self.conn.right_transport.reading)
        self.ref.callRemote("echo", "read later").addBoth(out.append)
        self.conn.pump()
        self.assertEqual(len(out), 2)  # not read yet
        for d in target.pending[:3]:
            d.callback(None)
        self.conn.pump()
        self.assertEqual(len(target.pending), 8)
        self.assertTrue(self.b.flow.reading_paused)
        for d in target.pending[3:]:
            d.callback(None)
        self.conn.pump()
        self.assertFalse(self.b.flow.reading_paused)
        self.assertEqual(len(target.pending), 10)
        for d in target.pending[8:]:
            d.callback(None)
        self.conn.pump()
        self.assertEqual(
            sorted(map(repr, out[2:])), sorted(map(repr, [None] * 10 + ["read later"]))
        )
        self.assert_bystander_fine()

    def test_one_way_call_flood_is_bounded(self) -> None:
        """callRemoteOnly floods are bounded too: beyond the queue limit they are dropped.

        Calls that arrive in one chunk are queued while it is decoded and run once it
        is all decoded, so the bound applies to one chunk's worth of calls.
        """
        target = self.tub_b.names["target"]
        for i in range(20):
            self.ref.callRemoteOnly("echo", i)
        self.clock.advance(0)  # the end of the turn: the held calls are written
        # deliver everything in one chunk
        self.b.dataReceived(self.conn.left_transport.take())
        self.assertEqual(target.seen, [0, 1, 2, 3, 4])
        self.assertEqual(len(self.b.inboundDeliveryQueue), 0)
        self.conn.pump()
        self.assertEqual(target.seen, [0, 1, 2, 3, 4])
        self.assert_alive()


class MessageSizeTests(HostileTestCase):
    broker_kwargs = {"max_message_size": 10_000}

    def test_endless_message_closes(self) -> None:
        """A message that never ends is cut off at max_message_size bytes."""
        self.inject(
            topen(0, CALL) + tint(1) + tint(self.clid) + tstr(b"echo") + topen(1, ARGUMENTS)
        )
        self.inject(tint(1000) + topen(2, b"list"))
        for _ in range(30):
            if self.conn.right_transport.lose_requested:
                break
            self.inject(tint(1) * 500)
        self.assertIn(b"max_message_size", b"".join(self.conn.right_transport.buffer))
        self.assert_closed_with_error()
        self.assert_bystander_fine()

    def test_many_small_messages_are_fine(self) -> None:
        """The limit is per message: many small calls add up to more without harm."""
        out: list[Any] = []
        for _ in range(300):
            self.ref.callRemote("echo", b"x" * 100).addCallback(out.append)
        self.conn.pump()
        self.assertEqual(len(out), 300)
        self.assert_alive()


class CloseTests(HostileTestCase):
    def test_garbage_closes_only_that_connection(self) -> None:
        """Bytes that are not Banana close the connection with an ERROR; others go on."""
        out: list[Any] = []
        self.ref.callRemote("never").addBoth(out.append)
        self.conn.pump()
        self.inject(b"\xff\xfe garbage")
        self.assert_closed_with_error()
        self.assertEqual(len(out), 1)
        self.assert_bystander_fine()

    def test_top_level_primitive_closes(self) -> None:
        """A top-level token that is not OPEN is a protocol error."""
        self.inject(tint(5))
        self.assert_closed_with_error()
        self.assert_bystander_fine()

    def test_unknown_vocab_closes(self) -> None:
        """A VOCAB index nobody defined is a protocol error."""
        self.inject(b128_encode(999) + b"\x88" + b128_encode(500) + b"\x87")
        self.assert_closed_with_error()

    def test_reference_claiming_another_tub_closes(self) -> None:
        """A my-reference whose FURL names another TubID is refused (connection closed)."""
        lost: list[Any] = []
        self.expect(300).addErrback(lost.append)
        fake_url = self.tub_c.buildURL("evil").encode()
        ref = topen(1, b"my-reference") + tint(7) + tstr(b"") + tstr(fake_url) + tclose(1)
        self.a.dataReceived(topen(0, ANSWER) + tint(300) + ref + tclose(0))
        self.assertTrue(self.conn.left_transport.lose_requested)
        self.conn.pump()
        self.assertTrue(self.a.disconnected)
        self.assertEqual(len(lost), 1)
        self.assert_bystander_fine()

    def test_peer_error_token_closes(self) -> None:
        """An ERROR token from the peer makes us close the connection."""
        self.inject(b128_encode(4) + b"\x8d" + b"oops")
        self.assertTrue(self.conn.right_transport.lose_requested)
        self.conn.pump()
        self.assertTrue(self.b.disconnected)
        self.assert_bystander_fine()

    def test_data_after_close_is_ignored(self) -> None:
        """Once closing, further bytes are not decoded."""
        self.inject(b"\xff")
        self.inject(call_bytes(1, self.clid, b"echo", tint(1)))
        self.assertEqual(self.b.inboundDeliveryQueue, type(self.b.inboundDeliveryQueue)())

    @settings(max_examples=200, deadline=None)
    @given(st.binary(max_size=200))
    def test_random_bytes_never_escape(self, data: bytes) -> None:
        """Random bytes either decode harmlessly or close the connection; nothing raises."""
        clock = Clock()
        tub_a, tub_b = FakeTub("a"), FakeTub("b")
        tub_b.names["target"] = Target()
        conn = BrokerConnection.between(tub_a, tub_b, clock=clock)
        conn.right.dataReceived(data)
        conn.pump()
        b: Broker = conn.right  # type: ignore[assignment]
        self.assertTrue(b.disconnected or not conn.right_transport.lose_requested)
