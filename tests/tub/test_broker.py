"""Two Octavo Brokers pumped together in memory: calls, answers, errors, references."""

from __future__ import annotations

import gc
from decimal import Decimal
from typing import Any

from twisted.internet import error as twisted_error
from twisted.internet.defer import Deferred, succeed
from twisted.internet.task import Clock
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from octavo.banana import Violation
from octavo.furl import SturdyRef
from octavo.tub._broker._broker import Broker
from octavo.tub._broker._failure import CopiedFailure
from octavo.tub._errors import DeadReferenceError, NoLocationError, RemoteException
from octavo.tub._referenceable import (
    Referenceable,
    RemoteMethodReference,
    RemoteReference,
)
from octavo.tub.testing import BrokerConnection, FakeTub

INERT: list[Any] = [
    0,
    7,
    -7,
    2**64,
    -(2**64),
    0.5,
    b"",
    b"\x00\xff",
    "",
    "snow \u2603",
    None,
    True,
    False,
    [],
    [1, [2, [3, []]]],
    (),
    (1, ("a", b"b")),
    {},
    {"k": [1, {"n": None}], "three": 3},
    {1, 2},
    frozenset({"a"}),
    Decimal("-1.25"),
]


class Target(Referenceable):
    """A remotely callable object for the tests."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock
        self.notes: list[Any] = []
        self.held: list[Any] = []

    def remote_echo(self, value: Any) -> Any:
        return value

    def remote_args(self, *args: Any, **kwargs: Any) -> Any:
        return [list(args), kwargs]

    def remote_fail(self) -> None:
        raise ValueError("no way")

    def remote_later(self, value: Any, delay: float) -> Deferred[Any]:
        assert self.clock is not None
        d: Deferred[Any] = Deferred()
        self.clock.callLater(delay, d.callback, value)
        return d

    def remote_later_fail(self) -> Deferred[Any]:
        d: Deferred[Any] = Deferred()
        assert self.clock is not None
        self.clock.callLater(1, d.errback, Failure(KeyError("late")))
        return d

    def remote_never(self) -> Deferred[Any]:
        return Deferred()

    def remote_make(self) -> Target:
        return Target(self.clock)

    def remote_call_back(self, rref: Any, value: Any) -> Any:
        return rref.callRemote("echo", value)

    def remote_call_function(self, fn: Any, **kwargs: Any) -> Any:
        return fn.callRemote(**kwargs)

    def remote_identity(self, a: Any, b: Any) -> bool:
        return a is b

    def remote_is_me(self, obj: Any) -> bool:
        return obj is self

    def remote_note(self, value: Any) -> None:
        self.notes.append(value)

    def remote_hold(self, obj: Any) -> int:
        self.held.append(obj)
        return len(self.held)

    def remote_drop(self) -> None:
        self.held = []

    def remote_unsendable(self) -> object:
        return object()

    def remote_returns_failure(self) -> Failure:
        return Failure(IndexError("returned, not raised"))


class PairTestCase(SynchronousTestCase):
    """A connection between tub A (left) and tub B (right), B publishing a Target."""

    def setUp(self) -> None:
        self.clock = Clock()
        self.tub_a = FakeTub("alice")
        self.tub_b = FakeTub("bob")
        self.target = Target(self.clock)
        self.tub_b.names["target"] = self.target
        self.conn = BrokerConnection.between(self.tub_a, self.tub_b, clock=self.clock)
        self.a: Broker = self.conn.left  # type: ignore[assignment]
        self.b: Broker = self.conn.right  # type: ignore[assignment]

    def pump(self) -> None:
        self.conn.pump()

    def result(self, d: Deferred[Any] | None) -> Any:
        assert d is not None
        out: list[Any] = []
        d.addBoth(out.append)
        self.pump()
        self.assertTrue(out, "the Deferred did not fire")
        return out[0]

    def ref(self) -> RemoteReference:
        r = self.result(self.a.getYourReferenceByName("target"))
        self.assertIsInstance(r, RemoteReference)
        return r  # type: ignore[no-any-return]


class CallTests(PairTestCase):
    def test_every_inert_type_round_trips(self) -> None:
        """Each inert value comes back equal and of the same type."""
        r = self.ref()
        for value in INERT:
            got = self.result(r.callRemote("echo", value))
            self.assertEqual(got, value)
            self.assertIs(type(got), type(value))

    def test_positional_and_keyword_arguments(self) -> None:
        """Arguments arrive by position and by keyword."""
        r = self.ref()
        got = self.result(r.callRemote("args", 1, "two", x=[3], y=None))
        self.assertEqual(got, [[1, "two"], {"x": [3], "y": None}])

    def test_shared_objects_stay_shared_within_one_call(self) -> None:
        """The same list passed twice in one call arrives as one object."""
        r = self.ref()
        shared = [1, 2]
        self.assertIs(self.result(r.callRemote("identity", shared, shared)), True)

    def test_deferred_result(self) -> None:
        """A method returning a Deferred is answered when it fires."""
        r = self.ref()
        out: list[Any] = []
        r.callRemote("later", "v", 5).addBoth(out.append)
        self.pump()
        self.assertEqual(out, [])
        self.clock.advance(5)
        self.pump()
        self.assertEqual(out, ["v"])

    def test_deferred_failure(self) -> None:
        """A Deferred that fails becomes an error answer."""
        r = self.ref()
        out: list[Any] = []
        r.callRemote("later_fail").addBoth(out.append)
        self.pump()
        self.clock.advance(1)
        self.pump()
        self.assertIsInstance(out[0], CopiedFailure)
        self.assertTrue(out[0].check(KeyError))

    def test_exception_is_a_copied_failure(self) -> None:
        """A remote ValueError arrives as a CopiedFailure that traps ValueError."""
        f = self.result(self.ref().callRemote("fail"))
        self.assertIsInstance(f, CopiedFailure)
        self.assertEqual(f.check(ValueError), ValueError)
        self.assertIsNone(f.check(KeyError))
        self.assertEqual(f.value, "no way")
        self.assertEqual(f.getErrorMessage(), "no way")
        self.assertIn("remote_fail", f.traceback)
        self.assertIn("ValueError", str(f))
        with self.assertRaises(RemoteException):
            f.raiseException()

    def test_exception_wrapped_when_not_exposed(self) -> None:
        """With expose-remote-exception-types off, failures arrive as RemoteException."""
        self.a.expose_remote_exception_types = False
        f = self.result(self.ref().callRemote("fail"))
        self.assertTrue(f.check(RemoteException))
        self.assertTrue(f.value.failure.check(ValueError))

    def test_no_tracebacks_without_unsafe_tracebacks(self) -> None:
        """A Broker whose Tub hides tracebacks sends 'Traceback unavailable'."""
        self.b.unsafeTracebacks = False
        f = self.result(self.ref().callRemote("fail"))
        self.assertEqual(f.traceback, "Traceback unavailable\n")

    def test_copied_failure_can_be_forwarded(self) -> None:
        """A CopiedFailure relayed to a third party keeps its type and parents."""
        f = self.result(self.ref().callRemote("fail"))
        # B echoes A's copy of the failure back: a Failure is a valid argument too
        back = self.result(self.ref().callRemote("echo", f))
        self.assertIsInstance(back, CopiedFailure)
        self.assertTrue(back.check(ValueError))
        self.assertEqual(back.value, "no way")

    def test_returned_failure_is_an_error(self) -> None:
        """A remote method that returns a Failure fails the call, as in a Deferred chain."""
        f = self.result(self.ref().callRemote("returns_failure"))
        self.assertIsInstance(f, CopiedFailure)
        self.assertTrue(f.check(IndexError))

    def test_unknown_method_is_an_error_answer(self) -> None:
        """Calling a missing remote method fails that call with AttributeError only."""
        r = self.ref()
        f = self.result(r.callRemote("no_such_method"))
        self.assertTrue(f.check(AttributeError))
        self.assertEqual(self.result(r.callRemote("echo", 1)), 1)

    def test_unknown_name(self) -> None:
        """getYourReferenceByName of an unpublished name fails with KeyError."""
        f = self.result(self.a.getYourReferenceByName("nobody"))
        self.assertTrue(f.check(KeyError))

    def test_unsendable_argument_fails_locally(self) -> None:
        """An argument that cannot be serialized fails the call; nothing is sent."""
        r = self.ref()
        f = self.result(r.callRemote("echo", object()))
        self.assertTrue(f.check(Violation))
        self.assertEqual(self.a.waitingForAnswers, {})
        self.assertEqual(self.result(r.callRemote("echo", 2)), 2)

    def test_unsendable_result_is_an_error_answer(self) -> None:
        """A result that cannot be serialized comes back as an error."""
        f = self.result(self.ref().callRemote("unsendable"))
        self.assertTrue(f.check(Violation))

    def test_call_remote_only(self) -> None:
        """callRemoteOnly delivers and returns None; no answer is awaited."""
        r = self.ref()
        self.assertIsNone(r.callRemoteOnly("note", "x"))
        self.assertEqual(self.a.waitingForAnswers, {})
        self.pump()
        self.assertEqual(self.target.notes, ["x"])

    def test_call_remote_only_failure_is_silent(self) -> None:
        """A callRemoteOnly that fails on the far end produces nothing here."""
        self.ref().callRemoteOnly("fail")
        self.pump()
        self.assertEqual(self.b.connection.admission.active, set())

    def test_calls_run_in_order(self) -> None:
        """Inbound calls run in the order they were sent."""
        r = self.ref()
        for i in range(50):
            r.callRemoteOnly("note", i)
        self.pump()
        self.assertEqual(self.target.notes, list(range(50)))

    def test_answers_to_a_burst_leave_in_one_write(self) -> None:
        """Calls that arrive together are answered with one transport write."""
        r = self.ref()
        ds = [r.callRemote("echo", i) for i in range(5)]
        # the first at once, the others at the end of the turn
        self.assertEqual(len(self.conn.left_transport.buffer), 1)
        self.clock.advance(0)
        self.assertEqual(len(self.conn.left_transport.buffer), 2)
        self.b.dataReceived(self.conn.left_transport.take())
        self.clock.advance(0)  # the calls run on a later turn
        self.assertEqual(len(self.conn.right_transport.buffer), 1)
        self.pump()
        self.assertEqual([self.result(d) for d in ds], [0, 1, 2, 3, 4])

    def test_calls_made_while_answers_arrive_leave_in_one_write(self) -> None:
        """Calls made by callbacks of arriving answers go out together, in order."""
        r = self.ref()
        got: list[Any] = []

        def _more(_: object) -> None:
            got.extend(r.callRemote("echo", i) for i in (10, 11, 12))

        r.callRemote("echo", 1).addCallback(_more)
        self.conn.right.dataReceived(self.conn.left_transport.take())
        self.clock.advance(0)
        self.a.dataReceived(self.conn.right_transport.take())
        self.assertEqual(len(self.conn.left_transport.buffer), 1)
        self.assertEqual([self.result(d) for d in got], [10, 11, 12])

    def test_protocol_error_sends_held_bytes_before_closing(self) -> None:
        """Bytes held back during a burst are written before the connection closes."""
        r = self.ref()
        got: list[Any] = []

        def _again(v: Any) -> None:
            got.append(v)
            r.callRemote("echo", 8)  # written while a's burst is held back

        r.callRemote("echo", 7).addCallback(_again)
        self.b.dataReceived(self.conn.left_transport.take())
        self.clock.advance(0)
        answer = self.conn.right_transport.take()
        self.a.dataReceived(answer + b"\xff" * 3)  # an answer, then garbage
        self.assertEqual(got, [7])
        self.assertTrue(self.conn.left_transport.lose_requested)
        sent = b"".join(self.conn.left_transport.buffer)
        self.assertEqual(len(self.conn.left_transport.buffer), 1)
        self.assertIn(b"\x8d", sent)
        self.assertLess(sent.index(b"echo"), sent.index(b"\x8d"))  # the call, then ERROR

    def test_result_constraint(self) -> None:
        """_resultConstraint checks the answer; a violating answer fails the call."""
        from octavo.banana import ByteStringConstraint, IntegerConstraint

        r = self.ref()
        self.assertEqual(self.result(r.callRemote("echo", 5, _resultConstraint=int)), 5)
        f = self.result(r.callRemote("echo", b"x" * 50, _resultConstraint=ByteStringConstraint(10)))
        self.assertTrue(f.check(Violation))
        f = self.result(r.callRemote("echo", "text", _resultConstraint=IntegerConstraint()))
        self.assertTrue(f.check(Violation))
        self.assertEqual(self.a.waitingForAnswers, {})
        self.assertEqual(self.result(r.callRemote("echo", 1)), 1)

    def test_schema_keywords_are_not_sent(self) -> None:
        """_useSchema and _methodConstraint are Foolscap's local options, not arguments."""
        got = self.result(
            self.ref().callRemote("args", 1, _useSchema=False, _methodConstraint=None)
        )
        self.assertEqual(got, [[1], {}])

    def test_non_string_method_name(self) -> None:
        """A method name that is not a string fails the call with TypeError."""
        f = self.result(self.ref().callRemote(3))  # type: ignore[arg-type]
        self.assertTrue(f.check(TypeError))


