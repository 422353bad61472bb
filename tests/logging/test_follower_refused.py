"""ReconnectingFollower when the logport refuses a resubscription and the connection
stays up: it asks again on that connection with backoff, says so in its state, and
stops asking when stopped or when the connection goes (fakes and a Clock, no network)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.task import Clock
from twisted.trial import unittest

from octavo.logging._follower import MAX_REASON, RECONNECTING, REFUSED, ReconnectingFollower
from octavo.logging._limits import TooManySubscriptionsError

from ._fakes import Collector

FURL = "pb://aaaabbbbccccddddeeeeffffgggghhhh@tcp:127.0.0.1:1/logport"


class Exact:
    """An rng without jitter: every delay is the backoff's base delay."""

    def normalvariate(self, mu: float = 0.0, sigma: float = 1.0) -> float:
        return mu


class FakeSubscription:
    def __init__(self) -> None:
        self.unsubscribed = 0

    def callRemote(self, name: str, *args: Any) -> Deferred[Any]:
        assert name == "unsubscribe"
        self.unsubscribed += 1
        return succeed(None)


class FakeLogport:
    """A reference to a logport: answers at once, refusing subscriptions while told to."""

    def __init__(self, refuse: bool = False) -> None:
        self.refuse = refuse
        self.fail_versions = False
        self.hold = False
        self.asked: list[str] = []
        self.held: list[Deferred[Any]] = []
        self.observers: list[Any] = []
        self.subscriptions: list[FakeSubscription] = []
        self._watchers: list[tuple[Callable[..., object], tuple[Any, ...]]] = []

    def notifyOnDisconnect(self, callback: Callable[..., object], *args: Any) -> None:
        self._watchers.append((callback, args))

    def lose(self) -> None:
        watchers, self._watchers = self._watchers, []
        for callback, args in watchers:
            callback(*args)

    @property
    def subscribes(self) -> int:
        return self.asked.count("subscribe_to_all")

    def callRemote(self, name: str, *args: Any) -> Deferred[Any]:
        self.asked.append(name)
        if name == "get_pid":
            return succeed(4242)
        if name == "get_versions":
            if self.fail_versions:
                return fail(RuntimeError("no versions today"))
            return succeed({"octavo-logging": "1"})
        assert name == "subscribe_to_all"
        if self.hold:
            d: Deferred[Any] = Deferred()
            self.held.append(d)
            return d
        if self.refuse:
            return fail(TooManySubscriptionsError("too many logport subscriptions (at most 1)"))
        self.observers.append(args[0])
        sub = FakeSubscription()
        self.subscriptions.append(sub)
        return succeed(sub)


class FakeTub:
    """getReference hands out the logports of ``refs`` in turn."""

    def __init__(self, *refs: FakeLogport) -> None:
        self.refs = list(refs)

    def getReference(self, furl: str) -> Deferred[Any]:
        return succeed(self.refs.pop(0))


