"""The Reconnector contract on a fake clock: attempts, backoff, stop, reset, info, limits."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest
from twisted.internet.defer import CancelledError, Deferred, fail, succeed
from twisted.internet.error import ConnectionRefusedError
from twisted.logger import LogEvent, globalLogPublisher
from twisted.python.failure import Failure

from octavo.reconnector import (
    AlreadyStartedError,
    GaveUpError,
    ReconnectionInfo,
    Reconnector,
    ReconnectorStoppedError,
    State,
)

from ._fakes import FakeConnector, FakeRef, FixedRandom, RecordingClock
from .test_transitions import make_rig


@pytest.fixture
def logged() -> Iterator[list[LogEvent]]:
    """Events published to Twisted's global log while the test runs."""
    events: list[LogEvent] = []
    globalLogPublisher.addObserver(events.append)
    yield events
    globalLogPublisher.removeObserver(events.append)


def failures_logged(events: list[LogEvent]) -> list[LogEvent]:
    return [e for e in events if "log_failure" in e]


def test_start_makes_one_attempt_now() -> None:
    """startConnecting() calls connect once at once and reports 'connecting'."""
    rig = make_rig()
    rig.clock.advance(42)
    info = rig.rc.getReconnectionInfo()
    assert info == ReconnectionInfo("unstarted", None, None, None)
    rig.rc.startConnecting()
    assert len(rig.connector.attempts) == 1
    assert (info.state, info.lastAttempt, info.nextAttempt) == ("connecting", 42.0, None)
    assert rig.rc.getDelayUntilNextAttempt() is None


def test_success_runs_callback_with_args() -> None:
    """A successful attempt runs cb(ref, *args, **kwargs) and watches for the loss."""
    seen: list[tuple[Any, ...]] = []
    connector = FakeConnector()
    rc: Reconnector[FakeRef] = Reconnector(
        connector,
        lambda *a, **kw: seen.append((a, kw)),
        ("x", 2),
        {"k": "v"},
        clock=RecordingClock(),
    )
    rc.startConnecting()
    ref = connector.succeed()
    assert seen == [((ref, "x", 2), {"k": "v"})]
    assert len(ref.observers) == 1
    assert rc.getReconnectionInfo().state == "connected"
    assert rc.currentConnection is ref


def test_failure_waits_initial_times_factor() -> None:
    """After the first failure the wait is initial_delay * factor (Foolscap's e seconds)."""
    rig = make_rig()
    rig.rc.startConnecting()
    rig.connector.fail()
    info = rig.rc.getReconnectionInfo()
    assert rig.rc.getDelayUntilNextAttempt() == pytest.approx(math.e)
    assert (info.state, info.nextAttempt) == ("waiting", pytest.approx(math.e))
    last = rig.rc.getLastFailure()
    assert last is not None and last.check(ConnectionRefusedError)
    rig.clock.advance(math.e - 0.001)
    assert len(rig.connector.attempts) == 1
    rig.clock.advance(0.001)
    assert len(rig.connector.attempts) == 2


def test_consecutive_failures_back_off_to_max() -> None:
    """Waits grow by the factor after each failure and stop at max_delay."""
    rig = make_rig(initial_delay=1.0, factor=2.0, max_delay=10.0)
    rig.rc.startConnecting()
    waits = []
    for _ in range(6):
        rig.connector.fail()
        delay = rig.rc.getDelayUntilNextAttempt()
        assert delay is not None
        waits.append(delay)
        rig.clock.advance(delay)
    assert waits == [2.0, 4.0, 8.0, 10.0, 10.0, 10.0]
    assert rig.rc.failures == 6


def test_jitter_uses_injected_randomness() -> None:
    """The wait is drawn from the injected rng around the base delay."""
    rng = FixedRandom(2.0)
    connector = FakeConnector()
    rc: Reconnector[FakeRef] = Reconnector(
        connector, print, clock=RecordingClock(), rng=rng, initial_delay=1.0, factor=2.0, jitter=0.1
    )
    rc.startConnecting()
    connector.fail()
    assert rng.calls == [(2.0, pytest.approx(0.2))]
    assert rc.getDelayUntilNextAttempt() == pytest.approx(2.4)


