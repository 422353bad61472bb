"""The log gatherer (Foolscap's ``flogtool create-gatherer``), and the checks of
remote input both gatherers share.

A gatherer is an :class:`RILogGatherer` that many Tubs call
``logport(nodeid, logport)`` on (their ``log-gatherer-furl`` option).

:class:`LogGatherer` subscribes to each logport and writes every event to one
flogfile as it arrives (no buffering: a Tub that goes away mid-stream loses
nothing the gatherer received): ``from-<start>---to-present.flog`` with a
``gatherer`` header, renamed ``from-<start>---to-<end>.flog`` on rotation (every
``rotate`` seconds, and/or once it holds ``rotate_size`` bytes) and then
bzip2-compressed in a thread if ``use_bzip``.

The incident gatherer is in :mod:`._incident_gatherer`.

Everything a remote Tub sends to a gatherer is checked
(:func:`~._validate.check_remote_event`, sizes, names): what is wrong is
reported (Twisted's log, and counted in :attr:`GathererStats.refused`) and
skipped, never written, and never stops the gatherer or loses the events
before it. A Tub sending faster than
``max_events_per_second`` has the excess dropped and counted, with a notice
event in the file saying how many.

Each peer (the TubID of the connection the logport came over) may have at most
``max_logports_per_peer`` logports followed at once, and a gatherer follows at
most ``max_logports`` in all (:class:`~._limits.PeerLimits`); a logport is
followed until its connection is lost. Past either limit ``logport()`` fails
with :class:`~._limits.TooManySubscriptionsError` (a ``Violation``), reported
once, counted in :attr:`GathererStats.refused`, and the gatherer goes on
serving the other Tubs.
"""

from __future__ import annotations

import bz2
import os
import re
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Protocol

from twisted.internet import threads
from twisted.internet.defer import Deferred, succeed
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer  # type: ignore[import-untyped,unused-ignore]

from octavo.tub import Referenceable

from ._flogfile import MAGIC, encode_record
from ._interfaces import MAX_BATCH, RILogGatherer, RILogObserver
from ._limits import PeerLimits, TooManySubscriptionsError, peer_of
from ._publisher import connection_gone
from ._validate import BadEventError, check_json_event, check_remote_event, remote_text

__all__ = [
    "MAX_COUNTED_TUBS",
    "OTHER_TUBS",
    "ClockLike",
    "GathererStats",
    "LogGatherer",
    "RemoteInputError",
    "check_incident_name",
    "check_tubid",
    "default_clock",
    "follow_logport",
    "format_time",
    "give_back",
    "report",
    "subscribe_batched_or_not",
]

_log = Logger()

TIME_FORMAT = "%Y-%m-%d--%H-%M-%S"
#: one written record, at most (bigger events are refused)
MAX_RECORD_BYTES = 1024 * 1024
#: events per second one Tub may send before the excess is dropped
MAX_EVENTS_PER_SECOND = 20_000
#: logports one peer may have a gatherer follow at once
MAX_LOGPORTS_PER_PEER = 10
#: logports a gatherer follows at once, in all
MAX_LOGPORTS = 1000

_TUBID = re.compile(r"^[a-z2-7]{1,64}$")
_INCIDENT_NAME = re.compile(r"^incident-[A-Za-z0-9_:+-][A-Za-z0-9_.:+-]{0,199}$")


class ClockLike(Protocol):
    """What the gatherers need of a reactor (a ``twisted.internet.task.Clock`` in tests)."""

    def seconds(self) -> float: ...
    def callLater(self, delay: float, f: Callable[..., object], *a: Any, **kw: Any) -> Any: ...


def default_clock() -> ClockLike:
    from twisted.internet import reactor  # noqa: PLC0415 - the global reactor, late

    clock: ClockLike = reactor
    return clock


class RemoteInputError(ValueError):
    """Something a remote Tub sent that the gatherer refuses, and why."""


def format_time(when: float) -> str:
    """Foolscap's gatherer file-name time: ``2024-09-01--12-00-00Z`` (UTC)."""
    return time.strftime(TIME_FORMAT, time.gmtime(when)) + "Z"


def check_tubid(value: object) -> str:
    """A printable TubID (lower-case base32), or RemoteInputError."""
    tubid = remote_text(value, "nodeid", "ascii", RemoteInputError)
    if not _TUBID.match(tubid):
        raise RemoteInputError(f"nodeid {tubid[:80]!r} is not a TubID")
    return tubid


def check_incident_name(value: object) -> str:
    """An incident name safe to use as a file name, or RemoteInputError."""
    name = remote_text(value, "incident name", "ascii", RemoteInputError)
    if not _INCIDENT_NAME.match(name) or ".." in name:
        raise RemoteInputError(f"bad incident name {name[:80]!r}")
    return name


