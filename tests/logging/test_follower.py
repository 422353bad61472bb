"""LogFollower against a real logport on a loopback Tub."""

from __future__ import annotations

from typing import Any

from twisted.trial import unittest

from octavo.logging._follower import LogFollower
from octavo.logging._publisher import LogPublisher
from octavo.logging._validate import BadEventError
from octavo.tub._net._identity import create_certificate
from tests.tub._loopback import LoopbackTubs

from ._fakes import Collector, FakeLogger, turns

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
