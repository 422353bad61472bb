"""What a hostile Tub can send a gatherer or a follower: refused, reported, survived."""

from __future__ import annotations

import contextlib
import json
import os
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.task import Clock
from twisted.python.failure import Failure
from twisted.trial import unittest
from zope.interface import implementer

from octavo.logging import _validate
from octavo.logging._flogfile import encode_record, read_flogfile
from octavo.logging._gatherer import (
    LogGatherer,
    RemoteInputError,
    check_incident_name,
    check_tubid,
)
from octavo.logging._incident_gatherer import IncidentGatherer
from octavo.logging._interfaces import (
    MAX_BATCH,
    MAX_BATCH_BYTES,
    RILogPublisher,
    RISubscription,
)
from octavo.logging._validate import (
    MAX_DEPTH,
    BadEventError,
    check_json_event,
    check_remote_event,
)
from octavo.tub import Referenceable
from octavo.tub._net._identity import create_certificate
from tests.tub._loopback import LoopbackTubs

from ._fakes import fresh_path, turns

TUBID = "aaaabbbbccccddddeeeeffffgggghhhh"
CERTS = [create_certificate() for _ in range(2)]


def nested(depth: int) -> dict[str, Any]:
    event: dict[str, Any] = {"num": 1}
    inner = event
    for _ in range(depth):
        inner["x"] = {}
        inner = inner["x"]
    return event


HOSTILE: list[tuple[str, object]] = [
    ("not a dict", ["num", 1]),
    ("a string", "hello"),
    ("int key", {1: "x"}),
    ("deep", nested(10_000)),
    ("huge string", {"message": "x" * 2_000_000}),
    ("too many values", {"l": list(range(200_000))}),
    ("wrong level type", {"level": "BAD", "num": 1}),
    ("wrong num type", {"num": 1.5}),
    ("bool num", {"num": True}),
    ("message not a string", {"message": ["a"]}),
    ("an object", {"o": object()}),
    ("huge format width", {"format": "%(num)999999999d", "num": 1}),
    ("star format width", {"message": "%*d", "args": [10**9, 1]}),
]


@pytest.mark.parametrize(("why", "event"), HOSTILE, ids=[w for w, _ in HOSTILE])
def test_check_refuses_with_a_reason(why: str, event: object) -> None:
    with pytest.raises(BadEventError):
        check_remote_event(event)


def test_check_accepts_ordinary_events_and_normalises_bytes_keys() -> None:
    ev = check_remote_event({b"message": b"hi", "num": 3, "level": 20, "time": 1.5})
    assert ev == {"message": "hi", "num": 3, "level": 20, "time": 1.5}
    assert check_remote_event(nested(MAX_DEPTH - 1))["num"] == 1
    assert check_remote_event({"format": "100%% %(n)5.2f", "n": 1.0})["n"] == 1.0


@given(st.recursive(st.none() | st.integers() | st.text(), lambda c: st.lists(c, max_size=4)))
def test_check_never_crashes(value: object) -> None:
    with contextlib.suppress(BadEventError):
        assert check_remote_event({"v": value})["v"] == value


#: HOSTILE's events that JSON can carry (the others cannot come in a batch's line)
HOSTILE_JSON = [(w, e) for w, e in HOSTILE if w not in ("int key", "an object", "deep")]
HOSTILE_LINES: list[tuple[str, bytes]] = [
    ("not JSON", b"{'num': 1}"),
    ("two values", b'{"num": 1} {"num": 2}'),
    ("not UTF-8", b'{"message": "\xff"}'),
    ("UTF-16", '{"num": 1}'.encode("utf-16")),
    ("a BOM", b'\xef\xbb\xbf{"num": 1}'),
    ("empty", b""),
    ("deep", b'{"x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
    ("deep but short", b'{"x": ' + b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1) + b"}"),
    *((w, json.dumps(e).encode()) for w, e in HOSTILE_JSON),
]


