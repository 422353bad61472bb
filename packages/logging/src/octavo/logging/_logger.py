"""``FoolscapLogger``: numbered events, observers, bounded history buffers, incidents.

Each event is numbered, stamped and kept in a ring buffer chosen by its facility and
level (Foolscap's sizes: 100 events each by default), so the history held in memory is
bounded whatever is logged: at most :attr:`FoolscapLogger.MAX_BUFFERS` buffers exist,
and events that would need one more share a single overflow buffer. Observers get each
event through an eventual-send; immediate observers get it at once. An error while
logging becomes an internal-error event (facility ``foolscap/internal-error``, as in
Foolscap) and never reaches the caller.
"""

from __future__ import annotations

import os
import reprlib
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from twisted.python import failure

from octavo.reconnector import ClockLike

from ._events import Event
from ._incidents import IncidentQualifier, IncidentReporter
from ._levels import NOISY, OPERATIONAL, WEIRD

_now = time.time

__all__ = [
    "FoolscapLogger",
    "IncidentObserver",
    "IncidentQualifierLike",
    "IncidentReporterFactory",
    "IncidentReporterLike",
    "Observer",
    "theLogger",
]

#: what observers are called with: one event dict
Observer = Callable[[Event], object]
#: called with (incident name, trigger event) once an incident file is complete
IncidentObserver = Callable[[str, Event], object]

INTERNAL_ERROR_FACILITY = "foolscap/internal-error"

_short = reprlib.Repr()
_short.maxstring = 200
_short.maxother = 200
_short.maxlevel = 3


class IncidentQualifierLike(Protocol):
    """Decides which events declare an incident (see ``_incidents.IncidentQualifier``)."""

    def set_handler(self, handler: FoolscapLogger | None) -> None:
        """Report incidents to ``handler.declare_incident`` (None: stop)."""

    def event(self, ev: Event) -> None:
        """Look at one event; may call ``handler.declare_incident(ev)``."""


class IncidentReporterLike(Protocol):
    """Records one incident (see ``_incidents.IncidentReporter``)."""

    def is_active(self) -> bool:
        """True while the incident is still being recorded."""

    def incident_declared(self, triggering_event: Event) -> None:
        """Start recording the incident that ``triggering_event`` declared."""

    def new_trigger(self, ev: Event) -> None:
        """Another trigger arrived while this incident is being recorded."""


#: makes a reporter from (incident directory, logger, tubid string)
IncidentReporterFactory = Callable[[str, "FoolscapLogger", str], IncidentReporterLike]