#: TubIDs the per-TubID counters of :class:`GathererStats` keep apart; events of any
#: further TubID are counted under :data:`OTHER_TUBS` (peers choose the TubIDs they
#: send, so the counters must not grow with them)
MAX_COUNTED_TUBS = 10_000
#: the key of the events of TubIDs past :data:`MAX_COUNTED_TUBS`
OTHER_TUBS = "(other tubs)"


def count_for(counter: Counter[str], tubid: str, n: int = 1) -> None:
    """``n`` more for ``tubid``, or for :data:`OTHER_TUBS` once the counter holds
    :data:`MAX_COUNTED_TUBS` TubIDs and this is not one of them."""
    if tubid in counter or len(counter) < MAX_COUNTED_TUBS:
        counter[tubid] += n
    else:
        counter[OTHER_TUBS] += n


@dataclass
class GathererStats:
    """What a gatherer has done (for tests, benchmarks and operators)."""

    #: events written, per TubID (at most MAX_COUNTED_TUBS of them, then OTHER_TUBS)
    written: Counter[str] = field(default_factory=Counter)
    #: remote input refused, per reason ("bad event", "too big", "bad nodeid", ...)
    refused: Counter[str] = field(default_factory=Counter)
    #: events dropped because their Tub sent too fast, per TubID (bounded as written)
    flooded: Counter[str] = field(default_factory=Counter)
    #: logport() calls accepted
    logports: int = 0
    #: subscriptions those logports confirmed
    subscribed: int = 0
    #: ``msg_batch`` calls received (Octavo logports; a Foolscap one sends ``msg``)
    batches: int = 0


def report(stats: GathererStats, reason: str, detail: str) -> None:
    stats.refused[reason] += 1
    _log.warn("gatherer refused remote input ({reason}): {detail}", reason=reason, detail=detail)


def follow_logport(limits: PeerLimits, stats: GathererStats, logport: Any) -> Callable[[], None]:
    """Take a slot of ``limits`` for the peer ``logport`` came from, given back when its
    connection is lost; returns the release. Past a limit: counted, and raised."""
    try:
        release = limits.acquire(peer_of(logport))
    except TooManySubscriptionsError:
        stats.refused["too many logports"] += 1
        raise
    logport.notifyOnDisconnect(release)
    return release


def subscribe_batched_or_not(logport: Any, observer: Callable[[], Any]) -> Deferred[Any]:
    """Subscribe an ``observer()`` to every event of ``logport``: in ``msg_batch`` calls
    if the logport knows ``subscribe_to_batches`` (Octavo's), else (a Foolscap logport
    refuses that method) with Foolscap's ``subscribe_to_all``.

    The fallback sends a new observer: the refused call's observer reference was never
    read by the logport (it refuses a call before its arguments), so sending that one
    again, by number only, would name nothing it knows."""
    d: Deferred[Any] = logport.callRemote("subscribe_to_batches", observer())

    def unbatched(failure: Failure) -> Deferred[Any] | Failure:
        if connection_gone(failure):
            return failure
        fallback: Deferred[Any] = logport.callRemote("subscribe_to_all", observer())
        return fallback

    d.addErrback(unbatched)
    return d


def give_back(failure: Failure, release: Callable[[], None]) -> Failure:
    """An errback: the logport could not be followed after all, so ``release`` its slot."""
    release()
    return failure


# -- the log gatherer ----------------------------------------------------------------------


class _SaveFile:
    """The gatherer's current flogfile, written line by line without buffering."""

    def __init__(self, basedir: str, now: float) -> None:
        self.basedir = basedir
        self.start = now
        self.path = os.path.join(basedir, f"from-{format_time(now)}---to-present.flog")
        self._f: BinaryIO = open(self.path, "ab", buffering=0)  # noqa: SIM115
        self.size = 0
        self.write(MAGIC)
        self.write(encode_record({"header": {"type": "gatherer", "start": now}}))

    def write(self, data: bytes) -> None:
        self._f.write(data)
        self.size += len(data)

    def finish(self, now: float) -> str:
        """Close and give the file its final name; returns that name."""
        self._f.close()
        final = os.path.join(
            self.basedir, f"from-{format_time(self.start)}---to-{format_time(now)}.flog"
        )
        os.replace(self.path, final)
        return final

    def close(self) -> None:
        self._f.close()