@pytest.mark.parametrize(("why", "line"), HOSTILE_LINES, ids=[w for w, _ in HOSTILE_LINES])
def test_json_check_refuses_with_a_reason(why: str, line: bytes) -> None:
    with pytest.raises(BadEventError):
        check_json_event(line)


def test_json_check_accepts_ordinary_lines() -> None:
    line = b'{"message": "50%% of %(n)d", "n": 2, "level": 20, "num": 1, "time": 2.5}'
    assert check_json_event(line) == json.loads(line)
    brackets_in_strings = json.dumps({"num": 1, "message": "[{" * 100}).encode()
    assert check_json_event(brackets_in_strings)["num"] == 1  # the whole walk: shallow


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=3), c, max_size=4),
        max_leaves=60,
    ),
    st.sampled_from(["num", "level", "time", "message", "format", "facility", "other"]),
)
def test_json_check_agrees_with_the_remote_event_check(value: object, field: str) -> None:
    """A line is refused exactly when the event it holds is refused, whichever way
    its length and brackets send it."""
    line = json.dumps({field: value}).encode()
    try:
        expected: object = check_remote_event(json.loads(line))
    except BadEventError:
        expected = BadEventError
    try:
        got: object = check_json_event(line)
    except BadEventError:
        got = BadEventError
    assert got == expected


def test_checked_formats_are_remembered_within_bounds() -> None:
    """A format that passed is not parsed again; one that was refused is refused
    again; the set of remembered formats stays bounded."""
    _validate._WELL_FORMED.clear()
    for n in range(3 * _validate._WELL_FORMED_MAX):
        check_remote_event({"format": f"%(x)d {n}", "x": 1})
        assert len(_validate._WELL_FORMED) <= _validate._WELL_FORMED_MAX
    check_remote_event({"format": "%(x)5d " + "y" * 300, "x": 1})
    assert "%(x)5d " + "y" * 300 not in _validate._WELL_FORMED  # too long to keep
    for _ in range(2):
        with pytest.raises(BadEventError):
            check_remote_event({"format": "%(x)99999d", "x": 1})
    assert "%(x)99999d" not in _validate._WELL_FORMED


@pytest.mark.parametrize(
    "nodeid", [b"../../etc", "UPPER", "", b"\xff\xfe", 42, "a" * 65, "aaaa/bbbb"]
)
def test_bad_nodeids(nodeid: object) -> None:
    with pytest.raises(RemoteInputError):
        check_tubid(nodeid)


@pytest.mark.parametrize(
    "name", ["../x", "incident-../../x", "incident-a/b", "other", b"incident-\xff", 7, ""]
)
def test_bad_incident_names(name: object) -> None:
    with pytest.raises(RemoteInputError):
        check_incident_name(name)


