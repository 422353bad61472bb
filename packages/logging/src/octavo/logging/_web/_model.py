"""Events as the web viewer shows them: remote records checked, bounded and flattened.

Sans-IO: plain functions and small classes, no reactor. A record is what a flogfile or a
log port yields: ``{"from": tubid, "rx_time": float, "d": event}``, or a ``{"header": ...}``.
Every string is cut to a bound here, so nothing a peer sends can grow the page without limit;
the page escapes what is left (it only ever sets ``textContent``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from octavo.logging._levels import OPERATIONAL, WEIRD

#: Bounds on what one event may bring (characters).
MAX_ID = 128
MAX_FACILITY = 256
MAX_TEXT = 8192
MAX_FAILURE = 32768
#: Most characters formatting an event may produce before the viewer cuts it to MAX_TEXT:
#: past this, a peer's ``"%(a)s" * n`` with a long ``a`` is shown unformatted instead.
MAX_EXPANSION = 1_000_000

_WIDTH = re.compile(rb"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)(?:\.(\*|\d+))?")

Formatter = Callable[[Mapping[str, Any]], str]


class BadEventError(ValueError):
    """A record the viewer cannot show; the message names the field that was wrong."""


@dataclass(frozen=True)
class ViewEvent:
    """One event, flattened for the page; ``seq`` is its place in the store (from 0)."""

    seq: int
    key: str
    tubid: str
    incarnation: str
    num: int | None
    parent: int | None
    time: float
    level: int
    facility: str
    text: str
    failure: str | None
    trigger: bool = False

    @property
    def size(self) -> int:
        """The characters this event holds, roughly (for the store's bound)."""
        return 256 + len(self.text) + len(self.facility) + len(self.failure or "")

    @property
    def parent_key(self) -> str | None:
        """The key of this event's parent: same tubid and incarnation, number ``parent``."""
        if self.parent is None:
            return None
        return event_key(self.tubid, self.incarnation, self.parent)

    def as_json(self) -> dict[str, Any]:
        """The JSON object the page gets for this event."""
        return {
            "seq": self.seq,
            "key": self.key,
            "from": self.tubid,
            "inc": self.incarnation,
            "num": self.num,
            "parent": self.parent_key,
            "time": self.time,
            "level": self.level,
            "facility": self.facility,
            "text": self.text,
            "failure": self.failure,
            "trigger": self.trigger,
            "incident": self.is_incident,
        }

    @property
    def is_incident(self) -> bool:
        """An event the page lists among incidents: WEIRD and up, or an incident trigger."""
        return self.trigger or self.level >= WEIRD


def bounded(text: str, limit: int) -> str:
    """*text*, cut to *limit* characters with a marker saying how much went."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"... [{len(text) - limit} more characters]"


def as_text(value: object, field: str, limit: int) -> str:
    """A str or bytes field as bounded text; anything else is a BadEventError."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        raise BadEventError(f"{field} is {type(value).__name__}, not a string")
    return bounded(value, limit)


def as_int(value: object, field: str) -> int:
    """An int field (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadEventError(f"{field} is {type(value).__name__}, not an integer")
    return value


def event_key(tubid: str, incarnation: str, num: int) -> str:
    """The stable anchor of an event: ``E`` tubid ``_`` incarnation ``_`` number, quoted."""
    return f"E{quote(tubid, safe='')}_{quote(incarnation, safe='')}_{num}"


def incarnation_of(event: Mapping[str, Any]) -> str:
    """The first part of an event's ``incarnation`` pair (hex), or ``""`` when it has none."""
    inc = event.get("incarnation")
    if inc is None:
        return ""
    if isinstance(inc, (list, tuple)) and inc:
        inc = inc[0]
    if inc is None:
        return ""
    return as_text(inc, "incarnation", MAX_ID)


def failure_text(failure: object) -> str:
    """The text of a ``failure`` field: a flogfile's ``{"@": "Failure", ...}`` or anything."""
    if isinstance(failure, Mapping):
        for name in ("traceback", "str", "repr"):
            value = failure.get(name)
            if isinstance(value, (str, bytes)):
                return as_text(value, f"failure.{name}", MAX_FAILURE)
    return bounded(str(failure), MAX_FAILURE)


def _size(value: object, budget: int) -> int:
    """Roughly how long ``str(value)`` is, counting no further than *budget*."""
    total, todo = 0, [value]
    while todo and total <= budget:
        item = todo.pop()
        if isinstance(item, (str, bytes)):
            total += len(item) + 2
        elif isinstance(item, Mapping):
            total += 2
            todo.extend(item.keys())
            todo.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            total += 2
            todo.extend(item)
        else:
            total += 32
    return total


def expansion_bound(event: Mapping[str, Any]) -> int:
    """An upper bound (roughly) on the length of the event's formatted text."""
    if "format" in event:
        fmt, values = event["format"], list(event.values())
    elif "args" in event:
        fmt, args = event.get("message", ""), event["args"]
        values = list(args) if isinstance(args, (list, tuple)) else [args]
    else:
        return 0
    if isinstance(fmt, str):
        fmt = fmt.encode("utf-8", "replace")
    if not isinstance(fmt, bytes):
        return 0
    refs = fmt.count(b"%")
    if refs == 0:
        return len(fmt)
    widest = max((_size(v, MAX_EXPANSION) for v in values), default=0)
    widths = 0
    for match in _WIDTH.finditer(fmt):
        for part in match.groups():
            if part is not None:
                widths += MAX_EXPANSION if part == b"*" or len(part) > 7 else int(part)
    return len(fmt) + refs * widest + widths


def format_bounded(event: Mapping[str, Any], formatter: Formatter) -> str:
    """The event's text through *formatter*, unless it could grow past MAX_EXPANSION."""
    if expansion_bound(event) > MAX_EXPANSION:
        raw = event.get("format", event.get("message", ""))
        raw = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        return bounded(raw, MAX_TEXT) + " [not formatted: it could grow too large]"
    try:
        return formatter(event)
    except Exception as exc:  # a peer's format string may break the formatter in any way
        return f"[unformattable event: {type(exc).__name__}]"


def view_event(
    record: Mapping[str, Any],
    seq: int,
    formatter: Formatter,
    *,
    trigger: bool = False,
    run: str = "",
) -> ViewEvent:
    """The ViewEvent of an event *record*, or a BadEventError naming what was wrong.

    An event without a ``num`` is keyed by its place instead, ``S<run>_<seq>`` (``S<seq>``
    without a run): with the run of the store, a permalink to it made before the viewer
    restarted names no event afterwards, rather than whichever got that seq again.
    """
    if not isinstance(record, Mapping):
        raise BadEventError(f"record is {type(record).__name__}, not an object")
    event = record.get("d")
    if not isinstance(event, Mapping):
        raise BadEventError("record has no event object under 'd'")
    tubid = as_text(record.get("from", ""), "from", MAX_ID)
    incarnation = incarnation_of(event)
    num = as_int(event["num"], "num") if "num" in event else None
    parent = as_int(event["parent"], "parent") if event.get("parent") is not None else None
    when = event.get("time", record.get("rx_time", 0.0))
    if isinstance(when, bool) or not isinstance(when, (int, float)) or not math.isfinite(when):
        raise BadEventError(f"time is {when!r:.40}, not a finite number")
    level = as_int(event.get("level", OPERATIONAL), "level")
    facility = as_text(event.get("facility", ""), "facility", MAX_FACILITY)
    text = format_bounded(event, formatter)
    failure = failure_text(event["failure"]) if event.get("failure") is not None else None
    if num is not None:
        key = event_key(tubid, incarnation, num)
    else:
        key = f"S{run}_{seq}" if run else f"S{seq}"
    return ViewEvent(
        seq=seq,
        key=key,
        tubid=tubid,
        incarnation=incarnation,
        num=num,
        parent=parent,
        time=float(when),
        level=level,
        facility=facility,
        text=bounded(str(text), MAX_TEXT),
        failure=failure,
        trigger=trigger,
    )


def trigger_of(header: Mapping[str, Any]) -> tuple[str, int] | None:
    """(incarnation, num) of an incident header's triggering event, or None for other headers."""
    if header.get("type") != "incident":
        return None
    trigger = header.get("trigger")
    if not isinstance(trigger, Mapping) or "num" not in trigger:
        return None
    try:
        return incarnation_of(trigger), as_int(trigger["num"], "trigger.num")
    except BadEventError:
        return None