class Refused(unittest.SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.states: list[str] = []
        self.connected: list[int | None] = []
        self.got = Collector()

    def follow(self, *refs: FakeLogport) -> ReconnectingFollower:
        follower = ReconnectingFollower(
            FakeTub(*refs),
            FURL,
            self.got,
            on_state=self.states.append,
            on_connected=lambda pid, versions: self.connected.append(pid),
            clock=self.clock,
            rng=Exact(),
        )
        self.successResultOf(follower.start())
        return follower

    def refused_after_a_restart(self) -> tuple[ReconnectingFollower, FakeLogport]:
        """Followed once, then the logport restarts and refuses the new subscription."""
        first, second = FakeLogport(), FakeLogport(refuse=True)
        follower = self.follow(first, second)
        first.lose()
        assert follower.state == RECONNECTING
        self.clock.advance(1.0)
        assert second.subscribes == 1
        return follower, second

    def test_a_refused_resubscription_is_asked_again_with_backoff(self) -> None:
        """Asked again after 1 s, e s, e**2 s ... at most 30 s, on the same connection."""
        follower, second = self.refused_after_a_restart()
        assert follower.state.startswith(REFUSED)
        assert "at most 1" in follower.state and "again in 1.0 s" in follower.state
        assert follower.retry_pending
        waits = []
        for expected in (1.0, math.e, math.e**2, math.e**3, 30.0, 30.0):
            self.clock.advance(expected - 0.001)
            assert second.subscribes == len(waits) + 1  # not yet
            self.clock.advance(0.002)
            assert second.subscribes == len(waits) + 2
            waits.append(self.clock.getDelayedCalls()[0].getTime() - self.clock.seconds())
        assert waits == pytest.approx([math.e, math.e**2, math.e**3, 30.0, 30.0, 30.0], abs=0.01)
        assert len(self.clock.getDelayedCalls()) == 1  # one retry pending, never more
        assert follower.resubscribes == 6 and follower.refusals == 7
        second.refuse = False
        self.clock.advance(30.0)
        assert follower.state == "" and not follower.retry_pending
        assert follower.connections == 2 and follower.refusals == 0
        assert len(second.observers) == 1
        assert self.clock.getDelayedCalls() == []
        # the pid and versions were asked, and on_connected told, once per connection
        assert second.asked.count("get_versions") == 1 and self.connected == [4242, 4242]
        assert self.states[0] == "" and self.states[1] == RECONNECTING
        assert all(s.startswith(REFUSED) for s in self.states[2:-1]) and self.states[-1] == ""

    def test_events_after_the_retry_come_once(self) -> None:
        """The accepted retry catches up; events delivered before are skipped."""
        first, second = FakeLogport(), FakeLogport(refuse=True)
        follower = self.follow(first, second)
        inc = (b"\x01" * 8, None)
        for num in range(2):
            first.observers[0].remote_msg({"num": num, "incarnation": inc, "level": 20})
        first.lose()
        self.clock.advance(1.0)
        second.refuse = False
        self.clock.advance(1.0)
        assert follower.state == ""
        assert second.asked[-2:] == ["subscribe_to_all", "subscribe_to_all"]
        for num in range(4):  # the catch-up repeats 0 and 1
            second.observers[0].remote_msg({"num": num, "incarnation": inc, "level": 20})
        assert [e["num"] for _, e in self.got.events] == [0, 1, 2, 3]
        assert follower.repeats_skipped == 2

    def test_a_failure_before_subscribing_is_retried_too(self) -> None:
        """get_versions failing is a refusal like any other; it is asked again."""
        first, second = FakeLogport(), FakeLogport()
        second.fail_versions = True
        follower = self.follow(first, second)
        first.lose()
        self.clock.advance(1.0)
        assert follower.state.startswith(REFUSED) and "no versions today" in follower.state
        assert second.subscribes == 0
        second.fail_versions = False
        self.clock.advance(1.0)
        assert follower.state == "" and second.subscribes == 1
        assert second.asked.count("get_versions") == 2 and self.connected == [4242, 4242]

    def test_a_long_reason_is_cut(self) -> None:
        """The log port's words reach the state (and the viewer's page) bounded."""
        first, second = FakeLogport(), FakeLogport()
        follower = self.follow(first, second)
        self.patch(second, "callRemote", lambda name, *a: fail(RuntimeError("x" * 100_000)))
        first.lose()
        self.clock.advance(1.0)
        assert follower.state.startswith(REFUSED) and "x" * MAX_REASON + "..." in follower.state
        assert len(follower.state) < MAX_REASON + 100

    def test_stop_ends_the_retries(self) -> None:
        """Once stopped, nothing is scheduled and the logport is never asked again."""
        follower, second = self.refused_after_a_restart()
        self.successResultOf(follower.stop())
        assert not follower.retry_pending
        assert self.clock.getDelayedCalls() == []
        self.clock.advance(1000.0)
        assert second.subscribes == 1

    def test_a_subscription_granted_after_stop_is_given_back(self) -> None:
        """A retry in flight when stop() is called: its late subscription is unsubscribed."""
        follower, second = self.refused_after_a_restart()
        second.hold = True
        self.clock.advance(1.0)
        assert len(second.held) == 1
        self.successResultOf(follower.stop())
        sub = FakeSubscription()
        second.held[0].callback(sub)
        assert sub.unsubscribed == 1
        assert follower.state.startswith(REFUSED)  # no "following" after stop

    def test_a_lost_connection_while_waiting_hands_over_to_the_reconnector(self) -> None:
        """The retry is cancelled; the Reconnector's new connection subscribes."""
        third = FakeLogport()
        first, second = FakeLogport(), FakeLogport(refuse=True)
        follower = self.follow(first, second, third)
        first.lose()
        self.clock.advance(1.0)
        assert follower.retry_pending
        second.lose()
        assert follower.state == RECONNECTING and not follower.retry_pending
        self.clock.advance(1.0)
        assert follower.state == "" and third.subscribes == 1
        assert second.subscribes == 1
        assert self.clock.getDelayedCalls() == []

    def test_a_first_refusal_still_fails_start(self) -> None:
        """Refused at the very first subscription: start() fails, nothing is retried."""
        follower = ReconnectingFollower(
            FakeTub(FakeLogport(refuse=True)), FURL, self.got, clock=self.clock, rng=Exact()
        )
        self.failureResultOf(follower.start(), TooManySubscriptionsError)
        assert self.clock.getDelayedCalls() == []
        self.successResultOf(follower.stop())
