"""Foolscap's log event dictionaries: the keys they carry and their text.

An event is a plain ``dict``. The logger fills in ``num``, ``time``, ``incarnation``,
``level`` and one of ``message`` (plus ``args``) or ``format``; callers may add
``facility``, ``parent``, ``isError``, ``failure``, ``why``, ``stacktrace`` and any
keyword fields of their own. Events read from files or received from peers may carry
``bytes`` where a local one has ``str``; :func:`format_message` accepts both.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any

__all__ = ["FORMAT_TIME_MODES", "MAX_FIELD_WIDTH", "Event", "format_message", "format_time"]

#: what an event is at run time
Event = dict[str, Any]


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else str(value)


def _str_keys(event: Mapping[Any, Any]) -> dict[str, Any]:
    if all(type(k) is str for k in event):
        return dict(event)
    return {_text(k): v for k, v in event.items()}


#: the widest field a format may ask for: a peer's "%(num)999999999d" must not
#: make us build a gigabyte string
MAX_FIELD_WIDTH = 1000
_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


def _check_widths(fmt: str) -> str:
    for width, precision in _SPEC.findall(fmt):
        for n in (width, precision):
            if n == "*" or (n and int(n) > MAX_FIELD_WIDTH):
                raise ValueError(f"field width {n} is over {MAX_FIELD_WIDTH}")
    return fmt


def format_message(event: Mapping[Any, Any]) -> str:
    """The text of ``event`` as Foolscap shows it.

    ``format`` is %-formatted with the event itself, ``message`` with ``args`` when
    present, else ``message`` is the text. When formatting fails (or a field is wider
    than :data:`MAX_FIELD_WIDTH`) the text is the message followed by
    ``" [formatting failed]"``; this never raises.
    """
    e = _str_keys(event)
    try:
        if "format" in e:
            return _text(_check_widths(_text(e["format"])) % e)
        if "args" in e:
            args = e["args"]
            if isinstance(args, list | tuple):
                args = tuple(_text(a) if isinstance(a, bytes) else a for a in args)
                if isinstance(e["args"], list):
                    # as Foolscap does for args read back from JSON: the list is one argument
                    args = list(args)
            return _text(_check_widths(_text(e.get("message", ""))) % args)
        if "message" in e:
            return _text(e["message"])
        return ""
    except Exception:  # whatever a peer's event holds, showing it must not fail
        try:
            return _text(e.get("message", "[no message]")) + " [formatting failed]"
        except Exception:
            return "[unprintable message] [formatting failed]"


#: the timestamp styles of ``flogtool dump --timestamps``
FORMAT_TIME_MODES = ("short-local", "long-local", "utc", "epoch")


def format_time(when: float, mode: str) -> str:
    """``when`` (seconds since the epoch) as ``flogtool`` shows it in ``mode``.

    short-local ``12:00:00.123``; long-local ``2024-09-01_12:00:00.123456+0200``;
    utc ``2024-09-01_10:00:00.123456Z``; epoch ``1725184800.123``.
    """
    fraction = when - int(when)
    if mode == "short-local":
        return time.strftime("%H:%M:%S", time.localtime(when)) + f".{int(1000 * fraction):03d}"
    if mode == "long-local":
        lt = time.localtime(when)
        stamp = time.strftime("%Y-%m-%d_%H:%M:%S", lt)
        return f"{stamp}.{int(1000000 * fraction):06d}" + time.strftime("%z", lt)
    if mode == "utc":
        stamp = time.strftime("%Y-%m-%d_%H:%M:%S", time.gmtime(when))
        return f"{stamp}.{int(1000000 * fraction):06d}Z"
    if mode == "epoch":
        return f"{when:.03f}"
    raise ValueError(f"unknown time format {mode!r}: one of {', '.join(FORMAT_TIME_MODES)}")
