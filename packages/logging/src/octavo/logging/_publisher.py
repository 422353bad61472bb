"""The logport: a Tub's :class:`RILogPublisher`, and the subscriptions it hands out.

Each event subscription is an immediate observer of the logger that feeds an
:class:`~._flow.EventQueue`: at most ``max_in_flight`` events wait for their
answer and at most ``max_queue`` events wait behind them, so a slow or stuck
subscriber costs a bounded amount of memory; what is dropped is reported to it
as an event. ``subscribe_to_all`` (Foolscap's) sends each event in its own
``msg`` call; ``subscribe_to_batches`` (Octavo's) sends what is queued as JSON
lines in ``msg_batch`` calls of up to :data:`~._interfaces.MAX_BATCH` events and
:data:`~._interfaces.MAX_BATCH_BYTES`, and only once the calls it sent before are
answered, so what is logged meanwhile leaves together (at most
``max_in_flight_batched`` events in flight): one call, one answer and one write for
many events, which is what lets a gatherer keep up with many busy Tubs. An event
whose line alone is longer than a batch may hold is dropped, and counted as the
others are. A subscription ends on ``unsubscribe``, on disconnect, or
when sending fails because the connection is gone.

Each peer (the TubID of the observer's connection) may hold at most
``max_subscriptions_per_peer`` live subscriptions (events and incidents together),
and the logport at most ``max_subscriptions`` in all (:class:`~._limits.PeerLimits`):
past either, ``subscribe_to_all`` and ``subscribe_to_incidents`` fail with
:class:`~._limits.TooManySubscriptionsError` (a ``Violation``), reported once in
Twisted's log, and the logport goes on serving everyone else.

Incidents are read from the logger's log directory: ``list_incidents``,
``get_incident`` (names are checked: only ``incident-...`` files in that
directory) and ``subscribe_to_incidents``, which announces each new incident
with ``new_incident(name, trigger)``.
"""

from __future__ import annotations

import os
import re
import time
import weakref
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.python.failure import Failure
from zope.interface import implementer  # type: ignore[import-untyped,unused-ignore]

from octavo.tub import DeadReferenceError, Referenceable, eventually

from . import app_versions as _app_versions
from ._flogfile import FlogFileError, encode_record, read_flogfile
from ._flow import EventQueue
from ._interfaces import MAX_BATCH, MAX_BATCH_BYTES, RILogPublisher, RISubscription
from ._limits import PeerLimits, peer_of
from ._validate import remote_text

__all__ = [
    "BadIncidentNameError",
    "IncidentSubscription",
    "LogPublisher",
    "PublishingLogger",
    "Subscription",
    "app_versions",
    "connection_gone",
]

Event = dict[str, Any]
Schedule = Callable[..., None]

#: what an incident name may look like (no path separators, no dots at the start)
_INCIDENT_NAME = re.compile(r"^incident-[A-Za-z0-9_.:+-]{1,200}$")
#: incident announcements waiting for an answer, per subscriber
MAX_INCIDENT_ANNOUNCEMENTS = 100
#: live subscriptions (events and incidents) one peer may hold at a logport
MAX_SUBSCRIPTIONS_PER_PEER = 10
#: live subscriptions a logport serves in all
MAX_SUBSCRIPTIONS = 100
#: events a batched subscription keeps in flight
MAX_IN_FLIGHT_BATCHED = 2 * MAX_BATCH


def _nothing() -> None:
    return None


class BadIncidentNameError(KeyError):
    """``get_incident`` was asked for a name that is not one of our incidents."""


class PublishingLogger(Protocol):
    """What the logport needs of a FoolscapLogger."""

    logdir: str | None

    def addImmediateObserver(self, observer: Callable[[Event], object]) -> None: ...
    def removeImmediateObserver(self, observer: Callable[[Event], object]) -> None: ...
    def get_buffered_events(self) -> Iterator[Event]: ...
    def addImmediateIncidentObserver(self, observer: Callable[[str, Event], object]) -> None: ...
    def removeImmediateIncidentObserver(self, observer: Callable[[str, Event], object]) -> None: ...


