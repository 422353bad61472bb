"""The Tub plug-in, through real Tubs: options, logport, gatherer connections."""

from __future__ import annotations

import os
from typing import Any

import pytest
from twisted.internet import defer
from twisted.logger import Logger
from twisted.logger import LogPublisher as TwistedLogPublisher
from twisted.trial import unittest
from zope.interface import implementer

from octavo.logging._bridges import unbridgeLogsFromTwisted
from octavo.logging._events import format_message
from octavo.logging._follower import LogFollower
from octavo.logging._interfaces import RILogGatherer
from octavo.logging._logger import FoolscapLogger
from octavo.logging._plugin import LoggingPlugin, plugin_factory
from octavo.logging._publisher import LogPublisher
from octavo.tub import NoLocationError, Referenceable, Tub
from octavo.tub._net._identity import create_certificate
from octavo.tub._options import (
    LOGGING_PLUGIN,
    find_plugin_factory,
    register_plugin_factory,
    unregister_plugin_factory,
)
from tests.tub._loopback import LoopbackTubs

from ._fakes import Collector, FakeLogger, fresh_path, turns

CERTS = [create_certificate() for _ in range(3)]


@implementer(RILogGatherer)
class RecordingGatherer(Referenceable):  # type: ignore[misc]
    def __init__(self) -> None:
        self.calls: list[tuple[Any, Any]] = []
        self.waiting: list[defer.Deferred[None]] = []

    def remote_logport(self, nodeid: Any, logport: Any) -> None:
        self.calls.append((nodeid, logport))
        waiting, self.waiting = self.waiting, []
        for d in waiting:
            d.callback(None)

    def wait(self) -> defer.Deferred[None]:
        d: defer.Deferred[None] = defer.Deferred()
        if self.calls:
            d.callback(None)
        else:
            self.waiting.append(d)
        return d


def test_entry_point_names_the_factory() -> None:
    unregister_plugin_factory(LOGGING_PLUGIN)
    assert find_plugin_factory(LOGGING_PLUGIN) is plugin_factory