class ArgumentConstraintTests(PairTestCase):
    def test_target_constrains_its_arguments(self) -> None:
        """A Referenceable's getArgumentConstraint is applied to each inbound argument."""
        from octavo.banana import ByteStringConstraint, IntegerConstraint

        asked: list[tuple[str, int | str]] = []

        class Strict(Referenceable):
            def getArgumentConstraint(self, methodname: str, which: int | str) -> Any:
                asked.append((methodname, which))
                return IntegerConstraint() if which == 0 else ByteStringConstraint(5)

            def remote_take(self, n: int, tag: bytes = b"") -> list[Any]:
                return [n, tag]

        self.tub_b.names["strict"] = Strict()
        r = self.result(self.a.getYourReferenceByName("strict"))
        self.assertEqual(self.result(r.callRemote("take", 3, tag=b"ok")), [3, b"ok"])
        self.assertEqual(asked, [("take", 0), ("take", "tag")])
        f = self.result(r.callRemote("take", "three"))
        self.assertTrue(f.check(Violation))
        f = self.result(r.callRemote("take", 3, tag=b"much too long"))
        self.assertTrue(f.check(Violation))
        self.assertEqual(self.result(r.callRemote("take", 4)), [4, b""])


class ReferenceTests(PairTestCase):
    def test_pass_referenceable_and_call_back(self) -> None:
        """A Referenceable passed as an argument can be called back by the far end."""
        mine = Target()
        self.assertEqual(self.result(self.ref().callRemote("call_back", mine, "hi")), "hi")

    def test_receive_new_referenceable_and_call_it(self) -> None:
        """A Referenceable returned by a call is a working RemoteReference."""
        made = self.result(self.ref().callRemote("make"))
        self.assertIsInstance(made, RemoteReference)
        self.assertEqual(self.result(made.callRemote("echo", 5)), 5)

    def test_reference_goes_home(self) -> None:
        """A RemoteReference sent back to its owner arrives as the original object."""
        r = self.ref()
        self.assertIs(self.result(r.callRemote("is_me", r)), True)

    def test_same_reference_is_one_proxy(self) -> None:
        """Receiving the same object twice gives the same RemoteReference."""
        r1 = self.ref()
        r2 = self.ref()
        self.assertIs(r1, r2)
        self.assertEqual(r1.tracker.received_count, 2)

    def test_pass_function_and_call_it(self) -> None:
        """A bound method travels as a method reference the far end can call."""
        got: list[Any] = []

        def fn(**kwargs: Any) -> str:
            got.append(kwargs)
            return "called"

        self.assertEqual(self.result(self.ref().callRemote("call_function", fn, a=1)), "called")
        self.assertEqual(got, [{"a": 1}])

    def test_method_reference_refuses_positional_arguments(self) -> None:
        """A RemoteMethodReference takes keyword arguments only."""
        holder: list[Any] = []

        class Keeper(Referenceable):
            def remote_take(self, fn: Any) -> None:
                holder.append(fn)

        self.tub_b.names["keeper"] = Keeper()
        keeper = self.result(self.a.getYourReferenceByName("keeper"))
        self.result(keeper.callRemote("take", lambda **kw: kw))
        self.assertIsInstance(holder[0], RemoteMethodReference)
        f = self.result(holder[0].callRemote(1))
        self.assertTrue(f.check(TypeError))
        self.assertEqual(self.result(holder[0].callRemote(x=1)), {"x": 1})

    def test_reference_metadata(self) -> None:
        """getRemoteTubID, getSturdyRef, getLocationHints, getPeer and isConnected."""
        r = self.ref()
        self.assertEqual(r.getRemoteTubID(), self.tub_b.tubID)
        self.assertEqual(r.getSturdyRef(), SturdyRef(self.tub_b.buildURL("target")))
        self.assertEqual(r.getSturdyRef().getURL(), self.tub_b.buildURL("target"))
        self.assertEqual(r.getLocationHints(), ["127.0.0.1:1"])
        self.assertEqual(r.getPeer().port, 40002)  # type: ignore[attr-defined]
        self.assertTrue(r.isConnected())
        self.assertIsNone(r.getDataLastReceivedAt())
        self.assertIsNone(r.getConnectionInfo())
        self.assertIn(self.tub_b.buildURL("target"), repr(r))

    def test_reference_without_furl(self) -> None:
        """An object sent by a Tub without a location has no hints; getSturdyRef() says so."""
        self.tub_b.location = None
        made = self.result(self.ref().callRemote("make"))
        with self.assertRaises(NoLocationError):
            made.getSturdyRef()
        self.assertEqual(made.getLocationHints(), [])

    def test_decref_when_collected(self) -> None:
        """Dropping the last RemoteReference sends decref and the owner forgets the object."""
        r = self.ref()
        made = self.result(r.callRemote("make"))
        clid = made.tracker.clid
        self.assertIn(clid, self.b.connection.my_references.by_clid)
        del made
        gc.collect()
        self.pump()
        self.assertNotIn(clid, self.b.connection.my_references.by_clid)
        self.assertNotIn(clid, self.a.connection.their_references.by_clid)

    def test_refcount_counts_every_transmission(self) -> None:
        """An object sent twice is only forgotten after both receptions are released."""
        r = self.ref()
        mine = Target()
        self.assertEqual(self.result(r.callRemote("hold", mine)), 1)
        self.assertEqual(self.result(r.callRemote("hold", mine)), 2)
        tracker = self.a.connection.my_references.by_puid[mine.processUniqueID()]
        self.assertEqual(tracker.refcount, 2)
        self.result(r.callRemote("drop"))
        gc.collect()
        self.pump()
        self.assertNotIn(mine.processUniqueID(), self.a.connection.my_references.by_puid)

    def test_call_to_revoked_reference_says_revoked(self) -> None:
        """A call through a reference whose object was revoked fails saying so."""
        r = self.ref()
        self.assertEqual(self.result(r.callRemote("echo", 1)), 1)
        self.b.revokeReference(self.target)
        f = self.result(r.callRemote("echo", 2))
        self.assertIsInstance(f, Failure)
        self.assertTrue(f.check(Violation))
        self.assertIn("revoked", str(f.value))
        self.assertNotIn("unknown CLID", str(f.value))
        self.assertEqual(self.b.connection.my_references.revoked, {r.tracker.clid})

    def test_unknown_clid_is_not_called_revoked(self) -> None:
        """A clid that was never handed out is still reported as unknown."""
        rb = self.a.remote_broker
        assert rb is not None
        r = self.ref()
        self.b.revokeReference(self.target)
        bogus = RemoteReference(self.a.connection.their_references.tracker_for(4242))
        f = self.result(bogus.callRemote("echo", 2))
        self.assertIn("unknown CLID 4242", str(f.value))
        self.assertNotIn("revoked", str(f.value))
        self.assertIn("revoked", str(self.result(r.callRemote("echo", 3)).value))

    def test_decref_of_unknown_clid_is_ignored(self) -> None:
        """A decref for a clid we no longer track does nothing."""
        rb = self.a.remote_broker
        assert rb is not None
        self.assertIsNone(self.result(rb.callRemote("decref", clid=99, count=1)))

    def test_decref_beyond_refcount_is_refused(self) -> None:
        """A decref larger than the refcount is a Violation answered as an error."""
        made = self.result(self.ref().callRemote("make"))
        rb = self.a.remote_broker
        assert rb is not None
        f = self.result(rb.callRemote("decref", clid=made.tracker.clid, count=5))
        self.assertTrue(f.check(Violation))

    def test_unknown_broker_method(self) -> None:
        """Calling an unknown method on the far Broker (clid 0) is an error answer."""
        rb = self.a.remote_broker
        assert rb is not None
        f = self.result(rb.callRemote("format_disk"))
        self.assertTrue(f.check(Violation))


