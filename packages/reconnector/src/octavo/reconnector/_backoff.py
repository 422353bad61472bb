"""Exponential backoff with jitter, with Foolscap 24.9's defaults (pure, no I/O)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "DEFAULT_FACTOR",
    "DEFAULT_INITIAL_DELAY",
    "DEFAULT_JITTER",
    "DEFAULT_MAX_DELAY",
    "Backoff",
    "NormalVariate",
]

#: Seconds before the first retry after a lost connection (Foolscap ``initialDelay``).
DEFAULT_INITIAL_DELAY = 1.0
#: Growth of the delay after each consecutive failure (Foolscap ``factor``, e).
DEFAULT_FACTOR = math.e
#: Upper bound of the delay between attempts, one hour (Foolscap ``maxDelay``).
DEFAULT_MAX_DELAY = 3600.0
#: Relative standard deviation of the delay (Foolscap ``jitter``).
DEFAULT_JITTER = 0.11962656492


class NormalVariate(Protocol):
    """Source of randomness for jitter; ``random.Random`` satisfies it."""

    def normalvariate(self, mu: float = ..., sigma: float = ...) -> float:
        """Return a sample of the normal distribution N(mu, sigma)."""
        ...


@dataclass(frozen=True)
class Backoff:
    """How long to wait before the next attempt.

    After ``n`` consecutive failed attempts the base delay is
    ``min(initial_delay * factor ** n, max_delay)`` (so ``initial_delay`` after a lost
    connection, ``initial_delay * factor`` after the first failure, as in Foolscap). The
    wait actually scheduled is drawn from a normal distribution around the base delay
    with standard deviation ``base * jitter``, clamped to ``[0, max_delay]``.
    """

    initial_delay: float = DEFAULT_INITIAL_DELAY
    factor: float = DEFAULT_FACTOR
    max_delay: float = DEFAULT_MAX_DELAY
    jitter: float = DEFAULT_JITTER

    def __post_init__(self) -> None:
        for name in ("initial_delay", "factor", "max_delay", "jitter"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"{name} must be a number, not {type(value).__name__}")
            if not math.isfinite(value):
                raise ValueError(f"{name} must be finite, got {value!r}")
        if self.initial_delay < 0:
            raise ValueError(f"initial_delay must be >= 0, got {self.initial_delay!r}")
        if self.factor < 1:
            raise ValueError(f"factor must be >= 1, got {self.factor!r}")
        if self.max_delay < self.initial_delay:
            raise ValueError(
                f"max_delay ({self.max_delay!r}) must be >= initial_delay ({self.initial_delay!r})"
            )
        if self.jitter < 0:
            raise ValueError(f"jitter must be >= 0, got {self.jitter!r}")

    def base_delay(self, failures: int) -> float:
        """The delay before the next attempt after ``failures`` consecutive failures."""
        if failures < 0:
            raise ValueError(f"failures must be >= 0, got {failures!r}")
        if self.initial_delay == 0:
            return 0.0
        try:
            grown = self.initial_delay * self.factor**failures
        except OverflowError:
            return self.max_delay
        return min(grown, self.max_delay)

    def wait(self, failures: int, rng: NormalVariate) -> float:
        """The jittered wait to schedule after ``failures`` consecutive failures."""
        base = self.base_delay(failures)
        if self.jitter == 0 or base == 0:
            return base
        sample = rng.normalvariate(base, base * self.jitter)
        return min(max(sample, 0.0), self.max_delay)
