"""The async helpers: ``await rc.connected()`` and ``async for ref in rc.connections()``."""

from __future__ import annotations

import pytest
from twisted.internet.defer import CancelledError, Deferred

from octavo.reconnector import GaveUpError, ReconnectorStoppedError, State

from ._fakes import FakeRef
from .test_transitions import make_rig


def result_of(d: Deferred[object]) -> object:
    """The current result of a fired Deferred (raising its failure)."""
    results: list[object] = []
    d.addBoth(results.append)
    assert results, "Deferred has not fired"
    [result] = results
    if hasattr(result, "raiseException"):
        result.raiseException()
    return result


def test_connected_waits_for_first_connection() -> None:
    """await connected() resumes with the reference once an attempt succeeds."""
    rig = make_rig()

    async def main() -> FakeRef:
        return await rig.rc.connected()

    d = Deferred.fromCoroutine(main())
    rig.rc.startConnecting()
    assert not d.called
    ref = rig.connector.succeed()
    assert result_of(d) is ref


def test_connected_returns_current_connection_at_once() -> None:
    """connected() fires at once while connected."""
    rig = make_rig()
    rig.rc.startConnecting()
    ref = rig.connector.succeed()
    assert result_of(rig.rc.connected()) is ref


def test_connected_after_loss_waits_for_new_connection() -> None:
    """After a loss, connected() waits for the next connection."""
    rig = make_rig()
    rig.rc.startConnecting()
    rig.connector.succeed().lose()
    d = rig.rc.connected()
    assert not d.called
    rig.clock.advance(rig.rc.getDelayUntilNextAttempt() or 0)
    new = rig.connector.succeed()
    assert result_of(d) is new


def test_connected_fails_when_stopped() -> None:
    """A pending connected() fails with ReconnectorStoppedError on stop, and so do new calls."""
    rig = make_rig()
    rig.rc.startConnecting()
    d = rig.rc.connected()
    rig.rc.stop()
    with pytest.raises(ReconnectorStoppedError):
        result_of(d)
    with pytest.raises(ReconnectorStoppedError):
        result_of(rig.rc.connected())


def test_connected_fails_when_gave_up() -> None:
    """A pending connected() fails with GaveUpError carrying the last failure."""
    rig = make_rig(max_attempts=1)
    rig.rc.startConnecting()
    d = rig.rc.connected()
    rig.connector.fail()
    with pytest.raises(GaveUpError) as info:
        result_of(d)
    assert info.value.last_failure is rig.rc.getLastFailure()
    with pytest.raises(GaveUpError, match="gave up"):
        result_of(rig.rc.connected())


def test_cancelled_wait_is_forgotten() -> None:
    """Cancelling a connected() wait removes it; a later connection does not touch it."""
    rig = make_rig()
    rig.rc.startConnecting()
    d = rig.rc.connected()
    d.cancel()
    with pytest.raises(CancelledError):
        result_of(d)
    rig.connector.succeed()
    assert rig.rc._connection_waiters == []


def test_cancelled_stop_and_gave_up_waits_are_forgotten() -> None:
    """Cancelling whenStopped()/whenGaveUp() waits removes them."""
    rig = make_rig()
    for d in (rig.rc.whenStopped(), rig.rc.whenGaveUp()):
        d.cancel()
        d.addErrback(lambda f: f.trap(CancelledError))
    rig.rc.stopConnecting()
    assert rig.stopped == [None]


def test_connections_iterates_until_stopped() -> None:
    """async for yields each new connection and ends when the Reconnector stops."""
    rig = make_rig()
    seen: list[FakeRef] = []

    async def main() -> list[FakeRef]:
        async for ref in rig.rc.connections():
            seen.append(ref)
            if len(seen) == 3:
                rig.rc.stopConnecting()
        return seen

    d = Deferred.fromCoroutine(main())
    rig.rc.startConnecting()
    made = []
    for _ in range(3):
        ref = rig.connector.succeed()
        made.append(ref)
        if rig.rc.state is State.CONNECTED:
            ref.lose()
            rig.clock.advance(rig.rc.getDelayUntilNextAttempt() or 0)
    assert result_of(d) == made
    assert rig.rc.state is State.STOPPED


def test_connections_skips_to_newest() -> None:
    """A slow consumer gets the newest connection, not ones made and lost meanwhile."""
    rig = make_rig()
    rig.rc.startConnecting()
    it = rig.rc.connections()
    first = rig.connector.succeed()
    assert result_of(it.__anext__()) is first
    first.lose()
    rig.clock.advance(rig.rc.getDelayUntilNextAttempt() or 0)
    rig.connector.succeed().lose()
    rig.clock.advance(rig.rc.getDelayUntilNextAttempt() or 0)
    third = rig.connector.succeed()
    assert result_of(it.__anext__()) is third
    pending = it.__anext__()
    assert not pending.called


def test_connections_raises_gave_up() -> None:
    """The iterator raises GaveUpError when the Reconnector gives up."""
    rig = make_rig(max_attempts=1)

    async def main() -> int:
        count = 0
        async for _ref in rig.rc.connections():
            count += 1
        return count

    d = Deferred.fromCoroutine(main())
    rig.rc.startConnecting()
    rig.connector.fail()
    with pytest.raises(GaveUpError):
        result_of(d)