def test_loss_retries_after_initial_delay_with_new_connection() -> None:
    """A lost connection is retried after initial_delay and the callback runs again."""
    rig = make_rig(initial_delay=1.0, factor=2.0)
    rig.rc.startConnecting()
    first = rig.connector.succeed()
    first.lose()
    assert rig.rc.state is State.WAITING
    assert rig.rc.getDelayUntilNextAttempt() == 1.0
    assert rig.rc.currentConnection is None
    rig.clock.advance(1.0)
    second = rig.connector.succeed()
    assert rig.calls == [first, second]
    assert first is not second


def test_success_clears_failure_and_restarts_backoff() -> None:
    """A connection clears getLastFailure() and resets the backoff for the next outage."""
    rig = make_rig(initial_delay=1.0, factor=2.0)
    rig.rc.startConnecting()
    for _ in range(3):
        rig.connector.fail()
        rig.clock.advance(rig.rc.getDelayUntilNextAttempt() or 0)
    ref = rig.connector.succeed()
    assert rig.rc.getLastFailure() is None
    ref.lose()
    rig.clock.advance(1.0)
    rig.connector.fail()
    assert rig.rc.getDelayUntilNextAttempt() == 2.0


def test_stop_during_attempt_then_success_never_calls_back() -> None:
    """stopConnecting() with an attempt in flight: its success does not reach cb."""
    rig = make_rig()
    rig.rc.startConnecting()
    rig.rc.stopConnecting()
    assert rig.rc.state is State.STOPPING
    assert rig.stopped == []
    ref = rig.connector.succeed()
    assert rig.calls == []
    assert rig.rc.state is State.STOPPED
    assert rig.stopped == [None]
    assert ref.observers == []
    assert rig.clock.getDelayedCalls() == []


def test_stop_during_attempt_then_failure_schedules_nothing() -> None:
    """stopConnecting() with an attempt in flight: its failure schedules no retry."""
    rig = make_rig()
    rig.rc.startConnecting()
    rig.rc.stopConnecting()
    rig.connector.fail()
    assert rig.rc.state is State.STOPPED
    assert rig.clock.getDelayedCalls() == []
    assert len(rig.connector.attempts) == 1


def test_stop_cancels_attempt_in_flight() -> None:
    """stop() cancels the attempt in flight and fires once nothing is left running."""
    rig = make_rig()
    rig.rc.startConnecting()
    done = rig.rc.stop()
    assert rig.connector.cancelled == 1
    assert done.called and rig.rc.state is State.STOPPED
    last = rig.rc.getLastFailure()
    assert last is not None and last.check(CancelledError)


def test_stop_without_cancel_waits_for_attempt() -> None:
    """stop(cancel_attempt=False) fires only when the attempt in flight settles."""
    rig = make_rig()
    rig.rc.startConnecting()
    done = rig.rc.stop(cancel_attempt=False)
    assert not done.called and rig.connector.cancelled == 0
    rig.connector.succeed()
    assert done.called and rig.calls == []


def test_stop_while_waiting_cancels_timer() -> None:
    """Stopping while waiting cancels the retry timer at once."""
    rig = make_rig()
    rig.rc.startConnecting()
    rig.connector.fail()
    rig.rc.stopConnecting()
    assert rig.clock.getDelayedCalls() == []
    assert rig.rc.getDelayUntilNextAttempt() is None
    assert rig.rc.getReconnectionInfo().nextAttempt is None
    rig.clock.advance(10_000)
    assert len(rig.connector.attempts) == 1


def test_stop_while_connected_leaves_connection_alone() -> None:
    """Stopping keeps the live connection; its later loss starts nothing."""
    rig = make_rig()
    rig.rc.startConnecting()
    ref = rig.connector.succeed()
    rig.rc.stopConnecting()
    assert not ref.lost and rig.rc.currentConnection is ref
    ref.lose()
    assert rig.rc.state is State.STOPPED
    assert rig.rc.currentConnection is None
    assert rig.clock.getDelayedCalls() == []
    assert len(rig.connector.attempts) == 1


def test_stop_twice_and_before_start() -> None:
    """Stopping an unstarted Reconnector stops it; stopping again changes nothing."""
    rig = make_rig()
    rig.rc.stopConnecting()
    rig.rc.stopConnecting()
    assert rig.rc.state is State.STOPPED and rig.stopped == [None]
    assert rig.rc.whenStopped().called
    assert rig.connector.attempts == []