class GathererSurvives(unittest.SynchronousTestCase):
    def make(self, **kw: Any) -> tuple[LogGatherer, Clock]:
        clock = Clock()
        gatherer = LogGatherer(fresh_path(self), clock=clock, **kw)
        gatherer.start()
        self.addCleanup(gatherer.stop)
        return gatherer, clock

    def written(self, gatherer: LogGatherer) -> list[dict[str, Any]]:
        assert gatherer.current_file is not None
        return [r["d"] for r in list(read_flogfile(gatherer.current_file))[1:]]

    def test_each_hostile_event_is_skipped_between_good_ones(self) -> None:
        gatherer, _ = self.make()
        for n, (_, bad) in enumerate(HOSTILE):
            gatherer.msg(TUBID, {"num": n, "message": "good"})
            gatherer.msg(TUBID, bad)
        gatherer.msg(TUBID, {"num": 99, "message": "good"})
        assert [e["num"] for e in self.written(gatherer)] == [*range(len(HOSTILE)), 99]
        assert gatherer.stats.refused["bad event"] == len(HOSTILE)
        self.flushLoggedErrors()

    def test_each_hostile_line_of_a_batch_is_skipped_between_good_ones(self) -> None:
        gatherer, _ = self.make()
        lines = []
        for n, (_, bad) in enumerate(HOSTILE_LINES):
            lines += [encode_record({"num": n, "message": "good"}), bad + b"\n"]
        gatherer.msg_lines(TUBID, b"".join(lines) + b'{"num": 99}')  # (no last newline)
        assert [e["num"] for e in self.written(gatherer)] == [*range(len(HOSTILE_LINES)), 99]
        assert gatherer.stats.refused["bad event"] == len(HOSTILE_LINES)
        self.flushLoggedErrors()

    def test_lines_past_a_batchs_limit_are_not_read(self) -> None:
        """A batch of a million tiny lines costs what MAX_BATCH of them do."""
        gatherer, _ = self.make()
        gatherer.msg_lines(TUBID, b'{"num": 1}\n' * 1_000_000)
        assert gatherer.stats.written[TUBID] == MAX_BATCH
        assert gatherer.stats.refused == {"bad batch": 1}
        gatherer.msg_lines(TUBID, b'{"num": 2}\n' * MAX_BATCH)  # exactly the limit
        gatherer.msg_lines(TUBID, b'{"num": 3}\n' * (MAX_BATCH - 1) + b'{"num": 3}')
        assert gatherer.stats.written[TUBID] == 3 * MAX_BATCH
        assert gatherer.stats.refused == {"bad batch": 1}
        self.flushLoggedErrors()

    def test_an_event_too_big_to_write_is_refused(self) -> None:
        gatherer, _ = self.make(max_record_bytes=10_000)
        gatherer.msg(TUBID, {"num": 1, "blob": "y" * 20_000})
        gatherer.msg(TUBID, {"num": 2})
        gatherer.msg_lines(TUBID, encode_record({"num": 3, "blob": "y" * 20_000}))
        gatherer.msg_lines(TUBID, encode_record({"num": 4}))
        assert [e["num"] for e in self.written(gatherer)] == [2, 4]
        assert gatherer.stats.refused["too big"] == 2

    def test_a_flood_is_cut_and_noted(self) -> None:
        gatherer, clock = self.make(max_events_per_second=100)
        for n in range(5000):
            gatherer.msg(TUBID, {"num": n})
        clock.advance(1)
        gatherer.msg(TUBID, {"num": 5000})
        events = self.written(gatherer)
        assert [e["num"] for e in events[:100]] == list(range(100))
        notice = events[100]
        assert notice["dropped"] == 4900 and notice["facility"] == "octavo.logging.gatherer"
        assert events[101]["num"] == 5000
        assert gatherer.stats.flooded[TUBID] == 4900


@implementer(RISubscription)
class Subscription(Referenceable):  # type: ignore[misc]
    def remote_unsubscribe(self) -> None:
        return None


@implementer(RILogPublisher)
class HostilePublisher(Referenceable):  # type: ignore[misc]
    """A logport that answers a subscription with garbage, then one good event."""

    def __init__(self, garbage: list[object]) -> None:
        self.garbage = garbage
        self.sent = 0

    def remote_subscribe_to_all(self, observer: Any, catch_up: bool = False) -> Referenceable:
        for g in [*self.garbage, {"num": 7, "message": "good"}]:
            d = observer.callRemote("msg", g)
            d.addBoth(self._count)
        return Subscription()

    def remote_subscribe_to_incidents(
        self, observer: Any, catch_up: bool = False, since: object = ""
    ) -> Referenceable:
        for name in ["../../../etc/passwd", "incident-ok", 12]:
            observer.callRemoteOnly("new_incident", name, {"message": "x"})
        observer.callRemoteOnly("done_with_incident_catchup")
        return Subscription()

    def remote_get_incident(self, incident_name: object) -> object:
        return ({"no": "trigger"}, ["not an event"])

    def _count(self, _: object) -> None:
        self.sent += 1


