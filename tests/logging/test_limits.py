"""Per-peer and total limits on logport subscriptions and gatherer logports:
the counter alone, then over loopback Tubs (a peer past its limit is refused
with a Violation, the Tub goes on serving others, slots come back)."""

from __future__ import annotations

from typing import Any

import pytest
from twisted.trial import unittest

from octavo.logging._follower import EventObserver
from octavo.logging._gatherer import LogGatherer
from octavo.logging._incident_gatherer import IncidentGatherer
from octavo.logging._limits import LOCAL_PEER, PeerLimits, TooManySubscriptionsError, peer_of
from octavo.logging._publisher import LogPublisher
from octavo.tub import RemoteException, Violation
from octavo.tub._net._identity import create_certificate
from tests.tub._loopback import LoopbackTubs

from ._fakes import Collector, FakeLogger, fresh_path, turns

CERTS = [create_certificate() for _ in range(4)]


async def refusal(call: Any) -> str:
    """The message of the TooManySubscriptionsError a remote call fails with."""
    try:
        await call
    except RemoteException as e:
        assert e.failure.check(TooManySubscriptionsError), e.failure
        assert e.failure.check(Violation)
        return str(e.failure.getErrorMessage())
    raise AssertionError("the call was not refused")


def test_limits_refuse_past_per_peer_and_total_and_report_once() -> None:
    """Past either limit acquire raises a Violation; each episode is reported once."""
    said: list[str] = []
    limits = PeerLimits("things", per_peer=2, total=3, report=said.append)
    a1, a2 = limits.acquire("a"), limits.acquire("a")
    for _ in range(3):
        with pytest.raises(TooManySubscriptionsError, match="at most 2"):
            limits.acquire("a")
    assert len(said) == 1 and "refused things to a" in said[0]
    b1 = limits.acquire("b")
    with pytest.raises(TooManySubscriptionsError, match="3 in all"):
        limits.acquire("c")
    with pytest.raises(TooManySubscriptionsError):
        limits.acquire("d")
    assert len(said) == 2 and limits.refused == 5
    a1()
    a1()  # a release given twice counts once
    assert limits.held == {"a": 1, "b": 1} and len(limits) == 2
    limits.acquire("a")
    with pytest.raises(TooManySubscriptionsError):
        limits.acquire("a")
    assert len(said) == 3  # a new episode for "a" after it went under its limit
    a2()
    b1()
    assert issubclass(TooManySubscriptionsError, Violation)


def test_limits_must_allow_one() -> None:
    """A limit under 1 is refused at construction."""
    with pytest.raises(ValueError, match="at least 1"):
        PeerLimits("things", per_peer=0)


def test_peer_of_a_local_object() -> None:
    """Objects without a connection count as one local peer."""
    assert peer_of(object()) == LOCAL_PEER


class LogportLimits(LoopbackTubs, unittest.TestCase):
    def setUp(self) -> None:
        self.logger = FakeLogger()
        self.source = self.make_tub(CERTS[0])
        self.publisher = LogPublisher(
            self.logger, max_subscriptions_per_peer=2, max_subscriptions=3
        )
        self.furl = self.source.registerReference(self.publisher)

    async def subscribe(self, tub: Any, got: Collector) -> Any:
        logport = await tub.getReference(self.furl)
        observer = EventObserver(self.source.getTubID(), got, lambda t, e: None)
        return await logport.callRemote("subscribe_to_all", observer)

    async def test_a_peer_past_its_limit_is_refused_others_still_served(self) -> None:
        """The third subscription of one Tub fails; another Tub subscribes and gets events."""
        greedy, other = self.make_tub(CERTS[1]), self.make_tub(CERTS[2])
        got = Collector()
        first = await self.subscribe(greedy, got)
        await self.subscribe(greedy, got)
        why = await refusal(self.subscribe(greedy, got))
        assert "too many logport subscriptions from one Tub (at most 2)" in why
        logport = await greedy.getReference(self.furl)
        observer = EventObserver("x", got, lambda t, e: None)
        why = await refusal(logport.callRemote("subscribe_to_incidents", observer))
        assert "at most 2" in why
        assert self.publisher.limits.refused == 2
        theirs = Collector()
        await self.subscribe(other, theirs)
        await turns()
        self.logger.emit(1)
        await theirs.wait_for(1)
        await got.wait_for(2)  # the greedy Tub's two subscriptions still work
        # the total (3) is reached: a fourth Tub is refused, until one unsubscribes
        late = self.make_tub(CERTS[3])
        assert "3 in all" in await refusal(self.subscribe(late, Collector()))
        await first.callRemote("unsubscribe")
        await self.subscribe(late, Collector())

    async def test_slots_come_back_when_the_peer_disconnects(self) -> None:
        """A Tub that goes away gives back its slots; subscribing again works."""
        greedy = self.make_tub(CERTS[1])
        await self.subscribe(greedy, Collector())
        await self.subscribe(greedy, Collector())
        assert self.publisher.limits.held[greedy.getTubID()] == 2
        await greedy.stopService()
        for _ in range(50):
            if not self.publisher.limits.held:
                break
            await turns(1)
        assert not self.publisher.limits.held
        assert self.logger.observers == []


class GathererLimits(LoopbackTubs, unittest.TestCase):
    def serve(self, gatherer: Any) -> str:
        return str(self.make_tub(CERTS[0]).registerReference(gatherer))

    async def hand_logports(self, furl: str, tub: Any, n: int) -> list[str | None]:
        """Call ``logport`` ``n`` times from ``tub``; returns each outcome (None or why not)."""
        ref = await tub.getReference(furl)
        publisher = LogPublisher(FakeLogger())
        outcomes: list[str | None] = []
        for _ in range(n):
            try:
                await ref.callRemote("logport", tub.getTubID().encode(), publisher)
                outcomes.append(None)
            except RemoteException as e:
                assert e.failure.check(TooManySubscriptionsError), e.failure
                outcomes.append(str(e.failure.getErrorMessage()))
        return outcomes

    async def test_log_gatherer_follows_at_most_its_limit_per_peer(self) -> None:
        """A Tub handing the gatherer logports again and again is refused past the limit."""
        gatherer = LogGatherer(fresh_path(self), max_logports_per_peer=2, max_logports=10)
        gatherer.start()
        self.addCleanup(gatherer.stop)
        furl = self.serve(gatherer)
        greedy = self.make_tub(CERTS[1])
        outcomes = await self.hand_logports(furl, greedy, 4)
        assert outcomes[:2] == [None, None]
        assert all("at most 2" in str(o) for o in outcomes[2:])
        assert gatherer.stats.refused["too many logports"] == 2
        assert gatherer.stats.subscribed == 2
        # another Tub is still served
        assert await self.hand_logports(furl, self.make_tub(CERTS[2]), 1) == [None]
        # and the greedy one's slots come back once it goes away
        await greedy.stopService()
        for _ in range(50):
            if greedy.getTubID() not in gatherer.limits.held:
                break
            await turns(1)
        assert greedy.getTubID() not in gatherer.limits.held

    async def test_incident_gatherer_total_limit(self) -> None:
        """The incident gatherer follows at most max_logports logports in all."""
        gatherer = IncidentGatherer(fresh_path(self), max_logports=1)
        gatherer.start()
        furl = self.serve(gatherer)
        first = await self.hand_logports(furl, self.make_tub(CERTS[1]), 1)
        second = await self.hand_logports(furl, self.make_tub(CERTS[2]), 1)
        assert first == [None]
        assert "1 in all" in str(second[0])