def bzip_file(path: str) -> str:
    """Compress ``path`` to ``path + ".bz2"`` and remove it; returns the new name."""
    target = path + ".bz2"
    with open(path, "rb") as src, bz2.BZ2File(target + ".tmp", "wb") as dst:
        shutil.copyfileobj(src, dst, 1024 * 1024)
    os.replace(target + ".tmp", target)
    os.remove(path)
    return target


@implementer(RILogObserver)
class _EventObserver(Referenceable):
    def __init__(self, tubid: str, gatherer: LogGatherer) -> None:
        self.tubid = tubid
        self.gatherer = gatherer

    def remote_msg(self, logmsg: object) -> None:
        self.gatherer.msg(self.tubid, logmsg)

    def remote_msg_batch(self, lines: bytes) -> None:
        self.gatherer.msg_lines(self.tubid, lines)

    def remote_done(self) -> None:
        return None

    def remote_new_incident(self, name: object, trigger: object) -> None:
        return None

    def remote_done_with_incident_catchup(self) -> None:
        return None


class _FloodGate:
    """Per-Tub events-per-second budget on a clock.

    Only the current second's counts matter: once more than ``max_tubs`` TubIDs are
    counted (peers name them, and may name new ones on every connection), the counts
    of earlier seconds are forgotten.
    """

    def __init__(self, limit: int, now: Callable[[], float], max_tubs: int = 10_000) -> None:
        self.limit = limit
        self._now = now
        self.max_tubs = max_tubs
        self._window: dict[str, tuple[int, int]] = {}  # tubid -> (second, count)
        #: dropped and not yet noted in the file, per tubid
        self.unreported: Counter[str] = Counter()

    def has_room(self, tubid: str) -> bool:
        """Would :meth:`admit` take at least one more event from ``tubid`` now?"""
        start, count = self._window.get(tubid, (-1, 0))
        return start != int(self._now()) or count < self.limit

    def admit(self, tubid: str, n: int = 1) -> int:
        """How many of ``n`` more events from ``tubid`` are within its budget (the
        first ones); the rest are counted as dropped."""
        second = int(self._now())
        start, count = self._window.get(tubid, (-1, 0))
        if start != second:
            count = 0
            if len(self._window) >= self.max_tubs:
                self._window = {t: w for t, w in self._window.items() if w[0] == second}
        admitted = max(0, min(n, self.limit - count))
        self._window[tubid] = (second, count + n)
        if admitted < n:
            self.unreported[tubid] += n - admitted
        return admitted


