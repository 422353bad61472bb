"""Foolscap's numeric severity levels (they line up with Python's ``logging`` levels)."""

from __future__ import annotations

__all__ = [
    "BAD",
    "CURIOUS",
    "INFREQUENT",
    "LEVEL_NAMES",
    "NOISY",
    "OPERATIONAL",
    "SCARY",
    "UNUSUAL",
    "WEIRD",
    "level_from_name",
    "level_name",
]

NOISY = 10  # logging.DEBUG
OPERATIONAL = 20  # logging.INFO
UNUSUAL = 23
INFREQUENT = 25
CURIOUS = 28
WEIRD = 30  # logging.WARNING
SCARY = 35
BAD = 40  # logging.ERROR

#: level number -> its Foolscap name, from least to most severe
LEVEL_NAMES: dict[int, str] = {
    NOISY: "NOISY",
    OPERATIONAL: "OPERATIONAL",
    UNUSUAL: "UNUSUAL",
    INFREQUENT: "INFREQUENT",
    CURIOUS: "CURIOUS",
    WEIRD: "WEIRD",
    SCARY: "SCARY",
    BAD: "BAD",
}
_BY_NAME = {name: number for number, name in LEVEL_NAMES.items()}


def level_name(level: object) -> str:
    """The Foolscap name of ``level`` (``"WEIRD"``), or its ``str`` if it has none."""
    if isinstance(level, int) and level in LEVEL_NAMES:
        return LEVEL_NAMES[level]
    return str(level)


def level_from_name(text: str) -> int:
    """A level from its number (``"23"``) or its name, any case (``"unusual"``).

    Raises :class:`ValueError` naming ``text`` if it is neither.
    """
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return _BY_NAME[text.strip().upper()]
    except KeyError:
        names = ", ".join(LEVEL_NAMES.values())
        raise ValueError(f"unknown log level {text!r}: give a number or one of {names}") from None
