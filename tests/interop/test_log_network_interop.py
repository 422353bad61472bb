"""octavo-logging and real Foolscap 24.9 over the network, both ways.

- our RemoteInterfaces declare what Foolscap's do (names, methods, arguments);
- ``flogtool tail`` follows an Octavo Tub's logport;
- LogFollower (what ``octavo-log tail`` uses) follows a Foolscap Tub's logport;
- a Foolscap Tub pushes its events to an Octavo log gatherer, and ``flogtool dump``
  reads the file it wrote;
- an Octavo Tub pushes its events to a Foolscap gatherer (``flogtool
  create-gatherer`` run by ``twistd``), and we read the file it wrote;
- Foolscap's incident gatherer fetches and classifies an Octavo Tub's incident, and
  ours a Foolscap Tub's (and ``flogtool classify-incident`` reads what we stored).
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
from typing import Any

from foolscap.logging import interfaces as fi
from twisted.internet import defer, protocol, reactor
from twisted.internet.utils import getProcessOutputAndValue
from twisted.trial import unittest

from octavo.logging import _interfaces as oi
from octavo.logging._flogfile import read_flogfile
from octavo.logging._follower import LogFollower
from octavo.logging._gatherer import LogGatherer
from octavo.logging._incident_gatherer import IncidentGatherer
from octavo.logging._incidents import NonTrailingIncidentReporter
from octavo.logging._logger import FoolscapLogger
from octavo.logging._plugin import LoggingPlugin
from octavo.tub import Tub
from octavo.tub._net._identity import create_certificate
from octavo.tub._options import LOGGING_PLUGIN, register_plugin_factory, unregister_plugin_factory

HERE = os.path.dirname(__file__)
PEER = os.path.join(HERE, "foolscap_log_peer.py")
BIN = os.path.dirname(sys.executable)
FLOGTOOL = os.path.join(BIN, "flogtool")
TWISTD = os.path.join(BIN, "twistd")
CERTS = [create_certificate() for _ in range(2)]
# unbuffered: flogtool prints to a pipe, and we read its lines as they come
ENV = dict(os.environ, PYTHONWARNINGS="ignore", PYTHONUNBUFFERED="1")


def test_interfaces_match_foolscap() -> None:
    pairs = [
        (oi.RILogObserver, fi.RILogObserver),
        (oi.RILogFile, fi.RILogFile),
        (oi.RISubscription, fi.RISubscription),
        (oi.RILogPublisher, fi.RILogPublisher),
        (oi.RILogGatherer, fi.RILogGatherer),
    ]
    # Octavo's own methods (batched subscriptions), which a Foolscap logport refuses
    extensions = {"msg_batch", "subscribe_to_batches"}
    for ours, theirs in pairs:
        assert ours.__remote_name__ == theirs.__remote_name__
        assert sorted(set(ours.names()) - extensions) == sorted(theirs.names())
        for name in theirs.names():
            assert list(ours[name].argumentNames) == list(theirs[name].argumentNames), name
            assert sorted(ours[name].required) == sorted(theirs[name].required), name


class Lines(protocol.ProcessProtocol):
    """A child process whose stdout lines we watch for."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.stderr = b""
        self._buffer = b""
        self._waiting: list[tuple[Any, defer.Deferred[str]]] = []
        self.ended: defer.Deferred[None] = defer.Deferred()

    @classmethod
    def spawn(cls, *argv: str, path: str | None = None) -> Lines:
        p = cls()
        reactor.spawnProcess(p, argv[0], list(argv), env=ENV, path=path)  # type: ignore[attr-defined]
        return p

    def outReceived(self, data: bytes) -> None:
        self._buffer += data
        while b"\n" in self._buffer:
            raw, self._buffer = self._buffer.split(b"\n", 1)
            line = raw.decode("utf-8", "replace")
            self.lines.append(line)
            still = []
            for match, d in self._waiting:
                if match(line):
                    d.callback(line)
                else:
                    still.append((match, d))
            self._waiting = still

    def errReceived(self, data: bytes) -> None:
        self.stderr = (self.stderr + data)[-8000:]

    def processEnded(self, reason: object) -> None:
        for _, d in self._waiting:
            d.errback(RuntimeError(f"process ended: {self.stderr.decode()[-3000:]}"))
        self._waiting = []
        self.ended.callback(None)

    def wait_for(self, match: Any) -> defer.Deferred[str]:
        d: defer.Deferred[str] = defer.Deferred()
        for line in self.lines:
            if match(line):
                d.callback(line)
                return d
        self._waiting.append((match, d))
        return d

    def kill(self) -> defer.Deferred[None]:
        if not self.ended.called:
            self.transport.signalProcess("KILL")  # type: ignore[union-attr]
        return self.ended