class GiftTests(SynchronousTestCase):
    """Three brokers: A holds references to C's object and passes them to B."""

    def setUp(self) -> None:
        self.clock = Clock()
        self.tub_a, self.tub_b, self.tub_c = FakeTub("a"), FakeTub("b"), FakeTub("c")
        self.target_b = Target(self.clock)
        self.target_c = Target(self.clock)
        self.tub_b.names["target"] = self.target_b
        self.tub_c.names["target"] = self.target_c
        self.ab = BrokerConnection.between(self.tub_a, self.tub_b, clock=self.clock)
        self.ac = BrokerConnection.between(self.tub_a, self.tub_c, clock=self.clock)
        self.bc = BrokerConnection.between(self.tub_b, self.tub_c, clock=self.clock)

    def pump(self) -> None:
        for _ in range(5):
            self.ab.pump()
            self.ac.pump()
            self.bc.pump()

    def result(self, d: Deferred[Any]) -> Any:
        out: list[Any] = []
        d.addBoth(out.append)
        self.pump()
        self.assertTrue(out)
        return out[0]

    def test_gift_refused_when_gifts_are_off(self) -> None:
        """A their-reference to a Tub that refuses gifts fails that call with a Violation."""
        self.tub_b.accept_gifts = False
        to_b = self.result(self.ab.left.getYourReferenceByName("target"))
        to_c = self.result(self.ac.left.getYourReferenceByName("target"))
        f = self.result(to_b.callRemote("echo", to_c))
        self.assertTrue(f.check(Violation))
        self.assertIn("gifts are prohibited", f.value)
        self.assertEqual(self.result(to_b.callRemote("echo", 1)), 1)

    def test_gift_resolved_through_the_tub(self) -> None:
        """B resolves a gift via its Tub, calls the third party, and acks with decgift."""
        to_b = self.result(self.ab.left.getYourReferenceByName("target"))
        to_c = self.result(self.ac.left.getYourReferenceByName("target"))
        asked: list[str] = []

        def resolve(url: str) -> Deferred[Any]:
            asked.append(url)
            return self.bc.left.getYourReferenceByName("target")

        self.tub_b.gift_resolver = resolve
        self.assertEqual(self.result(to_b.callRemote("call_back", to_c, "via gift")), "via gift")
        self.assertEqual(asked, [self.tub_c.buildURL("target")])
        self.pump()
        self.assertEqual(self.ab.left.connection.gifts.gifts, {})

    def test_failed_gift_fails_the_call(self) -> None:
        """If the gift cannot be resolved, the call that carried it fails."""
        to_b = self.result(self.ab.left.getYourReferenceByName("target"))
        to_c = self.result(self.ac.left.getYourReferenceByName("target"))
        f = self.result(to_b.callRemote("echo", to_c))
        self.assertIsInstance(f, Failure)
        self.pump()
        self.assertEqual(self.ab.left.connection.gifts.gifts, {})