def test_restart_is_refused() -> None:
    """startConnecting() twice, or after stopping, raises a typed error."""
    rig = make_rig()
    rig.rc.startConnecting()
    with pytest.raises(AlreadyStartedError):
        rig.rc.startConnecting()
    rig.rc.stopConnecting()
    with pytest.raises(ReconnectorStoppedError):
        rig.rc.startConnecting()


def test_reset_while_waiting_tries_now() -> None:
    """reset() during a wait starts the next attempt at once with the delay back at start."""
    rig = make_rig(initial_delay=1.0, factor=2.0)
    rig.rc.startConnecting()
    for _ in range(4):
        rig.connector.fail()
        rig.clock.advance(rig.rc.getDelayUntilNextAttempt() or 0)
    rig.connector.fail()
    assert rig.rc.getDelayUntilNextAttempt() == 32.0
    rig.rc.reset()
    assert len(rig.connector.attempts) == 6
    assert rig.clock.getDelayedCalls() == []
    rig.connector.fail()
    assert rig.rc.getDelayUntilNextAttempt() == 2.0


def test_reset_while_connecting_restarts_delay() -> None:
    """reset() during an attempt makes its failure wait the first-failure delay."""
    rig = make_rig(initial_delay=1.0, factor=2.0)
    rig.rc.startConnecting()
    for _ in range(3):
        rig.connector.fail()
        rig.clock.advance(rig.rc.getDelayUntilNextAttempt() or 0)
    rig.rc.reset()
    assert len(rig.connector.attempts) == 4
    rig.connector.fail()
    assert rig.rc.getDelayUntilNextAttempt() == 2.0


def test_connect_raising_counts_as_failure() -> None:
    """connect() raising is a failed attempt, recorded by getLastFailure()."""

    def connect() -> Deferred[FakeRef]:
        raise RuntimeError("no route")

    rc: Reconnector[FakeRef] = Reconnector(connect, print, clock=RecordingClock())
    rc.startConnecting()
    assert rc.state is State.WAITING
    last = rc.getLastFailure()
    assert last is not None and last.check(RuntimeError)


def test_connect_returning_non_deferred_is_type_error() -> None:
    """connect() returning something other than a Deferred fails with a TypeError."""
    rc: Reconnector[FakeRef] = Reconnector(lambda: "nope", print, clock=RecordingClock())  # type: ignore[arg-type,return-value]
    rc.startConnecting()
    last = rc.getLastFailure()
    assert last is not None and last.check(TypeError)
    assert "str" in last.getErrorMessage()


def test_synchronous_success_and_failure() -> None:
    """connect() returning an already-fired Deferred works both ways."""
    ref = FakeRef()
    outcomes: list[Deferred[FakeRef]] = [succeed(ref), fail(ConnectionRefusedError())]
    calls: list[FakeRef] = []
    clock = RecordingClock()
    rc: Reconnector[FakeRef] = Reconnector(lambda: outcomes.pop(0), calls.append, clock=clock)
    rc.startConnecting()
    assert calls == [ref] and rc.state is State.CONNECTED
    ref.lose()
    clock.advance(rc.getDelayUntilNextAttempt() or 0)
    assert rc.state is State.WAITING and len(calls) == 1


def test_callback_exception_is_logged(logged: list[LogEvent]) -> None:
    """A raising callback is logged and the Reconnector stays connected."""

    def boom(ref: FakeRef) -> None:
        raise ValueError("callback bug")

    connector = FakeConnector()
    rc: Reconnector[FakeRef] = Reconnector(connector, boom, clock=RecordingClock())
    rc.startConnecting()
    connector.succeed()
    assert rc.state is State.CONNECTED
    [event] = failures_logged(logged)
    assert event["log_failure"].check(ValueError)


def test_callback_may_stop_reconnector() -> None:
    """cb calling stopConnecting() stops at once (as seen inside cb) and keeps the connection."""
    seen: list[State] = []

    def cb(ref: FakeRef) -> None:
        rc.stopConnecting()
        seen.append(rc.state)

    connector = FakeConnector()
    rc: Reconnector[FakeRef] = Reconnector(connector, cb, clock=RecordingClock())
    rc.startConnecting()
    ref = connector.succeed()
    assert seen == [State.STOPPED]
    assert rc.state is State.STOPPED and rc.currentConnection is ref


