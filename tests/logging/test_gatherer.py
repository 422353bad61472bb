"""The log gatherer and the incident gatherer, over loopback Tubs and on a Clock."""

from __future__ import annotations

import os
from typing import Any

from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.python.failure import Failure
from twisted.trial import unittest

from octavo.logging import _gatherer
from octavo.logging._flogfile import encode_record, read_flogfile
from octavo.logging._gatherer import (
    LogGatherer,
    _FloodGate,
    bzip_file,
    subscribe_batched_or_not,
)
from octavo.logging._incident_gatherer import IncidentGatherer
from octavo.logging._incidents import NonTrailingIncidentReporter
from octavo.logging._logger import FoolscapLogger
from octavo.logging._plugin import LoggingPlugin
from octavo.tub import DeadReferenceError, Tub, Violation
from octavo.tub._net._identity import create_certificate
from octavo.tub._options import LOGGING_PLUGIN, register_plugin_factory, unregister_plugin_factory
from tests.tub._loopback import LoopbackTubs

from ._fakes import fresh_path, turns

CERTS = [create_certificate() for _ in range(5)]
TUBID = "aaaabbbbccccddddeeeeffffgggghhhh"


def records(path: str) -> list[dict[str, Any]]:
    return list(read_flogfile(path))


async def until(condition: Any, limit: int = 2000) -> None:
    """Turn the reactor until ``condition()`` holds (fails after ``limit`` turns)."""
    for _ in range(limit):
        if condition():
            return
        await turns(1)
    raise AssertionError("condition never held")


class GatheringOverTheNetwork(LoopbackTubs, unittest.TestCase):
    def setUp(self) -> None:
        self.loggers: dict[str, FoolscapLogger] = {}

        def factory(tub: Any) -> LoggingPlugin:
            logger = self.loggers.setdefault(tub.getTubID(), FoolscapLogger())
            return LoggingPlugin(tub, logger)

        register_plugin_factory(LOGGING_PLUGIN, factory)
        self.addCleanup(unregister_plugin_factory, LOGGING_PLUGIN)

    def gatherer_tub(self, gatherer: Any) -> str:
        gt = self.make_tub(CERTS[0])
        return gt.registerReference(gatherer)

    async def test_many_tubs_into_one_file(self) -> None:
        basedir = fresh_path(self)
        gatherer = LogGatherer(basedir)
        gatherer.start()
        self.addCleanup(gatherer.stop)
        furl = self.gatherer_tub(gatherer)
        sources = [self.make_tub(c) for c in CERTS[1:4]]
        for t in sources:
            t.setLogGathererFURL(furl)
        await until(lambda: gatherer.stats.subscribed == 3)
        await turns(2)
        for i in range(20):
            for t in sources:
                t.log(f"event {i} from {t.getTubID()[:4]}", i=i)
        await until(lambda: sum(gatherer.stats.written.values()) >= 60)
        assert gatherer.stats.batches > 0  # Octavo's logports send batches
        path = gatherer.current_file
        assert path is not None and path.endswith("---to-present.flog")
        recs = records(path)
        assert recs[0]["header"]["type"] == "gatherer"
        for t in sources:
            mine = [r["d"] for r in recs[1:] if r["from"] == t.getTubID()]
            assert [e["i"] for e in mine] == list(range(20))
            assert all(e["tubID"] == t.getTubID() for e in mine)

    async def test_a_tub_that_goes_away_loses_nothing_that_arrived(self) -> None:
        gatherer = LogGatherer(fresh_path(self))
        gatherer.start()
        self.addCleanup(gatherer.stop)
        furl = self.gatherer_tub(gatherer)
        source = Tub(certData=CERTS[1])
        source.startService()
        port = source.listenOn("tcp:0:interface=127.0.0.1").getPortnum()
        source.setLocation(f"127.0.0.1:{port}")
        source.setLogGathererFURL(furl)
        await until(lambda: gatherer.stats.subscribed == 1)
        await turns(2)
        for i in range(100):
            source.log("burst", i=i)
        await turns(3)
        await source.stopService()  # mid-stream: some may still be on their way
        await turns(10)
        arrived = gatherer.stats.written[source.getTubID()]
        assert path_events(gatherer.current_file) == list(range(arrived))
        assert arrived > 0


def path_events(path: str | None) -> list[int]:
    assert path is not None
    return [r["d"]["i"] for r in records(path)[1:]]