class DisconnectTests(PairTestCase):
    def test_loss_errbacks_outstanding_calls(self) -> None:
        """Every outstanding call fails with DeadReferenceError when the connection drops."""
        r = self.ref()
        out: list[Any] = []
        for _ in range(3):
            r.callRemote("never").addBoth(out.append)
        self.pump()
        self.conn.sever(Failure(twisted_error.ConnectionLost("gone")))
        self.pump()
        self.assertEqual(len(out), 3)
        for f in out:
            self.assertTrue(f.check(DeadReferenceError))
            self.assertIn("Connection was lost", str(f.value))
            self.assertIn(self.tub_b.getShortTubID(), str(f.value))
        self.assertEqual(self.a.waitingForAnswers, {})
        self.assertEqual([b for b, _ in self.tub_a.detached], [self.a])

    def test_calls_after_loss_fail(self) -> None:
        """callRemote on a dead connection fails; callRemoteOnly is silent."""
        r = self.ref()
        self.conn.sever()
        self.pump()
        self.assertFalse(r.isConnected())
        self.assertTrue(self.result(r.callRemote("echo", 1)).check(DeadReferenceError))
        self.assertIsNone(r.callRemoteOnly("echo", 1))
        self.assertTrue(self.result(self.a.getYourReferenceByName("x")).check(DeadReferenceError))

    def test_notify_on_disconnect(self) -> None:
        """notifyOnDisconnect callbacks run (eventually) with their arguments."""
        r = self.ref()
        got: list[Any] = []
        r.notifyOnDisconnect(lambda *a, **kw: got.append((a, kw)), 1, k=2)
        self.conn.sever()
        self.assertEqual(got, [])
        self.pump()
        self.assertEqual(got, [((1,), {"k": 2})])

    def test_dont_notify_on_disconnect(self) -> None:
        """A cancelled watcher does not run; cancelling twice is harmless."""
        r = self.ref()
        got: list[Any] = []
        marker = r.notifyOnDisconnect(got.append, "no")
        r.notifyOnDisconnect(got.append, "yes")
        r.dontNotifyOnDisconnect(marker)
        r.dontNotifyOnDisconnect(marker)
        self.conn.sever()
        self.pump()
        self.assertEqual(got, ["yes"])
        r.dontNotifyOnDisconnect(marker)

    def test_notify_after_disconnect_fires(self) -> None:
        """Registering on a dead reference fires the callback eventually."""
        r = self.ref()
        self.conn.sever()
        self.pump()
        got: list[str] = []
        r.notifyOnDisconnect(got.append, "late")
        self.pump()
        self.assertEqual(got, ["late"])

    def test_shutdown_without_watchers(self) -> None:
        """shutdown(fireDisconnectWatchers=False) drops the watchers and closes."""
        r = self.ref()
        got: list[str] = []
        r.notifyOnDisconnect(got.append, "x")
        lost: list[str] = []
        self.a._notifyOnConnectionLost(lambda: lost.append("lost"))
        self.a.shutdown(Failure(DeadReferenceError("replaced")), fireDisconnectWatchers=False)
        self.pump()
        self.assertEqual(got, [])
        self.assertEqual(lost, ["lost"])
        self.assertTrue(self.b.disconnected)

    def test_shutdown_passes_other_reasons_through(self) -> None:
        """A shutdown reason that is not a lost connection reaches the callers as is."""
        r = self.ref()
        out: list[Any] = []
        r.callRemote("never").addBoth(out.append)
        self.pump()
        self.a.shutdown(Failure(DeadReferenceError("replaced by a new connection")))
        self.pump()
        self.assertIn("replaced", str(out[0].value))

    def test_answer_after_loss_is_dropped(self) -> None:
        """A call finishing after the connection dropped sends nothing and raises nothing."""
        r = self.ref()
        r.callRemote("later", 1, 5).addErrback(lambda f: None)
        self.pump()
        self.conn.sever()
        self.clock.advance(5)
        self.pump()
        self.assertEqual(self.conn.right_transport.buffer, [])


