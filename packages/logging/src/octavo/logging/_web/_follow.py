"""Feeding the store: a flogfile read once or followed as it grows (Twisted, clock injected)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import LoopingCall

from ._store import EventStore
from ._tail import FlogTail, TailError

#: Seconds between two looks at a followed file.
POLL_INTERVAL = 0.25


def load_records(store: EventStore, records: Iterable[Mapping[str, Any]]) -> int:
    """Add every record to *store*; returns how many were taken as events."""
    return sum(1 for record in records if store.add(record) is not None)


class FileFollower:
    """Adds the new lines of a growing flogfile to a store every POLL_INTERVAL seconds."""

    def __init__(
        self,
        clock: IReactorTime,
        tail: FlogTail,
        store: EventStore,
        interval: float = POLL_INTERVAL,
    ) -> None:
        self.tail = tail
        self.store = store
        self.interval = interval
        self.error: str | None = None
        self._loop = LoopingCall(self.poll)
        self._loop.clock = clock

    def poll(self) -> int:
        """Read what the file gained now; returns the number of events added."""
        try:
            records = self.tail.read()
        except (TailError, OSError) as exc:
            self.error = str(exc)
            return 0
        self.error = None
        return load_records(self.store, records)

    def start(self) -> None:
        """Read the file now, then again every *interval* seconds."""
        self._loop.start(self.interval, now=True)

    def stop(self) -> None:
        """Stop looking at the file and close it."""
        if self._loop.running:
            self._loop.stop()
        self.tail.close()
