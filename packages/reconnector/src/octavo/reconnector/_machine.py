"""The Reconnector's state machine: a transition table and its bookkeeping (no I/O).

Theory of operation
-------------------
A Reconnector makes at most one connection attempt at a time. It starts in UNSTARTED;
``START`` begins an attempt (CONNECTING). An attempt ends in ``ATTEMPT_SUCCEEDED``
(CONNECTED: the owner's callback runs with the new reference) or ``ATTEMPT_FAILED``
(WAITING: a timer is set by the backoff policy). When the timer fires
(``TIMER_FIRED``) the next attempt begins. When a connection is lost
(``CONNECTION_LOST``) the Reconnector waits the initial delay and tries again.

Two transitions are guarded by the retry budget (``max_attempts`` consecutive failures
and a ``deadline`` measured from the start of the current outage): when the next
attempt would exceed it, the machine goes to GAVE_UP instead of WAITING.

``STOP`` ends the Reconnector for good. If no attempt is in flight it goes straight to
STOPPED (cancelling a pending timer; an existing connection is left alone). If an
attempt is in flight it goes to STOPPING, where the attempt's outcome is discarded
(the callback is never run), then to STOPPED once that attempt settles. ``RESET`` sets
the delay and the retry budget back to the start, and when WAITING begins the next
attempt at once.

Every event is processed to completion before the next one (the glue queues events
raised while a transition's outputs run), so outputs never observe a half-made
transition. The table lists every (state, event) pair that can occur; the glue never
feeds any other pair (a late result of an attempt that is no longer current, or a
second loss notice, is filtered out before it gets here).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ._backoff import Backoff, NormalVariate

__all__ = ["TABLE", "Event", "Guarded", "Machine", "Output", "Rule", "State", "Step"]


class State(str, enum.Enum):
    """Where a Reconnector is; the value is what ``Reconnector.state`` reports."""

    UNSTARTED = "unstarted"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    WAITING = "waiting"
    STOPPING = "stopping"
    STOPPED = "stopped"
    GAVE_UP = "gave-up"


class Event(enum.Enum):
    """Inputs of the machine."""

    START = "start"
    STOP = "stop"
    RESET = "reset"
    ATTEMPT_SUCCEEDED = "attempt-succeeded"
    ATTEMPT_FAILED = "attempt-failed"
    TIMER_FIRED = "timer-fired"
    CONNECTION_LOST = "connection-lost"


class Output(enum.Enum):
    """Side effects the glue performs, in order, after a transition."""

    BEGIN_ATTEMPT = "begin-attempt"
    SCHEDULE_RETRY = "schedule-retry"
    CANCEL_TIMER = "cancel-timer"
    DELIVER = "deliver"
    FINISH_STOP = "finish-stop"
    GIVE_UP = "give-up"


@dataclass(frozen=True)
class Rule:
    """Go to ``target`` and perform ``outputs``."""

    target: State
    outputs: tuple[Output, ...] = ()


@dataclass(frozen=True)
class Guarded:
    """Follow ``retry`` if the next attempt fits the retry budget, else ``exhausted``."""

    retry: Rule
    exhausted: Rule


St, Ev, Out = State, Event, Output
_GIVE_UP = Rule(St.GAVE_UP, (Out.GIVE_UP,))

#: The complete transition table.
TABLE: dict[tuple[State, Event], Rule | Guarded] = {
    # not started yet
    (St.UNSTARTED, Ev.START): Rule(St.CONNECTING, (Out.BEGIN_ATTEMPT,)),
    (St.UNSTARTED, Ev.STOP): Rule(St.STOPPED, (Out.FINISH_STOP,)),
    (St.UNSTARTED, Ev.RESET): Rule(St.UNSTARTED),
    # one attempt in flight
    (St.CONNECTING, Ev.ATTEMPT_SUCCEEDED): Rule(St.CONNECTED, (Out.DELIVER,)),
    (St.CONNECTING, Ev.ATTEMPT_FAILED): Guarded(Rule(St.WAITING, (Out.SCHEDULE_RETRY,)), _GIVE_UP),
    (St.CONNECTING, Ev.STOP): Rule(St.STOPPING),
    (St.CONNECTING, Ev.RESET): Rule(St.CONNECTING),
    # connected, waiting for the loss notice
    (St.CONNECTED, Ev.CONNECTION_LOST): Guarded(Rule(St.WAITING, (Out.SCHEDULE_RETRY,)), _GIVE_UP),
    (St.CONNECTED, Ev.STOP): Rule(St.STOPPED, (Out.FINISH_STOP,)),
    (St.CONNECTED, Ev.RESET): Rule(St.CONNECTED),
    # a retry timer is pending
    (St.WAITING, Ev.TIMER_FIRED): Rule(St.CONNECTING, (Out.BEGIN_ATTEMPT,)),
    (St.WAITING, Ev.STOP): Rule(St.STOPPED, (Out.CANCEL_TIMER, Out.FINISH_STOP)),
    (St.WAITING, Ev.RESET): Rule(St.CONNECTING, (Out.CANCEL_TIMER, Out.BEGIN_ATTEMPT)),
    # stopped while an attempt was in flight: its outcome is discarded
    (St.STOPPING, Ev.ATTEMPT_SUCCEEDED): Rule(St.STOPPED, (Out.FINISH_STOP,)),
    (St.STOPPING, Ev.ATTEMPT_FAILED): Rule(St.STOPPED, (Out.FINISH_STOP,)),
    (St.STOPPING, Ev.STOP): Rule(St.STOPPING),
    (St.STOPPING, Ev.RESET): Rule(St.STOPPING),
    # final states (a connection kept after stop may still report its loss)
    (St.STOPPED, Ev.STOP): Rule(St.STOPPED),
    (St.STOPPED, Ev.RESET): Rule(St.STOPPED),
    (St.STOPPED, Ev.CONNECTION_LOST): Rule(St.STOPPED),
    (St.GAVE_UP, Ev.STOP): Rule(St.STOPPED, (Out.FINISH_STOP,)),
    (St.GAVE_UP, Ev.RESET): Rule(St.GAVE_UP),
}
del St, Ev, Out


@dataclass(frozen=True)
class Step:
    """The result of one event: the new state, outputs to perform, and the retry wait."""

    state: State
    outputs: tuple[Output, ...]
    wait: float | None = None


class Machine:
    """Current state plus the bookkeeping the guards need (failure count, outage start).

    ``handle(event, now)`` is pure with respect to I/O: it returns the outputs and the
    wait to schedule; the caller performs them.
    """

    def __init__(
        self,
        backoff: Backoff,
        rng: NormalVariate,
        *,
        max_attempts: int | None = None,
        deadline: float | None = None,
    ) -> None:
        self.backoff = backoff
        self.rng = rng
        self.max_attempts = max_attempts
        self.deadline = deadline
        self.state = State.UNSTARTED
        #: Consecutive failed attempts since the start, the last connection or reset().
        self.failures = 0
        #: Clock time the current outage began (start, loss of connection, or reset()).
        self.outage_start = 0.0

    def handle(self, event: Event, now: float) -> Step:
        """Apply ``event`` at clock time ``now``; raise KeyError for an impossible pair."""
        try:
            entry = TABLE[(self.state, event)]
        except KeyError:
            raise KeyError(f"no transition for {event.name} in state {self.state.name}") from None
        active = self.state in (State.UNSTARTED, State.CONNECTING, State.CONNECTED, State.WAITING)
        if event in (Event.START, Event.RESET, Event.CONNECTION_LOST) and active:
            self.failures = 0
            self.outage_start = now
        elif event is Event.ATTEMPT_SUCCEEDED:
            self.failures = 0
        elif event is Event.ATTEMPT_FAILED:
            self.failures += 1
        wait: float | None = None
        if isinstance(entry, Guarded):
            wait = self.backoff.wait(self.failures, self.rng)
            rule = entry.retry if self._within_budget(now, wait) else entry.exhausted
            if rule is entry.exhausted:
                wait = None
        else:
            rule = entry
        self.state = rule.target
        return Step(rule.target, rule.outputs, wait)

    def _within_budget(self, now: float, wait: float) -> bool:
        if self.max_attempts is not None and self.failures >= self.max_attempts:
            return False
        return self.deadline is None or now + wait <= self.outage_start + self.deadline