def app_versions() -> dict[str, str]:
    """What ``get_versions`` answers: :data:`octavo.logging.app_versions.versions`."""
    return dict(_app_versions.versions)


def connection_gone(failure: Failure) -> bool:
    """The failure says the peer's connection is gone (not that it refused something)."""
    found = failure.check(DeadReferenceError, ConnectionDone, ConnectionLost)  # type: ignore[no-untyped-call,unused-ignore]
    return found is not None


@implementer(RISubscription)
class Subscription(Referenceable):
    """One observer's subscription to every event."""

    def __init__(
        self,
        observer: Any,
        logger: PublishingLogger,
        *,
        now: Callable[[], float],
        schedule: Schedule = eventually,
        max_queue: int = 2000,
        max_in_flight: int = 100,
        release: Callable[[], None] = _nothing,
        batched: bool = False,
    ) -> None:
        self.observer = observer
        #: events go in ``msg_batch`` calls (``subscribe_to_batches``), not one ``msg`` each
        self.batched = batched
        self.logger = logger
        self.queue = EventQueue(now, max_queue=max_queue, max_in_flight=max_in_flight)
        self.subscribed = False
        #: unsubscribed (or gone) for good: a late ``subscribe`` does nothing
        self.ended = False
        self._release = release
        self._schedule = schedule
        self._pump_scheduled = False
        self._nod_marker: Any = None

    def subscribe(self, catch_up: bool = False) -> None:
        """Start observing; with ``catch_up`` send the buffered events first, oldest first."""
        if self.ended or self.subscribed:
            return
        self.subscribed = True
        self.logger.addImmediateObserver(self.send)
        self._nod_marker = self.observer.notifyOnDisconnect(self.unsubscribe)
        if catch_up:
            events = sorted(self.logger.get_buffered_events(), key=lambda e: e.get("num", 0))
            self.queue.prime(events)
        self._pump()

    def unsubscribe(self) -> None:
        """Stop observing for good and give back the peer's slot (idempotent)."""
        self.ended = True
        self._release()
        if self.subscribed:
            self.subscribed = False
            self.logger.removeImmediateObserver(self.send)
            self.observer.dontNotifyOnDisconnect(self._nod_marker)

    def remote_unsubscribe(self) -> None:
        self.unsubscribe()

    def send(self, event: Event) -> None:
        """The logger's immediate observer: queue ``event`` (or count it dropped)."""
        if self.subscribed:
            self.queue.offer(event)
            self._wake()

    def _wake(self) -> None:
        if not self._pump_scheduled:
            self._pump_scheduled = True
            self._schedule(self._scheduled_pump)

    def _scheduled_pump(self) -> None:
        self._pump_scheduled = False
        self._pump()

    def _pump(self) -> None:
        if not self.subscribed:
            return
        if self.batched and self.queue.in_flight:
            return  # what is queued meanwhile leaves together once the batches are answered
        events = self.queue.take()
        if not self.batched:
            for event in events:
                d = self.observer.callRemote("msg", event)
                d.addCallbacks(self._answered, self._failed)
            return
        lines: list[bytes] = []
        size = 0
        for event in events:
            line = encode_record(event)
            if len(line) > MAX_BATCH_BYTES:
                self.queue.lost()  # too big for any batch
                continue
            if len(lines) == MAX_BATCH or size + len(line) > MAX_BATCH_BYTES:
                self._send_batch(lines)
                lines, size = [], 0
            lines.append(line)
            size += len(line)
        if lines:
            self._send_batch(lines)

    def _send_batch(self, lines: list[bytes]) -> None:
        n = len(lines)
        d = self.observer.callRemote("msg_batch", b"".join(lines))
        d.addCallbacks(self._answered, self._failed, (n,), None, (n,))

    def _answered(self, _: object, count: int = 1) -> None:
        self.queue.acked(count)
        self._wake()

    def _failed(self, failure: Failure, count: int = 1) -> None:
        if connection_gone(failure):
            self.queue.acked(count)
            self.unsubscribe()
            return
        # the events could not be sent (or the observer refused them): count, go on
        self.queue.lost(count)
        self._wake()


