"""LogFollower against a real logport on a loopback Tub."""

from __future__ import annotations

from typing import Any

from twisted.internet.error import ConnectError
from twisted.trial import unittest

from octavo.logging._follower import (
    CONNECTING,
    RECONNECTING,
    REFUSED,
    LogFollower,
    ReconnectingFollower,
)
from octavo.logging._logger import FoolscapLogger
from octavo.logging._publisher import LogPublisher
from octavo.logging._validate import BadEventError
from octavo.tub import Tub
from octavo.tub._net._identity import create_certificate
from tests.tub._loopback import LoopbackTubs

from ._fakes import Collector, FakeLogger, turns, within

CERTS = [create_certificate() for _ in range(2)]


class Follower(LoopbackTubs, unittest.TestCase):
    def setUp(self) -> None:
        self.logger = FakeLogger([{"num": 0, "message": "old", "level": 20, "time": 0.5}])
        self.source = self.make_tub(CERTS[0])
        self.furl = self.source.registerReference(LogPublisher(self.logger))
        self.follower_tub = self.make_tub(CERTS[1])

    async def test_follows_events_with_the_source_tubid(self) -> None:
        got = Collector()
        follower = LogFollower(self.follower_tub, self.furl, got)
        await follower.start()
        assert follower.pid is not None and "octavo-logging" in follower.versions
        await turns()
        for n in range(1, 4):
            self.logger.emit(n)
        await got.wait_for(3)
        assert [e["num"] for _, e in got.events] == [1, 2, 3]
        assert {t for t, _ in got.events} == {self.source.getTubID()}
        await follower.stop()
        await turns()
        assert self.logger.observers == []
        await follower.stop()  # twice is fine

    async def test_catch_up_brings_buffered_events_first(self) -> None:
        got = Collector()
        follower = LogFollower(self.follower_tub, self.furl, got, catch_up=True)
        await follower.start()
        await turns()
        self.logger.emit(1)
        await got.wait_for(2)
        assert [e["num"] for _, e in got.events] == [0, 1]
        await follower.stop()

    async def test_bad_events_are_reported_and_skipped(self) -> None:
        got = Collector()
        bad: list[tuple[str, BadEventError]] = []
        follower = LogFollower(
            self.follower_tub, self.furl, got, on_bad_event=lambda t, e: bad.append((t, e))
        )
        await follower.start()
        await turns()
        for o in list(self.logger.observers):
            o({"num": "one", "level": 20})
            o({"num": 7, "level": 20, "message": "fine"})
        await got.wait_for(1)
        assert [e["num"] for _, e in got.events] == [7]
        assert len(bad) == 1 and "'num'" in str(bad[0][1])
        assert follower.observer.refused == 1
        await follower.stop()

    async def test_a_raising_callback_does_not_stop_the_flow(self) -> None:
        got = Collector()

        def on_event(tubid: str, event: dict[str, Any]) -> None:
            got(tubid, event)
            if event["num"] == 1:
                raise RuntimeError("callback bug")

        follower = LogFollower(self.follower_tub, self.furl, on_event)
        await follower.start()
        await turns()
        self.logger.emit(1)
        self.logger.emit(2)
        await got.wait_for(2)
        assert len(self.flushLoggedErrors(RuntimeError)) == 1
        await follower.stop()

    async def test_when_disconnected_fires_when_the_source_stops(self) -> None:
        follower = LogFollower(self.follower_tub, self.furl, Collector())
        await follower.start()
        lost = follower.when_disconnected()
        await self.source.stopService()
        await lost
        await follower.stop()


