"""Hypothesis: random sequences of events keep the Reconnector's invariants."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given, note
from hypothesis import strategies as st
from twisted.internet.error import ConnectionRefusedError

from octavo.reconnector import Reconnector, State

from ._fakes import FakeConnector, FakeRef, RecordingClock

ACTIONS = st.one_of(
    st.sampled_from(["start", "stop", "stop-cancel", "reset", "succeed", "fail", "lose"]),
    st.tuples(st.just("advance"), st.floats(0, 5000, allow_nan=False)),
)

CONFIG = st.fixed_dictionaries(
    {
        "initial_delay": st.floats(0, 10),
        "factor": st.floats(1, 4),
        "max_delay": st.floats(10, 600),
        "jitter": st.floats(0, 1),
        "max_attempts": st.none() | st.integers(1, 6),
        "deadline": st.none() | st.floats(0, 1000),
    }
)


@given(CONFIG, st.lists(ACTIONS, max_size=60), st.integers(0, 2**32))
def test_invariants_hold_for_any_event_sequence(
    config: dict[str, Any], actions: list[object], seed: int
) -> None:
    """No overlapping attempts, no callback after stop, bounded waits, a clean clock at the end."""
    clock = RecordingClock()
    connector = FakeConnector()
    calls: list[FakeRef] = []
    rc: Reconnector[FakeRef] = Reconnector(
        connector, calls.append, clock=clock, rng=random.Random(seed), **config
    )
    live: list[FakeRef] = []
    stopped_at: int | None = None
    gave_up = False
    attempts_at_give_up = 0
    for action in actions:
        note(f"{action!r} in {rc.state.name}")
        if action == "start":
            if rc.state is State.UNSTARTED:
                rc.startConnecting()
        elif action in ("stop", "stop-cancel"):
            if stopped_at is None:
                stopped_at = len(calls)
            if action == "stop":
                rc.stopConnecting()
            else:
                rc.stop()
        elif action == "reset":
            rc.reset()
        elif action == "succeed":
            if connector.pending is not None:
                live.append(connector.succeed())
        elif action == "fail":
            if connector.pending is not None:
                connector.fail(ConnectionRefusedError())
        elif action == "lose":
            if live:
                live.pop(0).lose()
        else:
            assert isinstance(action, tuple)
            clock.advance(action[1])

        # invariants after every step
        assert connector.max_in_flight <= 1
        if stopped_at is not None:
            assert len(calls) == stopped_at, "callback ran after stopConnecting()"
        assert all(0 <= d <= config["max_delay"] for d in clock.delays)
        state = rc.state
        assert len(clock.getDelayedCalls()) == (1 if state is State.WAITING else 0)
        assert (connector.in_flight == 1) == (state in (State.CONNECTING, State.STOPPING))
        assert (rc.currentConnection is not None) <= (state in (State.CONNECTED, State.STOPPED))
        assert rc.getReconnectionInfo().state in ("unstarted", "connecting", "connected", "waiting")
        delay = rc.getDelayUntilNextAttempt()
        assert (delay is not None) == (state is State.WAITING)
        if state is State.GAVE_UP and not gave_up:
            gave_up, attempts_at_give_up = True, len(connector.attempts)
        if gave_up:
            assert len(connector.attempts) == attempts_at_give_up, "attempt after giving up"

    # shut down: stop, let any attempt in flight finish, and nothing may be left behind
    calls_before = len(calls)
    done = rc.stop(cancel_attempt=False)
    if connector.pending is not None:
        connector.succeed()
    assert done.called
    assert rc.state is State.STOPPED
    assert len(calls) == calls_before
    assert clock.getDelayedCalls() == []
    assert connector.in_flight == 0
