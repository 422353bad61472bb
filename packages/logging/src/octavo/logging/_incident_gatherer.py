"""The incident gatherer (Foolscap's ``flogtool create-incident-gatherer``).

:class:`IncidentGatherer` is an :class:`RILogGatherer` too: for each logport
it is handed it subscribes to that Tub's incidents (catching up from the
newest it already has, kept in ``incidents/<tubid>/latest``), fetches them one
at a time into ``incidents/<tubid>/<name>.flog.bz2``, and classifies each with
the ``classify_incident(trigger)`` functions of the ``classify_*.py`` files of
its directory into ``classified/<category>`` (one relative file name a line).
The TubID comes from the connection, never from what the peer says; incident
names, incidents and categories are checked before they touch the disk, and
what is refused is reported and counted (:class:`~._gatherer.GathererStats`).
As the log gatherer does, it follows at most ``max_logports_per_peer`` logports
of one peer, and ``max_logports`` in all, each until its connection is lost.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer  # type: ignore[import-untyped,unused-ignore]

from octavo.tub import Referenceable

from ._flogfile import FlogWriter
from ._gatherer import (
    MAX_LOGPORTS,
    MAX_LOGPORTS_PER_PEER,
    ClockLike,
    GathererStats,
    RemoteInputError,
    check_incident_name,
    check_tubid,
    default_clock,
    follow_logport,
    give_back,
    report,
)
from ._incidents import IncidentClassifier, IncidentClassifierError
from ._interfaces import RILogGatherer, RILogObserver
from ._limits import PeerLimits
from ._validate import BadEventError, check_remote_event

__all__ = ["MAX_INCIDENTS_WANTED", "MAX_INCIDENT_EVENTS", "IncidentGatherer"]

_log = Logger()

#: incident announcements waiting to be fetched, per Tub
MAX_INCIDENTS_WANTED = 1000
#: events one fetched incident may hold
MAX_INCIDENT_EVENTS = 100_000

_CATEGORY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,199}$")


@implementer(RILogObserver)
class _IncidentObserver(Referenceable):
    """Fetches one Tub's incidents, one at a time."""

    def __init__(self, tubid: str, gatherer: IncidentGatherer, publisher: Any) -> None:
        self.tubid = tubid
        self.gatherer = gatherer
        self.publisher = publisher
        self.basedir = os.path.join(gatherer.basedir, "incidents", tubid)
        os.makedirs(self.basedir, exist_ok=True)
        self.wanted: list[tuple[str, dict[str, Any]]] = []
        self.fetching = False
        self.caught_up: Deferred[None] = Deferred()

    def latest(self) -> str:
        try:
            with open(os.path.join(self.basedir, "latest"), encoding="utf-8") as f:
                return f.read().strip()
        except OSError:
            return ""

    def connect(self) -> Deferred[None]:
        d: Deferred[Any] = self.publisher.callRemote(
            "subscribe_to_incidents", self, catch_up=True, since=self.latest()
        )
        d.addCallback(lambda _: self.caught_up)
        return d

    def remote_msg(self, logmsg: object) -> None:
        return None

    def remote_done(self) -> None:
        return None

    def remote_new_incident(self, name: object, trigger: object) -> None:
        stats = self.gatherer.stats
        try:
            checked = check_incident_name(name)
            checked_trigger = check_remote_event(trigger)
        except (RemoteInputError, BadEventError) as e:
            report(stats, "bad incident", f"from {self.tubid}: {e}")
            return
        if len(self.wanted) >= MAX_INCIDENTS_WANTED:
            report(stats, "too many incidents", f"from {self.tubid}: {checked}")
            return
        self.wanted.append((checked, checked_trigger))
        self._maybe_fetch()

    def remote_done_with_incident_catchup(self) -> None:
        if not self.caught_up.called:
            self.caught_up.callback(None)

    def _maybe_fetch(self) -> None:
        if self.fetching or not self.wanted:
            return
        self.fetching = True
        name, _trigger = self.wanted.pop(0)
        d: Deferred[Any] = self.publisher.callRemote("get_incident", name)
        d.addCallback(self._got_incident, name)
        d.addErrback(self._fetch_failed, name)
        d.addBoth(self._fetched)

    def _fetched(self, _: object) -> None:
        self.fetching = False
        self._maybe_fetch()

    def _fetch_failed(self, failure: Failure, name: str) -> None:
        report(
            self.gatherer.stats,
            "incident fetch failed",
            f"{self.tubid} {name}: {failure.getErrorMessage()}",
        )

    def _got_incident(self, incident: object, name: str) -> None:
        header, events = _check_incident(incident)
        path = os.path.join(self.basedir, name + ".flog.bz2")
        writer = FlogWriter(path + ".tmp", None, compress=True)
        try:
            writer.write_record({"header": header})
            now = self.gatherer.clock.seconds()
            for event in events:
                writer.write_event(event, from_=self.tubid, rx_time=now)
        finally:
            writer.close()
        os.replace(path + ".tmp", path)
        with open(os.path.join(self.basedir, "latest"), "w", encoding="utf-8") as f:
            f.write(name + "\n")
        rel = os.path.join("incidents", self.tubid, name + ".flog.bz2")
        self.gatherer.new_incident(rel, (header, events))