class KeepaliveTests(SynchronousTestCase):
    def make(self, **kw: Any) -> BrokerConnection:
        self.clock = Clock()
        self.tub_a, self.tub_b = FakeTub("a"), FakeTub("b")
        self.tub_b.names["target"] = Target(self.clock)
        return BrokerConnection.between(self.tub_a, self.tub_b, clock=self.clock, **kw)

    def test_idle_connection_sends_ping_and_gets_pong(self) -> None:
        """After keepaliveTimeout idle seconds a PING goes out; the PONG refreshes the peer."""
        conn = self.make(keepalive_timeout=10)
        a: Broker = conn.left  # type: ignore[assignment]
        self.clock.advance(10.2)
        self.assertEqual(conn.left_transport.buffer, [b"\x8e"])
        conn.pump()
        self.assertEqual(a.getDataLastReceivedAt(), self.clock.seconds())

    def test_busy_connection_sends_no_ping(self) -> None:
        """Data arriving within the timeout means no PING."""
        conn = self.make(keepalive_timeout=10)
        self.clock.advance(5)
        conn.left.dataReceived(b"\x8f")  # a PONG counts as data
        self.clock.advance(5.2)
        self.assertEqual(conn.left_transport.buffer, [])

    def test_disconnect_timeout_drops_the_connection(self) -> None:
        """With no data for disconnectTimeout seconds the connection is dropped."""
        conn = self.make(disconnect_timeout=30)
        a: Broker = conn.left  # type: ignore[assignment]
        r: list[Any] = []
        a.getYourReferenceByName("target").addBoth(r.append)
        conn.pump()
        out: list[Any] = []
        r[0].callRemote("never").addBoth(out.append)
        conn.pump()
        conn.right_transport.buffer = []
        conn.left_transport.buffer = []
        # stop the far end from answering: nothing more arrives at A
        conn.right_transport.connected = False
        self.clock.advance(30.2)
        self.clock.advance(30.2)
        self.assertTrue(a.disconnected)
        self.clock.advance(0)
        self.assertTrue(out[0].check(DeadReferenceError))
        self.assertTrue(conn.left_transport.lose_requested)

    def test_keepalive_keeps_disconnect_timer_happy(self) -> None:
        """PING/PONG traffic stops the disconnect timeout from firing."""
        conn = self.make(keepalive_timeout=5, disconnect_timeout=12)
        for _ in range(10):
            self.clock.advance(2.6)
            conn.pump()
        self.assertFalse(conn.left.disconnected)  # type: ignore[attr-defined]

    def test_timers_stop_on_connection_lost(self) -> None:
        """Losing the connection cancels the keepalive timers."""
        conn = self.make(keepalive_timeout=5, disconnect_timeout=12)
        conn.sever()
        conn.pump()
        self.assertEqual(self.clock.getDelayedCalls(), [])


