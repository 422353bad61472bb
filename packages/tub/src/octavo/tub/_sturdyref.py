"""SturdyRef and TubRef as RemoteReferences hand them out (Foolscap's semantics).

A SturdyRef is a FURL ``pb://TUBID@HINT,HINT/NAME`` seen as a value: two are equal
when they name the same TubID and name. A TubRef identifies a Tub (its TubID) and
remembers how to reach it.
"""

from __future__ import annotations

import re
from functools import total_ordering

__all__ = ["BadFURLError", "SturdyRef", "TubRef", "decode_furl"]

_FURL_RE = re.compile(r"pb://([^@]+)@([^/]*)/(.+)$")
_BASE32 = frozenset("abcdefghijklmnopqrstuvwxyz234567")


class BadFURLError(ValueError):
    """A FURL that cannot be parsed."""


def decode_furl(furl: str) -> tuple[str, list[str], str]:
    """``(tubID, location_hints, name)`` of a FURL, as Foolscap decodes it."""
    m = _FURL_RE.search(furl)
    if m is None:
        raise BadFURLError(f"unknown FURL prefix in {furl!r}")
    tubid = m.group(1)[:32]
    if not tubid or not set(tubid) <= _BASE32:
        raise BadFURLError(f"{tubid!r} is not a valid tubid")
    hints = m.group(2).split(",")
    if hints == [""]:
        hints = []
    if "" in hints:
        raise BadFURLError("no connection hint may be empty")
    return tubid, hints, m.group(3)


@total_ordering
class TubRef:
    """A Tub's identity (TubID) plus the hints to reach it; compares by TubID."""

    def __init__(self, tubID: str, locationHints: list[str] | None = None) -> None:
        self.tubID = tubID
        self.locationHints = list(locationHints or [])

    def getTubID(self) -> str:
        """The TubID."""
        return self.tubID

    def getShortTubID(self) -> str:
        """The first four characters of the TubID."""
        return self.tubID[:4]

    def getLocations(self) -> list[str]:
        """The connection hints."""
        return self.locationHints

    def __str__(self) -> str:
        return f"pb://{self.tubID}"

    def __hash__(self) -> int:
        return hash((self.tubID,))

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.tubID == self.tubID

    def __lt__(self, other: TubRef) -> bool:
        return self.tubID < other.tubID


@total_ordering
class SturdyRef:
    """A long-lived pointer (FURL) to a Referenceable; ``url`` may be None."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url
        self.tubID: str | None = None
        self.name: str | None = None
        self.locationHints: list[str] = []
        if url:
            self.tubID, self.locationHints, self.name = decode_furl(url)

    def getTubRef(self) -> TubRef:
        """The TubRef of the Tub holding the object (ValueError without a FURL)."""
        if self.tubID is None:
            raise ValueError("this SturdyRef has no FURL")
        return TubRef(self.tubID, self.locationHints)

    def getURL(self) -> str | None:
        """The FURL."""
        return self.url

    def __str__(self) -> str:
        return str(self.url)

    def __repr__(self) -> str:
        return f"<SturdyRef {self.url}>"

    def _key(self) -> tuple[str, str]:
        return (self.tubID or "", self.name or "")

    def __hash__(self) -> int:
        return hash((True, *self._key()))

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._key() == self._key()

    def __lt__(self, other: SturdyRef) -> bool:
        return self._key() < other._key()
