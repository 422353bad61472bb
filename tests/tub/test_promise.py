"""Promises and eventual send: queued messages, resolution, breakage, RemoteReferences."""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.python.failure import Failure
from twisted.trial import unittest

from octavo.tub import (
    LocalReferenceable,
    Promise,
    Referenceable,
    UsageError,
    makePromise,
    resolvedPromise,
    send,
    sendOnly,
    when,
)
from octavo.tub._net._identity import create_certificate

from ._loopback import LoopbackTubs


class Target:
    """A local object that records the messages it gets."""

    def __init__(self) -> None:
        self.got: list[tuple[str, Any]] = []

    def add(self, x: int, y: int = 0) -> int:
        self.got.append(("add", (x, y)))
        return x + y

    def boom(self) -> None:
        self.got.append(("boom", None))
        raise ValueError("boom")

    def later(self, d: defer.Deferred[int]) -> defer.Deferred[int]:
        return d

    def me(self) -> Target:
        return self


class PromiseTests(unittest.SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()

    def turn(self, n: int = 5) -> None:
        for _ in range(n):
            self.clock.advance(0)

    def test_send_to_a_local_object_runs_on_a_later_turn(self) -> None:
        """send(obj).add(...) does nothing now; the call and the result come later."""
        t = Target()
        p = send(t, clock=self.clock).add(1, y=2)
        assert isinstance(p, Promise)
        assert t.got == []
        d = when(p)
        self.turn()
        assert t.got == [("add", (1, 2))]
        assert self.successResultOf(d) == 3

    def test_messages_queue_until_resolution_and_run_in_order(self) -> None:
        """Messages sent to an unresolved promise wait, then run in the order sent."""
        p, resolve = makePromise(clock=self.clock)
        results = [when(send(p).add(i)) for i in range(5)]
        sendOnly(p).add(99)
        p.add(100)  # dataflow style is the same as send(p).add(100)
        self.turn()
        for d in results:
            self.assertNoResult(d)
        t = Target()
        resolve(t)
        assert t.got == []  # never in the resolving turn
        self.turn()
        assert [args[0] for _, args in t.got] == [0, 1, 2, 3, 4, 99, 100]
        assert [self.successResultOf(d) for d in results] == [0, 1, 2, 3, 4]

    def test_sends_after_resolution_keep_their_order(self) -> None:
        """Messages sent after resolution are delivered after those queued before it."""
        p, resolve = makePromise(clock=self.clock)
        p.add(1)
        t = Target()
        resolve(t)
        p.add(2)
        self.turn()
        assert [args[0] for _, args in t.got] == [1, 2]

    def test_broken_promise_breaks_every_queued_message(self) -> None:
        """A broken promise makes every queued message, and every later one, fail
        with its Failure; the target is never called."""
        p, resolve = makePromise(clock=self.clock)
        queued = [when(p.add(i)) for i in range(3)]
        only = sendOnly(p).add(9)
        assert only is None
        resolve(Failure(KeyError("gone")))
        later = when(p.add(4))
        self.turn()
        for d in [*queued, later]:
            assert self.failureResultOf(d, KeyError).value.args == ("gone",)
        self.failureResultOf(when(p), KeyError)

    def test_failing_method_breaks_only_its_result(self) -> None:
        """A method that raises breaks its own result promise; the next message runs."""
        t = Target()
        p = resolvedPromise(t, clock=self.clock)
        bad = when(p.boom())
        good = when(p.add(2, 3))
        self.turn()
        self.failureResultOf(bad, ValueError)
        assert self.successResultOf(good) == 5

    def test_unknown_method_breaks_the_result(self) -> None:
        """Sending a message the target has no method for breaks the result promise."""
        p = send(Target(), clock=self.clock).nosuch()
        d = when(p)
        self.turn()
        self.failureResultOf(d, AttributeError)

    def test_pipelining_through_result_promises(self) -> None:
        """A result promise can be sent to before it resolves (p.me().add(...))."""
        t = Target()
        d = when(send(t, clock=self.clock).me().add(4, 4))
        self.turn()
        assert self.successResultOf(d) == 8

    def test_resolving_to_a_promise_chains(self) -> None:
        """A promise resolved to another promise follows it, queued messages too."""
        outer, resolve_outer = makePromise(clock=self.clock)
        inner, resolve_inner = makePromise(clock=self.clock)
        d = when(outer.add(1, 1))
        resolve_outer(inner)
        self.turn()
        self.assertNoResult(d)
        t = Target()
        resolve_inner(t)
        self.turn()
        assert self.successResultOf(d) == 2
        assert self.successResultOf(when(outer)) is t

    def test_chained_to_a_broken_promise_breaks(self) -> None:
        """Following a promise that breaks breaks this one too."""
        outer, resolve_outer = makePromise(clock=self.clock)
        inner, resolve_inner = makePromise(clock=self.clock)
        resolve_outer(inner)
        d = when(outer.add(1))
        resolve_inner(Failure(RuntimeError("no")))
        self.turn()
        self.failureResultOf(d, RuntimeError)

    def test_deferred_results_are_waited_for(self) -> None:
        """A method returning a Deferred resolves its promise when that fires."""
        pending: defer.Deferred[int] = defer.Deferred()
        d = when(send(Target(), clock=self.clock).later(pending))
        self.turn()
        self.assertNoResult(d)
        pending.callback(7)
        self.turn()
        assert self.successResultOf(d) == 7

    def test_resolving_twice_is_a_usage_error(self) -> None:
        """The resolver works once; a second call (value or Failure) raises UsageError."""
        _p, resolve = makePromise(clock=self.clock)
        resolve(1)
        with pytest.raises(UsageError):
            resolve(2)
        with pytest.raises(UsageError):
            resolve(Failure(ValueError()))

    def test_when_fires_after_queued_messages(self) -> None:
        """when() watchers of an unresolved promise fire after its queued messages ran."""
        p, resolve = makePromise(clock=self.clock)
        t = Target()
        order: list[str] = []
        p.add(1)._then(lambda _: order.append("message"))
        when(p).addCallback(lambda _: order.append(f"when saw {len(t.got)} calls"))
        resolve(t)
        self.turn()
        assert order[0] == "when saw 1 calls"
        assert "message" in order

    def test_then_and_except(self) -> None:
        """_then runs on success only, _except on breakage only; both return the promise."""
        good, resolve_good = makePromise(clock=self.clock)
        bad, resolve_bad = makePromise(clock=self.clock)
        seen: list[object] = []
        assert good._then(seen.append) is good
        assert good._except(lambda f: seen.append("good broke")) is good
        bad._then(lambda v: seen.append("bad ok"))
        bad._except(lambda f: seen.append(f.value))
        resolve_good("v")
        err = OSError("x")
        resolve_bad(Failure(err))
        self.turn()
        assert seen == ["v", err]

    def test_when_needs_a_promise(self) -> None:
        """when() of anything but a Promise is a TypeError."""
        with pytest.raises(TypeError):
            when(3)  # type: ignore[arg-type]

    def test_private_names_are_not_messages(self) -> None:
        """Underscore names are not turned into messages (typos fail loudly)."""
        p = resolvedPromise(Target(), clock=self.clock)
        with pytest.raises(AttributeError):
            p._nosuch  # noqa: B018 - the attribute access is the test
        with pytest.raises(AttributeError):
            send(Target(), clock=self.clock)._private  # noqa: B018

    def test_send_to_a_remote_reference_uses_call_remote(self) -> None:
        """A target providing IRemoteReference gets callRemote (send) or callRemoteOnly
        (sendOnly) on a later turn."""

        class Adder(Referenceable):  # type: ignore[misc]
            def __init__(self) -> None:
                self.calls: list[int] = []

            def remote_add(self, x: int) -> int:
                self.calls.append(x)
                return x + 1

        adder = Adder()
        rref = LocalReferenceable(adder, clock=self.clock)
        d = when(send(rref, clock=self.clock).add(1))
        sendOnly(rref, clock=self.clock).add(2)
        self.turn()
        assert self.successResultOf(d) == 2
        assert adder.calls == [1, 2]

    def test_no_delayed_call_left(self) -> None:
        """Once everything is delivered nothing is left scheduled on the clock."""
        p, resolve = makePromise(clock=self.clock)
        p.add(1)
        resolve(Target())
        self.turn()
        assert self.clock.getDelayedCalls() == []


class Counter(Referenceable):  # type: ignore[misc]
    def __init__(self) -> None:
        self.seen: list[int] = []

    def remote_add(self, x: int) -> int:
        self.seen.append(x)
        return sum(self.seen)


class PromiseOverTubs(LoopbackTubs, unittest.TestCase):
    async def test_promise_resolving_to_a_remote_reference(self) -> None:
        """Messages sent to a promise before it resolves to a RemoteReference (over a
        real loopback Tub pair) are delivered with callRemote, in order, with results."""
        a, b = self.make_tub(create_certificate()), self.make_tub(create_certificate())
        counter = Counter()
        furl = b.registerReference(counter)
        p, resolve = makePromise()
        results = [when(send(p).add(i)) for i in range(1, 6)]
        sendOnly(p).add(100)
        a.getReference(furl).addBoth(resolve)
        sums = [await d for d in results]
        assert sums == [1, 3, 6, 10, 15]
        assert await when(p.add(0)) == 115
        assert counter.seen == [1, 2, 3, 4, 5, 100, 0]

    async def test_promise_broken_by_a_failed_get_reference(self) -> None:
        """A promise resolved with getReference's failure breaks every queued message."""
        a = self.make_tub(create_certificate())
        b = self.make_tub(create_certificate())
        furl = b.buildURL("no-such-name")
        p, resolve = makePromise()
        queued = [when(p.add(i)) for i in range(3)]
        a.getReference(furl).addBoth(resolve)
        for d in queued:
            with pytest.raises(Exception, match="unable to find reference"):
                await d
