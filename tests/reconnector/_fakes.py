"""Test doubles: a connect-once callable that hands out Deferreds, a reference, a clock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionRefusedError
from twisted.internet.task import Clock


class FakeRef:
    """A reference whose loss the test triggers with ``lose()``."""

    def __init__(self, name: str = "ref") -> None:
        self.name = name
        self.observers: list[tuple[Callable[..., object], tuple[Any, ...], dict[str, Any]]] = []
        self.lost = False

    def notifyOnDisconnect(self, callback: Callable[..., object], *args: Any, **kwargs: Any) -> int:
        self.observers.append((callback, args, kwargs))
        return len(self.observers)

    def lose(self) -> None:
        self.lost = True
        observers, self.observers = self.observers, []
        for callback, args, kwargs in observers:
            callback(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<FakeRef {self.name}>"


class FakeConnector:
    """A connect-once callable: each call returns a new Deferred that the test fires."""

    def __init__(self) -> None:
        self.attempts: list[Deferred[FakeRef]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.cancelled = 0
        self.made = 0

    def __call__(self) -> Deferred[FakeRef]:
        d: Deferred[FakeRef] = Deferred(self._cancel)
        self.attempts.append(d)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        d.addBoth(self._settled)
        return d

    def _cancel(self, d: Deferred[FakeRef]) -> None:
        self.cancelled += 1

    def _settled(self, result: object) -> object:
        self.in_flight -= 1
        return result

    @property
    def pending(self) -> Deferred[FakeRef] | None:
        """The attempt in flight, if any."""
        if self.attempts and not self.attempts[-1].called:
            return self.attempts[-1]
        return None

    def succeed(self, ref: FakeRef | None = None) -> FakeRef:
        """Complete the attempt in flight with ``ref`` (a new one by default)."""
        d = self.pending
        assert d is not None, "no attempt in flight"
        self.made += 1
        ref = FakeRef(f"ref{self.made}") if ref is None else ref
        d.callback(ref)
        return ref

    def fail(self, exc: BaseException | None = None) -> None:
        """Fail the attempt in flight (connection refused by default)."""
        d = self.pending
        assert d is not None, "no attempt in flight"
        d.errback(ConnectionRefusedError() if exc is None else exc)


class RecordingClock(Clock):
    """A Clock that remembers every delay passed to callLater."""

    def __init__(self) -> None:
        super().__init__()
        self.delays: list[float] = []

    def callLater(
        self, delay: float, callable: Callable[..., object], *args: object, **kw: object
    ) -> Any:
        self.delays.append(delay)
        return super().callLater(delay, callable, *args, **kw)


class FixedRandom:
    """Randomness for jitter that always returns mu + k * sigma."""

    def __init__(self, k: float = 0.0) -> None:
        self.k = k
        self.calls: list[tuple[float, float]] = []

    def normalvariate(self, mu: float = 0.0, sigma: float = 1.0) -> float:
        self.calls.append((mu, sigma))
        return mu + self.k * sigma
