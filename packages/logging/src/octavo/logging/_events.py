"""Foolscap's log event dictionaries: the keys they carry and their text.

An event is a plain ``dict``. The logger fills in ``num``, ``time``, ``incarnation``,
``level`` and one of ``message`` (plus ``args``) or ``format``; callers may add
``facility``, ``parent``, ``isError``, ``failure``, ``why``, ``stacktrace`` and any
keyword fields of their own. Events read from files or received from peers may carry
``bytes`` where a local one has ``str``; :func:`format_message` accepts both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["Event", "format_message"]

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


def format_message(event: Mapping[Any, Any]) -> str:
    """The text of ``event`` as Foolscap shows it.

    ``format`` is %-formatted with the event itself, ``message`` with ``args`` when
    present, else ``message`` is the text. When formatting fails the text is the
    message followed by ``" [formatting failed]"``; this never raises.
    """
    e = _str_keys(event)
    try:
        if "format" in e:
            return _text(_text(e["format"]) % e)
        if "args" in e:
            args = e["args"]
            if isinstance(args, list | tuple):
                args = tuple(_text(a) if isinstance(a, bytes) else a for a in args)
                if isinstance(e["args"], list):
                    # as Foolscap does for args read back from JSON: the list is one argument
                    args = list(args)
            return _text(_text(e.get("message", "")) % args)
        if "message" in e:
            return _text(e["message"])
        return ""
    except (ValueError, TypeError, KeyError):
        return _text(e.get("message", "[no message]")) + " [formatting failed]"
