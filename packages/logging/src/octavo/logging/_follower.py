"""Following a logport: subscribe to a (Foolscap or Octavo) Tub's events.

``LogFollower(tub, furl, on_event)`` connects ``tub`` to the logport at
``furl``, asks for its pid and versions (kept as :attr:`LogFollower.pid` and
:attr:`LogFollower.versions`, as ``flogtool tail`` prints them; also given to
``on_connected(pid, versions)`` before subscribing, if set), subscribes
and calls ``on_event(tubid, event)`` for each event, ``tubid`` being the
followed Tub's. Events are checked first (:func:`~._validate.check_remote_event`);
a bad one goes to ``on_bad_event(tubid, error)`` (default: Twisted's log) and
is skipped. An exception from ``on_event`` is logged, never sent back.

:class:`ReconnectingFollower` follows a logport across lost connections and
restarts of its Tub (same FURL): an :class:`octavo.reconnector.Reconnector`, the
machinery of ``Tub.connectTo``, tries again with backoff, and each new connection
subscribes with catch-up, so what was logged meanwhile (as far as the Tub still
holds it) arrives too; events already delivered (same incarnation, ``num`` not
above the last one seen) are skipped, so none is delivered twice. A subscription
the logport refuses while the connection stays up (``TooManySubscriptionsError``,
or any failure of the calls that subscribe) is asked for again on that
connection, with the same backoff, until it is granted, the connection is lost
(then the Reconnector takes over) or the follower is stopped.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from twisted.internet.defer import Deferred, succeed
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer  # type: ignore[import-untyped,unused-ignore]

from octavo.furl import SturdyRef
from octavo.reconnector import DelayedCallLike, NormalVariate, Reconnector
from octavo.tub import Referenceable

from ._interfaces import RILogObserver
from ._validate import BadEventError, check_remote_event

__all__ = ["EventObserver", "LogFollower", "ReconnectingFollower"]

_log = Logger()

OnEvent = Callable[[str, dict[str, Any]], None]
OnBadEvent = Callable[[str, BadEventError], None]


def _log_bad_event(tubid: str, error: BadEventError) -> None:
    _log.warn("skipped a bad event from {tubid}: {error}", tubid=tubid, error=str(error))


@implementer(RILogObserver)
class EventObserver(Referenceable):
    """An RILogObserver that hands each checked event to a callback."""

    def __init__(self, tubid: str, on_event: OnEvent, on_bad_event: OnBadEvent) -> None:
        self.tubid = tubid
        self._on_event = on_event
        self._on_bad_event = on_bad_event
        self.received = 0
        self.refused = 0

    def remote_msg(self, logmsg: object) -> None:
        try:
            event = check_remote_event(logmsg)
        except BadEventError as e:
            self.refused += 1
            self._on_bad_event(self.tubid, e)
            return
        self.received += 1
        try:
            self._on_event(self.tubid, event)
        except Exception:
            _log.failure("on_event raised for an event from {tubid}", tubid=self.tubid)

    def remote_done(self) -> None:
        return None

    def remote_new_incident(self, name: object, trigger: object) -> None:
        return None

    def remote_done_with_incident_catchup(self) -> None:
        return None


class LogFollower:
    """Follow the logport at ``furl`` through ``tub`` (see the module docstring)."""

    def __init__(
        self,
        tub: Any,
        furl: str,
        on_event: OnEvent,
        *,
        catch_up: bool = False,
        on_bad_event: OnBadEvent = _log_bad_event,
        on_connected: Callable[[int | None, dict[str, str]], object] | None = None,
    ) -> None:
        self._tub = tub
        self.furl = furl
        #: the followed Tub's TubID
        self.tubid: str = SturdyRef(furl).getTubRef().getTubID()
        self.catch_up = catch_up
        self._on_connected = on_connected
        self.observer = EventObserver(self.tubid, on_event, on_bad_event)
        #: the logport's pid and versions, once :meth:`start` has fired
        self.pid: int | None = None
        self.versions: dict[str, str] = {}
        self._publisher: Any = None
        self._subscription: Any = None
        self._disconnected: list[Deferred[None]] = []
        self._lost = False
        self._told = False

    def start(self) -> Deferred[None]:
        """Connect and subscribe; fires once events are on their way."""
        d: Deferred[Any] = self._tub.getReference(self.furl)
        d.addCallback(self._connected)
        return d

    def attach(self, publisher: Any) -> Deferred[None]:
        """Subscribe through ``publisher``, a reference to the logport already made."""
        return self._connected(publisher)

    def retry(self) -> Deferred[None]:
        """Ask the same logport again after a failed subscription (the connection is kept).

        The pid and versions are asked again only if that failed, and ``on_connected``
        runs once per connection.
        """
        if self._publisher is None:
            raise RuntimeError("retry() before start() or attach()")
        return Deferred.fromCoroutine(self._ask(self._publisher))

    async def _subscribe(self, publisher: Any) -> None:
        self._publisher = publisher
        publisher.notifyOnDisconnect(self._on_disconnect)
        await self._ask(publisher)

    async def _ask(self, publisher: Any) -> None:
        if not self._told:
            try:
                pid = await publisher.callRemote("get_pid")
                self.pid = pid if isinstance(pid, int) else None
            except Exception:
                self.pid = None
            versions = await publisher.callRemote("get_versions")
            if isinstance(versions, dict):
                self.versions = {
                    (k.decode("utf-8", "replace") if isinstance(k, bytes) else str(k)): (
                        v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
                    )
                    for k, v in versions.items()
                }
            self._told = True
            if self._on_connected is not None:
                self._on_connected(self.pid, self.versions)
        if self.catch_up:
            sub = await publisher.callRemote("subscribe_to_all", self.observer, True)
        else:
            sub = await publisher.callRemote("subscribe_to_all", self.observer)
        self._subscription = sub

    def _connected(self, publisher: Any) -> Deferred[None]:
        return Deferred.fromCoroutine(self._subscribe(publisher))

    @property
    def lost(self) -> bool:
        """True once the connection to the logport is lost."""
        return self._lost

    def _on_disconnect(self) -> None:
        self._lost = True
        waiting, self._disconnected = self._disconnected, []
        for d in waiting:
            d.callback(None)

    def when_disconnected(self) -> Deferred[None]:
        """Fires when the connection to the logport is lost."""
        if self._lost:
            return succeed(None)
        d: Deferred[None] = Deferred()
        self._disconnected.append(d)
        return d

    def stop(self) -> Deferred[None]:
        """Unsubscribe (if still connected); fires when done. Safe to call twice."""
        sub, self._subscription = self._subscription, None
        if sub is None or self._lost:
            return succeed(None)
        d: Deferred[Any] = sub.callRemote("unsubscribe")
        d.addErrback(lambda _: None)
        d.addCallback(lambda _: None)
        return d


#: what :attr:`ReconnectingFollower.state` says while it is not following
CONNECTING = "connecting to the log port"
RECONNECTING = "the log port is gone: reconnecting"
#: the start of :attr:`ReconnectingFollower.state` while a refused subscription waits
#: to be asked again; the reason and the delay follow
REFUSED = "the log port refused the subscription"
#: the most characters of the log port's reason a state repeats
MAX_REASON = 300


class ReconnectingFollower:
    """Follow the logport at ``furl`` through ``tub``, reconnecting (module docstring).

    :meth:`start` fires once the first subscription is made, or fails if the first
    attempt does (a wrong FURL is said at once); later losses are retried every
    ``initial_delay`` seconds, growing to ``max_delay``, until :meth:`stop`. A later
    subscription that the logport refuses (the connection staying up) is asked for
    again on that connection with the same backoff; meanwhile :attr:`state` is
    ``REFUSED`` with the reason and the delay. ``on_state(text)`` hears each change
    of :attr:`state`: ``""`` while following, else what is happening.
    ``on_connected(pid, versions)`` runs on each connection. ``rng`` (a
    ``random.Random``) draws the jitter of every delay.
    """

    def __init__(
        self,
        tub: Any,
        furl: str,
        on_event: OnEvent,
        *,
        catch_up: bool = False,
        on_bad_event: OnBadEvent = _log_bad_event,
        on_connected: Callable[[int | None, dict[str, str]], object] | None = None,
        on_state: Callable[[str], object] | None = None,
        clock: Any = None,
        initial_delay: float = 1.0,
        max_delay: float = 30.0,
        rng: NormalVariate | None = None,
    ) -> None:
        self._tub = tub
        self.furl = furl
        self.tubid: str = SturdyRef(furl).getTubRef().getTubID()
        self.catch_up = catch_up
        self._on_event = on_event
        self._on_bad_event = on_bad_event
        self._on_connected = on_connected
        self._on_state = on_state
        #: ``""`` while subscribed, else what is happening (CONNECTING, RECONNECTING, ...)
        self.state = CONNECTING
        #: connections that ended in a subscription
        self.connections = 0
        #: events skipped on a reconnection because they had been delivered already
        self.repeats_skipped = 0
        #: refused subscriptions in a row on the current connection
        self.refusals = 0
        #: subscriptions asked for again after a refusal
        self.resubscribes = 0
        self.follower: LogFollower | None = None
        self._last: tuple[Any, int] | None = None
        self._first: Deferred[None] | None = None
        self._stopped = False
        if clock is None:
            from twisted.internet import reactor  # noqa: PLC0415 - the default, late

            clock = reactor
        self._clock: Any = clock
        self._rng: NormalVariate = random.Random() if rng is None else rng
        self._retry: DelayedCallLike | None = None
        self._reconnector: Reconnector[Any] = Reconnector(
            self._connect,
            self._connected,
            clock=clock,
            rng=self._rng,
            initial_delay=initial_delay,
            max_delay=max_delay,
        )

    def start(self) -> Deferred[None]:
        """Start connecting; fires when first subscribed (fails if the first attempt does)."""
        first: Deferred[None] = Deferred()
        self._first = first
        self._reconnector.startConnecting()
        return first  # not self._first: an attempt that answers at once has cleared it

    def _connect(self) -> Deferred[Any]:
        d: Deferred[Any] = self._tub.getReference(self.furl)
        if self._first is not None and not self._first.called:
            d.addErrback(self._first_failed)
        return d

    def _first_failed(self, failure: Failure) -> Failure:
        first, self._first = self._first, None
        self._reconnector.stopConnecting()
        if first is not None and not first.called:
            first.errback(failure)
        return failure

    def _set_state(self, text: str) -> None:
        if text != self.state:
            self.state = text
            if self._on_state is not None:
                self._on_state(text)

    def _connected(self, publisher: Any) -> None:
        self._cancel_retry()
        self.refusals = 0
        again = self.connections > 0
        follower = LogFollower(
            self._tub,
            self.furl,
            self._deliver,
            catch_up=self.catch_up or again,
            on_bad_event=self._on_bad_event,
            on_connected=self._on_connected,
        )
        self.follower = follower
        publisher.notifyOnDisconnect(self._lost, follower)
        self._watch(follower.attach(publisher), follower)

    def _watch(self, d: Deferred[None], follower: LogFollower) -> None:
        d.addCallbacks(
            self._subscribed,
            self._not_subscribed,
            callbackArgs=(follower,),
            errbackArgs=(follower,),
        )

    def _subscribed(self, _: object, follower: LogFollower) -> None:
        if follower is not self.follower:
            follower.stop()  # stopped (or replaced) meanwhile: do not keep its subscription
            return
        self.connections += 1
        self.refusals = 0
        if not follower.lost:  # else the Reconnector is at work, as the state says
            self._set_state("")
        first, self._first = self._first, None
        if first is not None and not first.called:
            first.callback(None)

    def _not_subscribed(self, failure: Failure, follower: LogFollower) -> None:
        if follower is not self.follower:
            return
        first, self._first = self._first, None
        if first is not None and not first.called:
            self._reconnector.stopConnecting()
            first.errback(failure)
            return
        if follower.lost or self._stopped:
            return  # the Reconnector tries again (or nobody does, once stopped)
        # the connection is up but the logport said no (too many subscriptions, say):
        # ask again on this connection, with the Reconnector's backoff
        delay = self._reconnector.backoff.wait(self.refusals, self._rng)
        self.refusals += 1
        self._cancel_retry()
        self._retry = self._clock.callLater(delay, self._resubscribe, follower)
        reason = failure.getErrorMessage()  # the peer's words: cut to a bound
        if len(reason) > MAX_REASON:
            reason = reason[:MAX_REASON] + "..."
        self._set_state(f"{REFUSED} ({reason}): asking again in {delay:.1f} s")

    def _resubscribe(self, follower: LogFollower) -> None:
        self._retry = None
        if follower is not self.follower or follower.lost or self._stopped:
            return
        self.resubscribes += 1
        self._watch(follower.retry(), follower)

    def _cancel_retry(self) -> None:
        retry, self._retry = self._retry, None
        if retry is not None and retry.active():
            retry.cancel()

    @property
    def retry_pending(self) -> bool:
        """True while a refused subscription waits to be asked for again."""
        return self._retry is not None

    def _lost(self, follower: LogFollower) -> None:
        if follower is self.follower:
            self._cancel_retry()
            self._set_state(RECONNECTING)

    def _deliver(self, tubid: str, event: dict[str, Any]) -> None:
        incarnation, num = event.get("incarnation"), event.get("num")
        if incarnation is not None and isinstance(num, int):
            if self._last is not None and self._last[0] == incarnation and num <= self._last[1]:
                self.repeats_skipped += 1
                return
            self._last = (incarnation, num)
        self._on_event(tubid, event)

    def stop(self) -> Deferred[None]:
        """Stop reconnecting and unsubscribe; fires when done. Safe to call twice."""
        return Deferred.fromCoroutine(self._stop())

    async def _stop(self) -> None:
        self._stopped = True
        self._cancel_retry()
        follower, self.follower = self.follower, None
        await self._reconnector.stop()
        if follower is not None:
            await follower.stop()
