"""Bridges between Foolscap-style events and Twisted's and Python's loggers.

Each bridge marks what it forwards with where it came from (``from-twisted``,
``from-foolscap``, ``from-logging``) and never forwards an event back to the side it
came from, so bridging both ways does not loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, cast

from twisted.logger import (
    ILogObserver,
    LogLevel,
    LogPublisher,
    eventAsText,
    globalLogPublisher,
)
from twisted.python import failure
from zope.interface import implementer  # type: ignore[import-untyped,unused-ignore]

from ._events import Event, format_message
from ._levels import BAD, NOISY, OPERATIONAL, WEIRD
from ._logger import FoolscapLogger, Observer, theLogger

__all__ = [
    "FoolscapHandler",
    "TwistedLogBridge",
    "bridgeLogsFromLogging",
    "bridgeLogsFromTwisted",
    "bridgeLogsToLogging",
    "bridgeLogsToTwisted",
    "unbridgeLogsFromTwisted",
]

EventFilter = Callable[[Event], bool]

_FROM_TWISTED_LEVELS = {
    LogLevel.debug: NOISY,
    LogLevel.info: OPERATIONAL,
    LogLevel.warn: WEIRD,
    LogLevel.error: BAD,
    LogLevel.critical: BAD + 10,
}


def _twisted_level(level: object) -> Any:
    """Twisted's LogLevel for a Foolscap level (info for anything not a number)."""
    if not isinstance(level, int | float):
        return LogLevel.info
    if level < OPERATIONAL:
        return LogLevel.debug
    if level < WEIRD:
        return LogLevel.info
    if level < BAD:
        return LogLevel.warn
    return LogLevel.error if level < BAD + 10 else LogLevel.critical


def _event_text(event: Event) -> str:
    """The message of ``event``, followed by its failure's traceback if it has one."""
    text = format_message(event)
    f = event.get("failure")
    if isinstance(f, failure.Failure):
        text = f"{text}\n{f.getTraceback()}" if text else f.getTraceback()
    return text


def _keep_operational(event: Event) -> bool:
    """The default filter: events at OPERATIONAL or above, not from Foolscap itself."""
    facility = event.get("facility")
    if isinstance(facility, str) and facility.startswith("foolscap"):
        return False
    level = event.get("level", OPERATIONAL)
    return isinstance(level, int | float) and level >= OPERATIONAL


# --- Twisted -> Foolscap -----------------------------------------------------------


@implementer(ILogObserver)
class TwistedLogBridge:
    """Copies each ``twisted.logger`` event into a FoolscapLogger (``from-twisted``)."""

    def __init__(self, tubID: str | None = None, foolscap_logger: FoolscapLogger = theLogger):
        self.tubID = tubID
        self.logger = foolscap_logger

    def observer(self, event: dict[str, Any]) -> None:
        """The ``twisted.logger`` observer."""
        if "from-foolscap" in event:
            return
        kwargs: dict[str, Any] = {"tubID": self.tubID, "from-twisted": True}
        level = event.get("log_level")
        if isinstance(level, type(LogLevel.info)):
            kwargs["level"] = _FROM_TWISTED_LEVELS.get(level, OPERATIONAL)
        has_failure = "log_failure" in event
        kwargs["isError"] = int(has_failure or level in (LogLevel.error, LogLevel.critical))
        for theirs, ours in (
            ("log_time", "time"),
            ("log_system", "system"),
            ("log_namespace", "log_namespace"),
            ("why", "why"),
        ):
            if theirs in event:
                kwargs[ours] = event[theirs]
        text = eventAsText(
            event, includeTraceback=True, includeTimestamp=False, includeSystem=False
        )
        self.logger.msg(text, **kwargs)

    __call__ = observer


_twisted_bridges: dict[tuple[int, int], tuple[object, TwistedLogBridge]] = {}


def bridgeLogsFromTwisted(
    tubID: str | None = None,
    twisted_logger: LogPublisher = globalLogPublisher,
    foolscap_logger: FoolscapLogger = theLogger,
) -> TwistedLogBridge:
    """Copy every Twisted log event into ``foolscap_logger`` (once per pair of loggers).

    Calling it again, with another tubID say, returns the bridge already made.
    """
    key = (id(twisted_logger), id(foolscap_logger))
    if key not in _twisted_bridges:
        bridge = TwistedLogBridge(tubID, foolscap_logger)
        twisted_logger.addObserver(cast(ILogObserver, bridge))
        _twisted_bridges[key] = (twisted_logger, bridge)
    return _twisted_bridges[key][1]