@implementer(RILogPublisher)
class HostileBatchPublisher(Referenceable):  # type: ignore[misc]
    """A logport that takes a batched subscription and sends garbage batches, then a
    good one; each call's outcome is kept."""

    def __init__(self, garbage: list[object]) -> None:
        self.garbage = garbage
        self.outcomes: list[object] = []

    def remote_subscribe_to_batches(self, observer: Any, catch_up: bool = False) -> Referenceable:
        good = encode_record({"num": 7, "message": "good"})
        for g in [*self.garbage, good]:
            observer.callRemote("msg_batch", g).addBoth(self.outcomes.append)
        return Subscription()


class GathererSurvivesTheNetwork(LoopbackTubs, unittest.TestCase):
    async def test_garbage_batches_over_the_wire_are_skipped(self) -> None:
        gatherer = LogGatherer(fresh_path(self))
        gatherer.start()
        self.addCleanup(gatherer.stop)
        gfurl = self.make_tub(CERTS[0]).registerReference(gatherer)
        evil = self.make_tub(CERTS[1])
        rref = await evil.getReference(gfurl)
        garbage: list[object] = [
            "a str, not bytes",
            {"num": 1},
            b"x" * (MAX_BATCH_BYTES + 1),
            b"not json\n[1, 2]\n" + json.dumps({"num": 1.5}).encode(),
        ]
        publisher = HostileBatchPublisher(garbage)
        await rref.callRemote("logport", evil.getTubID(), publisher)
        for _ in range(200):
            if len(publisher.outcomes) == len(garbage) + 1:
                break
            await turns(1)
        refused = [o for o in publisher.outcomes[:3] if isinstance(o, Failure)]
        assert len(refused) == 3  # the wrong types and the oversized batch
        assert publisher.outcomes[3:] == [None, None]
        assert gatherer.current_file is not None
        events = [r["d"] for r in list(read_flogfile(gatherer.current_file))[1:]]
        assert events == [{"num": 7, "message": "good"}]
        assert gatherer.stats.refused["bad event"] == 3 and gatherer.stats.batches == 2
        self.flushLoggedErrors()

    async def test_garbage_over_the_wire_is_skipped(self) -> None:
        gatherer = LogGatherer(fresh_path(self))
        gatherer.start()
        self.addCleanup(gatherer.stop)
        gt = self.make_tub(CERTS[0])
        gfurl = gt.registerReference(gatherer)
        evil = self.make_tub(CERTS[1])
        rref = await evil.getReference(gfurl)
        garbage: list[object] = [
            "str",
            [1, 2],
            {"level": "x"},
            {"num": 1.5},
            {"message": "z" * 1_500_000},
        ]
        publisher = HostilePublisher(garbage)
        with pytest.raises(Exception, match="nodeid"):
            await rref.callRemote("logport", b"../not-a-tubid", publisher)
        await rref.callRemote("logport", evil.getTubID().encode(), publisher)
        for _ in range(200):
            if publisher.sent == len(garbage) + 1:
                break
            await turns(1)
        assert gatherer.current_file is not None
        events = [r["d"] for r in list(read_flogfile(gatherer.current_file))[1:]]
        assert events == [{"num": 7, "message": "good"}]
        assert gatherer.stats.refused["bad event"] >= 3
        assert gatherer.stats.refused["bad nodeid"] == 1

    async def test_incident_gatherer_refuses_bad_names_and_incidents(self) -> None:
        basedir = fresh_path(self)
        gatherer = IncidentGatherer(basedir)
        os.makedirs(basedir)
        gatherer.start()
        gfurl = self.make_tub(CERTS[0]).registerReference(gatherer)
        evil = self.make_tub(CERTS[1])
        rref = await evil.getReference(gfurl)
        await rref.callRemote("logport", evil.getTubID(), HostilePublisher([]))
        for _ in range(200):
            if gatherer.stats.refused["incident fetch failed"]:
                break
            await turns(1)
        assert gatherer.stats.refused["bad incident"] == 2
        assert gatherer.stats.refused["incident fetch failed"] == 1
        assert gatherer.incidents_received == 0
        assert os.listdir(os.path.join(basedir, "incidents", evil.getTubID())) == []