def test_stop_from_inside_a_transition_blocks_callback() -> None:
    """stopConnecting() called by code run mid-transition (here notifyOnDisconnect) wins."""

    class StoppingRef(FakeRef):
        def notifyOnDisconnect(self, callback: Any, *args: Any, **kwargs: Any) -> int:
            rc.stopConnecting()
            return super().notifyOnDisconnect(callback, *args, **kwargs)

    connector = FakeConnector()
    calls: list[FakeRef] = []
    rc: Reconnector[FakeRef] = Reconnector(connector, calls.append, clock=RecordingClock())
    waiting = rc.connected()
    waiting.addErrback(lambda f: f.trap(ReconnectorStoppedError))
    rc.startConnecting()
    ref = connector.succeed(StoppingRef())
    assert calls == [] and rc.state is State.STOPPED
    assert rc.currentConnection is ref
    assert waiting.called


def test_connect_calling_stop_blocks_callback() -> None:
    """A connect() that stops the Reconnector and succeeds at once never reaches cb."""
    calls: list[FakeRef] = []

    def connect() -> Deferred[FakeRef]:
        rc.stopConnecting()
        return succeed(FakeRef())

    rc: Reconnector[FakeRef] = Reconnector(connect, calls.append, clock=RecordingClock())
    rc.startConnecting()
    assert calls == [] and rc.state is State.STOPPED


def test_loss_while_registering_skips_callback() -> None:
    """A reference that reports its loss while being registered is not delivered."""

    class DeadRef(FakeRef):
        def notifyOnDisconnect(self, callback: Any, *args: Any, **kwargs: Any) -> int:
            callback(*args, **kwargs)
            return 0

    rig = make_rig()
    rig.rc.startConnecting()
    rig.connector.succeed(DeadRef())
    assert rig.calls == [] and rig.rc.state is State.WAITING


def test_broken_notify_is_treated_as_loss(logged: list[LogEvent]) -> None:
    """notifyOnDisconnect raising is logged and treated as an immediate loss."""

    class BrokenRef(FakeRef):
        def notifyOnDisconnect(self, callback: Any, *args: Any, **kwargs: Any) -> int:
            raise AttributeError("closed")

    rig = make_rig()
    rig.rc.startConnecting()
    rig.connector.succeed(BrokenRef())
    assert rig.calls == [] and rig.rc.state is State.WAITING
    assert len(failures_logged(logged)) == 1


def test_duplicate_loss_notice_is_ignored() -> None:
    """A second loss notice from the same reference changes nothing."""
    rig = make_rig()
    rig.rc.startConnecting()
    ref = rig.connector.succeed()
    callback, args, kwargs = ref.observers[0]
    ref.lose()
    rig.clock.advance(rig.rc.getDelayUntilNextAttempt() or 0)
    new = rig.connector.succeed()
    callback(*args, **kwargs)
    assert rig.rc.state is State.CONNECTED and rig.rc.currentConnection is new


def test_connection_info_is_reported() -> None:
    """connection_info() fills connectionInfo at each attempt and connection."""
    infos = iter(["trying", "up", "trying again"])
    connector = FakeConnector()
    rc: Reconnector[FakeRef] = Reconnector(
        connector, print, clock=RecordingClock(), connection_info=lambda: next(infos)
    )
    rc.startConnecting()
    assert rc.getReconnectionInfo().connectionInfo == "trying"
    ref = connector.succeed()
    assert rc.getReconnectionInfo().connectionInfo == "up"
    ref.lose()
    assert rc.getReconnectionInfo().connectionInfo == "up"


def test_failure_connection_info_wins() -> None:
    """A failure carrying _connectionInfo (as Foolscap's do) sets connectionInfo."""
    rig = make_rig()
    rig.rc.startConnecting()
    why = Failure(ConnectionRefusedError())
    why._connectionInfo = "from failure"  # type: ignore[attr-defined]
    pending = rig.connector.pending
    assert pending is not None
    pending.errback(why)
    assert rig.rc.getReconnectionInfo().connectionInfo == "from failure"