class GathererFiles(unittest.SynchronousTestCase):
    def event(self, n: int) -> dict[str, Any]:
        return {"num": n, "message": f"m{n}", "level": 20, "time": 1.0}

    def test_rotation_by_time_renames_and_compresses(self) -> None:
        clock = Clock()
        clock.advance(1_700_000_000)
        basedir = fresh_path(self)
        gatherer = LogGatherer(
            basedir,
            rotate=60,
            use_bzip=True,
            clock=clock,
            compress=lambda p: defer.succeed(bzip_file(p)),
        )
        gatherer.start()
        gatherer.msg(TUBID, self.event(1))
        clock.advance(60)
        gatherer.msg(TUBID, self.event(2))
        clock.advance(60)
        gatherer.stop()
        names = sorted(os.listdir(basedir))
        assert names == [
            "from-2023-11-14--22-13-20Z---to-2023-11-14--22-14-20Z.flog.bz2",
            "from-2023-11-14--22-14-20Z---to-2023-11-14--22-15-20Z.flog.bz2",
            "from-2023-11-14--22-15-20Z---to-present.flog",
        ]
        first = records(os.path.join(basedir, names[0]))
        assert first[0]["header"] == {"type": "gatherer", "start": 1_700_000_000}
        assert [r["d"]["num"] for r in first[1:]] == [1]
        assert first[1]["from"] == TUBID and first[1]["rx_time"] == 1_700_000_000
        assert [r["d"]["num"] for r in records(os.path.join(basedir, names[1]))[1:]] == [2]

    def test_rotation_by_size(self) -> None:
        clock = Clock()
        basedir = fresh_path(self)
        gatherer = LogGatherer(basedir, rotate_size=2000, clock=clock)
        gatherer.start()
        for n in range(100):
            clock.advance(1)
            gatherer.msg(TUBID, self.event(n))
        gatherer.stop()
        files = sorted(os.listdir(basedir))
        assert len(files) > 3
        nums = []
        for fn in files:
            path = os.path.join(basedir, fn)
            assert os.path.getsize(path) < 2000 + 300
            nums += [r["d"]["num"] for r in records(path)[1:]]
        assert sorted(nums) == list(range(100))

    def test_per_tub_counters_stay_bounded(self) -> None:
        """Peers choose the TubIDs they send: past MAX_COUNTED_TUBS of them the
        counters fold the rest into OTHER_TUBS (every event still written)."""
        self.patch(_gatherer, "MAX_COUNTED_TUBS", 5)
        gatherer = LogGatherer(fresh_path(self), clock=Clock())
        gatherer.start()
        tubids = [f"{n:032d}" for n in range(8)]
        for n, tubid in enumerate(tubids + tubids[:2]):
            gatherer.msg(tubid, self.event(n))
        gatherer.stop()
        written = gatherer.stats.written
        assert len(written) == 6
        assert written[tubids[0]] == 2 and written[tubids[4]] == 1
        assert written[_gatherer.OTHER_TUBS] == 3
        assert sum(written.values()) == 10

    def test_events_after_stop_are_ignored(self) -> None:
        gatherer = LogGatherer(fresh_path(self), clock=Clock())
        gatherer.start()
        gatherer.stop()
        gatherer.msg(TUBID, self.event(1))
        gatherer.msg_lines(TUBID, encode_record(self.event(2)))
        assert sum(gatherer.stats.written.values()) == 0

    def test_a_batch_is_written_as_msg_would_write_its_events(self) -> None:
        """The lines of a msg_batch land in the file exactly as the same events given
        one by one to msg (Foolscap's way) do, in one write."""
        events = [
            {**self.event(n), "args": (n, "x"), "incarnation": ("abcd", None), "d": {"k": [1]}}
            for n in range(5)
        ]
        clock = Clock()
        clock.advance(1_700_000_000.25)
        one_by_one = LogGatherer(fresh_path(self), clock=clock)
        batched = LogGatherer(fresh_path(self), clock=clock)
        for g in (one_by_one, batched):
            g.start()
            self.addCleanup(g.stop)
        for e in events:
            one_by_one.msg(TUBID, e)
        writes: list[bytes] = []
        assert batched._file is not None
        self.patch(batched._file, "write", writes.append)
        batched.msg_lines(TUBID, b"".join(encode_record(e) for e in events))
        assert len(writes) == 1 and batched.stats.batches == 1
        assert one_by_one.current_file is not None
        with open(one_by_one.current_file, "rb") as f:
            assert f.read().endswith(writes[0])
        assert batched.stats.written[TUBID] == 5

    def test_a_batch_through_the_flood_gate(self) -> None:
        """The first events of a batch within the Tub's rate are written, the rest
        counted; the notice comes before the next events written, not before these."""
        clock = Clock()
        gatherer = LogGatherer(fresh_path(self), clock=clock, max_events_per_second=3)
        gatherer.start()
        self.addCleanup(gatherer.stop)
        gatherer.msg_lines(TUBID, b"".join(encode_record(self.event(n)) for n in range(5)))
        gatherer.msg_lines(TUBID, encode_record(self.event(5)))
        clock.advance(1)
        gatherer.msg_lines(TUBID, encode_record(self.event(6)))
        assert gatherer.current_file is not None
        written = [r["d"] for r in records(gatherer.current_file)[1:]]
        assert [e.get("num") for e in written] == [0, 1, 2, -1, 6]
        assert written[3]["dropped"] == 3 and gatherer.stats.flooded[TUBID] == 3