def unbridgeLogsFromTwisted(twisted_logger: LogPublisher, bridge: TwistedLogBridge) -> None:
    """Undo :func:`bridgeLogsFromTwisted`."""
    _twisted_bridges.pop((id(twisted_logger), id(bridge.logger)), None)
    twisted_logger.removeObserver(cast(ILogObserver, bridge))


# --- Foolscap -> Twisted -----------------------------------------------------------


def bridgeLogsToTwisted(
    filter: EventFilter | None = None,
    foolscap_logger: FoolscapLogger = theLogger,
    twisted_logger: Callable[[dict[str, Any]], None] = globalLogPublisher,
) -> Observer:
    """Send Foolscap events to Twisted's logger (``from-foolscap``).

    ``filter(event)`` chooses them; by default those at OPERATIONAL or above whose
    facility does not start with ``foolscap``. Returns the observer added to
    ``foolscap_logger``, for ``removeObserver``.
    """
    keep = filter or _keep_operational

    def to_twisted(event: Event) -> None:
        if "from-twisted" in event or not keep(event):
            return
        level = event.get("level", OPERATIONAL)
        twisted_logger(
            {
                "log_format": "{foolscap_text}",
                "foolscap_text": _event_text(event),
                "log_level": _twisted_level(level),
                "log_namespace": "foolscap",
                "log_source": None,
                "log_system": "foolscap",
                "log_time": event.get("time"),
                "from-foolscap": True,
                "num": event.get("num"),
                "level": level,
            }
        )

    foolscap_logger.addObserver(to_twisted)
    return to_twisted


# --- Python logging <-> Foolscap --------------------------------------------------


def _came_from_foolscap(record: logging.LogRecord) -> bool:
    if getattr(record, "from_foolscap", False):
        return True
    # Twisted's STDLibLogObserver passes the Twisted event along as the message
    event = getattr(record.msg, "event", None)
    return isinstance(event, dict) and "from-foolscap" in event


class FoolscapHandler(logging.Handler):
    """A ``logging`` handler that logs each record into a FoolscapLogger.

    The event has the record's level, its logger's name as facility, its time, its
    exception as ``failure`` and ``from-logging``. Records that came from Foolscap
    (through :func:`bridgeLogsToLogging` or through Twisted) are dropped.
    """

    def __init__(
        self, foolscap_logger: FoolscapLogger = theLogger, level: int = logging.NOTSET
    ) -> None:
        super().__init__(level)
        self.foolscap_logger = foolscap_logger

    def emit(self, record: logging.LogRecord) -> None:
        """Log ``record`` into the Foolscap logger."""
        if _came_from_foolscap(record):
            return
        try:
            kwargs: dict[str, Any] = {
                "level": record.levelno,
                "facility": record.name,
                "time": record.created,
                "from-logging": True,
            }
            if record.exc_info and record.exc_info[1] is not None:
                exc_type, exc, tb = record.exc_info
                f = failure.Failure(exc, exc_type, tb)  # type: ignore[no-untyped-call,unused-ignore]
                f.cleanFailure()  # type: ignore[no-untyped-call,unused-ignore]
                kwargs["failure"] = f
                kwargs["isError"] = 1
            self.foolscap_logger.msg(record.getMessage(), **kwargs)
        except Exception:
            self.handleError(record)


def bridgeLogsFromLogging(
    logger_name: str = "", foolscap_logger: FoolscapLogger = theLogger
) -> FoolscapHandler:
    """Add a :class:`FoolscapHandler` to ``logging.getLogger(logger_name)`` and return it."""
    handler = FoolscapHandler(foolscap_logger)
    logging.getLogger(logger_name).addHandler(handler)
    return handler


def bridgeLogsToLogging(
    filter: EventFilter | None = None,
    foolscap_logger: FoolscapLogger = theLogger,
    prefix: str = "foolscap",
) -> Observer:
    """Send Foolscap events to Python's ``logging``.

    An event of facility ``a/b`` (or ``a.b``) goes to logger ``PREFIX.a.b``, others to
    ``PREFIX``, at the event's level, marked ``from_foolscap``. ``filter`` as in
    :func:`bridgeLogsToTwisted`. Returns the observer, for ``removeObserver``.
    """
    keep = filter or _keep_operational

    def to_logging(event: Event) -> None:
        if "from-logging" in event or not keep(event):
            return
        facility = event.get("facility")
        name = prefix
        if isinstance(facility, str) and facility:
            name = f"{prefix}.{facility.replace('/', '.')}"
        level = event.get("level", OPERATIONAL)
        if not isinstance(level, int):
            level = OPERATIONAL
        target = logging.getLogger(name)
        if target.isEnabledFor(level):
            target.log(
                level,
                "%s",
                _event_text(event),
                extra={"from_foolscap": True, "foolscap_event": event},
            )

    foolscap_logger.addObserver(to_logging)
    return to_logging
