"""The one error octavo-furl raises for malformed input."""

from __future__ import annotations

__all__ = ["BadFURLError", "shorten"]


class BadFURLError(ValueError):
    """A FURL, a location hint or a TubID is malformed; the message names the part.

    It is a :class:`ValueError`, so code written for Foolscap that catches
    ``(ValueError, BadFURLError)`` keeps working.
    """


def shorten(text: str, limit: int = 60) -> str:
    """A repr of ``text`` short enough for an error message."""
    if len(text) <= limit:
        return repr(text)
    return repr(text[:limit]) + f"... ({len(text)} characters)"