class FoolscapLogger:
    """A Foolscap logger: ``msg``/``err`` events, kept in bounded buffers and observed."""

    DEFAULT_SIZELIMIT = 100
    DEFAULT_THRESHOLD = NOISY
    MAX_RECORDED_INCIDENTS = 20
    #: at most this many (facility, level) buffers; more share one overflow buffer
    MAX_BUFFERS = 1000

    def __init__(self, clock: ClockLike | None = None) -> None:
        self._clock = clock
        self.incarnation: tuple[str, None] = (os.urandom(8).hex(), None)
        self._next_num = 0
        self.facility_explanations: dict[str | None, str] = {}
        self._sizes: dict[str | None, dict[object, int]] = {None: {}}
        self._buffers: dict[str | None, dict[object, deque[Event]]] = {}
        self._buffer_count = 0
        self._overflow: deque[Event] = deque(maxlen=self.DEFAULT_SIZELIMIT)
        self._thresholds: dict[str | None, object] = {}
        self._observers: list[Observer] = []
        self._immediate_observers: list[Observer] = []
        # True when any observer or an active qualifier wants events (see _rehook)
        self._hooked = False
        self._incident_observers: list[IncidentObserver] = []
        self._queue: Any = None
        self.logdir: str | None = None
        self._inactive_qualifier: IncidentQualifierLike = IncidentQualifier()
        self._qualifier: IncidentQualifierLike | None = None
        self.incident_reporter_factory: IncidentReporterFactory = IncidentReporter
        self._reporter: IncidentReporterLike | None = None
        self.incidents_declared = 0
        self.incidents_recorded = 0
        self.recent_recorded_incidents: list[str] = []
        self._logport: object = None

    # --- the clock ----------------------------------------------------------------

    @property
    def clock(self) -> ClockLike:
        """The clock for eventual-sends and incident timers (default: the reactor)."""
        if self._clock is None:
            from octavo.tub._eventual import default_clock  # noqa: PLC0415

            self._clock = default_clock()
        return self._clock

    def eventually(self, cb: Callable[..., object], *args: Any) -> None:
        """Call ``cb(*args)`` on a later turn of :attr:`clock`."""
        if self._queue is None:
            from octavo.tub._eventual import queue_for  # noqa: PLC0415

            self._queue = queue_for(self.clock)
        self._queue.eventually(cb, *args)

    # --- observers ----------------------------------------------------------------

    def addObserver(self, observer: Observer) -> None:
        """Call ``observer(event)`` for each later event, through an eventual-send."""
        self._observers.append(observer)
        self._rehook()

    def removeObserver(self, observer: Observer) -> None:
        """Stop calling ``observer``; ValueError if it was not added."""
        self._observers.remove(observer)
        self._rehook()

    def addImmediateObserver(self, observer: Observer) -> None:
        """Call ``observer(event)`` synchronously; it must not raise or log."""
        self._immediate_observers.append(observer)
        self._rehook()

    def removeImmediateObserver(self, observer: Observer) -> None:
        """Stop calling an immediate observer."""
        self._immediate_observers.remove(observer)
        self._rehook()

    def addImmediateIncidentObserver(self, observer: IncidentObserver) -> None:
        """Call ``observer(name, trigger)`` each time an incident file is complete."""
        self._incident_observers.append(observer)

    def removeImmediateIncidentObserver(self, observer: IncidentObserver) -> None:
        """Stop calling an incident observer."""
        self._incident_observers.remove(observer)

    # --- configuration ------------------------------------------------------------

    def explain_facility(self, facility: str, description: str) -> None:
        """Record what ``facility`` means (shown by log viewers)."""
        self.facility_explanations[facility] = description

    def set_buffer_size(self, level: int, sizelimit: int, facility: str | None = None) -> None:
        """Keep the last ``sizelimit`` events of ``level`` (and ``facility``)."""
        if not isinstance(sizelimit, int) or sizelimit < 0:
            raise ValueError(f"buffer size must be an int >= 0, not {sizelimit!r}")
        self._sizes.setdefault(facility, {})[level] = sizelimit
        by_level = self._buffers.get(facility)
        if by_level is not None and level in by_level:
            by_level[level] = deque(by_level[level], maxlen=sizelimit)

    def set_generation_threshold(self, level: int, facility: str | None = None) -> None:
        """Drop events of ``facility`` below ``level`` (None: events without a facility)."""
        self._thresholds[facility] = level

    def get_generation_threshold(self, facility: str | None = None) -> object:
        """The threshold of ``facility`` (``DEFAULT_THRESHOLD`` unless set)."""
        return self._thresholds.get(facility, self.DEFAULT_THRESHOLD)

    # --- emitting -----------------------------------------------------------------

    def msg(self, *args: Any, **event: Any) -> int:
        """Log one event; returns its number, for ``parent=`` of later events.

        ``msg("text %s", x)`` or ``msg(format="%(k)s", k=...)`` or ``msg(message=...)``;
        keywords ``level``, ``facility``, ``parent``, ``stacktrace`` (True: the current
        stack) and any others are kept in the event.
        """
        if "num" in event:
            num: int = event["num"]
        else:
            num = event["num"] = self._next_num
            self._next_num = num + 1
        # the hot path of every log call, kept inline (_emit is the short form that
        # internal-error events take)
        try:
            if "level" in event:
                level = event["level"]
            else:
                level = event["level"] = OPERATIONAL
            facility = event["facility"] if "facility" in event else None  # noqa: SIM401 - faster
            thresholds = self._thresholds
            if level < (thresholds.get(facility, NOISY) if thresholds else NOISY):
                return num
            if "format" not in event:
                if "message" in event:
                    event["message"] = str(event["message"])
                elif args:
                    first = args[0]
                    event["message"] = first if first.__class__ is str else str(first)
                    rest = args[1:]
                    if rest:
                        event["args"] = rest
                else:
                    event["message"] = ""
            if "time" not in event:
                event["time"] = _now()
            if "stacktrace" in event and event["stacktrace"] is True:
                event["stacktrace"] = traceback.format_stack()
            # "incarnation" is added when the event is first seen (_notify or
            # get_buffered_events): one key fewer to store on this path
            try:
                buf = self._buffers[facility][level]
            except KeyError:
                buf = self._new_buffer(facility, level)
            buf.append(event)
            if self._hooked:
                self._notify(event)
        except Exception as e:
            self._internal_error(num, args, event, e)
        return num

    def _emit(self, args: tuple[Any, ...], event: Event) -> None:
        """What :meth:`msg` does, raising: used for internal-error events."""
        if "level" not in event:
            event["level"] = OPERATIONAL
        level = event["level"]
        facility = event.get("facility")
        if level < self._thresholds.get(facility, NOISY):
            return
        if "format" not in event and "message" not in event:
            event["message"] = str(args[0]) if args else ""
        event.setdefault("time", _now())
        by_level = self._buffers.get(facility)
        buf = None if by_level is None else by_level.get(level)
        if buf is None:
            buf = self._new_buffer(facility, level)
        buf.append(event)
        self._notify(event)

    def _rehook(self) -> None:
        self._hooked = bool(
            self._observers or self._immediate_observers or self._qualifier is not None
        )

    def _notify(self, event: Event) -> None:
        """Observers, then the incident qualifier (which sees the event buffered)."""
        event["incarnation"] = self.incarnation
        for o in self._immediate_observers:
            o(event)
        for o in self._observers:
            self.eventually(o, event)
        if self._qualifier is not None:
            self._qualifier.event(event)

    def _new_buffer(self, facility: str | None, level: object) -> deque[Event]:
        if self._buffer_count >= self.MAX_BUFFERS:
            return self._overflow
        sizes = self._sizes.get(facility)
        limit = self.DEFAULT_SIZELIMIT if not sizes else sizes.get(level, self.DEFAULT_SIZELIMIT)
        buf: deque[Event] = deque(maxlen=limit)
        self._buffers.setdefault(facility, {})[level] = buf
        self._buffer_count += 1
        return buf

    def _internal_error(self, num: int, args: tuple[Any, ...], event: Event, e: Exception) -> None:
        try:
            text = (
                f"internal error in log._msg, args={_short.repr(args)}, "
                f"kwargs={_short.repr(event)}, exception={_short.repr(e)}"
            )
            self._emit((text,), {"num": num, "level": WEIRD, "facility": INTERNAL_ERROR_FACILITY})
        except Exception:
            pass

    def err(self, _stuff: object = None, _why: str | None = None, **kw: Any) -> int:
        """Log a failure: the current exception, a Failure, an exception, or anything.

        The event has ``failure`` (a cleaned Failure), ``why`` and ``isError=1``.
        """
        try:
            if _stuff is None:
                _stuff = failure.Failure()  # type: ignore[no-untyped-call,unused-ignore]
            if isinstance(_stuff, BaseException):
                _stuff = failure.Failure(_stuff)  # type: ignore[no-untyped-call,unused-ignore]
        except Exception as e:  # no current exception
            _stuff = f"log.err() called without a current exception ({e!r})"
        if isinstance(_stuff, failure.Failure):
            # keep the text, drop the frames: bounded memory
            _stuff.cleanFailure()  # type: ignore[no-untyped-call,unused-ignore]
            return self.msg(failure=_stuff, why=_why, isError=1, **kw)
        return self.msg(repr(_stuff), why=_why, isError=1, **kw)

    # --- history ------------------------------------------------------------------

    def get_buffered_events(self) -> Iterator[Event]:
        """Every buffered event, in no particular order (sort by ``num``)."""
        snapshot: list[Event] = []
        for by_level in list(self._buffers.values()):
            for buf in list(by_level.values()):
                snapshot.extend(buf)
        snapshot.extend(self._overflow)
        incarnation = self.incarnation
        for event in snapshot:
            event["incarnation"] = incarnation
        return iter(snapshot)

    # --- incidents ----------------------------------------------------------------

    def setLogDir(self, directory: str) -> None:
        """Write incident files into ``directory`` (created if missing) from now on."""
        self.logdir = os.path.abspath(os.path.expanduser(directory))
        os.makedirs(self.logdir, exist_ok=True)
        self._activate_qualifier()

    def setIncidentQualifier(self, iq: IncidentQualifierLike) -> None:
        """Use ``iq`` to decide which events declare incidents."""
        if not callable(getattr(iq, "event", None)) or not callable(
            getattr(iq, "set_handler", None)
        ):
            raise TypeError(f"an incident qualifier needs event() and set_handler(): {iq!r}")
        if self._qualifier is not None:
            self._qualifier.set_handler(None)
            self._qualifier = None
            self._rehook()
        self._inactive_qualifier = iq
        if self.logdir:
            self._activate_qualifier()

    def _activate_qualifier(self) -> None:
        self._qualifier = self._inactive_qualifier
        self._qualifier.set_handler(self)
        self._rehook()

    def setIncidentReporterFactory(self, factory: IncidentReporterFactory) -> None:
        """Record incidents with reporters made by ``factory(logdir, logger, tubid)``."""
        if not callable(factory):
            raise TypeError(f"an incident reporter factory must be callable: {factory!r}")
        self.incident_reporter_factory = factory

    def declare_incident(self, triggering_event: Event) -> None:
        """Start an incident (or tell the one being recorded about another trigger)."""
        self.incidents_declared += 1
        ir = self.get_active_incident_reporter()
        if ir is not None:
            ir.new_trigger(triggering_event)
            return
        if self.logdir:
            ir = self.incident_reporter_factory(self.logdir, self, "local")
            self._reporter = ir
            ir.incident_declared(triggering_event)

    def incident_recorded(self, filename: str, name: str, trigger: Event) -> None:
        """A reporter finished ``filename``: remember it and tell the incident observers."""
        self.incidents_recorded += 1
        self._reporter = None
        self.recent_recorded_incidents.append(filename)
        del self.recent_recorded_incidents[: -self.MAX_RECORDED_INCIDENTS]
        for o in list(self._incident_observers):
            o(name, trigger)

    def get_active_incident_reporter(self) -> IncidentReporterLike | None:
        """The reporter still recording an incident, if any."""
        ir = self._reporter
        if ir is not None and ir.is_active():
            return ir
        return None

    # --- the logport (set by the Tub plug-in) -------------------------------------

    def setLogPort(self, logport: object) -> None:
        """Remember the logport that publishes this logger."""
        self._logport = logport

    def getLogPort(self) -> object:
        """The logport given to :meth:`setLogPort`, or None."""
        return self._logport


#: the process-wide logger that ``octavo.logging.log`` and Tubs log into
theLogger = FoolscapLogger()
