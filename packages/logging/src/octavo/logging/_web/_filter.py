"""The viewer's event filter: minimum level, facility prefix, tubid and text (sans-IO).

The page applies the same four tests in its script; the JSON endpoint applies these.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ._model import MAX_FACILITY, MAX_ID, MAX_TEXT, ViewEvent

_INTEGER = re.compile(r"-?[0-9]{1,18}")


class FilterError(ValueError):
    """A query parameter of a filter was malformed; the message names it."""


def parse_int(name: str, value: str) -> int:
    """*value* as an integer of at most 18 ASCII digits, else a FilterError naming *name*."""
    if not _INTEGER.fullmatch(value):
        raise FilterError(f"{name} is {value[:40]!r}, not an integer")
    return int(value)


@dataclass(frozen=True)
class EventFilter:
    """Which events to show; the empty filter shows all of them."""

    min_level: int = 0
    facility: str = ""
    tubid: str = ""
    text: str = ""

    def matches(self, event: ViewEvent) -> bool:
        """True when *event* passes all four tests (text: case-insensitive substring)."""
        return (
            event.level >= self.min_level
            and event.facility.startswith(self.facility)
            and (not self.tubid or event.tubid.startswith(self.tubid))
            and (not self.text or self.text.casefold() in event.text.casefold())
        )


def _one(query: Mapping[str, Sequence[str]], name: str, limit: int) -> str:
    values = query.get(name, [])
    if len(values) > 1:
        raise FilterError(f"{name} is given {len(values)} times")
    value = values[0] if values else ""
    if len(value) > limit:
        raise FilterError(f"{name} is longer than {limit} characters")
    return value


def parse_filter(query: Mapping[str, Sequence[str]]) -> EventFilter:
    """The EventFilter of query parameters ``level``, ``facility``, ``tubid`` and ``text``."""
    level = _one(query, "level", 19)
    return EventFilter(
        min_level=parse_int("level", level) if level else 0,
        facility=_one(query, "facility", MAX_FACILITY),
        tubid=_one(query, "tubid", MAX_ID),
        text=_one(query, "text", MAX_TEXT),
    )
