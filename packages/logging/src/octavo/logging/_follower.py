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
above the last one seen) are skipped, so none is delivered twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet.defer import Deferred, succeed
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer  # type: ignore[import-untyped,unused-ignore]

from octavo.furl import SturdyRef
from octavo.reconnector import Reconnector
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

    def start(self) -> Deferred[None]:
        """Connect and subscribe; fires once events are on their way."""
        d: Deferred[Any] = self._tub.getReference(self.furl)
        d.addCallback(self._connected)
        return d

    def attach(self, publisher: Any) -> Deferred[None]:
        """Subscribe through ``publisher``, a reference to the logport already made."""
        return self._connected(publisher)

    async def _subscribe(self, publisher: Any) -> None:
        self._publisher = publisher
        publisher.notifyOnDisconnect(self._on_disconnect)
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
        if self._on_connected is not None:
            self._on_connected(self.pid, self.versions)
        if self.catch_up:
            sub = await publisher.callRemote("subscribe_to_all", self.observer, True)
        else:
            sub = await publisher.callRemote("subscribe_to_all", self.observer)
        self._subscription = sub

    def _connected(self, publisher: Any) -> Deferred[None]:
        return Deferred.fromCoroutine(self._subscribe(publisher))

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


class ReconnectingFollower:
    """Follow the logport at ``furl`` through ``tub``, reconnecting (module docstring).

    :meth:`start` fires once the first subscription is made, or fails if the first
    attempt does (a wrong FURL is said at once); later losses are retried every
    ``initial_delay`` seconds, growing to ``max_delay``, until :meth:`stop`.
    ``on_state(text)`` hears each change of :attr:`state`: ``""`` while following,
    else what is happening. ``on_connected(pid, versions)`` runs on each connection.
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
        self.follower: LogFollower | None = None
        self._last: tuple[Any, int] | None = None
        self._first: Deferred[None] | None = None
        self._reconnector: Reconnector[Any] = Reconnector(
            self._connect,
            self._connected,
            clock=clock,
            initial_delay=initial_delay,
            max_delay=max_delay,
        )

    def start(self) -> Deferred[None]:
        """Start connecting; fires when first subscribed (fails if the first attempt does)."""
        self._first = Deferred()
        self._reconnector.startConnecting()
        return self._first

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
        d = follower.attach(publisher)
        d.addCallbacks(
            self._subscribed,
            self._not_subscribed,
            callbackArgs=(follower,),
            errbackArgs=(follower,),
        )

    def _subscribed(self, _: object, follower: LogFollower) -> None:
        if follower is not self.follower:
            return
        self.connections += 1
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
        self._set_state(f"cannot subscribe to the log port: {failure.getErrorMessage()}")

    def _lost(self, follower: LogFollower) -> None:
        if follower is self.follower:
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
        follower, self.follower = self.follower, None
        await self._reconnector.stop()
        if follower is not None:
            await follower.stop()