class LoopbackTests(SynchronousTestCase):
    def test_loopback_call(self) -> None:
        """A loopback broker pair carries calls to our own Tub, never re-entrantly."""
        from octavo.tub._broker._loopback import LoopbackAddress, make_loopback_brokers

        clock = Clock()
        tub = FakeTub("self")
        tub.names["target"] = Target(clock)
        ours, theirs = make_loopback_brokers(tub, tub.tubref(), clock=clock)
        out: list[Any] = []
        ours.getYourReferenceByName("target").addBoth(out.append)
        self.assertEqual(out, [])
        for _ in range(20):
            clock.advance(0)
        r = out[0]
        self.assertIsInstance(r.getPeer(), LoopbackAddress)
        res: list[Any] = []
        r.callRemote("echo", {"x": [1]}).addBoth(res.append)
        for _ in range(20):
            clock.advance(0)
        self.assertEqual(res, [{"x": [1]}])
        dead: list[Any] = []
        r.callRemote("never").addBoth(dead.append)
        for _ in range(5):
            clock.advance(0)
        ours.transport.loseConnection()
        for _ in range(5):
            clock.advance(0)
        self.assertTrue(ours.disconnected and theirs.disconnected)
        self.assertTrue(dead[0].check(DeadReferenceError))
        self.assertEqual(len(tub.detached), 2)


