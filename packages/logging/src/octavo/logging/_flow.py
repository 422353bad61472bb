"""The outbound event queue of one subscription, without I/O.

A subscription sends at most ``max_in_flight`` events whose answers have not
come back, and keeps at most ``max_queue`` more waiting; an event offered
while the queue is full is dropped (the old ones are kept, as Foolscap does)
and counted. Once there is room again the queue carries one extra event, a
notice ``"log-publisher: N events dropped"`` at UNUSUAL level, where the drops
happened, so any subscriber (a Foolscap one too) sees what it missed as an
ordinary event. The caller does the sending: :meth:`EventQueue.take` gives the
events to send now, :meth:`EventQueue.acked` says how many were answered.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["DROP_FACILITY", "EventQueue", "drop_notice"]

#: The facility of the dropped-events notice.
DROP_FACILITY = "foolscap.log.publisher"
_UNUSUAL = 23


def drop_notice(dropped: int, when: float) -> dict[str, Any]:
    """The event that tells a subscriber ``dropped`` events were not sent."""
    return {
        "format": "log-publisher: %(dropped)d events dropped (subscriber too slow)",
        "dropped": dropped,
        "level": _UNUSUAL,
        "facility": DROP_FACILITY,
        "num": -1,
        "time": when,
    }


class EventQueue:
    """Bounded queue + in-flight window for one subscriber."""

    def __init__(
        self, now: Callable[[], float], *, max_queue: int = 2000, max_in_flight: int = 10
    ) -> None:
        if max_queue < 1 or max_in_flight < 1:
            raise ValueError("max_queue and max_in_flight must be at least 1")
        self._now = now
        self.max_queue = max_queue
        self.max_in_flight = max_in_flight
        self._queue: deque[dict[str, Any]] = deque()
        self.in_flight = 0
        #: events dropped and not yet reported to the subscriber
        self.pending_drops = 0
        #: every event dropped so far
        self.total_dropped = 0

    def __len__(self) -> int:
        return len(self._queue)

    def prime(self, events: Iterable[dict[str, Any]]) -> None:
        """Queue catch-up events ahead of everything (bounded by the logger's buffers)."""
        self._queue.extendleft(reversed(list(events)))

    def offer(self, event: dict[str, Any]) -> bool:
        """Queue ``event``; False (and counted) if the queue is full."""
        if len(self._queue) >= self.max_queue:
            self.pending_drops += 1
            self.total_dropped += 1
            return False
        self._report_drops()
        self._queue.append(event)
        return True

    def take(self) -> list[dict[str, Any]]:
        """The events to send now (each counts as in flight until :meth:`acked`)."""
        self._report_drops()
        out: list[dict[str, Any]] = []
        while self._queue and self.in_flight < self.max_in_flight:
            out.append(self._queue.popleft())
            self.in_flight += 1
        return out

    def acked(self, count: int = 1) -> None:
        """``count`` events sent earlier were answered (or failed): their slots are free."""
        self.in_flight = max(0, self.in_flight - count)

    def lost(self, count: int = 1) -> None:
        """``count`` events taken were not delivered: their slots are free, and they
        are counted as dropped (and reported)."""
        self.acked(count)
        self.pending_drops += count
        self.total_dropped += count

    def _report_drops(self) -> None:
        if self.pending_drops and len(self._queue) < self.max_queue:
            self._queue.append(drop_notice(self.pending_drops, self._now()))
            self.pending_drops = 0
