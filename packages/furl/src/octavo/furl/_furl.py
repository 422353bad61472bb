"""FURL, SturdyRef and TubRef values, and Foolscap's decode_furl/encode_furl.

A FURL is ``pb://TUBID@HINT,HINT/NAME``.  Parsing is plain string splitting (no
regular expression), linear in the length of the input.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ._errors import BadFURLError
from ._errors import shorten as _show
from ._hints import I2PHint, InvalidHint, LocationHint, TCPHint, TorHint, UnknownHint, parse_hint

__all__ = [
    "FURL",
    "SturdyRef",
    "TubRef",
    "check_tubid",
    "decode_furl",
    "encode_furl",
    "parse_furl",
]

PREFIX = "pb://"
TUBID_LENGTH = 32
_BASE32 = frozenset("abcdefghijklmnopqrstuvwxyz234567")


def _as_text(value: object, what: str) -> str:
    """Accept str, or bytes holding UTF-8 (as Foolscap's ``six.ensure_str`` does)."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError as e:
            raise BadFURLError(
                f"{what} is not valid UTF-8 ({e.reason} at byte {e.start})"
            ) from None
    raise BadFURLError(f"{what} must be str or bytes, not {type(value).__name__}")


def check_tubid(tubid: str) -> str:
    """Return ``tubid`` if it is 32 lowercase RFC 3548 base32 characters, else raise."""
    if not isinstance(tubid, str):
        raise BadFURLError(f"a tubid is a str, not {type(tubid).__name__}")
    if len(tubid) != TUBID_LENGTH:
        raise BadFURLError(
            f"tubid {_show(tubid)} must be {TUBID_LENGTH} base32 characters, not {len(tubid)}"
        )
    for i, c in enumerate(tubid):
        if c not in _BASE32:
            raise BadFURLError(
                f"tubid {_show(tubid)} is not lowercase base32 ({c!r} at position {i})"
            )
    return tubid


@dataclass(frozen=True, slots=True)
class _Parts:
    tubid: str
    tubid_extension: str
    hints: tuple[str, ...]
    name: str


def _split(furl: str) -> _Parts:
    """Split a FURL into its parts, checking everything but the hints' contents."""
    if not furl.startswith(PREFIX):
        raise BadFURLError(f"FURL {_show(furl)} does not start with {PREFIX!r}")
    if "\n" in furl:
        raise BadFURLError(f"FURL {_show(furl)} contains a newline")
    rest = furl[len(PREFIX) :]
    tubid_s, at, rest = rest.partition("@")
    if not at:
        raise BadFURLError(f"FURL {_show(furl)} has no '@' after the tubid")
    if not tubid_s:
        raise BadFURLError(f"FURL {_show(furl)} has an empty tubid")
    if len(tubid_s) < TUBID_LENGTH:
        raise BadFURLError(
            f"tubid {_show(tubid_s)} in FURL {_show(furl)} is shorter than"
            f" {TUBID_LENGTH} base32 characters"
        )
    tubid = check_tubid(tubid_s[:TUBID_LENGTH])
    hints_s, slash, name = rest.partition("/")
    if not slash:
        raise BadFURLError(f"FURL {_show(furl)} has no '/' before the object name")
    if not name:
        raise BadFURLError(f"FURL {_show(furl)} has an empty object name")
    hints = tuple(hints_s.split(",")) if hints_s else ()
    for i, hint in enumerate(hints):
        if not hint:
            raise BadFURLError(f"connection hint {i + 1} in FURL {_show(furl)} is empty")
    return _Parts(tubid, tubid_s[TUBID_LENGTH:], hints, name)


def _hint_text(hint: object) -> str:
    """The text of a hint given as str, bytes or a parsed hint value."""
    if isinstance(hint, _HINT_TYPES):
        return hint.text
    return _as_text(hint, "a location hint")


def _check_hint_text(text: str) -> str:
    if not text:
        raise BadFURLError("a connection hint may not be empty")
    for bad in (",", "/", "\n"):
        if bad in text:
            raise BadFURLError(f"connection hint {_show(text)} may not contain {bad!r}")
    return text


_HINT_TYPES = (TCPHint, TorHint, I2PHint, UnknownHint, InvalidHint)


def _hint_values(hints: Iterable[object]) -> tuple[LocationHint, ...]:
    """Hints given as strings, bytes or parsed values, as checked parsed values."""
    if isinstance(hints, (str, bytes)):
        raise BadFURLError("the hints must be a sequence of hints, not a single string")
    out: list[LocationHint] = []
    for hint in hints:
        if isinstance(hint, _HINT_TYPES):
            _check_hint_text(hint.text)
            out.append(hint)
        else:
            out.append(parse_hint(_check_hint_text(_as_text(hint, "a location hint"))))
    return tuple(out)


@dataclass(frozen=True, slots=True, eq=False)
class FURL:
    """An immutable FURL: ``pb://TUBID@HINTS/NAME``.

    Two FURLs are equal (and hash alike) when they name the same object: the same
    tubid and name, whatever their hints, as Foolscap's ``SturdyRef``.
    ``str(furl)`` gives back the parsed text exactly.
    """

    tubid: str
    hints: tuple[LocationHint, ...]
    name: str
    tubid_extension: str = ""

    def __post_init__(self) -> None:
        check_tubid(self.tubid)
        if "@" in self.tubid_extension or "\n" in self.tubid_extension:
            raise BadFURLError(
                f"tubid extension {_show(self.tubid_extension)} may not contain '@' or newline"
            )
        object.__setattr__(self, "hints", _hint_values(self.hints))
        if not isinstance(self.name, str) or not self.name:
            raise BadFURLError("the object name may not be empty")
        if "\n" in self.name:
            raise BadFURLError(f"object name {_show(self.name)} contains a newline")

    @classmethod
    def from_string(cls, furl: str | bytes, *, strict: bool = False) -> FURL:
        """Parse ``furl``; with ``strict=True`` an unusable hint is an error too."""
        return parse_furl(furl, strict=strict)

    @classmethod
    def from_parts(
        cls,
        tubid: str,
        hints: Iterable[str | bytes | LocationHint],
        name: str,
        tubid_extension: str = "",
    ) -> FURL:
        """Build a FURL from a tubid, hint strings (or parsed hints) and a name."""
        return cls(tubid, _hint_values(hints), name, tubid_extension)

    # -- values -----------------------------------------------------------------

    @property
    def location_hints(self) -> list[str]:
        """The hints as strings, exactly as written."""
        return [h.text for h in self.hints]

    @property
    def invalid_hints(self) -> tuple[InvalidHint, ...]:
        """The hints no connection handler can use (each says why)."""
        return tuple(h for h in self.hints if isinstance(h, InvalidHint))

    @property
    def tubref(self) -> TubRef:
        """The Tub this FURL points into, with its hints."""
        return TubRef(self.tubid, self.hints)

    def __str__(self) -> str:
        return (
            f"{PREFIX}{self.tubid}{self.tubid_extension}@"
            f"{','.join(h.text for h in self.hints)}/{self.name}"
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    # -- Foolscap's SturdyRef API -----------------------------------------------

    @property
    def tubID(self) -> str:
        """Foolscap's name for :attr:`tubid`."""
        return self.tubid

    @property
    def locationHints(self) -> list[str]:
        """Foolscap's name for :attr:`location_hints`."""
        return self.location_hints

    @property
    def url(self) -> str:
        """The FURL as a string (Foolscap's ``SturdyRef.url``)."""
        return str(self)

    def getURL(self) -> str:
        """The FURL as a string."""
        return str(self)

    def getTubRef(self) -> TubRef:
        """The :class:`TubRef` of the Tub this FURL points into."""
        return self.tubref

    # -- identity: (tubid, name), as Foolscap's SturdyRef ------------------------

    def _distinguishers(self) -> tuple[str, str]:
        return (self.tubid, self.name)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FURL):
            return NotImplemented
        return self._distinguishers() == other._distinguishers()

    def __ne__(self, other: object) -> bool:
        if not isinstance(other, FURL):
            return NotImplemented
        return self._distinguishers() != other._distinguishers()

    def __hash__(self) -> int:
        return hash((True, self.tubid, self.name))

    def __lt__(self, other: FURL) -> bool:
        if not isinstance(other, FURL):
            return NotImplemented
        return self._distinguishers() < other._distinguishers()

    def __le__(self, other: FURL) -> bool:
        if not isinstance(other, FURL):
            return NotImplemented
        return self._distinguishers() <= other._distinguishers()

    def __gt__(self, other: FURL) -> bool:
        if not isinstance(other, FURL):
            return NotImplemented
        return self._distinguishers() > other._distinguishers()

    def __ge__(self, other: FURL) -> bool:
        if not isinstance(other, FURL):
            return NotImplemented
        return self._distinguishers() >= other._distinguishers()


class SturdyRef(FURL):
    """Foolscap's ``SturdyRef(url)``: a :class:`FURL` made from its string."""

    __slots__ = ()

    def __init__(self, url: str | bytes) -> None:
        parsed = parse_furl(url)
        for attr in ("tubid", "hints", "name", "tubid_extension"):
            object.__setattr__(self, attr, getattr(parsed, attr))


@dataclass(frozen=True, slots=True, eq=False)
class TubRef:
    """A Tub's identity plus where to reach it; equal (and hashed) by tubid alone.

    Used as a dictionary key for connections, as Foolscap's ``TubRef``.
    """

    tubid: str
    hints: tuple[LocationHint, ...] = ()

    def __post_init__(self) -> None:
        check_tubid(self.tubid)
        object.__setattr__(self, "hints", _hint_values(self.hints))

    @property
    def tubID(self) -> str:
        """Foolscap's name for :attr:`tubid`."""
        return self.tubid

    @property
    def locationHints(self) -> list[str]:
        """The hints as strings, exactly as written."""
        return [h.text for h in self.hints]

    def getTubID(self) -> str:
        """The tubid."""
        return self.tubid

    def getShortTubID(self) -> str:
        """The first four characters of the tubid (for logs)."""
        return self.tubid[:4]

    def getLocations(self) -> list[str]:
        """The hints as strings, exactly as written."""
        return self.locationHints

    def __str__(self) -> str:
        return PREFIX + self.tubid

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TubRef):
            return NotImplemented
        return self.tubid == other.tubid

    def __ne__(self, other: object) -> bool:
        if not isinstance(other, TubRef):
            return NotImplemented
        return self.tubid != other.tubid

    def __hash__(self) -> int:
        return hash((self.tubid,))

    def __lt__(self, other: TubRef) -> bool:
        if not isinstance(other, TubRef):
            return NotImplemented
        return self.tubid < other.tubid


