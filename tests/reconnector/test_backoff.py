"""The backoff policy: Foolscap's defaults, growth, cap, jitter bounds, validation."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from octavo.reconnector import (
    DEFAULT_FACTOR,
    DEFAULT_INITIAL_DELAY,
    DEFAULT_JITTER,
    DEFAULT_MAX_DELAY,
    Backoff,
)

from ._fakes import FixedRandom


def test_defaults_are_foolscaps() -> None:
    """The defaults are Foolscap 24.9's initialDelay, factor, maxDelay and jitter."""
    assert DEFAULT_INITIAL_DELAY == 1.0
    assert DEFAULT_FACTOR == 2.7182818284590451
    assert DEFAULT_MAX_DELAY == 3600
    assert DEFAULT_JITTER == 0.11962656492
    assert Backoff() == Backoff(1.0, math.e, 3600.0, 0.11962656492)


def test_base_delay_grows_by_factor_and_caps() -> None:
    """After n failures the base delay is initial * factor**n, capped at max_delay."""
    b = Backoff(initial_delay=2.0, factor=3.0, max_delay=50.0, jitter=0.0)
    assert [b.base_delay(n) for n in range(5)] == [2.0, 6.0, 18.0, 50.0, 50.0]


def test_huge_failure_counts_do_not_overflow() -> None:
    """A failure count whose power overflows a float gives max_delay."""
    assert Backoff().base_delay(10**6) == DEFAULT_MAX_DELAY


def test_zero_initial_delay_stays_zero() -> None:
    """With initial_delay 0 every wait is 0, and randomness is not consulted."""
    rng = FixedRandom(3.0)
    b = Backoff(initial_delay=0.0)
    assert b.wait(7, rng) == 0.0
    assert rng.calls == []


def test_jitter_draws_normal_around_base() -> None:
    """The wait is normalvariate(base, base * jitter) from the injected randomness."""
    rng = FixedRandom(1.0)
    b = Backoff(initial_delay=1.0, factor=2.0, max_delay=100.0, jitter=0.1)
    assert b.wait(2, rng) == pytest.approx(4.4)
    assert rng.calls == [(4.0, pytest.approx(0.4))]


def test_jitter_is_clamped() -> None:
    """Extreme samples are clamped to [0, max_delay]."""
    b = Backoff(initial_delay=1.0, factor=2.0, max_delay=10.0, jitter=0.5)
    assert b.wait(0, FixedRandom(-100.0)) == 0.0
    assert b.wait(5, FixedRandom(100.0)) == 10.0


@given(
    initial=st.floats(0, 100),
    factor=st.floats(1, 10),
    extra=st.floats(0, 10_000),
    jitter=st.floats(0, 2),
    failures=st.integers(0, 5000),
    seed=st.integers(0, 2**32),
)
def test_wait_always_within_bounds(
    *, initial: float, factor: float, extra: float, jitter: float, failures: int, seed: int
) -> None:
    """Every wait lies in [0, max_delay], and the base delay never shrinks with failures."""
    b = Backoff(initial, factor, initial + extra, jitter)
    w = b.wait(failures, random.Random(seed))
    assert 0.0 <= w <= b.max_delay
    assert b.base_delay(failures) <= b.base_delay(failures + 1) <= b.max_delay


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"initial_delay": -1.0}, ValueError, "initial_delay"),
        ({"factor": 0.5}, ValueError, "factor"),
        ({"max_delay": 0.5}, ValueError, "max_delay"),
        ({"jitter": -0.1}, ValueError, "jitter"),
        ({"jitter": math.nan}, ValueError, "jitter"),
        ({"max_delay": math.inf}, ValueError, "max_delay"),
        ({"factor": "2"}, TypeError, "factor"),
        ({"initial_delay": True}, TypeError, "initial_delay"),
    ],
)
def test_bad_parameters_are_rejected(kwargs: dict[str, object], error: type, match: str) -> None:
    """Bad backoff parameters raise a typed error naming the parameter."""
    with pytest.raises(error, match=match):
        Backoff(**kwargs)  # type: ignore[arg-type]


def test_negative_failures_rejected() -> None:
    """A negative failure count is a ValueError."""
    with pytest.raises(ValueError, match="failures"):
        Backoff().base_delay(-1)
