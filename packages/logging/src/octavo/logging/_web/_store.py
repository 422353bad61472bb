"""The viewer's in-memory event store: bounded, oldest dropped and counted (sans-IO)."""

from __future__ import annotations

import secrets
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from typing import Any

from ._filter import EventFilter
from ._model import MAX_ID, BadEventError, Formatter, ViewEvent, as_text, trigger_of, view_event

DEFAULT_LIMIT = 100_000
#: Most characters of text the held events may carry together; past it the oldest go too.
DEFAULT_MAX_CHARS = 100_000_000
#: How many headers (flogfile and incident headers) the store keeps for the page.
MAX_HEADERS = 64
#: How many incident triggers it remembers, to mark their events.
MAX_TRIGGERS = 4096

Listener = Callable[[ViewEvent], None]


def is_run(text: str) -> bool:
    """True for a well-formed run id: 1 to 32 ASCII letters and digits."""
    return 0 < len(text) <= 32 and text.isascii() and text.isalnum()


class EventStore:
    """The last *limit* events in arrival order, with counts of those dropped and rejected.

    Besides their number, the events' text is bounded: past *max_chars* characters in all,
    the oldest events are dropped (and counted) as well.

    Seqs count from 0 in each store, so they mean something only with its ``run``: a
    random id (made anew by each viewer process, unless given) that the page gets with
    every answer, to tell a restarted viewer (whose seqs started again) from the one it
    was reading.
    """

    def __init__(
        self,
        formatter: Formatter,
        limit: int = DEFAULT_LIMIT,
        max_chars: int = DEFAULT_MAX_CHARS,
        *,
        run: str | None = None,
    ) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        if run is not None and not is_run(run):
            raise ValueError(f"run must be 1 to 32 letters and digits, not {run!r}")
        #: this store's numbering: its seqs (and the keys of events without a num) go with it
        self.run = run if run is not None else secrets.token_hex(8)
        self._formatter = formatter
        self._events: deque[ViewEvent] = deque(maxlen=limit)
        self._next_seq = 0
        self._triggers: dict[tuple[str, int], None] = {}
        self._listeners: list[Listener] = []
        self.limit = limit
        self.max_chars = max_chars
        self.chars = 0
        self.dropped = 0
        self.rejected = 0
        self.last_rejection = ""
        self.headers: deque[dict[str, Any]] = deque(maxlen=MAX_HEADERS)

    def __len__(self) -> int:
        return len(self._events)

    def __iter__(self) -> Iterator[ViewEvent]:
        return iter(self._events)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call *listener* with every event added from now on; returns the unsubscribe."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def add(self, record: Mapping[str, Any]) -> ViewEvent | None:
        """Take one record (header or event); returns the stored event, None otherwise."""
        if isinstance(record, Mapping) and isinstance(record.get("header"), Mapping):
            self._add_header(record["header"])
            return None
        try:
            trigger = self._is_trigger(record)
            event = view_event(
                record, self._next_seq, self._formatter, trigger=trigger, run=self.run
            )
        except BadEventError as exc:
            self.reject(str(exc))
            return None
        if len(self._events) == self._events.maxlen:
            self._drop_oldest()
        self._events.append(event)
        self.chars += event.size
        while self.chars > self.max_chars and len(self._events) > 1:
            self._drop_oldest()
        self._next_seq += 1
        for listener in list(self._listeners):
            listener(event)
        return event

    def _drop_oldest(self) -> None:
        self.chars -= self._events.popleft().size
        self.dropped += 1

    def reject(self, reason: str) -> None:
        """Count a record that could not even be read (a bad flogfile line, say)."""
        self.rejected += 1
        self.last_rejection = reason[: MAX_ID * 4]

    def _add_header(self, header: Mapping[str, Any]) -> None:
        summary: dict[str, Any] = {}
        for name in ("type", "pid"):
            value = header.get(name)
            if isinstance(value, (str, bytes)):
                summary[name] = as_text(value, f"header.{name}", MAX_ID)
            elif isinstance(value, int) and not isinstance(value, bool):
                summary[name] = value
        versions = header.get("versions")
        if isinstance(versions, Mapping):
            summary["versions"] = {
                str(k)[:MAX_ID]: str(v)[:MAX_ID] for k, v in list(versions.items())[:32]
            }
        self.headers.append(summary)
        trigger = trigger_of(header)
        if trigger is not None:
            self._triggers[trigger] = None
            if len(self._triggers) > MAX_TRIGGERS:
                del self._triggers[next(iter(self._triggers))]
            self._mark_trigger(trigger)

    def _is_trigger(self, record: Mapping[str, Any]) -> bool:
        event = record.get("d") if isinstance(record, Mapping) else None
        if not self._triggers or not isinstance(event, Mapping):
            return False
        return trigger_of({"type": "incident", "trigger": event}) in self._triggers

    def _mark_trigger(self, trigger: tuple[str, int]) -> None:
        for index, event in enumerate(self._events):
            if (event.incarnation, event.num) == trigger and not event.trigger:
                self._events[index] = replace(event, trigger=True)

    @property
    def first_seq(self) -> int:
        """The seq of the oldest event still held (== next seq when empty)."""
        return self._next_seq - len(self._events)

    @property
    def next_seq(self) -> int:
        """The seq the next event will get."""
        return self._next_seq

    def after(self, seq: int, limit: int) -> list[ViewEvent]:
        """Up to *limit* held events whose seq is above *seq*, oldest first."""
        start = max(seq + 1, self.first_seq) - self.first_seq
        stop = min(start + max(limit, 0), len(self._events))
        return [self._events[i] for i in range(start, stop)]

    def select(self, chosen: EventFilter, after: int, limit: int) -> list[ViewEvent]:
        """Up to *limit* events above seq *after* that pass *chosen*, oldest first."""
        out: list[ViewEvent] = []
        for event in self.after(after, len(self._events)):
            if len(out) >= limit:
                break
            if chosen.matches(event):
                out.append(event)
        return out

    def incidents(self, limit: int) -> list[ViewEvent]:
        """The newest *limit* incident events (WEIRD and up, or triggers), oldest first."""
        found = [e for e in self._events if e.is_incident]
        return found[-limit:] if limit > 0 else []