def parse_furl(furl: str | bytes, *, strict: bool = False) -> FURL:
    """Parse a FURL string (or UTF-8 bytes) into a :class:`FURL`.

    Raises :class:`BadFURLError` naming the wrong part.  Hints that no handler can
    use are kept as :class:`InvalidHint` (Foolscap accepts such FURLs); with
    ``strict=True`` the first of them is an error instead.
    """
    text = _as_text(furl, "a FURL")
    parts = _split(text)
    hints = tuple(parse_hint(h) for h in parts.hints)
    if strict:
        for hint in hints:
            if isinstance(hint, InvalidHint):
                raise BadFURLError(f"bad connection hint: {hint.reason}")
    return FURL(parts.tubid, hints, parts.name, parts.tubid_extension)


def decode_furl(furl: str | bytes) -> tuple[str, list[str], str]:
    """Foolscap's ``decode_furl``: return ``(tubID, location_hints, name)``.

    ``tubID`` is the first 32 characters of the tubid; the hints are strings.
    """
    parts = _split(_as_text(furl, "a FURL"))
    return (parts.tubid, list(parts.hints), parts.name)


def encode_furl(tubID: str | bytes, location_hints: Iterable[Any], name: str | bytes) -> str:
    """Foolscap's ``encode_furl``: join a tubid, hints and a name into a FURL string.

    Unlike Foolscap it refuses parts that would not parse back (an empty hint, a
    comma or slash in a hint, a bad tubid, an empty name).
    """
    tubid = _as_text(tubID, "the tubid")
    if "@" in tubid or "\n" in tubid:
        raise BadFURLError(f"tubid {_show(tubid)} may not contain '@' or newline")
    if len(tubid) < TUBID_LENGTH:
        check_tubid(tubid)
    check_tubid(tubid[:TUBID_LENGTH])
    hints = [_check_hint_text(_hint_text(h)) for h in location_hints]
    name_s = _as_text(name, "the object name")
    if not name_s or "\n" in name_s:
        raise BadFURLError(f"object name {_show(name_s)} is empty or contains a newline")
    return f"{PREFIX}{tubid}@{','.join(hints)}/{name_s}"
