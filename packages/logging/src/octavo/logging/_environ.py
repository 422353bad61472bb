"""Logging set up from the environment when ``octavo.logging.log`` is first imported.

As Foolscap does: ``FLOGFILE=PATH`` saves every event at ``FLOGLEVEL`` or above
(default OPERATIONAL) to the flogfile PATH (``.bz2``: compressed) until the reactor
shuts down, and is removed from the environment so child processes do not write the
same file; ``FLOGTWISTED`` copies Twisted's log events into Foolscap's logger;
``FLOGTOTWISTED`` sends events at ``FLOGLEVEL`` or above, except Foolscap's own, to
Twisted's logger. ``FLOGLEVEL`` is a number or a level name (``UNUSUAL``).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, MutableMapping
from typing import Any, TextIO

from ._bridges import bridgeLogsFromTwisted, bridgeLogsToTwisted
from ._events import Event
from ._flogfile import FlogWriter
from ._levels import OPERATIONAL, level_from_name
from ._logger import FoolscapLogger

__all__ = ["LogFileObserver", "apply_environment"]


class LogFileObserver:
    """An observer that writes events at ``level`` or above into a flogfile."""

    def __init__(self, filename: str, level: int = OPERATIONAL) -> None:
        self._writer: FlogWriter | None = FlogWriter(
            filename, "log-file-observer", pid=os.getpid(), threshold=level
        )
        self._level = level

    def msg(self, event: Event) -> None:
        """Write ``event`` if it is at the threshold or above."""
        level = event.get("level", OPERATIONAL)
        if self._writer is None:
            return
        if isinstance(level, int | float) and level < self._level:
            return
        self._writer.write_event(event, from_="local", rx_time=time.time())

    def stop_on_shutdown(self) -> None:
        """Close the file once the reactor has shut down."""
        from twisted.internet import reactor  # noqa: PLC0415 - only when asked

        trigger: Any = reactor.addSystemEventTrigger  # type: ignore[attr-defined,unused-ignore]
        trigger("after", "shutdown", self.stop)

    def stop(self) -> None:
        """Close the file; later events are ignored."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def _level(environ: MutableMapping[str, str], stderr: TextIO) -> int:
    text = environ.get("FLOGLEVEL")
    if text is None:
        return OPERATIONAL
    try:
        return level_from_name(text)
    except ValueError as e:
        print(f"FLOGLEVEL: {e}; using OPERATIONAL", file=stderr)
        return OPERATIONAL


def apply_environment(
    logger: FoolscapLogger,
    environ: MutableMapping[str, str] | None = None,
    stderr: TextIO | None = None,
    at_shutdown: Callable[[LogFileObserver], object] = LogFileObserver.stop_on_shutdown,
) -> LogFileObserver | None:
    """Apply FLOGFILE, FLOGLEVEL, FLOGTWISTED and FLOGTOTWISTED; the file observer if any.

    ``at_shutdown(observer)`` arranges for the FLOGFILE to be closed (by default when
    the reactor shuts down).
    """
    env = os.environ if environ is None else environ
    err = sys.stderr if stderr is None else stderr
    observer = None
    filename = env.pop("FLOGFILE", None)
    if filename:
        try:
            observer = LogFileObserver(filename, _level(env, err))
        except OSError as e:
            print(f"FLOGFILE: unable to write to {filename}, ignoring ({e})", file=err)
        else:
            at_shutdown(observer)
            logger.addObserver(observer.msg)
    if "FLOGTWISTED" in env:
        bridgeLogsFromTwisted(foolscap_logger=logger)
    if "FLOGTOTWISTED" in env:
        threshold = _level(env, err)

        def keep(event: Event) -> bool:
            facility = event.get("facility")
            if isinstance(facility, str) and facility.startswith("foolscap"):
                return False
            level = event.get("level", OPERATIONAL)
            return isinstance(level, int | float) and level >= threshold

        bridgeLogsToTwisted(filter=keep, foolscap_logger=logger)
    return observer
