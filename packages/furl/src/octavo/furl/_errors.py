"""The one error octavo-furl raises for malformed input."""

from __future__ import annotations

__all__ = ["BadFURLError"]


class BadFURLError(ValueError):
    """A FURL, a location hint or a TubID is malformed; the message names the part.

    It is a :class:`ValueError`, so code written for Foolscap that catches
    ``(ValueError, BadFURLError)`` keeps working.
    """
