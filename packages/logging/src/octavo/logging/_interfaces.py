# ruff: noqa: N805, B008 - Foolscap's spelling of RemoteInterfaces: no self, constraints as defaults
# mypy: disable-error-code="no-untyped-def,misc"
"""Foolscap's logging RemoteInterfaces, under the names Foolscap 24.9 uses on the wire.

A logport (:class:`RILogPublisher`) hands out subscriptions
(:class:`RISubscription`) that send events to an :class:`RILogObserver`; a log
gatherer or incident gatherer (:class:`RILogGatherer`, which both speak) is told
about a Tub's logport with ``logport(nodeid, logport)``. The argument names,
defaults and constraints are Foolscap's, so its Tubs and ours call each other.

Two methods are Octavo's own, beside Foolscap's under the same remote names:
``RILogPublisher.subscribe_to_batches`` asks a logport to send its events in
``RILogObserver.msg_batch`` calls, each carrying up to :data:`MAX_BATCH` events as
flogfile JSON (one event a line, as a flogfile's ``"d"`` holds it; at most
:data:`MAX_BATCH_BYTES`): one call, one answer and one token for many events,
and JSON, which both ends read and write in C, instead of some fifty Banana
tokens an event. Only an Octavo subscriber asks for it; a Foolscap logport
refuses the unknown method and the subscriber falls back to ``subscribe_to_all``;
a Foolscap subscriber never asks, so it gets ``msg`` calls as ever.
"""

from __future__ import annotations

from zope.interface import Interface  # type: ignore[import-untyped,unused-ignore]

from octavo.tub import (
    Any,
    ByteStringConstraint,
    ChoiceOf,
    DictOf,
    ListOf,
    Optional,
    RemoteInterface,
)

__all__ = [
    "MAX_BATCH",
    "MAX_BATCH_BYTES",
    "Event",
    "EventWrapper",
    "Header",
    "IIncidentReporter",
    "Incarnation",
    "RIIncidentGatherer",
    "RILogFile",
    "RILogGatherer",
    "RILogObserver",
    "RILogPublisher",
    "RISubscription",
    "TubID",
]

#: A printable (base32) TubID.
TubID = Any()
#: (unique bytes, sequence number or None): one run of a logging process.
Incarnation = (Any(), ChoiceOf(Any(), None))
#: A flogfile header dict.
Header = DictOf(Any(), Any())
#: One event dict (message/format, level, facility, num, time, ...).
Event = DictOf(Any(), Any())
#: ``{"from": tubid, "rx_time": float, "d": event}``.
EventWrapper = DictOf(Any(), Any())
#: events in one ``msg_batch`` call, at most (Octavo's batched subscriptions)
MAX_BATCH = 200
#: bytes of one ``msg_batch`` call's lines, at most
MAX_BATCH_BYTES = 1024 * 1024


class RILogObserver(RemoteInterface):
    """Receives events (``msg``) and incident announcements from a logport."""

    __remote_name__ = "RILogObserver.foolscap.lothar.com"

    def msg(logmsg=Event):
        return None

    # Octavo's: events as JSON lines, oldest first (see ``subscribe_to_batches``)
    def msg_batch(lines=ByteStringConstraint(MAX_BATCH_BYTES)):
        return None

    def done():
        return None

    def new_incident(name=Any(), trigger=Event):
        return None

    def done_with_incident_catchup():
        return None


class RILogFile(RemoteInterface):
    """A stored logfile offered by a logport (Foolscap declares it; nothing serves it)."""

    __remote_name__ = "RILogFile.foolscap.lothar.com"

    def get_header():
        return (TubID, int, (int, int), (int, int), int, DictOf(Any(), int))

    def get_events(receiver=RILogObserver):
        return None


class RISubscription(RemoteInterface):
    """A live subscription; ``unsubscribe`` is idempotent."""

    __remote_name__ = "RISubscription.foolscap.lothar.com"

    def unsubscribe():
        return None


class RILogPublisher(RemoteInterface):
    """A Tub's logport: versions, pid, event and incident subscriptions, incidents."""

    __remote_name__ = "RILogPublisher.foolscap.lothar.com"

    def get_versions():
        return DictOf(Any(), Any())

    def get_pid():
        return int

    def subscribe_to_all(observer=RILogObserver, catch_up=Optional(bool, False)):
        return RISubscription

    # Octavo's: ``subscribe_to_all``, the events sent in ``msg_batch`` calls
    def subscribe_to_batches(observer=RILogObserver, catch_up=Optional(bool, False)):
        return RISubscription

    def unsubscribe(subscription=Any()):
        return None

    def enumerate_logfiles():
        return ListOf(RILogFile)

    def list_incidents(since=Optional(Any(), "")):
        return DictOf(Any(), Event)

    def subscribe_to_incidents(
        observer=RILogObserver, catch_up=Optional(bool, False), since=Optional(Any(), "")
    ):
        return RISubscription

    def get_incident(incident_name=Any()):
        return (Header, ListOf(Event))


class RILogGatherer(RemoteInterface):
    """A log gatherer (or incident gatherer): ``logport(nodeid, logport)``."""

    __remote_name__ = "RILogGatherer.foolscap.lothar.com"

    def logport(nodeid=TubID, logport=RILogPublisher):
        return None


#: Foolscap's incident gatherer speaks RILogGatherer too (there is no separate
#: remote name on the wire); this alias names the role.
RIIncidentGatherer = RILogGatherer


class IIncidentReporter(Interface):
    """Records one incident (a local interface, never on the wire)."""

    def incident_declared(triggering_event):
        """An incident was declared by ``triggering_event``: start recording."""

    def new_trigger(triggering_event):
        """Another trigger arrived while this incident is still being recorded."""

    def is_active():
        """True while still recording (new triggers join this incident)."""