@implementer(RILogGatherer)
class LogGatherer(Referenceable):
    """Gathers the events of every Tub that hands it a logport into one flogfile."""

    def __init__(
        self,
        basedir: str,
        *,
        rotate: float | None = None,
        rotate_size: int | None = None,
        use_bzip: bool = False,
        clock: ClockLike | None = None,
        max_events_per_second: int = MAX_EVENTS_PER_SECOND,
        max_record_bytes: int = MAX_RECORD_BYTES,
        compress: Callable[[str], Deferred[str]] | None = None,
        max_logports_per_peer: int = MAX_LOGPORTS_PER_PEER,
        max_logports: int = MAX_LOGPORTS,
    ) -> None:
        self.basedir = basedir
        self.clock: ClockLike = clock if clock is not None else default_clock()
        self.rotate = rotate
        self.rotate_size = rotate_size
        self.use_bzip = use_bzip
        self.max_record_bytes = max_record_bytes
        self.stats = GathererStats()
        #: logports followed, per peer and in all
        self.limits = PeerLimits(
            "gatherer logports", per_peer=max_logports_per_peer, total=max_logports
        )
        self._gate = _FloodGate(max_events_per_second, self.clock.seconds)
        self._compress = compress or (lambda p: threads.deferToThread(bzip_file, p))
        self._file: _SaveFile | None = None
        self._timer: Any = None
        #: Deferreds of rotations still compressing (tests wait on them)
        self.pending_compressions: list[Deferred[str]] = []

    # -- lifetime ------------------------------------------------------------------------

    def start(self) -> None:
        """Open the first file and start the rotation timer (if ``rotate``)."""
        os.makedirs(self.basedir, exist_ok=True)
        self._file = _SaveFile(self.basedir, self.clock.seconds())
        self._schedule_rotation()

    def stop(self) -> None:
        """Stop the timer and close the current file (it keeps its to-present name)."""
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        if self._file is not None:
            self._note_floods()
            self._file.close()
            self._file = None

    @property
    def current_file(self) -> str | None:
        """The path of the file being written."""
        return self._file.path if self._file else None

    def _schedule_rotation(self) -> None:
        if self.rotate:
            self._timer = self.clock.callLater(self.rotate, self._timed_rotation)

    def _timed_rotation(self) -> None:
        self.do_rotate()
        self._schedule_rotation()

    def do_rotate(self) -> Deferred[str]:
        """Finish the current file and start a new one; fires with the finished name."""
        if self._file is None:
            return succeed("")
        self._note_floods()
        now = self.clock.seconds()
        finished = self._file.finish(now)
        self._file = _SaveFile(self.basedir, now)
        if not self.use_bzip:
            return succeed(finished)
        d = self._compress(finished)

        def done(result: str | Failure) -> str | Failure:
            self.pending_compressions.remove(d)
            if isinstance(result, Failure):
                _log.failure("gatherer: compressing {path} failed", result, path=finished)
                return finished
            return result

        self.pending_compressions.append(d)
        d.addBoth(done)
        return d

    # -- remote ----------------------------------------------------------------------------

    def remote_logport(self, nodeid: object, logport: Any) -> Deferred[None] | None:
        try:
            tubid = check_tubid(nodeid)
        except RemoteInputError as e:
            report(self.stats, "bad nodeid", str(e))
            raise
        release = follow_logport(self.limits, self.stats, logport)
        self.stats.logports += 1
        d = subscribe_batched_or_not(logport, lambda: _EventObserver(tubid, self))
        d.addCallbacks(self._subscribed, give_back, errbackArgs=(release,))
        return d

    def _subscribed(self, _: object) -> None:
        self.stats.subscribed += 1

    def msg(self, tubid: str, logmsg: object) -> None:
        """Write one event from ``tubid`` (checked; refused ones are reported)."""
        if self._file is None or not self._admit(tubid):
            return
        try:
            event = check_remote_event(logmsg)
        except BadEventError as e:
            report(self.stats, "bad event", f"from {tubid}: {e}")
            return
        line = encode_record({"from": tubid, "rx_time": self.clock.seconds(), "d": event})
        self._write(tubid, [line])

    def msg_lines(self, tubid: str, data: bytes) -> None:
        """Write the events of a ``msg_batch`` from ``tubid`` (JSON lines, oldest
        first) in one write: each line checked, refused ones reported and skipped, and
        the others written as they came, inside their wrapper. Lines past
        :data:`~._interfaces.MAX_BATCH` are not read (reported once, as a bad batch)."""
        self.stats.batches += 1
        if self._file is None:
            return
        lines = data.split(b"\n", MAX_BATCH)  # (at most MAX_BATCH lines are read)
        rest = lines.pop() if len(lines) > MAX_BATCH else b""
        if rest:
            report(self.stats, "bad batch", f"from {tubid}: over {MAX_BATCH} events, rest skipped")
        if lines and lines[-1] == b"":
            lines.pop()
        head = b'{"from": "%s", "rx_time": %s, "d": ' % (
            tubid.encode("ascii"),
            repr(self.clock.seconds()).encode("ascii"),
        )
        records = []
        for line in lines[: self._admit(tubid, len(lines))]:
            try:
                check_json_event(line)
            except BadEventError as e:
                report(self.stats, "bad event", f"from {tubid}: {e}")
                continue
            records.append(head + line + b"}\n")
        self._write(tubid, records)

    def _admit(self, tubid: str, n: int = 1) -> int:
        """How many of ``n`` more events from ``tubid`` are within its rate (the first
        ones; the others are counted as flooded, and noted in the file before the next
        events written)."""
        if self._gate.unreported and self._gate.has_room(tubid):
            self._note_floods()
        admitted = self._gate.admit(tubid, n)
        if admitted < n:
            count_for(self.stats.flooded, tubid, n - admitted)
        return admitted

    def _write(self, tubid: str, records: list[bytes]) -> None:
        """Write ``records`` (flogfile lines) from ``tubid`` but those too big."""
        if self._file is None:
            return
        fits = []
        for record in records:
            if len(record) <= self.max_record_bytes:
                fits.append(record)
            else:
                report(self.stats, "too big", f"from {tubid}: {len(record)} bytes")
        if not fits:
            return
        self._file.write(b"".join(fits))
        count_for(self.stats.written, tubid, len(fits))
        if self.rotate_size and self._file.size >= self.rotate_size:
            self.do_rotate()

    def _note_floods(self) -> None:
        unreported = self._gate.unreported
        if not unreported or self._file is None:
            return
        now = self.clock.seconds()
        for tubid, n in sorted(unreported.items()):
            notice = {
                "format": "gatherer: dropped %(dropped)d events from this Tub (too many)",
                "dropped": n,
                "level": 23,
                "facility": "octavo.logging.gatherer",
                "num": -1,
                "time": now,
            }
            self._file.write(encode_record({"from": tubid, "rx_time": now, "d": notice}))
        unreported.clear()
