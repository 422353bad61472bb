"""Checking events that arrive from other Tubs before we keep or show them.

A remote event is a dict we did not make: :func:`check_remote_event` returns a
plain copy with ``str`` keys (Foolscap's old Tubs send ``bytes``) or raises
:class:`BadEventError` naming what is wrong: not a dict, keys that are not
strings, nesting deeper than :data:`MAX_DEPTH`, more than :data:`MAX_ITEMS`
values in all, strings longer than :data:`MAX_STRING`, values other than
containers, scalars and Failures, well-known fields of the wrong type (``num``,
``level``, ``time``, ``format``, ``message``), or %-conversions in ``format`` /
``message`` wider than :data:`MAX_FORMAT_WIDTH` (or ``*``), which would make
formatting the event allocate without bound. The walk is iterative, so no
input can make it recurse without bound. :func:`check_json_event` does the same
for an event that came as a line of JSON (Octavo's batched subscriptions).
"""

from __future__ import annotations

import json
import re
from typing import Any

from twisted.python.failure import Failure

__all__ = [
    "MAX_DEPTH",
    "MAX_ITEMS",
    "MAX_STRING",
    "BadEventError",
    "check_json_event",
    "check_remote_event",
]

#: containers inside containers, at most
MAX_DEPTH = 32
#: values (scalars and containers) in one event, at most
MAX_ITEMS = 100_000
#: characters (or bytes) of one string, at most
MAX_STRING = 1_000_000
# a JSON line this short holds fewer values than MAX_ITEMS and no longer string
_SMALL_LINE = min(MAX_ITEMS, MAX_STRING)

# a Failure (log.err's "failure", a CopiedFailure on arrival) is kept whole
#: the widest field a %-format of a remote event may ask for
MAX_FORMAT_WIDTH = 9999
# a %-conversion's flags, width and precision ("%(name)-*.5d" -> "*", "5")
_CONVERSION = re.compile(r"%(?:%|(?:\([^)]*\))?[#0 +-]*(\*|\d+)?(?:\.(\*|\d+))?)")

_SCALARS = (str, bytes, int, float, bool, type(None), Failure)
#: exact types taken without a closer look
_PLAIN = frozenset({int, float, bool, type(None)})
_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "num": (int,),
    "level": (int,),
    "time": (int, float),
    "format": (str,),
    "message": (str,),
    "facility": (str,),
}


# the exact types a well-known field's value is taken as without a closer look
_EXACT: dict[str, frozenset[type]] = {
    field: frozenset(t for t in types if t is not bool) for field, types in _FIELD_TYPES.items()
}
_ABSENT = object()
# formats and messages (of at most _WELL_FORMED_LONGEST characters) whose
# %-conversions passed, since events repeat them: a set cleared once it holds
# _WELL_FORMED_MAX of them, so at most a few hundred kB
_WELL_FORMED: set[str] = set()
_WELL_FORMED_MAX = 1024
_WELL_FORMED_LONGEST = 256


def remote_text(value: object, what: str, encoding: str, error: type[Exception]) -> str:
    """A peer's name (a str, or bytes in ``encoding``), else ``error`` saying which."""
    if isinstance(value, bytes):
        try:
            return value.decode(encoding)
        except UnicodeDecodeError:
            raise error(f"{what} is not {encoding.upper()}: {value[:60]!r}") from None
    if isinstance(value, str):
        return value
    raise error(f"{what} must be a string, not {type(value).__name__}")


class BadEventError(ValueError):
    """A remote event we refuse to keep, and why."""


def _key(k: object) -> str:
    if isinstance(k, str):
        return k
    if isinstance(k, bytes):
        return k.decode("utf-8", "replace")
    raise BadEventError(f"event key must be a string, not {type(k).__name__}")


def _walk(stack: list[tuple[object, int]], budget: int) -> None:
    """Check the containers on ``stack`` (container, depth) and all they hold."""
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise BadEventError(f"event nested deeper than {MAX_DEPTH} levels")
        children: list[object]
        if isinstance(node, dict):
            children = [*node.keys(), *node.values()]
        elif isinstance(node, (list, tuple, set, frozenset)):
            children = list(node)
        else:
            raise BadEventError(f"event holds a {type(node).__name__}")
        budget -= len(children)
        if budget < 0:
            raise BadEventError(f"event has more than {MAX_ITEMS} values")
        for child in children:
            if isinstance(child, (str, bytes)):
                if len(child) > MAX_STRING:
                    raise BadEventError(f"event holds a string longer than {MAX_STRING}")
            elif not isinstance(child, _SCALARS):
                stack.append((child, depth + 1))


