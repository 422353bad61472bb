"""The Reconnector: Twisted glue that runs the state machine of ``_machine``."""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, Protocol, TypeVar, cast

from twisted.internet.defer import CancelledError, Deferred, fail, succeed
from twisted.logger import Logger
from twisted.python.failure import Failure

from ._backoff import (
    DEFAULT_FACTOR,
    DEFAULT_INITIAL_DELAY,
    DEFAULT_JITTER,
    DEFAULT_MAX_DELAY,
    Backoff,
    NormalVariate,
)
from ._clock import ClockLike, DelayedCallLike
from ._errors import AlreadyStartedError, GaveUpError, ReconnectorStoppedError
from ._info import ReconnectionInfo
from ._machine import Event, Machine, Output, State

__all__ = ["ConnectionIterator", "Reconnector", "SupportsNotifyOnDisconnect"]

_log = Logger(namespace="octavo.reconnector")


class SupportsNotifyOnDisconnect(Protocol):
    """A reference that reports its own loss, like Foolscap's ``RemoteReference``."""

    def notifyOnDisconnect(
        self, callback: Callable[..., object], *args: Any, **kwargs: Any
    ) -> object:
        """Arrange for ``callback(*args, **kwargs)`` to run once the connection is lost."""
        ...


R = TypeVar("R", bound=SupportsNotifyOnDisconnect)