@implementer(RISubscription)
class IncidentSubscription(Referenceable):
    """One observer's subscription to incident announcements."""

    def __init__(
        self,
        observer: Any,
        logger: PublishingLogger,
        publisher: LogPublisher,
        release: Callable[[], None] = _nothing,
    ) -> None:
        self.observer = observer
        self.logger = logger
        self.publisher = publisher
        self.subscribed = False
        #: unsubscribed (or gone) for good: a late ``subscribe`` does nothing
        self.ended = False
        self._release = release
        self.outstanding = 0
        self.dropped = 0
        self._nod_marker: Any = None

    def subscribe(self, catch_up: bool = False, since: str = "") -> None:
        """Start observing; with ``catch_up`` announce stored incidents after ``since``."""
        if self.ended or self.subscribed:
            return
        self.subscribed = True
        self.logger.addImmediateIncidentObserver(self.send)
        self._nod_marker = self.observer.notifyOnDisconnect(self.unsubscribe)
        if catch_up:
            for name, trigger in sorted(self.publisher.list_incidents(since).items()):
                self.observer.callRemoteOnly("new_incident", name, trigger)
            self.observer.callRemoteOnly("done_with_incident_catchup")

    def unsubscribe(self) -> None:
        """Stop observing for good and give back the peer's slot (idempotent)."""
        self.ended = True
        self._release()
        if self.subscribed:
            self.subscribed = False
            self.logger.removeImmediateIncidentObserver(self.send)
            self.observer.dontNotifyOnDisconnect(self._nod_marker)

    def remote_unsubscribe(self) -> None:
        self.unsubscribe()

    def send(self, name: str, trigger: Event) -> None:
        """Announce one new incident (bounded: past the limit it is counted, not sent)."""
        if not self.subscribed:
            return
        if self.outstanding >= MAX_INCIDENT_ANNOUNCEMENTS:
            self.dropped += 1
            return
        self.outstanding += 1
        d = self.observer.callRemote("new_incident", os.path.basename(name), trigger)
        d.addBoth(self._answered)

    def _answered(self, result: object) -> None:
        self.outstanding -= 1
        if isinstance(result, Failure) and connection_gone(result):
            self.unsubscribe()


