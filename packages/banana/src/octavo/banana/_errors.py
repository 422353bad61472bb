"""The two exceptions a Banana peer can cause: BananaError and Violation."""

from __future__ import annotations

__all__ = ["BananaError", "Violation", "short_repr"]


class BananaError(Exception):
    """The token stream broke the protocol: the connection must be dropped.

    ``where`` optionally names the node of the object graph being decoded.
    """

    where: str | None = None

    def __str__(self) -> str:
        if self.where:
            return f"BananaError(in {self.where}): {self.args}"
        return f"BananaError: {self.args}"


class Violation(Exception):  # noqa: N818 (Foolscap's name)
    """An object broke a constraint (or could not be serialized).

    Only that object is rejected; the stream goes on. ``where`` names the path
    into the object graph, e.g. ``<RootUnslicer>.[3].{}[key]``.
    """

    where: str = ""

    def setLocation(self, where: str) -> None:
        """Set the path into the object graph where this happened."""
        self.where = where

    def getLocation(self) -> str:
        """Return the path into the object graph where this happened."""
        return self.where

    def prependLocation(self, prefix: str) -> None:
        """Put ``prefix`` in front of the current location."""
        self.where = f"{prefix} {self.where}" if self.where else prefix

    def appendLocation(self, suffix: str) -> None:
        """Put ``suffix`` after the current location."""
        self.where = f"{self.where} {suffix}" if self.where else suffix

    def __str__(self) -> str:
        if self.where:
            return f"Violation ({self.where}): {self.args}"
        return f"Violation: {self.args}"


def short_repr(obj: object, limit: int = 60) -> str:
    """A repr for error messages that stays short for huge values."""
    if isinstance(obj, (bytes, str)) and len(obj) > limit:
        return f"{obj[:limit]!r}... ({len(obj)} long)"
    if isinstance(obj, (list, tuple, dict, set, frozenset)) and len(obj) > 8:
        return f"<{type(obj).__name__} of {len(obj)}>"
    try:
        text = repr(obj)
    except Exception:  # e.g. an int too large for str()
        return f"<{type(obj).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."