async def turn(seconds: float = 0.0) -> None:
    d: defer.Deferred[None] = defer.Deferred()
    reactor.callLater(seconds, d.callback, None)  # type: ignore[attr-defined]
    await d


async def until(condition: Any, what: str, turns: int = 3000) -> None:
    """Let the reactor run (10 ms steps) until ``condition()``; bounded."""
    for _ in range(turns):
        if condition():
            return
        await turn(0.01)
    raise AssertionError(f"never happened: {what}")


class LoggingInterop(unittest.TestCase):
    timeout = 60

    def setUp(self) -> None:
        self.logger = FoolscapLogger()
        register_plugin_factory(LOGGING_PLUGIN, lambda tub: LoggingPlugin(tub, self.logger))
        self.addCleanup(unregister_plugin_factory, LOGGING_PLUGIN)

    def fresh_dir(self) -> str:
        directory = tempfile.mkdtemp(prefix="octavo-log-interop-")
        self.addCleanup(shutil.rmtree, directory, True)
        return os.path.join(directory, "d")

    def octavo_tub(self, cert: bytes) -> Tub:
        t = Tub(certData=cert)
        t.startService()
        self.addCleanup(t.stopService)
        port = t.listenOn("tcp:0:interface=127.0.0.1").getPortnum()
        t.setLocation(f"127.0.0.1:{port}")
        return t

    def child(self, *argv: str, path: str | None = None) -> Lines:
        p = Lines.spawn(*argv, path=path)
        self.addCleanup(p.kill)
        return p

    async def test_flogtool_tail_follows_an_octavo_logport(self) -> None:
        tub = self.octavo_tub(CERTS[0])
        for i in range(3):
            tub.log(format="early %(i)d of %(n)s", i=i, n="three", level=23)
        furl = tub.getLogPortFURL()
        tail = self.child(FLOGTOOL, "tail", "--catch-up", "-t", "epoch", furl)
        await tail.wait_for(lambda line: line.startswith("Connected (to pid "))
        await tail.wait_for(lambda line: line.endswith("early 2 of three"))
        await tail.wait_for(lambda line: line.startswith(" octavo-logging: "))
        await turn(0.1)
        tub.log("live %s", "event", level=30)
        await tail.wait_for(lambda line: line.endswith("live event"))
        shown = [line for line in tail.lines if " L" in line and "[]#" in line]
        assert [line.split(" ", 1)[1] for line in shown[:3]] == [
            f"L23 []#{i} early {i} of three" for i in range(3)
        ]
        assert shown[-1].split(" ", 1)[1] == "L30 []#3 live event"

    async def test_log_follower_follows_a_foolscap_logport(self) -> None:
        peer = self.child(sys.executable, PEER, "logport", "1000")
        furl = (await peer.wait_for(lambda line: line.startswith("FURL ")))[5:]
        got: list[tuple[str, dict[str, Any]]] = []
        follower = LogFollower(self.octavo_tub(CERTS[0]), furl, lambda t, e: got.append((t, e)))
        await follower.start()
        assert "foolscap" in follower.versions and follower.pid is not None
        await until(lambda: len(got) >= 10, "ten events from Foolscap")
        await follower.stop()
        ticks = [e for _, e in got if e.get("facility") == "interop"]
        assert len(ticks) >= 5
        first = ticks[0]["i"]
        for k, event in enumerate(ticks):
            assert event["format"] == "tick %(i)d" and event["i"] == first + k
            assert event["level"] == 20 + (event["i"] % 3) * 5
            assert isinstance(event["num"], int) and isinstance(event["time"], float)
        assert {t for t, _ in got} == {follower.tubid}

    async def test_foolscap_pushes_to_an_octavo_gatherer(self) -> None:
        basedir = self.fresh_dir()
        gatherer = LogGatherer(basedir)
        gatherer.start()
        self.addCleanup(gatherer.stop)
        gfurl = self.octavo_tub(CERTS[0]).registerReference(gatherer)
        peer = self.child(sys.executable, PEER, "push", gfurl)
        tubid = (await peer.wait_for(lambda line: line.startswith("TUBID ")))[6:]
        await until(lambda: gatherer.stats.written[tubid] >= 10, "ten pushed events")
        await peer.kill()
        # the Foolscap logport refused Octavo's batched subscription: one msg an event
        assert gatherer.stats.subscribed == 1 and gatherer.stats.batches == 0
        path = gatherer.current_file
        assert path is not None
        records = list(read_flogfile(path))
        assert records[0]["header"]["type"] == "gatherer"
        pushes = [r["d"] for r in records[1:] if r["d"].get("format") == "push %(i)d"]
        assert len(pushes) >= 5 and all(r["from"] == tubid for r in records[1:])
        first = pushes[0]["i"]
        assert [p["i"] for p in pushes] == [first + k for k in range(len(pushes))]
        # and Foolscap's own tool reads what we wrote
        out, err, code = await getProcessOutputAndValue(FLOGTOOL, ["dump", path], env=ENV)
        assert code == 0, err
        text = out.decode()
        assert f": push {first}\n" in text and f": push {first + 1}\n" in text

    async def foolscap_gatherer(self, create: str) -> tuple[str, str, Any]:
        """``flogtool CREATE`` in a fresh directory on a free loopback port, run under
        twistd: (its directory, its FURL file once written, the twistd child)."""
        basedir = self.fresh_dir()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        _, err, code = await getProcessOutputAndValue(
            FLOGTOOL,
            [create, "--port", f"tcp:{port}:interface=127.0.0.1",
             "--location", f"tcp:127.0.0.1:{port}", basedir],
            env=ENV,
        )  # fmt: skip
        assert code == 0, err
        twistd = self.child(
            TWISTD, "-n", "--pidfile=", "-l", "twistd.log", "-y", "gatherer.tac", path=basedir
        )
        furlfile = os.path.join(basedir, "log_gatherer.furl")
        await until(lambda: os.path.exists(furlfile), f"the FURL file of {create}")
        await turn(0.2)
        return basedir, furlfile, twistd

    async def test_octavo_pushes_to_a_foolscap_gatherer(self) -> None:
        basedir, furlfile, twistd = await self.foolscap_gatherer("create-gatherer")
        tub = self.octavo_tub(CERTS[1])
        tub.setOption("log-gatherer-furlfile", furlfile)

        def saved() -> list[dict[str, Any]]:
            names = [n for n in os.listdir(basedir) if n.endswith("---to-present.flog")]
            if not names:
                return []
            return [r for r in read_flogfile(os.path.join(basedir, names[0])) if "d" in r]

        await until(lambda: self.logger._immediate_observers, "the Foolscap gatherer subscribed")
        for i in range(5):
            tub.log("octavo %d", i, level=25)
        await until(lambda: len(saved()) >= 5, "five events in the Foolscap gatherer's file")
        await twistd.kill()
        events = saved()
        assert [e["d"]["args"] for e in events] == [[i] for i in range(5)]
        assert all(e["from"] == tub.getTubID() for e in events)
        assert all(e["d"]["tubID"] == tub.getTubID() and e["d"]["level"] == 25 for e in events)

    async def test_foolscap_incident_gatherer_fetches_octavo_incidents(self) -> None:
        self.logger.setLogDir(self.fresh_dir())
        self.logger.setIncidentReporterFactory(NonTrailingIncidentReporter)
        self.logger.msg("an octavo problem", level=30)
        await until(lambda: self.logger.incidents_recorded == 1, "the incident recorded")
        basedir, furlfile, twistd = await self.foolscap_gatherer("create-incident-gatherer")
        tub = self.octavo_tub(CERTS[1])
        tub.setOption("log-gatherer-furlfile", furlfile)
        unknown = os.path.join(basedir, "classified", "unknown")
        await until(lambda: os.path.exists(unknown), "the incident classified by Foolscap")
        with open(unknown) as f:
            (rel,) = [line.strip() for line in f]
        assert rel.startswith(os.path.join("incidents", tub.getTubID(), "incident-"))
        records = list(read_flogfile(os.path.join(basedir, rel)))
        assert records[0]["header"]["trigger"]["message"] == "an octavo problem"
        assert [r["d"]["message"] for r in records[1:]] == ["an octavo problem"]
        await twistd.kill()

    async def test_octavo_incident_gatherer_fetches_foolscap_incidents(self) -> None:
        basedir = self.fresh_dir()
        os.makedirs(basedir)
        gatherer = IncidentGatherer(basedir)
        gatherer.start()
        gfurl = self.octavo_tub(CERTS[0]).registerReference(gatherer)
        peer = self.child(sys.executable, PEER, "incident", gfurl, self.fresh_dir())
        tubid = (await peer.wait_for(lambda line: line.startswith("TUBID ")))[6:]
        await until(lambda: gatherer.incidents_received == 1, "the Foolscap incident")
        with open(os.path.join(basedir, "classified", "unknown")) as f:
            (rel,) = [line.strip() for line in f]
        assert rel.startswith(os.path.join("incidents", tubid, "incident-"))
        records = list(read_flogfile(os.path.join(basedir, rel)))
        assert records[0]["header"]["type"] == "incident"
        assert records[0]["header"]["trigger"]["message"] == "a foolscap problem"
        assert "a foolscap problem" in [r["d"].get("message") for r in records[1:]]
        # and Foolscap's own classifier reads the file we stored
        _, err, code = await getProcessOutputAndValue(
            FLOGTOOL, ["classify-incident", os.path.join(basedir, rel)], env=ENV
        )
        assert code == 0, err