def test_connection_info_raising_is_logged(logged: list[LogEvent]) -> None:
    """A raising connection_info() is logged and does not stop the attempt."""

    def broken() -> object:
        raise KeyError("gone")

    connector = FakeConnector()
    rc: Reconnector[FakeRef] = Reconnector(
        connector, print, clock=RecordingClock(), connection_info=broken
    )
    rc.startConnecting()
    assert rc.state is State.CONNECTING
    assert len(failures_logged(logged)) == 1


def test_max_attempts_gives_up() -> None:
    """With max_attempts=3 the third consecutive failure gives up and fires whenGaveUp."""
    rig = make_rig(max_attempts=3)
    rig.rc.startConnecting()
    for _ in range(2):
        rig.connector.fail()
        rig.clock.advance(rig.rc.getDelayUntilNextAttempt() or 0)
    assert rig.gave_up == []
    rig.connector.fail()
    assert rig.rc.state is State.GAVE_UP
    [gave_up] = rig.gave_up
    assert isinstance(gave_up, GaveUpError) and gave_up.last_failure is rig.rc.getLastFailure()
    assert rig.clock.getDelayedCalls() == []
    info = rig.rc.getReconnectionInfo()
    assert (info.state, info.nextAttempt) == ("waiting", None)
    rig.rc.reset()
    assert rig.rc.state is State.GAVE_UP and len(rig.connector.attempts) == 3
    later = rig.rc.whenGaveUp()
    assert later.called
    rig.rc.stopConnecting()
    assert rig.rc.state is State.STOPPED


def test_max_attempts_counts_since_last_connection() -> None:
    """The attempt budget starts afresh after each connection."""
    rig = make_rig(max_attempts=2)
    rig.rc.startConnecting()
    rig.connector.fail()
    rig.clock.advance(rig.rc.getDelayUntilNextAttempt() or 0)
    rig.connector.succeed().lose()
    rig.clock.advance(rig.rc.getDelayUntilNextAttempt() or 0)
    rig.connector.fail()
    assert rig.rc.state is State.WAITING


def test_deadline_gives_up_when_next_attempt_too_late() -> None:
    """No attempt starts later than deadline seconds after the outage began."""
    rig = make_rig(initial_delay=1.0, factor=2.0, deadline=10.0)
    rig.rc.startConnecting()
    starts = []
    while rig.rc.state is not State.GAVE_UP:
        starts.append(rig.clock.seconds())
        rig.connector.fail()
        rig.clock.advance(rig.rc.getDelayUntilNextAttempt() or 0)
    assert starts == [0.0, 2.0, 6.0]  # the next would start at 14.0
    assert len(rig.gave_up) == 1


def test_reset_restarts_budget() -> None:
    """reset() gives the retry budget back, so attempts continue."""
    rig = make_rig(max_attempts=2)
    rig.rc.startConnecting()
    rig.connector.fail()
    rig.rc.reset()
    rig.connector.fail()
    assert rig.rc.state is State.WAITING


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"max_attempts": 0}, ValueError, "max_attempts"),
        ({"max_attempts": 1.5}, TypeError, "max_attempts"),
        ({"max_attempts": True}, TypeError, "max_attempts"),
        ({"deadline": -1}, ValueError, "deadline"),
        ({"deadline": math.inf}, ValueError, "deadline"),
        ({"deadline": "1"}, TypeError, "deadline"),
        ({"connection_info": 3}, TypeError, "connection_info"),
        ({"factor": 0.1}, ValueError, "factor"),
    ],
)
def test_bad_arguments(kwargs: dict[str, Any], error: type, match: str) -> None:
    """Bad constructor arguments raise a typed error naming the argument."""
    with pytest.raises(error, match=match):
        Reconnector(FakeConnector(), print, clock=RecordingClock(), **kwargs)


def test_connect_and_cb_must_be_callable() -> None:
    """Non-callable connect or cb is a TypeError naming it."""
    with pytest.raises(TypeError, match="connect"):
        Reconnector(None, print, clock=RecordingClock())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="cb"):
        Reconnector(FakeConnector(), None, clock=RecordingClock())  # type: ignore[arg-type]


def test_default_clock_is_the_reactor() -> None:
    """Without a clock the global reactor is used (nothing scheduled until started)."""
    from twisted.internet import reactor

    rc: Reconnector[FakeRef] = Reconnector(FakeConnector(), print)
    assert rc._clock is reactor
    assert "unstarted" in repr(rc)
