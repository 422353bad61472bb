"""Eventual-send: run a callable on a later reactor turn, in FIFO order.

``eventually(a); eventually(b)`` runs ``a`` before ``b``, both after the current call
stack has unwound. Everything queued during one turn runs in that turn; anything
queued while a turn runs waits for the next turn (Foolscap's semantics).

There is one queue per clock (reactor). The module functions use the queue of the
global reactor; tests pass a ``twisted.internet.task.Clock`` to :func:`queue_for` (or
to a Broker) and advance it.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, TypeVar, cast

from twisted.internet.defer import Deferred, succeed
from twisted.logger import Logger

from octavo.reconnector import ClockLike

__all__ = [
    "EventualQueue",
    "default_clock",
    "eventually",
    "fireEventually",
    "flushEventualQueue",
    "queue_for",
]

_T = TypeVar("_T")
_log = Logger(namespace="octavo.tub.eventual")


_Event = tuple[Callable[..., object], tuple[Any, ...], dict[str, Any]]


class EventualQueue:
    """A FIFO of callables run on later turns of ``clock`` (``callLater(0, ...)``)."""

    def __init__(self, clock: ClockLike) -> None:
        self._clock = clock
        self._events: list[_Event] = []
        self._flush_observers: list[Deferred[None]] = []
        self._timer: Any = None

    def eventually(self, cb: Callable[..., object], /, *args: Any, **kwargs: Any) -> None:
        """Run ``cb(*args, **kwargs)`` on a later turn; exceptions are logged."""
        self._events.append((cb, args, kwargs))
        if self._timer is None:
            self._timer = self._clock.callLater(0, self._turn)

    def fireEventually(self, value: _T = None) -> Deferred[_T]:  # type: ignore[assignment]
        """A Deferred that fires with ``value`` after everything queued so far."""
        d: Deferred[_T] = Deferred()
        self.eventually(d.callback, value)
        return d

    def flush(self) -> Deferred[None]:
        """A Deferred that fires once the queue is completely empty."""
        if not self._events:
            return succeed(None)
        d: Deferred[None] = Deferred()
        self._flush_observers.append(d)
        return d

    def pending(self) -> int:
        """How many callables are waiting."""
        return len(self._events)

    def _turn(self) -> None:
        self._timer = None
        events, self._events = self._events, []
        for cb, args, kwargs in events:
            try:
                cb(*args, **kwargs)
            except Exception:
                _log.failure("unhandled exception in eventual-send {cb!r}", cb=cb)
        if not self._events:
            observers, self._flush_observers = self._flush_observers, []
            for d in observers:
                d.callback(None)


_queues: weakref.WeakKeyDictionary[object, EventualQueue] = weakref.WeakKeyDictionary()
_strong_queues: dict[int, tuple[object, EventualQueue]] = {}


def default_clock() -> ClockLike:
    """The global reactor (imported only when first needed)."""
    from twisted.internet import reactor  # noqa: PLC0415 - not at import time

    return cast("ClockLike", reactor)


def queue_for(clock: ClockLike | None = None) -> EventualQueue:
    """The eventual queue driven by ``clock`` (default: the global reactor)."""
    if clock is None:
        clock = default_clock()
    try:
        q = _queues.get(clock)
    except TypeError:  # not weak-referenceable: keep it alive by id
        entry = _strong_queues.get(id(clock))
        if entry is None or entry[0] is not clock:
            entry = (clock, EventualQueue(clock))
            _strong_queues[id(clock)] = entry
        return entry[1]
    if q is None:
        q = EventualQueue(clock)
        _queues[clock] = q
    return q


def eventually(cb: Callable[..., object], /, *args: Any, **kwargs: Any) -> None:
    """Run ``cb(*args, **kwargs)`` in a later reactor turn, after earlier eventual-sends."""
    queue_for().eventually(cb, *args, **kwargs)


def fireEventually(value: _T = None) -> Deferred[_T]:  # type: ignore[assignment]
    """A Deferred that fires with ``value`` in a later reactor turn."""
    return queue_for().fireEventually(value)


def flushEventualQueue(_ignored: object = None) -> Deferred[None]:
    """A Deferred that fires when the global eventual-send queue is empty."""
    return queue_for().flush()