@implementer(RILogPublisher)
class LogPublisher(Referenceable):
    """A Tub's logport: serves the events and incidents of ``logger``."""

    def __init__(
        self,
        logger: PublishingLogger,
        *,
        now: Callable[[], float] | None = None,
        schedule: Schedule = eventually,
        max_queue: int = 2000,
        max_in_flight: int = 100,
        max_in_flight_batched: int = MAX_IN_FLIGHT_BATCHED,
        max_subscriptions_per_peer: int = MAX_SUBSCRIPTIONS_PER_PEER,
        max_subscriptions: int = MAX_SUBSCRIPTIONS,
    ) -> None:
        self._logger = logger
        self._now = now or time.time
        self._schedule = schedule
        self._max_queue = max_queue
        self._max_in_flight = max_in_flight
        self._max_in_flight_batched = max_in_flight_batched
        #: the event subscriptions handed out (while they live)
        self.subscriptions: weakref.WeakSet[Subscription] = weakref.WeakSet()
        #: live subscriptions per peer and in all (both kinds)
        self.limits = PeerLimits(
            "logport subscriptions", per_peer=max_subscriptions_per_peer, total=max_subscriptions
        )

    def remote_get_versions(self) -> dict[str, str]:
        return app_versions()

    def remote_get_pid(self) -> int:
        return os.getpid()

    def remote_subscribe_to_all(self, observer: Any, catch_up: bool = False) -> Subscription:
        return self._subscribe(observer, catch_up, batched=False)

    def remote_subscribe_to_batches(self, observer: Any, catch_up: bool = False) -> Subscription:
        return self._subscribe(observer, catch_up, batched=True)

    def _subscribe(self, observer: Any, catch_up: bool, *, batched: bool) -> Subscription:
        release = self.limits.acquire(peer_of(observer))
        s = Subscription(
            observer,
            self._logger,
            now=self._now,
            schedule=self._schedule,
            max_queue=self._max_queue,
            max_in_flight=self._max_in_flight_batched if batched else self._max_in_flight,
            release=release,
            batched=batched,
        )
        self.subscriptions.add(s)
        # answer the call before any event is sent
        self._schedule(s.subscribe, bool(catch_up))
        return s

    def remote_unsubscribe(self, subscription: object) -> None:
        if not isinstance(subscription, (Subscription, IncidentSubscription)):
            raise TypeError(
                f"unsubscribe needs a subscription from this logport, "
                f"not {type(subscription).__name__}"
            )
        subscription.unsubscribe()

    def remote_enumerate_logfiles(self) -> list[Any]:
        return []

    # -- incidents -------------------------------------------------------------------

    def list_incident_names(self, since: str = "") -> Iterator[tuple[str, str]]:
        """(name, path) of each stored incident whose name sorts after ``since``."""
        logdir = self._logger.logdir
        if not logdir or not os.path.isdir(logdir):
            return
        for fn in sorted(os.listdir(logdir)):
            if not fn.startswith("incident") or fn.endswith(".tmp"):
                continue
            name = fn
            for suffix in (".bz2", ".flog"):
                name = name.removesuffix(suffix)
            if name > since:
                yield name, os.path.join(logdir, fn)

    def incident_trigger(self, path: str) -> Event | None:
        """The triggering event recorded in an incident file's header (None: unreadable)."""
        try:
            header = next(iter(read_flogfile(path)))
        except (OSError, EOFError, ValueError, FlogFileError, StopIteration):
            return None
        trigger = header.get("header", {}).get("trigger")
        return trigger if isinstance(trigger, dict) else None

    def list_incidents(self, since: object = "") -> dict[str, Event]:
        """Incident name -> trigger, for incidents after ``since``."""
        since_s = remote_text(since, "since", "utf-8", BadIncidentNameError)
        found: dict[str, Event] = {}
        for name, path in self.list_incident_names(since_s):
            trigger = self.incident_trigger(path)
            if trigger is not None:
                found[name] = trigger
        return found

    def remote_list_incidents(self, since: object = "") -> dict[str, Event]:
        return self.list_incidents(since)

    def remote_get_incident(self, incident_name: object) -> tuple[Event, list[Event]]:
        name = remote_text(incident_name, "incident name", "utf-8", BadIncidentNameError)
        if not _INCIDENT_NAME.match(name) or ".." in name:
            raise BadIncidentNameError(f"bad incident name {name!r}")
        logdir = self._logger.logdir
        if not logdir:
            raise BadIncidentNameError(f"no incident named {name!r} (no log directory)")
        base = os.path.join(logdir, name + ".flog")
        path = base + ".bz2" if os.path.exists(base + ".bz2") else base
        try:
            records = iter(read_flogfile(path))
            header = next(records)["header"]
            events = [record["d"] for record in records]
        except (OSError, StopIteration, FlogFileError) as e:
            raise BadIncidentNameError(f"no incident named {name!r}: {e}") from None
        return header, events

    def remote_subscribe_to_incidents(
        self, observer: Any, catch_up: bool = False, since: object = ""
    ) -> IncidentSubscription:
        since_s = remote_text(since, "since", "utf-8", BadIncidentNameError)
        release = self.limits.acquire(peer_of(observer))
        s = IncidentSubscription(observer, self._logger, self, release)
        self._schedule(s.subscribe, bool(catch_up), since_s)
        return s