class ConstructionTests(SynchronousTestCase):
    def test_params_are_kept(self) -> None:
        """Negotiated parameters land on the broker; string indexes are accepted."""
        b = Broker(
            FakeTub("a"),
            FakeTub("b").tubref(),
            {
                "initial-vocab-table-index": "1",
                "current-slave-IR": "ir",
                "current-seqnum": 4,
            },
            clock=Clock(),
            connection_info="info",
        )
        self.assertEqual(b.current_slave_IR, "ir")
        self.assertEqual(b.current_seqnum, 4)
        self.assertEqual(b.getConnectionInfo(), "info")
        self.assertEqual(b.creation_timestamp, 0)

    def test_a_broker_built_ahead_takes_the_decided_params(self) -> None:
        """A Broker built with the likely parameters becomes the decision's when its
        wire parameters agree (the bookkeeping ones and the creation time follow the
        decision); when they differ it refuses and changes nothing."""
        from octavo.tub._negotiation._machine import loopback_params

        clock = Clock()
        b = Broker(FakeTub("a"), FakeTub("b").tubref(), loopback_params(), clock=clock)
        clock.advance(5)
        other_table = dict(loopback_params(), **{"initial-vocab-table-index": 0})
        self.assertFalse(b.take_params(other_table))
        self.assertEqual((b.current_slave_IR, b.creation_timestamp), (None, 0))
        decided = dict(loopback_params(), **{"current-slave-IR": "ir", "current-seqnum": 4})
        self.assertTrue(b.take_params(decided))
        self.assertEqual((b.current_slave_IR, b.current_seqnum), ("ir", 4))
        self.assertEqual((b.params, b.creation_timestamp), (decided, 5))

    def test_a_broker_built_before_its_peer_was_known_checks_it_after(self) -> None:
        """A Broker built ahead with no peer takes the one the decision came from: its
        remote_tubref, and the TubID the FURLs of inbound references are checked
        against."""
        from octavo.tub._negotiation._machine import loopback_params

        peer = FakeTub("b").tubref()
        b = Broker(FakeTub("a"), None, loopback_params(), clock=Clock())
        self.assertIsNone(b.connection.their_references.remote_tubid)
        self.assertTrue(b.take_params(loopback_params(), peer))
        self.assertEqual(b.remote_tubref, peer)
        self.assertEqual(b.connection.their_references.remote_tubid, peer.getTubID())

    def test_unknown_vocab_table(self) -> None:
        """An unknown initial vocab table index is refused at construction."""
        with self.assertRaises(ValueError):
            Broker(None, None, {"initial-vocab-table-index": 7}, clock=Clock())

    def test_vocab_table_zero_interoperates(self) -> None:
        """Two brokers without an initial vocab table still talk."""
        clock = Clock()
        ta, tb = FakeTub("a"), FakeTub("b")
        tb.names["t"] = Target()
        conn = BrokerConnection.between(
            ta, tb, clock=clock, params={"initial-vocab-table-index": 0}
        )
        out: list[Any] = []
        conn.left.getYourReferenceByName("t").addCallback(  # type: ignore[attr-defined]
            lambda r: r.callRemote("echo", "plain")
        ).addBoth(out.append)
        conn.pump()
        self.assertEqual(out, ["plain"])

    def test_broker_tub_protocol(self) -> None:
        """FakeTub satisfies the BrokerTub protocol the Tub implements."""
        from octavo.tub._broker._tub_protocol import BrokerTub, TubRefLike

        self.assertIsInstance(FakeTub("a"), BrokerTub)
        self.assertIsInstance(FakeTub("a").tubref(), TubRefLike)

    def test_succeed_is_not_required(self) -> None:
        """A method returning an already-fired Deferred is answered immediately."""
        clock = Clock()
        ta, tb = FakeTub("a"), FakeTub("b")

        class Quick(Referenceable):
            def remote_q(self) -> Deferred[int]:
                return succeed(9)

        tb.names["q"] = Quick()
        conn = BrokerConnection.between(ta, tb, clock=clock)
        out: list[Any] = []
        conn.left.getYourReferenceByName("q").addCallback(  # type: ignore[attr-defined]
            lambda r: r.callRemote("q")
        ).addBoth(out.append)
        conn.pump()
        self.assertEqual(out, [9])
