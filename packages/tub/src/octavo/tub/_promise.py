"""Promises and eventual send (Foolscap's ``foolscap.promise``).

Theory of operation. A :class:`Promise` stands for a value that may not exist yet.
Its states:

- EVENTUAL: unresolved. Messages sent to it (``send(p).foo(x)``, or ``p.foo(x)``)
  are queued, in order, each with the resolver of the promise of its result.
- CHAINED: resolved to another Promise; still queueing, until that one resolves.
- NEAR: resolved to a value (a local object, or a RemoteReference). Messages are
  delivered on a later turn of the eventual queue: a RemoteReference gets
  ``callRemote(name, ...)``, anything else ``getattr(target, name)(...)``.
- BROKEN: resolved to a Failure. Every message queued on it, or sent later, makes
  a promise broken with that same Failure.

Resolution re-queues the waiting messages (then the :func:`when` watchers) on the
eventual queue, so they run in the order they were sent and never in the turn that
resolved the promise. Everything goes through one FIFO queue per clock: a promise
made with ``clock=`` (a ``twisted.internet.task.Clock`` in tests) and every promise
derived from it use that clock's queue.

Differences from Foolscap 24.9: a broken promise really is BROKEN (Foolscap keeps it
EVENTUAL and a later send raises AttributeError), sending to a RemoteReference uses
``callRemote`` (Foolscap calls an attribute of that name), and :func:`when` of a
non-promise raises TypeError (Foolscap asserts).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

from twisted.internet.defer import Deferred, fail, maybeDeferred, succeed
from twisted.python.failure import Failure

from octavo.reconnector import ClockLike

from ._eventual import EventualQueue, queue_for
from ._referenceable import IRemoteReference

__all__ = [
    "Promise",
    "UsageError",
    "makePromise",
    "resolvedPromise",
    "send",
    "sendOnly",
    "when",
]


class UsageError(Exception):
    """A Promise was used wrongly (resolved twice, or broken with a non-Failure)."""


class _State(enum.Enum):
    #: not resolved yet: messages queue
    EVENTUAL = "eventual"
    #: resolved to another Promise that is not resolved yet: messages still queue
    CHAINED = "chained"
    #: resolved to a value: messages are delivered to it
    NEAR = "near"
    #: resolved to a Failure: messages fail with it
    BROKEN = "broken"


#: the resolver of the promise of a message's result (or a no-op for sendOnly)
_Resolver = Callable[[object], object]
_Message = tuple[str, tuple[Any, ...], dict[str, Any], _Resolver]


def _ignore(_result: object) -> None:
    """The resolver of a sendOnly: the outcome is dropped (failures too)."""


class Promise:
    """A value that may not exist yet, to which messages can be sent right away.

    ``p.foo(1)`` (dataflow style) is ``send(p).foo(1)``: a Promise for the result of
    calling ``foo(1)`` on what ``p`` resolves to. ``p._then(cb)`` and
    ``p._except(eb)`` run ``cb(value)`` / ``eb(failure)`` once ``p`` resolves; use
    :func:`when` for a Deferred. Make one with :func:`makePromise`.
    """

    def __init__(self, *, clock: ClockLike | None = None) -> None:
        self._queue: EventualQueue = queue_for(clock)
        self._clock = clock
        self._state = _State.EVENTUAL
        self._target: object = None
        self._pending: list[_Message] = []
        self._watchers: list[Deferred[Any]] = []

    def __repr__(self) -> str:
        return f"<Promise {self._state.value} at 0x{id(self):x}>"

    def __getattr__(self, name: str) -> Callable[..., Promise]:
        if name.startswith("_"):
            raise AttributeError(name)

        def message(*args: Any, **kwargs: Any) -> Promise:
            return self._send(name, args, kwargs)

        return message

    # -- the two public methods ----------------------------------------------------------

    def _then(self, cb: Callable[..., object], *args: Any, **kwargs: Any) -> Promise:
        """Run ``cb(value, *args, **kwargs)`` once resolved (not if broken); return self."""
        d = self._wait_for_resolution()
        d.addCallback(cb, *args, **kwargs)
        d.addErrback(_ignore)
        return self

    def _except(self, cb: Callable[..., object], *args: Any, **kwargs: Any) -> Promise:
        """Run ``cb(failure, *args, **kwargs)`` if broken; return self."""
        d = self._wait_for_resolution()
        d.addCallbacks(_ignore, cb, errbackArgs=args, errbackKeywords=kwargs)
        return self

    # -- sending -----------------------------------------------------------------------

    def _send(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Promise:
        """Send a message; a Promise for its result. Never delivered in this turn."""
        result = Promise(clock=self._clock)
        self._enqueue((name, args, kwargs, result._resolve))
        return result

    def _sendOnly(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """Send a message and drop its result."""
        self._enqueue((name, args, kwargs, _ignore))

    def _enqueue(self, message: _Message) -> None:
        if self._state in (_State.EVENTUAL, _State.CHAINED):
            self._pending.append(message)
        else:
            self._queue.eventually(self._deliver, message)

    def _deliver(self, message: _Message) -> None:
        name, args, kwargs, resolver = message
        target = self._target
        if self._state is _State.BROKEN:
            resolver(target)
            return
        sendonly = resolver is _ignore
        if IRemoteReference.providedBy(target):
            if sendonly:
                target.callRemoteOnly(name, *args, **kwargs)  # type: ignore[attr-defined]
                return
            d = maybeDeferred(target.callRemote, name, *args, **kwargs)  # type: ignore[attr-defined]
        else:
            d = maybeDeferred(_call_method, target, name, args, kwargs)
        d.addBoth(resolver)

    # -- resolution --------------------------------------------------------------------

    def _wait_for_resolution(self) -> Deferred[Any]:
        """A Deferred firing with the value (or failing) once resolved."""
        if self._state is _State.NEAR:
            return succeed(self._target)
        if self._state is _State.BROKEN:
            assert isinstance(self._target, Failure)
            return fail(self._target)
        d: Deferred[Any] = Deferred()
        self._watchers.append(d)
        return d

    def _resolve(self, value: object) -> None:
        """Resolve to ``value`` (a Failure breaks it; a Promise chains). Only once."""
        if self._state is not _State.EVENTUAL:
            raise UsageError("Promises may not be resolved multiple times")
        self._settle(value)

    def _settle(self, value: object) -> None:
        if isinstance(value, Promise):
            self._state = _State.CHAINED
            value._wait_for_resolution().addBoth(self._settle)
            return
        if isinstance(value, Failure):
            self._state = _State.BROKEN
        else:
            self._state = _State.NEAR
        self._target = value
        pending, self._pending = self._pending, []
        for message in pending:
            self._queue.eventually(self._deliver, message)
        watchers, self._watchers = self._watchers, []
        for d in watchers:
            self._queue.eventually(_fire, d, value)


def _call_method(target: object, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return getattr(target, name)(*args, **kwargs)


def _fire(d: Deferred[Any], value: object) -> None:
    if isinstance(value, Failure):
        d.errback(value)
    else:
        d.callback(value)


def makePromise(*, clock: ClockLike | None = None) -> tuple[Promise, Callable[[object], None]]:
    """A new unresolved Promise and its resolver.

    Call the resolver once, with the value (or a Promise to follow, or a Failure to
    break it); ``d.addBoth(resolver)`` resolves it with a Deferred's outcome. A second
    call raises :class:`UsageError`.
    """
    p = Promise(clock=clock)
    return p, p._resolve


def resolvedPromise(resolution: object, *, clock: ClockLike | None = None) -> Promise:
    """A Promise already resolved to ``resolution`` (broken if it is a Failure)."""
    p = Promise(clock=clock)
    p._resolve(resolution)
    return p


class _MessageMaker:
    """``send(o).name(*args, **kwargs)``: turns attribute calls into messages."""

    __slots__ = ("_post",)

    def __init__(self, post: Callable[[str, tuple[Any, ...], dict[str, Any]], Any]) -> None:
        self._post = post

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(f"method {name} is probably private")
        post = self._post

        def message(*args: Any, **kwargs: Any) -> Any:
            return post(name, args, kwargs)

        return message


def _as_promise(target: object, clock: ClockLike | None) -> Promise:
    return target if isinstance(target, Promise) else resolvedPromise(target, clock=clock)


def send(target: object, *, clock: ClockLike | None = None) -> Any:
    """Eventual send: ``send(target).foo(*args)`` returns a Promise for the result.

    ``target`` is a Promise, a RemoteReference (the message is ``callRemote("foo",
    ...)``) or any local object (``target.foo(...)``). The call happens on a later
    turn, after the messages sent before it to the same Promise. ``clock`` picks the
    eventual queue when ``target`` is not already a Promise.
    """
    return _MessageMaker(_as_promise(target, clock)._send)


def sendOnly(target: object, *, clock: ClockLike | None = None) -> Any:
    """Like :func:`send`, but the result (and any failure) is dropped: returns None."""
    return _MessageMaker(_as_promise(target, clock)._sendOnly)


def when(p: Promise) -> Deferred[Any]:
    """A Deferred that fires with what ``p`` resolves to (or fails if it breaks).

    It fires on a later turn, after the messages queued on ``p`` have been delivered,
    or at once if ``p`` is already resolved.
    """
    if not isinstance(p, Promise):
        raise TypeError(f"when() needs a Promise, not {type(p).__name__}")
    return p._wait_for_resolution()