def check_remote_event(obj: object) -> dict[str, Any]:
    """A checked copy of ``obj`` (see the module docstring), or BadEventError."""
    if not isinstance(obj, dict):
        raise BadEventError(f"an event must be a dict, not {type(obj).__name__}")
    budget = MAX_ITEMS - 2 * len(obj)
    if budget < 0:
        raise BadEventError(f"event has more than {MAX_ITEMS} values")
    # the top level in one pass (most events are flat but for a tuple or two)
    nested: list[tuple[object, int]] = []
    str_keys = True
    for k, v in obj.items():
        if type(k) is not str:
            str_keys = False
            _key(k)
        if len(k) > MAX_STRING:
            raise BadEventError(f"event holds a string longer than {MAX_STRING}")
        kind = type(v)
        if kind is str or kind is bytes:
            if len(v) > MAX_STRING:
                raise BadEventError(f"event holds a string longer than {MAX_STRING}")
        elif kind not in _PLAIN and not isinstance(v, _SCALARS):
            nested.append((v, 2))
    if nested:
        _walk(nested, budget)
    event = dict(obj) if str_keys else {_key(k): v for k, v in obj.items()}
    _check_fields(event)
    return event


def _check_fields(event: dict[str, Any]) -> None:
    """The well-known fields' types (bytes made str in place) and %-conversions."""
    for field, types in _FIELD_TYPES.items():
        value = event.get(field, _ABSENT)
        if type(value) in _EXACT[field] or value is _ABSENT:
            continue
        if isinstance(value, bytes) and str in types:
            value = event[field] = value.decode("utf-8", "replace")
        if isinstance(value, bool) or not isinstance(value, types):
            raise BadEventError(
                f"event field {field!r} must be {'/'.join(t.__name__ for t in types)}, "
                f"not {type(value).__name__}"
            )
    for field in ("format", "message"):
        text = event.get(field)
        if isinstance(text, str) and "%" in text and text not in _WELL_FORMED:
            _check_conversions(field, text)
            if len(text) <= _WELL_FORMED_LONGEST:
                if len(_WELL_FORMED) >= _WELL_FORMED_MAX:
                    _WELL_FORMED.clear()
                _WELL_FORMED.add(text)


def _check_conversions(field: str, text: str) -> None:
    """Refuse %-conversions that would make formatting allocate without bound."""
    for m in _CONVERSION.finditer(text):
        for spec in m.groups():
            if spec == "*" or (spec is not None and int(spec) > MAX_FORMAT_WIDTH):
                raise BadEventError(
                    f"event field {field!r} asks for a field width {spec!r} "
                    f"(more than {MAX_FORMAT_WIDTH} or '*')"
                )


def check_json_event(line: bytes) -> dict[str, Any]:
    """The event one line of UTF-8 JSON holds, checked as :func:`check_remote_event`
    checks one (so the line may be written as it is), or BadEventError.

    JSON holds only str keys, strs, numbers, bools, None, lists and dicts, and a line
    shorter than :data:`MAX_ITEMS` bytes (and :data:`MAX_STRING`) cannot hold more
    values or a longer string than those allow, nor nest deeper than it has ``[`` and
    ``{``: such a line needs only its well-known fields checked; any other goes through
    :func:`check_remote_event`'s whole walk."""
    try:
        obj = json.loads(line.decode("utf-8"))
    except (ValueError, RecursionError) as e:  # (UnicodeDecodeError is a ValueError)
        raise BadEventError(f"event line is not UTF-8 JSON: {str(e)[:200]}") from None
    if not isinstance(obj, dict):
        raise BadEventError(f"an event must be a dict, not {type(obj).__name__}")
    if len(line) >= _SMALL_LINE or line.count(b"[") + line.count(b"{") > MAX_DEPTH:
        return check_remote_event(obj)
    _check_fields(obj)
    return obj