class SubscribingBatchedOrNot(unittest.SynchronousTestCase):
    """subscribe_batched_or_not: Octavo's batches where the logport knows them."""

    class Logport:
        def __init__(self, *refuse: str) -> None:
            self.refuse = refuse
            self.calls: list[tuple[str, object]] = []

        def callRemote(self, name: str, observer: object) -> defer.Deferred[str]:
            self.calls.append((name, observer))
            if name in self.refuse:
                return defer.fail(self.refuse_with(name))
            return defer.succeed(f"subscription by {name}")

        def refuse_with(self, name: str) -> Exception:
            return Violation(f"method {name!r} not defined in RILogPublisher")

    def subscribe(self, logport: Any) -> list[object]:
        made: list[object] = []

        def observer() -> object:
            made.append(object())
            return made[-1]

        got: list[object] = []
        subscribe_batched_or_not(logport, observer).addBoth(got.append)
        assert [o for _, o in logport.calls] == made  # a new observer each call
        return got

    def test_an_octavo_logport_sends_batches(self) -> None:
        logport = self.Logport()
        assert self.subscribe(logport) == ["subscription by subscribe_to_batches"]
        assert [n for n, _ in logport.calls] == ["subscribe_to_batches"]

    def test_a_foolscap_logport_refuses_and_is_subscribed_to_all(self) -> None:
        logport = self.Logport("subscribe_to_batches")
        assert self.subscribe(logport) == ["subscription by subscribe_to_all"]
        assert [n for n, _ in logport.calls] == ["subscribe_to_batches", "subscribe_to_all"]

    def test_a_lost_connection_is_not_tried_again(self) -> None:
        logport = self.Logport("subscribe_to_batches")
        self.patch(logport, "refuse_with", lambda name: DeadReferenceError("gone"))
        (failure,) = self.subscribe(logport)
        assert isinstance(failure, Failure) and failure.check(DeadReferenceError)
        assert [n for n, _ in logport.calls] == ["subscribe_to_batches"]


class IncidentGathering(LoopbackTubs, unittest.TestCase):
    async def test_incidents_are_fetched_stored_and_classified(self) -> None:
        logger = FoolscapLogger()
        logger.setLogDir(fresh_path(self))
        logger.setIncidentReporterFactory(NonTrailingIncidentReporter)
        register_plugin_factory(LOGGING_PLUGIN, lambda tub: LoggingPlugin(tub, logger))
        self.addCleanup(unregister_plugin_factory, LOGGING_PLUGIN)
        # one incident before the gatherer connects (caught up), one after
        logger.msg("first problem", level=30)
        await until(lambda: logger.incidents_recorded == 1)
        basedir = fresh_path(self)
        seen: list[str] = []

        def classify(trigger: dict[str, Any]) -> str:
            seen.append(trigger["message"])
            return "problems" if "problem" in trigger["message"] else "other"

        gatherer = IncidentGatherer(basedir, classifiers=[classify])
        os.makedirs(basedir)
        gatherer.start()
        gfurl = self.make_tub(CERTS[0]).registerReference(gatherer)
        source = self.make_tub(CERTS[1])
        source.setLogGathererFURL(gfurl)
        await until(lambda: gatherer.incidents_received == 1)
        logger.msg("second problem", level=30)
        await until(lambda: gatherer.incidents_received == 2)
        assert seen == ["first problem", "second problem"]
        with open(os.path.join(basedir, "classified", "problems")) as f:
            rels = [line.strip() for line in f]
        assert len(rels) == 2
        for rel in rels:
            assert rel.startswith(os.path.join("incidents", source.getTubID(), "incident-"))
            recs = records(os.path.join(basedir, rel))
            assert recs[0]["header"]["type"] == "incident"
            assert recs[0]["header"]["trigger"]["message"] in seen
        latest = os.path.join(basedir, "incidents", source.getTubID(), "latest")
        with open(latest) as f:
            assert f.read().strip() == os.path.basename(rels[1]).removesuffix(".flog.bz2")
        # a restarted gatherer does not classify them twice
        again = IncidentGatherer(basedir, classifiers=[classify])
        again.start()
        assert again.classify_stored_incidents() == 0


def test_the_flood_gate_forgets_earlier_seconds_past_max_tubs() -> None:
    """Counts per TubID stay bounded however many TubIDs peers name over time."""
    clock = Clock()
    gate = _FloodGate(2, clock.seconds, max_tubs=10)
    for n in range(100):
        clock.advance(1)
        assert gate.admit(f"tub{n}")
        assert len(gate._window) <= 10
    assert gate.admit("tub99") and not gate.admit("tub99")  # this second's count is kept
    assert gate.unreported == {"tub99": 1}
