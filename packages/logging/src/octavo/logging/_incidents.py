"""Incidents: a severe event makes the logger save its recent history to a file.

The qualifier looks at every event and declares an incident for those at level
``WEIRD`` or above. The reporter then writes ``incident-<UTC time>-<unique>.flog.bz2``
into the log directory: a header ``{"type": "incident", "trigger": event, ...}``, every
buffered event in number order, then the events that follow for ``TRAILING_DELAY``
seconds or ``TRAILING_EVENT_LIMIT`` events, whichever comes first (Foolscap's 5 s and
100 events). While recording it keeps an uncompressed ``.flog`` beside a
``.flog.bz2.tmp``; at the end the ``.bz2`` takes its final name and the ``.flog`` goes.
The classifier sorts incident files into categories, with functions given the trigger.
"""

from __future__ import annotations

import base64
import contextlib
import os
import runpy
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from ._events import Event
from ._flogfile import FlogLineError, FlogWriter, read_flogfile
from ._levels import WEIRD


class IncidentHandler(Protocol):
    """What a qualifier tells of the incidents it sees (a FoolscapLogger)."""

    def declare_incident(self, triggering_event: Event) -> None: ...


class RecordingLogger(Protocol):
    """What a reporter needs of the logger whose history it records (a FoolscapLogger)."""

    @property
    def clock(self) -> Any: ...

    def get_buffered_events(self) -> Iterable[Event]: ...
    def eventually(self, cb: Callable[..., object], *args: Any) -> None: ...
    def addObserver(self, observer: Callable[[Event], object]) -> None: ...
    def removeObserver(self, observer: Callable[[Event], object]) -> None: ...
    def incident_recorded(self, filename: str, name: str, trigger: Event) -> None: ...


__all__ = [
    "TIME_FORMAT",
    "Classifier",
    "IncidentClassifier",
    "IncidentClassifierError",
    "IncidentQualifier",
    "IncidentReporter",
    "NonTrailingIncidentReporter",
    "incident_name",
]

TIME_FORMAT = "%Y-%m-%d--%H-%M-%S"

#: a classifier: the trigger event -> None, a category, or several
Classifier = Callable[[Event], "str | Iterable[str] | None"]


def incident_name(when: float, unique: bytes) -> str:
    """``incident-2024-09-01--12-00-00Z-<base32 of unique>``, as Foolscap names them."""
    stamp = time.strftime(TIME_FORMAT, time.gmtime(when)) + "Z"
    tag = base64.b32encode(unique).decode("ascii").lower().rstrip("=")
    return f"incident-{stamp}-{tag}"


class IncidentQualifier:
    """Declares an incident for each event at level ``WEIRD`` or above.

    Subclass and override :meth:`check_event` to choose otherwise.
    """

    def __init__(self) -> None:
        self.handler: IncidentHandler | None = None

    def set_handler(self, handler: IncidentHandler | None) -> None:
        """Declare incidents to ``handler`` (None: to nobody)."""
        self.handler = handler

    def check_event(self, ev: Event) -> bool:
        """True if ``ev`` is severe enough to be an incident."""
        level = ev.get("level")
        return isinstance(level, int | float) and level >= WEIRD

    def event(self, ev: Event) -> None:
        """Look at one event."""
        if self.handler is not None and self.check_event(ev):
            self.handler.declare_incident(ev)


