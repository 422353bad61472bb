"""Test doubles and helpers shared by the logging network tests."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

from twisted.internet import defer, reactor


class FakeLogger:
    logdir: str | None = None

    def __init__(self, buffered: list[dict[str, Any]] | None = None) -> None:
        self.observers: list[Callable[[dict[str, Any]], object]] = []
        self.incident_observers: list[Any] = []
        self.buffered = buffered or []

    def addImmediateObserver(self, o: Callable[[dict[str, Any]], object]) -> None:
        self.observers.append(o)

    def removeImmediateObserver(self, o: Callable[[dict[str, Any]], object]) -> None:
        self.observers.remove(o)

    def get_buffered_events(self) -> Iterator[dict[str, Any]]:
        return iter(self.buffered)

    def addImmediateIncidentObserver(self, o: Any) -> None:
        self.incident_observers.append(o)

    def removeImmediateIncidentObserver(self, o: Any) -> None:
        self.incident_observers.remove(o)

    def emit(self, num: int) -> None:
        for o in list(self.observers):
            o({"num": num, "message": f"e{num}", "level": 20, "time": 1.0})


class Collector:
    """``on_event`` for a follower: keeps (tubid, event) and fires waiters at a count."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self._waiters: list[tuple[int, defer.Deferred[None]]] = []

    def __call__(self, tubid: str, event: dict[str, Any]) -> None:
        self.events.append((tubid, event))
        still = []
        for n, d in self._waiters:
            if len(self.events) >= n:
                d.callback(None)
            else:
                still.append((n, d))
        self._waiters = still

    def wait_for(self, n: int) -> defer.Deferred[None]:
        d: defer.Deferred[None] = defer.Deferred()
        if len(self.events) >= n:
            d.callback(None)
        else:
            self._waiters.append((n, d))
        return d


async def turns(n: int = 5) -> None:
    """Let the reactor run ``n`` times (eventual-sends and loopback I/O settle)."""
    for _ in range(n):
        d: defer.Deferred[None] = defer.Deferred()
        reactor.callLater(0, d.callback, None)  # type: ignore[attr-defined]
        await d


def fresh_path(case: Any) -> str:
    """A path that does not exist yet, in a temporary directory removed after the test."""
    directory = tempfile.mkdtemp(prefix="octavo-log-test-")
    case.addCleanup(shutil.rmtree, directory, True)
    return os.path.join(directory, "p")


async def within(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Wait (on the real reactor) until ``condition()`` holds; fails after ``seconds``."""
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        d: defer.Deferred[None] = defer.Deferred()
        reactor.callLater(0.01, d.callback, None)  # type: ignore[attr-defined]
        await d
    raise AssertionError(f"condition not met within {seconds} s")