def _check_incident(incident: object) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    if not isinstance(incident, (tuple, list)) or len(incident) != 2:
        raise RemoteInputError("an incident must be (header, events)")
    header, events = incident
    if not isinstance(header, dict) or not isinstance(events, list):
        raise RemoteInputError("an incident must be (header dict, list of events)")
    if len(events) > MAX_INCIDENT_EVENTS:
        raise RemoteInputError(f"an incident of more than {MAX_INCIDENT_EVENTS} events")
    try:
        checked_header = check_remote_event(header)
        checked_events = [check_remote_event(e) for e in events]
    except BadEventError as e:
        raise RemoteInputError(f"bad incident: {e}") from None
    if not isinstance(checked_header.get("trigger"), dict):
        raise RemoteInputError("incident header has no trigger event")
    return checked_header, checked_events


@implementer(RILogGatherer)
class IncidentGatherer(Referenceable):
    """Gathers and classifies the incidents of every Tub that hands it a logport."""

    def __init__(
        self,
        basedir: str,
        *,
        classifiers: list[Callable[[dict[str, Any]], Any]] | None = None,
        clock: ClockLike | None = None,
        max_logports_per_peer: int = MAX_LOGPORTS_PER_PEER,
        max_logports: int = MAX_LOGPORTS,
    ) -> None:
        self.basedir = basedir
        self.clock: ClockLike = clock if clock is not None else default_clock()
        self.stats = GathererStats()
        #: logports followed, per peer and in all
        self.limits = PeerLimits(
            "gatherer logports", per_peer=max_logports_per_peer, total=max_logports
        )
        self.classifier = IncidentClassifier()
        for f in classifiers or []:
            self.classifier.add_classifier(f)
        #: incidents received (and stored) since start
        self.incidents_received = 0

    def start(self) -> None:
        """Make the directories, load classify_*.py, classify stored incidents."""
        os.makedirs(os.path.join(self.basedir, "incidents"), exist_ok=True)
        os.makedirs(os.path.join(self.basedir, "classified"), exist_ok=True)
        self.classifier.add_classify_files(self.basedir)
        self.classify_stored_incidents()

    def stop(self) -> None:
        """Nothing is held open between incidents."""

    def classify_stored_incidents(self) -> int:
        """Classify the stored incidents not yet in classified/; returns how many."""
        classified = os.path.join(self.basedir, "classified")
        already: set[str] = set()
        for category in os.listdir(classified):
            with open(os.path.join(classified, category), encoding="utf-8") as f:
                already.update(line.strip() for line in f)
        count = 0
        indir = os.path.join(self.basedir, "incidents")
        for tubid in sorted(os.listdir(indir)):
            nodedir = os.path.join(indir, tubid)
            if not os.path.isdir(nodedir):
                continue
            for fn in sorted(os.listdir(nodedir)):
                rel = os.path.join("incidents", tubid, fn)
                if not fn.startswith("incident-") or fn.endswith(".tmp") or rel in already:
                    continue
                try:
                    incident = self.classifier.load_incident(os.path.join(self.basedir, rel))
                except (IncidentClassifierError, OSError) as e:
                    _log.warn("gatherer: cannot classify {rel}: {e}", rel=rel, e=str(e))
                    continue
                self.classify(rel, incident)
                count += 1
        return count

    def remote_logport(self, nodeid: object, logport: Any) -> Deferred[None]:
        # the TubID comes from the connection, never from what the peer says
        tubid = check_tubid(logport.getRemoteTubID())
        release = follow_logport(self.limits, self.stats, logport)
        self.stats.logports += 1
        d = _IncidentObserver(tubid, self, logport).connect()
        d.addErrback(give_back, release)
        return d

    def new_incident(self, rel: str, incident: tuple[dict[str, Any], list[dict[str, Any]]]) -> None:
        """A fetched incident is stored at ``rel``: classify it."""
        self.incidents_received += 1
        self.classify(rel, incident)

    def classify(self, rel: str, incident: tuple[dict[str, Any], list[dict[str, Any]]]) -> set[str]:
        """Append ``rel`` to classified/<category> for each category of ``incident``."""
        try:
            categories = self.classifier.classify_incident(incident)
        except IncidentClassifierError as e:
            _log.warn("gatherer: classifying {rel} failed: {e}", rel=rel, e=str(e))
            categories = {"unknown"}
        kept = set()
        for c in sorted(categories):
            if not _CATEGORY.match(c):
                report(self.stats, "bad category", f"{c[:80]!r} for {rel}")
                continue
            with open(os.path.join(self.basedir, "classified", c), "a", encoding="utf-8") as f:
                f.write(rel + "\n")
            kept.add(c)
        return kept
