"""Every entry of the transition table, exercised through the real Reconnector on a Clock."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from octavo.reconnector import Reconnector, State
from octavo.reconnector._machine import TABLE, Event, Guarded, Machine, Output, Rule

from ._fakes import FakeConnector, FakeRef, FixedRandom, RecordingClock


@dataclass
class Rig:
    """A Reconnector on a fake clock plus everything a test needs to poke it."""

    rc: Reconnector[FakeRef]
    connector: FakeConnector
    clock: RecordingClock
    calls: list[FakeRef] = field(default_factory=list)
    stopped: list[None] = field(default_factory=list)
    gave_up: list[object] = field(default_factory=list)
    ref: FakeRef | None = None


def make_rig(**kwargs: object) -> Rig:
    """Build a Reconnector with jitter off unless asked, observing stop and give-up."""
    kwargs.setdefault("jitter", 0.0)
    connector = FakeConnector()
    clock = RecordingClock()
    calls: list[FakeRef] = []
    rc: Reconnector[FakeRef] = Reconnector(
        connector,
        calls.append,
        clock=clock,
        rng=FixedRandom(),
        **kwargs,  # type: ignore[arg-type]
    )
    rig = Rig(rc, connector, clock, calls)
    rc.whenStopped().addCallback(rig.stopped.append)
    rc.whenGaveUp().addCallback(rig.gave_up.append)
    return rig


def drive_to(state: State, **kwargs: object) -> Rig:
    """A rig whose Reconnector is in ``state`` (STOPPED with a live connection kept)."""
    rig = make_rig(**kwargs)
    if state is State.UNSTARTED:
        return rig
    rig.rc.startConnecting()
    if state is State.CONNECTING:
        return rig
    if state in (State.CONNECTED, State.STOPPED):
        rig.ref = rig.connector.succeed()
        if state is State.STOPPED:
            rig.rc.stopConnecting()
        return rig
    if state is State.STOPPING:
        rig.rc.stopConnecting()
        return rig
    rig.connector.fail()  # WAITING, or GAVE_UP when max_attempts=1
    return rig


def fire(rig: Rig, event: Event) -> None:
    """Deliver ``event`` the way it happens for real."""
    if event is Event.START:
        rig.rc.startConnecting()
    elif event is Event.STOP:
        rig.rc.stopConnecting()
    elif event is Event.RESET:
        rig.rc.reset()
    elif event is Event.ATTEMPT_SUCCEEDED:
        rig.connector.succeed()
    elif event is Event.ATTEMPT_FAILED:
        rig.connector.fail()
    elif event is Event.TIMER_FIRED:
        delay = rig.rc.getDelayUntilNextAttempt()
        assert delay is not None
        rig.clock.advance(delay)
    elif event is Event.CONNECTION_LOST:
        assert rig.ref is not None
        rig.ref.lose()


def cases() -> list[tuple[State, Event, str, Rule]]:
    """One case per rule: both branches of guarded entries."""
    out = []
    for (state, event), entry in TABLE.items():
        if isinstance(entry, Guarded):
            out.append((state, event, "retry", entry.retry))
            out.append((state, event, "exhausted", entry.exhausted))
        else:
            out.append((state, event, "", entry))
    return out


def budget_for(state: State, event: Event, branch: str) -> dict[str, object]:
    """Constructor arguments that make the guard take ``branch``."""
    if state is State.GAVE_UP:
        return {"max_attempts": 1}
    if branch != "exhausted":
        return {}
    if event is Event.ATTEMPT_FAILED:
        return {"max_attempts": 1}
    return {"deadline": 0.5}  # the retry after a loss (1 s) would start too late


@pytest.mark.parametrize(
    ("state", "event", "branch", "rule"),
    cases(),
    ids=[f"{s.name}-{e.name}-{b}".rstrip("-") for s, e, b, _ in cases()],
)
def test_transition(state: State, event: Event, branch: str, rule: Rule) -> None:
    """Each (state, event) leads to the table's target with its outputs observable."""
    rig = drive_to(state, **budget_for(state, event, branch))
    assert rig.rc.state is state
    attempts, calls = len(rig.connector.attempts), len(rig.calls)
    stopped, gave_up = len(rig.stopped), len(rig.gave_up)
    fire(rig, event)
    assert rig.rc.state is rule.target
    assert len(rig.connector.attempts) - attempts == rule.outputs.count(Output.BEGIN_ATTEMPT)
    assert len(rig.calls) - calls == rule.outputs.count(Output.DELIVER)
    assert len(rig.stopped) - stopped == rule.outputs.count(Output.FINISH_STOP)
    assert len(rig.gave_up) - gave_up == rule.outputs.count(Output.GIVE_UP)
    pending = rig.clock.getDelayedCalls()
    assert len(pending) == (1 if rule.target is State.WAITING else 0)
    assert rig.connector.max_in_flight <= 1


def test_table_covers_every_event_in_every_live_state() -> None:
    """STOP and RESET are accepted in every state; START only before starting."""
    for state in State:
        assert (state, Event.STOP) in TABLE
        assert (state, Event.RESET) in TABLE
        assert ((state, Event.START) in TABLE) == (state is State.UNSTARTED)


def test_machine_rejects_impossible_pairs() -> None:
    """Feeding the pure machine a pair missing from the table is a KeyError naming it."""
    m = Machine(make_rig().rc.backoff, FixedRandom())
    with pytest.raises(KeyError, match="TIMER_FIRED in state UNSTARTED"):
        m.handle(Event.TIMER_FIRED, 0.0)