class Reconnector(Generic[R]):
    """Establish and maintain a connection, with Foolscap's Reconnector contract.

    ``connect()`` makes one attempt and returns a Deferred firing with a reference that
    has ``notifyOnDisconnect``. Each time an attempt succeeds, ``cb(ref, *args,
    **kwargs)`` runs; when the connection is lost, or an attempt fails, the Reconnector
    waits (exponential backoff with jitter) and tries again. Attempts never overlap.

    After ``stopConnecting()`` the callback is never invoked again, even if an attempt
    was already in flight; an existing connection is left alone. A stopped Reconnector
    cannot be restarted.
    """

    def __init__(
        self,
        connect: Callable[[], Deferred[R]],
        cb: Callable[..., object],
        args: Sequence[object] = (),
        kwargs: Mapping[str, object] | None = None,
        *,
        clock: ClockLike | None = None,
        rng: NormalVariate | None = None,
        initial_delay: float = DEFAULT_INITIAL_DELAY,
        factor: float = DEFAULT_FACTOR,
        max_delay: float = DEFAULT_MAX_DELAY,
        jitter: float = DEFAULT_JITTER,
        max_attempts: int | None = None,
        deadline: float | None = None,
        connection_info: Callable[[], object] | None = None,
    ) -> None:
        if not callable(connect):
            raise TypeError(f"connect must be callable, not {type(connect).__name__}")
        if not callable(cb):
            raise TypeError(f"cb must be callable, not {type(cb).__name__}")
        if connection_info is not None and not callable(connection_info):
            raise TypeError(
                f"connection_info must be callable or None, not {type(connection_info).__name__}"
            )
        if max_attempts is not None:
            if isinstance(max_attempts, bool) or not isinstance(max_attempts, int):
                raise TypeError(
                    f"max_attempts must be an int or None, not {type(max_attempts).__name__}"
                )
            if max_attempts < 1:
                raise ValueError(f"max_attempts must be >= 1, got {max_attempts!r}")
        if deadline is not None:
            if isinstance(deadline, bool) or not isinstance(deadline, (int, float)):
                raise TypeError(f"deadline must be a number or None, not {type(deadline).__name__}")
            if not math.isfinite(deadline) or deadline < 0:
                raise ValueError(f"deadline must be finite and >= 0, got {deadline!r}")
        if clock is None:
            # imported late: importing the reactor installs the default one
            from twisted.internet import reactor  # noqa: PLC0415

            clock = cast(ClockLike, reactor)
        self.backoff = Backoff(initial_delay, factor, max_delay, jitter)
        self._connect = connect
        self._cb = cb
        self._args = tuple(args)
        self._kwargs = dict(kwargs or {})
        self._clock = clock
        self._connection_info = connection_info
        self._machine = Machine(
            self.backoff,
            random.Random() if rng is None else rng,
            max_attempts=max_attempts,
            deadline=deadline,
        )
        self._info = ReconnectionInfo()
        self._queue: deque[tuple[Event, object]] = deque()
        self._processing = False
        self._notices: deque[Callable[[], None]] = deque()
        self._notifying = False
        self._started = False
        self._stop_requested = False
        self._timer: DelayedCallLike | None = None
        self._attempt: Deferred[R] | None = None
        self._attempt_serial = 0
        self._connection: R | None = None
        self._connection_serial = 0
        self._last_failure: Failure | None = None
        self._stopped_waiters: list[Deferred[None]] = []
        self._gave_up_waiters: list[Deferred[GaveUpError]] = []
        self._connection_waiters: list[Deferred[tuple[int, R]]] = []

    def __repr__(self) -> str:
        return f"<Reconnector {self._machine.state.value} at 0x{id(self):x}>"

    # -- Foolscap's API ----------------------------------------------------------------

    def startConnecting(self) -> None:
        """Begin the first attempt now. Raises if already started or stopped."""
        if self._stop_requested:
            raise ReconnectorStoppedError("this Reconnector was stopped; make a new one")
        if self._started:
            raise AlreadyStartedError("startConnecting() was already called")
        self._started = True
        self._enqueue(Event.START)

    def stopConnecting(self) -> None:
        """Stop for good: never invoke the callback again; leave a live connection alone."""
        self._stop_requested = True
        self._enqueue(Event.STOP)

    def reset(self) -> None:
        """Set the delay and retry budget back to the start; if waiting, try again now."""
        self._enqueue(Event.RESET)

    def getDelayUntilNextAttempt(self) -> float | None:
        """Seconds until the scheduled retry, or None if none is scheduled."""
        if self._timer is None:
            return None
        return max(0.0, self._timer.getTime() - self._clock.seconds())

    def getLastFailure(self) -> Failure | None:
        """The failure of the most recent attempt, None once an attempt succeeds."""
        return self._last_failure

    def getReconnectionInfo(self) -> ReconnectionInfo:
        """The live ``ReconnectionInfo`` (updated in place, as in Foolscap)."""
        return self._info

    # -- beyond Foolscap ---------------------------------------------------------------

    @property
    def state(self) -> State:
        """The state machine's state, including ``STOPPING``/``STOPPED``/``GAVE_UP``."""
        return self._machine.state

    @property
    def currentConnection(self) -> R | None:
        """The reference of the live connection, or None."""
        return self._connection

    def stop(self, *, cancel_attempt: bool = True) -> Deferred[None]:
        """``stopConnecting()``, cancel an attempt in flight, fire once fully stopped."""
        stopped = self.whenStopped()
        self.stopConnecting()
        if cancel_attempt and self._attempt is not None:
            self._attempt.cancel()
        return stopped

    def whenStopped(self) -> Deferred[None]:
        """Fire once stopped with no attempt in flight (never, if never stopped)."""
        if self._machine.state is State.STOPPED:
            return succeed(None)
        waiter: Deferred[None] = Deferred(self._forget(self._stopped_waiters))
        self._stopped_waiters.append(waiter)
        return waiter

    def whenGaveUp(self) -> Deferred[GaveUpError]:
        """Fire (successfully) with a ``GaveUpError`` once the retry budget is exhausted.

        Its ``last_failure`` is the last attempt's failure. Never fires if the
        Reconnector is stopped first, or has no ``max_attempts``/``deadline``.
        """
        if self._machine.state is State.GAVE_UP:
            return succeed(GaveUpError(self._last_failure))
        waiter: Deferred[GaveUpError] = Deferred(self._forget(self._gave_up_waiters))
        self._gave_up_waiters.append(waiter)
        return waiter

    def connected(self) -> Deferred[R]:
        """The current reference, or the next one; fails if stopped or gave up.

        Awaitable in ``async def`` code run with ``Deferred.fromCoroutine``. Fails with
        ``ReconnectorStoppedError`` or ``GaveUpError``.
        """
        return self._next_connection(0).addCallback(_second)

    def connections(self) -> ConnectionIterator[R]:
        """An async iterator over connections: ``async for ref in rc.connections()``.

        Yields the current connection (if any), then each newer one; a connection made
        and lost while the consumer was busy is skipped in favour of the newest. Ends
        when the Reconnector is stopped; raises ``GaveUpError`` if it gives up.
        """
        return ConnectionIterator(self)

    # -- event processing --------------------------------------------------------------

    def _enqueue(self, event: Event, payload: object = None) -> None:
        """Queue ``event``; unless inside a transition already, run the queue dry.

        User code (the callback and the Deferreds handed out) is not run by outputs
        directly: outputs queue notices, run once the machine is at rest, so that user
        code always sees a settled state and its calls (``stopConnecting()``...) take
        effect before they return.
        """
        self._queue.append((event, payload))
        if self._processing:
            return
        self._processing = True
        try:
            while self._queue:
                event, payload = self._queue.popleft()
                step = self._machine.handle(event, self._clock.seconds())
                for output in step.outputs:
                    self._perform(output, payload, step.wait)
        finally:
            self._processing = False
        self._run_notices()

    def _run_notices(self) -> None:
        if self._notifying:
            return
        self._notifying = True
        try:
            while self._notices:
                self._notices.popleft()()
        finally:
            self._notifying = False

    def _perform(self, output: Output, payload: object, wait: float | None) -> None:
        if output is Output.BEGIN_ATTEMPT:
            self._begin_attempt()
        elif output is Output.SCHEDULE_RETRY:
            assert wait is not None
            self._schedule_retry(wait)
        elif output is Output.CANCEL_TIMER:
            self._cancel_timer()
        elif output is Output.DELIVER:
            self._deliver(cast(R, payload))
        elif output is Output.FINISH_STOP:
            self._finish_stop()
        elif output is Output.GIVE_UP:
            self._give_up()

    # -- outputs -----------------------------------------------------------------------

    def _begin_attempt(self) -> None:
        self._attempt_serial += 1
        serial = self._attempt_serial
        self._info.state = "connecting"
        self._info.lastAttempt = self._clock.seconds()
        self._info.nextAttempt = None
        try:
            attempt = self._connect()
        except Exception:
            attempt = fail()
        if not isinstance(attempt, Deferred):
            attempt = fail(
                TypeError(f"connect() must return a Deferred, not {type(attempt).__name__}")
            )
        self._attempt = attempt
        self._refresh_connection_info()
        attempt.addCallbacks(
            self._attempt_succeeded,
            self._attempt_failed,
            callbackArgs=(serial,),
            errbackArgs=(serial,),
        )

    def _schedule_retry(self, wait: float) -> None:
        self._timer = self._clock.callLater(wait, self._timer_fired)
        self._info.state = "waiting"
        self._info.nextAttempt = self._clock.seconds() + wait

    def _cancel_timer(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None and timer.active():
            timer.cancel()
        self._info.nextAttempt = None

    def _deliver(self, ref: R) -> None:
        self._connection_serial += 1
        serial = self._connection_serial
        self._connection = ref
        self._last_failure = None
        self._info.state = "connected"
        self._refresh_connection_info()
        try:
            ref.notifyOnDisconnect(self._connection_lost, serial)
        except Exception:
            _log.failure("notifyOnDisconnect failed; treating the connection as lost")
            self._connection_lost(serial)
            return
        self._notices.append(lambda: self._announce(ref, serial))

    def _announce(self, ref: R, serial: int) -> None:
        if self._connection is not ref or self._connection_serial != serial:
            return  # already lost: there will be a newer connection to announce
        if self._stop_requested:
            return  # the callback never runs after stopConnecting()
        try:
            self._cb(ref, *self._args, **self._kwargs)
        except Exception:
            _log.failure("Reconnector callback raised")
        waiters, self._connection_waiters = self._connection_waiters, []
        for waiter in waiters:
            waiter.callback((serial, ref))

    def _finish_stop(self) -> None:
        self._info.nextAttempt = None
        self._notices.append(self._announce_stop)

    def _announce_stop(self) -> None:
        waiters, self._connection_waiters = self._connection_waiters, []
        for waiter in waiters:
            waiter.errback(ReconnectorStoppedError("the Reconnector was stopped"))
        stopped, self._stopped_waiters = self._stopped_waiters, []
        for done in stopped:
            done.callback(None)

    def _give_up(self) -> None:
        self._info.state = "waiting"
        self._info.nextAttempt = None
        _log.info("Reconnector gave up after {failures} failed attempts", failures=self.failures)
        last = self._last_failure
        self._notices.append(lambda: self._announce_give_up(last))

    def _announce_give_up(self, last: Failure | None) -> None:
        waiters, self._connection_waiters = self._connection_waiters, []
        for waiter in waiters:
            waiter.errback(GaveUpError(last))
        gave_up, self._gave_up_waiters = self._gave_up_waiters, []
        for done in gave_up:
            done.callback(GaveUpError(last))

    # -- inputs from the connect function, the reference and the clock ------------------

    def _attempt_succeeded(self, ref: R, serial: int) -> None:
        if serial != self._attempt_serial or self._attempt is None:
            return
        self._attempt = None
        self._enqueue(Event.ATTEMPT_SUCCEEDED, ref)

    def _attempt_failed(self, why: Failure, serial: int) -> None:
        if serial != self._attempt_serial or self._attempt is None:
            return
        self._attempt = None
        self._last_failure = why
        reported = getattr(why, "_connectionInfo", None)
        if reported is not None:
            self._info.connectionInfo = reported
        if not isinstance(why.value, CancelledError):
            _log.debug("connection attempt failed: {why}", why=why.getErrorMessage())
        self._enqueue(Event.ATTEMPT_FAILED, why)

    def _connection_lost(self, serial: int, *_ignored: object, **_also: object) -> None:
        if serial != self._connection_serial or self._connection is None:
            return
        self._connection = None
        self._enqueue(Event.CONNECTION_LOST)

    def _timer_fired(self) -> None:
        self._timer = None
        self._info.nextAttempt = None
        self._enqueue(Event.TIMER_FIRED)

    # -- helpers -----------------------------------------------------------------------

    @property
    def failures(self) -> int:
        """Consecutive failed attempts since the start, the last connection or reset()."""
        return self._machine.failures

    def _refresh_connection_info(self) -> None:
        if self._connection_info is None:
            return
        try:
            self._info.connectionInfo = self._connection_info()
        except Exception:
            _log.failure("connection_info() raised")

    def _next_connection(self, after: int) -> Deferred[tuple[int, R]]:
        state = self._machine.state
        if self._stop_requested or state in (State.STOPPING, State.STOPPED):
            return fail(ReconnectorStoppedError("the Reconnector was stopped"))
        if state is State.GAVE_UP:
            return fail(GaveUpError(self._last_failure))
        if self._connection is not None and self._connection_serial > after:
            return succeed((self._connection_serial, self._connection))
        waiter: Deferred[tuple[int, R]] = Deferred(self._forget(self._connection_waiters))
        self._connection_waiters.append(waiter)
        return waiter

    @staticmethod
    def _forget(waiters: list[Deferred[Any]]) -> Callable[[Deferred[Any]], None]:
        def canceller(waiter: Deferred[Any]) -> None:
            if waiter in waiters:
                waiters.remove(waiter)

        return canceller


def _second(pair: tuple[int, R]) -> R:
    return pair[1]


class ConnectionIterator(Generic[R]):
    """Async iterator over a Reconnector's connections (see ``Reconnector.connections``)."""

    def __init__(self, reconnector: Reconnector[R]) -> None:
        self._reconnector = reconnector
        self._seen = 0

    def __aiter__(self) -> ConnectionIterator[R]:
        return self

    def __anext__(self) -> Deferred[R]:
        """A Deferred firing with the next connection's reference."""
        nxt = self._reconnector._next_connection(self._seen)
        return nxt.addCallbacks(self._advance, _end_on_stop)

    def _advance(self, pair: tuple[int, R]) -> R:
        self._seen = pair[0]
        return pair[1]


def _end_on_stop(why: Failure) -> Failure:
    if isinstance(why.value, ReconnectorStoppedError):
        raise StopAsyncIteration from None
    return why