class IncidentReporter:
    """Records one incident into ``basedir``, then tells the logger it is recorded."""

    TRAILING_DELAY: float | None = 5.0
    TRAILING_EVENT_LIMIT = 100

    def __init__(self, basedir: str, logger: RecordingLogger, tubid_s: str) -> None:
        self.basedir = basedir
        self.logger = logger
        self.tubid_s = tubid_s
        self.active = True
        self.still_recording = False
        self.remaining_events = 0
        self.trigger: Event = {}
        self.name = ""
        self.abs_filename = ""
        self.abs_filename_bz2 = ""
        self._timer: Any = None
        self._files: list[FlogWriter] = []

    def is_active(self) -> bool:
        """True until the incident has stopped recording."""
        return self.active

    def incident_declared(self, triggering_event: Event) -> None:
        """Open the files, write the header and the history, start the trailing time."""
        self.trigger = triggering_event
        now = self.logger.clock.seconds()
        self.name = incident_name(now, os.urandom(4))
        self.abs_filename = os.path.join(self.basedir, self.name + ".flog")
        self.abs_filename_bz2 = self.abs_filename + ".bz2"
        header: dict[str, Any] = {"trigger": triggering_event, "pid": os.getpid()}
        try:
            self._files = [
                FlogWriter(self.abs_filename, "incident", **header),
                FlogWriter(self.abs_filename_bz2 + ".tmp", "incident", compress=True, **header),
            ]
            events = sorted(self.logger.get_buffered_events(), key=lambda e: e["num"])
            for e in events:
                self._write(e, now)
            self._files[0].flush()
        except BaseException:
            self.active = False
            self._close()
            raise
        if self.TRAILING_DELAY is None:
            self.active = False
            self.logger.eventually(self.finished_recording)
            return
        self.still_recording = True
        self.remaining_events = self.TRAILING_EVENT_LIMIT
        self.logger.addObserver(self.trailing_event)
        self._timer = self.logger.clock.callLater(self.TRAILING_DELAY, self.stop_recording)

    def _write(self, ev: Event, rx_time: float) -> None:
        for f in self._files:
            f.write_event(ev, from_=self.tubid_s, rx_time=rx_time)

    def trailing_event(self, ev: Event) -> None:
        """An event after the trigger: recorded until the limit, which ends recording."""
        if not self.still_recording:
            return
        self.remaining_events -= 1
        if self.remaining_events >= 0:
            self._write(ev, self.logger.clock.seconds())
            return
        self.stop_recording()

    def new_trigger(self, ev: Event) -> None:
        """Another trigger while recording: it is in the file as a trailing event."""

    def stop_recording(self) -> None:
        """Stop taking trailing events; the files are finished on a later turn."""
        if not self.still_recording:
            return
        self.still_recording = False
        self.active = False
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self.logger.removeObserver(self.trailing_event)
        self.logger.eventually(self.finished_recording)

    def _close(self) -> None:
        for f in self._files:
            with contextlib.suppress(OSError):
                f.close()

    def finished_recording(self) -> None:
        """Give the ``.bz2`` its final name, drop the ``.flog``, tell the logger."""
        self._close()
        os.replace(self.abs_filename_bz2 + ".tmp", self.abs_filename_bz2)
        os.unlink(self.abs_filename)
        self.logger.eventually(
            self.logger.incident_recorded, self.abs_filename_bz2, self.name, self.trigger
        )


class NonTrailingIncidentReporter(IncidentReporter):
    """Records the history only: no trailing events."""

    TRAILING_DELAY = None


class IncidentClassifierError(Exception):
    """A classifier plug-in or an incident file could not be used."""


class IncidentClassifier:
    """Sorts incidents into categories with classifier functions of the trigger event."""

    def __init__(self) -> None:
        self.classifiers: list[Classifier] = []

    def add_classifier(self, f: Classifier) -> None:
        """Use ``f(trigger)``, which returns None, a category or a list of them."""
        self.classifiers.append(f)

    def add_classify_files(self, plugindir: str) -> None:
        """Load ``classify_incident`` from each ``classify_*.py`` file of ``plugindir``.

        These files are the user's own Python code, run as ``flogtool classify-incident``
        runs them; never point this at a directory you do not trust.
        """
        plugindir = os.path.expanduser(plugindir)
        try:
            names = sorted(os.listdir(plugindir))
        except OSError as e:
            raise IncidentClassifierError(f"cannot list classifier directory: {e}") from None
        for fn in names:
            if not (fn.startswith("classify_") and fn.endswith(".py")):
                continue
            path = os.path.join(plugindir, fn)
            try:
                namespace = runpy.run_path(path)
            except Exception as e:
                raise IncidentClassifierError(f"classifier {path} failed to load: {e!r}") from e
            f = namespace.get("classify_incident")
            if not callable(f):
                raise IncidentClassifierError(f"classifier {path} defines no classify_incident()")
            self.add_classifier(f)

    def load_incident(
        self, path: str, on_error: Callable[[FlogLineError], object] | None = None
    ) -> tuple[dict[str, Any], list[Event]]:
        """(header, events) of the incident file ``path``."""
        records = read_flogfile(path, on_error)
        first = next(records, None)
        if first is None or "header" not in first:
            raise IncidentClassifierError(f"{path}: no header record, so not an incident file")
        header = first["header"]
        if header.get("type") != "incident" or not isinstance(header.get("trigger"), dict):
            raise IncidentClassifierError(f"{path}: not an incident file (no trigger in header)")
        return header, [r["d"] for r in records if "d" in r]

    def classify_incident(self, incident: tuple[dict[str, Any], list[Event]]) -> set[str]:
        """The categories of ``incident``; ``{"unknown"}`` if no classifier names one."""
        trigger = incident[0]["trigger"]
        categories: set[str] = set()
        for f in self.classifiers:
            try:
                c = f(trigger)
            except Exception as e:
                raise IncidentClassifierError(f"classifier {f!r} failed: {e!r}") from e
            if not c:
                continue
            if isinstance(c, str):
                categories.add(c)
            else:
                categories.update(str(x) for x in c)
        return categories or {"unknown"}