class Reconnecting(unittest.TestCase):
    """ReconnectingFollower against a Tub that goes away and comes back with the same FURL."""

    def setUp(self) -> None:
        self.cert = CERTS[0]
        self.port = 0
        self.tubs: list[Tub] = []
        self.follower_tub = Tub(certData=CERTS[1])
        self.follower_tub.startService()
        self.addCleanup(self.follower_tub.stopService)

    def serve(self, logger: FoolscapLogger, publisher: LogPublisher | None = None) -> str:
        """Start the source Tub (same certificate and port each time); returns its FURL."""
        tub = Tub(certData=self.cert)
        tub.startService()
        self.addCleanup(tub.stopService)
        self.port = tub.listenOn(f"tcp:{self.port}:interface=127.0.0.1").getPortnum()
        tub.setLocation(f"127.0.0.1:{self.port}")
        self.tubs.append(tub)
        publisher = LogPublisher(logger) if publisher is None else publisher
        return str(tub.registerReference(publisher, name="logport"))

    def follow(self, furl: str, got: Collector, states: list[str]) -> ReconnectingFollower:
        follower = ReconnectingFollower(
            self.follower_tub, furl, got, on_state=states.append, initial_delay=0.05, max_delay=0.2
        )
        self.addCleanup(follower.stop)
        return follower

    async def test_a_restarted_tub_is_followed_again(self) -> None:
        """Events logged after the Tub restarts (new incarnation, same FURL) arrive."""
        furl = self.serve(first := FoolscapLogger())
        got, states = Collector(), []
        follower = self.follow(furl, got, states)
        await follower.start()
        await turns()
        first.msg("before")
        await got.wait_for(1)
        await self.tubs[0].stopService()
        await within(lambda: follower.state == RECONNECTING)
        logger = FoolscapLogger()
        logger.msg("while away")  # buffered by the new Tub: caught up on reconnection
        assert self.serve(logger) == furl
        await within(lambda: follower.connections == 2)
        await got.wait_for(2)
        logger.msg("after")
        await got.wait_for(3)
        assert [e["message"] for _, e in got.events] == ["before", "while away", "after"]
        assert states == ["", RECONNECTING, ""]

    async def test_a_dropped_connection_repeats_and_loses_nothing(self) -> None:
        """The same logger across a lost connection: the gap is caught up, nothing twice."""
        logger = FoolscapLogger()
        furl = self.serve(logger)
        got, states = Collector(), []
        follower = self.follow(furl, got, states)
        await follower.start()
        await turns()
        for i in range(3):
            logger.msg(f"first {i}")
        await got.wait_for(3)
        await self.tubs[0].stopService()
        await within(lambda: follower.state == RECONNECTING)
        logger.msg("in the gap")
        self.serve(logger)
        await within(lambda: follower.connections == 2)
        logger.msg("last")
        await got.wait_for(5)
        await turns()
        messages = [e["message"] for _, e in got.events]
        assert messages == ["first 0", "first 1", "first 2", "in the gap", "last"]
        assert follower.repeats_skipped == 3

    async def test_a_refused_resubscription_is_asked_again_until_granted(self) -> None:
        """The restarted Tub's logport refuses us (the one slot it gives our Tub is
        taken) while the connection stays up: the follower says so, asks again on that
        connection, and once a slot is free follows with what was logged meanwhile."""
        furl = self.serve(FoolscapLogger())
        got, states = Collector(), []
        follower = self.follow(furl, got, states)
        await follower.start()
        await self.tubs[0].stopService()
        await within(lambda: follower.state == RECONNECTING)
        logger = FoolscapLogger()
        logger.msg("while refused")
        publisher = LogPublisher(logger, max_subscriptions_per_peer=1)
        # another subscription of the follower's Tub holds the only slot it may have
        release = publisher.limits.acquire(self.follower_tub.getTubID())
        assert self.serve(logger, publisher) == furl
        await within(lambda: follower.state.startswith(REFUSED))
        assert "too many logport subscriptions from one Tub (at most 1)" in follower.state
        await within(lambda: follower.refusals >= 3)  # asked again twice, refused twice
        assert follower.state.startswith(REFUSED) and follower.connections == 1
        assert follower.resubscribes >= 2 and publisher.limits.refused >= follower.refusals
        release()
        await within(lambda: follower.state == "")
        assert follower.connections == 2 and not follower.retry_pending
        await got.wait_for(1)
        logger.msg("after")
        await got.wait_for(2)
        assert [e["message"] for _, e in got.events] == ["while refused", "after"]
        assert states[:3] == ["", RECONNECTING, states[2]] and states[2].startswith(REFUSED)
        assert states[-1] == ""

    async def test_a_first_attempt_that_fails_is_an_error(self) -> None:
        """A FURL nobody serves fails start() and stops trying."""
        furl = self.serve(FoolscapLogger())
        await self.tubs[0].stopService()
        follower = self.follow(furl, Collector(), [])
        with self.assertRaises(ConnectError):
            await follower.start()
        await follower.stop()
        assert follower.state == CONNECTING