class PluginThroughTub(LoopbackTubs, unittest.TestCase):
    def setUp(self) -> None:
        self.logger = FakeLogger()
        register_plugin_factory(LOGGING_PLUGIN, lambda tub: LoggingPlugin(tub, self.logger))
        self.addCleanup(unregister_plugin_factory, LOGGING_PLUGIN)

    def test_logport_needs_a_location(self) -> None:
        t = Tub(certData=CERTS[0])
        with pytest.raises(NoLocationError):
            t.getLogPortFURL()
        with pytest.raises(NoLocationError):
            t.getLogPort()

    def test_logport_furl_is_stable_and_kept_in_its_file(self) -> None:
        furlfile = os.path.join(fresh_path(self) + "-dir", "logport.furl")
        os.makedirs(os.path.dirname(furlfile))
        t = self.make_tub(CERTS[0])
        t.setOption("logport-furlfile", furlfile)
        furl = t.getLogPortFURL()
        assert isinstance(t.getLogPort(), LogPublisher)
        assert t.getLogPortFURL() == furl
        with open(furlfile) as f:
            assert f.read().strip() == furl
        # the same Tub identity, later: the same logport FURL
        t2 = Tub(certData=CERTS[0])
        t2.setOption("logport-furlfile", furlfile)
        t2.setLocation(*t.locationHints)
        assert t2.getLogPortFURL() == furl

    def test_bad_option_values_are_refused_by_name(self) -> None:
        t = self.make_tub(CERTS[0])
        with pytest.raises(TypeError, match="log-gatherer-furl"):
            t.setOption("log-gatherer-furl", 42)
        with pytest.raises(TypeError, match="not a FURL"):
            t.setOption("log-gatherer-furl", ["http://example.org/"])
        with pytest.raises(TypeError, match="logport-furlfile"):
            t.setOption("logport-furlfile", 3.5)
        with pytest.raises(ValueError, match="unbridge"):
            t.setOption("bridge-twisted-logs", False)

    async def test_gatherer_is_handed_the_logport(self) -> None:
        gatherer = RecordingGatherer()
        gt = self.make_tub(CERTS[1])
        gfurl = gt.registerReference(gatherer)
        t = Tub(certData=CERTS[0])
        t.setLogGathererFURL(gfurl)  # before the location: waits for it
        t.startService()
        self.addCleanup(t.stopService)
        port = t.listenOn("tcp:0:interface=127.0.0.1").getPortnum()
        t.setLocation(f"127.0.0.1:{port}")
        await gatherer.wait()
        ((nodeid, logport),) = gatherer.calls
        assert nodeid == t.getTubID().encode("ascii")
        # what the gatherer was given is the logport; it answers and can be followed
        assert await logport.callRemote("get_pid") == os.getpid()
        got = Collector()
        follower = LogFollower(gt, t.getLogPortFURL(), got)
        await follower.start()
        await turns()
        self.logger.emit(5)
        await got.wait_for(1)
        assert got.events[0][0] == t.getTubID()
        with pytest.raises(ValueError, match="already set"):
            t.setLogGathererFURL(gfurl)
        await follower.stop()

    async def test_gatherer_furlfile_with_several_gatherers(self) -> None:
        gatherers = [RecordingGatherer(), RecordingGatherer()]
        furls = [self.make_tub(CERTS[1 + i]).registerReference(g) for i, g in enumerate(gatherers)]
        path = fresh_path(self)
        with open(path, "w") as f:
            f.write("\n".join(furls) + "\n\n")
        t = self.make_tub(CERTS[0])
        t.setOption("log-gatherer-furlfile", path)
        await defer.gatherResults([g.wait() for g in gatherers])
        assert all(len(g.calls) == 1 for g in gatherers)

    async def test_tub_log_goes_to_the_logger(self) -> None:
        calls: list[tuple[Any, Any]] = []
        self.logger.msg = lambda *a, **kw: calls.append((a, kw)) or 7  # type: ignore[attr-defined]
        t = self.make_tub(CERTS[0])
        assert t.log("hello", level=20) == 7
        assert calls == [(("hello",), {"level": 20, "tubID": t.getTubID()})]

    async def test_reconnects_to_a_gatherer_that_comes_back(self) -> None:
        """The gatherer's Tub goes away and comes back at the same FURL: the Tub
        reconnects (as Tub.connectTo does) and hands the new one its logport."""
        first = RecordingGatherer()
        gt = Tub(certData=CERTS[1])
        gt.startService()
        port = gt.listenOn("tcp:0:interface=127.0.0.1").getPortnum()
        gt.setLocation(f"127.0.0.1:{port}")
        gfurl = gt.registerReference(first, "gatherer")
        t = self.make_tub(CERTS[0])
        t.setLogGathererFURL(gfurl)
        await first.wait()
        await gt.stopService()
        second = RecordingGatherer()
        again = Tub(certData=CERTS[1])
        again.startService()
        self.addCleanup(again.stopService)
        again.listenOn(f"tcp:{port}:interface=127.0.0.1")
        again.setLocation(f"127.0.0.1:{port}")
        assert again.registerReference(second, "gatherer") == gfurl
        await second.wait()
        assert second.calls[0][0] == t.getTubID().encode("ascii")
        assert len(first.calls) == 1


class BridgeTwistedLogs(LoopbackTubs, unittest.TestCase):
    def test_twisted_events_reach_the_tubs_logger(self) -> None:
        logger = FoolscapLogger()
        register_plugin_factory(LOGGING_PLUGIN, lambda tub: LoggingPlugin(tub, logger))
        self.addCleanup(unregister_plugin_factory, LOGGING_PLUGIN)
        t = self.make_tub(CERTS[0])
        twisted_logs = TwistedLogPublisher()
        bridge = t.setOption("bridge-twisted-logs", twisted_logs)
        self.addCleanup(unbridgeLogsFromTwisted, twisted_logs, bridge)
        Logger(observer=twisted_logs).info("from twisted {x}", x=5)
        messages = [format_message(e) for e in logger.get_buffered_events()]
        assert any("from twisted 5" in m for m in messages)
        with pytest.raises(TypeError, match="bridge-twisted-logs"):
            t.setOption("bridge-twisted-logs", "yes")
