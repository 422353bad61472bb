"""The logport's subscriptions, driven by hand: a fake logger and a fake observer
whose answers the test releases, so flow control is visible without sockets."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import pytest
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.python.failure import Failure
from twisted.trial import unittest

from octavo.logging._incidents import NonTrailingIncidentReporter
from octavo.logging._interfaces import MAX_BATCH, MAX_BATCH_BYTES
from octavo.logging._logger import FoolscapLogger
from octavo.logging._publisher import (
    BadIncidentNameError,
    LogPublisher,
    Subscription,
    app_versions,
)
from octavo.tub import DeadReferenceError

from ._fakes import FakeLogger, fresh_path


class FakeObserver:
    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], Deferred[Any]]] = []
        self.disconnect_callbacks: dict[int, Callable[[], object]] = {}

    def callRemote(self, name: str, *args: Any) -> Deferred[Any]:
        d: Deferred[Any] = Deferred()
        self.calls.append((name, args, d))
        return d

    def callRemoteOnly(self, name: str, *args: Any) -> None:
        self.callRemote(name, *args)

    def notifyOnDisconnect(self, cb: Callable[[], object]) -> int:
        marker = len(self.disconnect_callbacks) + 1
        self.disconnect_callbacks[marker] = cb
        return marker

    def dontNotifyOnDisconnect(self, marker: int) -> None:
        self.disconnect_callbacks.pop(marker, None)

    def answer_all(self) -> None:
        waiting = [d for _, _, d in self.calls if not d.called]
        for d in waiting:
            d.callback(None)

    def nums(self) -> list[int]:
        return [args[0]["num"] for name, args, _ in self.calls if name == "msg"]


class Turns:
    """An eventual-send queue run by hand."""

    def __init__(self) -> None:
        self.pending: list[tuple[Callable[..., object], tuple[Any, ...]]] = []

    def __call__(self, fn: Callable[..., object], *args: Any) -> None:
        self.pending.append((fn, args))

    def run(self) -> None:
        while self.pending:
            fn, args = self.pending.pop(0)
            fn(*args)


def subscribe(
    logger: FakeLogger, catch_up: bool = False, *, batched: bool = False, **kw: Any
) -> tuple[Subscription, FakeObserver, Turns]:
    turns = Turns()
    publisher = LogPublisher(logger, now=lambda: 42.0, schedule=turns, **kw)
    observer = FakeObserver()
    if batched:
        sub = publisher.remote_subscribe_to_batches(observer, catch_up)
    else:
        sub = publisher.remote_subscribe_to_all(observer, catch_up)
    assert observer.calls == [] and sub.batched == batched  # nothing before the answer
    turns.run()
    return sub, observer, turns


def test_events_are_sent_in_order_with_a_window() -> None:
    logger = FakeLogger()
    _, observer, turns = subscribe(logger, max_in_flight=3)
    for n in range(5):
        logger.emit(n)
    turns.run()
    assert observer.nums() == [0, 1, 2]
    observer.answer_all()
    turns.run()
    assert observer.nums() == [0, 1, 2, 3, 4]


def test_catch_up_sends_buffered_events_oldest_first() -> None:
    logger = FakeLogger([{"num": 2}, {"num": 1}])
    _, observer, turns = subscribe(logger, catch_up=True)
    logger.emit(3)
    turns.run()
    assert observer.nums() == [1, 2, 3]


def test_stuck_subscriber_costs_bounded_memory_and_hears_of_drops() -> None:
    """A subscriber that never answers: 10,000 events later the publisher holds the
    window plus the queue, no more; once it answers it gets a notice of the drops."""
    logger = FakeLogger()
    sub, observer, turns = subscribe(logger, max_queue=50, max_in_flight=5)
    for n in range(10_000):
        logger.emit(n)
        turns.run()
    assert len(observer.calls) == 5 and len(sub.queue) == 50
    assert sub.queue.total_dropped == 10_000 - 55
    while any(not d.called for _, _, d in observer.calls):
        observer.answer_all()
        turns.run()
    sent = [args[0] for _, args, _ in observer.calls]
    assert [e["num"] for e in sent[:55]] == list(range(55))
    notice = sent[55]
    assert notice["dropped"] == 10_000 - 55 and notice["level"] == 23
    assert notice["time"] == 42.0 and len(sent) == 56


def test_unsubscribe_and_disconnect_stop_the_flow() -> None:
    logger = FakeLogger()
    sub, observer, turns = subscribe(logger)
    sub.remote_unsubscribe()
    sub.remote_unsubscribe()  # idempotent
    logger.emit(1)
    turns.run()
    assert observer.calls == [] and logger.observers == []
    sub2, observer2, _ = subscribe(logger)
    for cb in list(observer2.disconnect_callbacks.values()):
        cb()
    assert logger.observers == [] and not sub2.subscribed


def test_dead_reference_unsubscribes_other_failures_count_as_drops() -> None:
    logger = FakeLogger()
    sub, observer, turns = subscribe(logger)
    logger.emit(1)
    turns.run()
    observer.calls[0][2].errback(Failure(ValueError("observer refused it")))
    turns.run()
    assert sub.subscribed and sub.queue.total_dropped == 1
    (notice,) = [args[0] for name, args, _ in observer.calls[1:]]
    assert notice["dropped"] == 1
    observer.calls[1][2].errback(Failure(DeadReferenceError("gone")))
    assert not sub.subscribed and logger.observers == []


def subscribe_batched(
    logger: FakeLogger, catch_up: bool = False, **kw: Any
) -> tuple[Subscription, FakeObserver, Turns]:
    return subscribe(logger, catch_up, batched=True, **kw)


def batches(observer: FakeObserver) -> list[list[dict[str, Any]]]:
    """The events of each ``msg_batch`` call, decoded from its JSON lines."""
    out = []
    for name, args, _ in observer.calls:
        assert name == "msg_batch" and isinstance(args[0], bytes) and len(args) == 1
        assert args[0].endswith(b"\n")
        out.append([json.loads(line) for line in args[0].splitlines()])
    return out


def test_batched_events_leave_as_json_lines_one_batch_at_a_time() -> None:
    """The first turn's events leave in one call; those logged while it is unanswered
    wait, and leave together once it is answered."""
    logger = FakeLogger()
    _, observer, turns = subscribe_batched(logger)
    for n in range(3):
        logger.emit(n)
    turns.run()
    for n in range(3, 10):
        logger.emit(n)
        turns.run()
    assert [[e["num"] for e in b] for b in batches(observer)] == [[0, 1, 2]]
    observer.answer_all()
    turns.run()
    got = batches(observer)
    assert [[e["num"] for e in b] for b in got] == [[0, 1, 2], list(range(3, 10))]
    assert got[0][0] == {"num": 0, "message": "e0", "level": 20, "time": 1.0}


def test_batches_are_split_at_max_batch_events_and_bytes() -> None:
    """What one turn may send (the window of events in flight) leaves in calls of at
    most MAX_BATCH events and MAX_BATCH_BYTES; the rest waits for the answers."""
    logger = FakeLogger([{"num": n, "message": f"e{n}"} for n in range(450)])
    _, observer, turns = subscribe_batched(logger, catch_up=True, max_in_flight_batched=400)
    assert [len(b) for b in batches(observer)] == [MAX_BATCH, MAX_BATCH]
    observer.answer_all()
    turns.run()
    assert [len(b) for b in batches(observer)] == [MAX_BATCH, MAX_BATCH, 50]
    assert [e["num"] for b in batches(observer) for e in b] == list(range(450))
    big = "x" * (MAX_BATCH_BYTES // 3)
    logger2 = FakeLogger([{"num": n, "message": big} for n in range(5)])
    _, observer2, _ = subscribe_batched(logger2, catch_up=True)
    assert [[e["num"] for e in b] for b in batches(observer2)] == [[0, 1], [2, 3], [4]]
    assert all(len(args[0]) <= MAX_BATCH_BYTES for _, args, _ in observer2.calls)


def test_an_event_too_big_for_any_batch_is_dropped_and_reported() -> None:
    logger = FakeLogger()
    sub, observer, turns = subscribe_batched(logger)
    for o in logger.observers:
        o({"num": 1, "message": "x" * MAX_BATCH_BYTES})
        o({"num": 2, "message": "small"})
    turns.run()
    assert [[e["num"] for e in b] for b in batches(observer)] == [[2]]
    assert sub.queue.total_dropped == 1 and sub.queue.in_flight == 1
    observer.answer_all()
    turns.run()
    (notice,) = batches(observer)[1]
    assert notice["dropped"] == 1


def test_batched_failures_count_every_event_dead_references_unsubscribe() -> None:
    logger = FakeLogger()
    sub, observer, turns = subscribe_batched(logger)
    for n in range(4):
        logger.emit(n)
    turns.run()
    observer.calls[0][2].errback(Failure(ValueError("observer refused them")))
    turns.run()
    assert sub.subscribed and sub.queue.total_dropped == 4 and sub.queue.in_flight == 1
    (notice,) = batches(observer)[1]
    assert notice["dropped"] == 4
    observer.calls[1][2].errback(Failure(DeadReferenceError("gone")))
    assert not sub.subscribed and logger.observers == [] and sub.queue.in_flight == 0


def test_unsubscribe_by_publisher_refuses_strangers() -> None:
    publisher = LogPublisher(FakeLogger())
    with pytest.raises(TypeError, match="subscription from this logport"):
        publisher.remote_unsubscribe("not a subscription")


def test_versions_and_pid() -> None:
    versions = app_versions()
    assert "octavo-logging" in versions and "python" in versions
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in versions.items())
    assert LogPublisher(FakeLogger()).remote_get_pid() > 0


class Incidents(unittest.SynchronousTestCase):
    """list_incidents / get_incident / subscribe_to_incidents over real incident files."""

    def setUp(self) -> None:
        self.clock = Clock()
        self.clock.advance(1_700_000_000)
        self.logger = FoolscapLogger(clock=self.clock)
        self.logger.setLogDir(fresh_path(self))
        self.logger.setIncidentReporterFactory(NonTrailingIncidentReporter)
        self.turns = Turns()
        self.publisher = LogPublisher(self.logger, schedule=self.turns)

    def record(self, message: str) -> str:
        before = self.logger.incidents_recorded
        self.logger.msg(message, level=30)
        for _ in range(10):
            self.clock.advance(0)
        assert self.logger.incidents_recorded == before + 1
        return os.path.basename(self.logger.recent_recorded_incidents[-1]).removesuffix(".flog.bz2")

    def test_list_and_get(self) -> None:
        self.logger.msg("before", level=20)
        first = self.record("trouble one")
        self.clock.advance(2)
        second = self.record("trouble two")
        listed = self.publisher.remote_list_incidents()
        assert sorted(listed) == [first, second]
        assert listed[first]["message"] == "trouble one"
        assert list(self.publisher.remote_list_incidents(first.encode())) == [second]
        header, events = self.publisher.remote_get_incident(first)
        assert header["type"] == "incident" and header["trigger"]["message"] == "trouble one"
        assert [e["message"] for e in events] == ["before", "trouble one"]

    def test_get_incident_refuses_bad_names(self) -> None:
        for bad in ["../../etc/passwd", "incident-../x", "incident-a/b", b"\xff", 3, "other"]:
            with pytest.raises(BadIncidentNameError):
                self.publisher.remote_get_incident(bad)
        with pytest.raises(BadIncidentNameError, match="no incident named"):
            self.publisher.remote_get_incident("incident-2000-01-01--00-00-00Z-none")

    def test_subscription_catches_up_then_announces(self) -> None:
        first = self.record("trouble one")
        observer = FakeObserver()
        sub = self.publisher.remote_subscribe_to_incidents(observer, True, "")
        self.turns.run()
        names = [n for n, _, _ in observer.calls]
        assert names == ["new_incident", "done_with_incident_catchup"]
        assert observer.calls[0][1][0] == first
        self.clock.advance(2)
        second = self.record("trouble two")
        assert observer.calls[-1][0] == "new_incident" and observer.calls[-1][1][0] == second
        assert observer.calls[-1][1][1]["message"] == "trouble two"
        sub.remote_unsubscribe()
        self.clock.advance(2)
        self.record("trouble three")
        assert len(observer.calls) == 3
