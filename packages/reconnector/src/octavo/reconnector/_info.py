"""ReconnectionInfo: what a Reconnector is doing, with Foolscap's field names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["ReconnectionInfo"]


@dataclass
class ReconnectionInfo:
    """Status of a Reconnector, as Foolscap's ``ReconnectionInfo`` reports it.

    ``state`` is one of ``"unstarted"``, ``"connecting"``, ``"connected"``, ``"waiting"``.
    ``connectionInfo`` is whatever the owner reports for the current attempt or
    connection (a Tub's ``ConnectionInfo``), or None. ``lastAttempt`` is the clock time
    the most recent attempt began, ``nextAttempt`` the clock time of the scheduled retry
    while waiting (None when no retry is scheduled). The Reconnector updates one instance
    in place, as Foolscap does.
    """

    state: str = "unstarted"
    connectionInfo: Any = None
    lastAttempt: float | None = None
    nextAttempt: float | None = None
