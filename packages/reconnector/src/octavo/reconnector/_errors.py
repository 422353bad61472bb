"""Exceptions raised by octavo-reconnector."""

from __future__ import annotations

from twisted.python.failure import Failure

__all__ = ["AlreadyStartedError", "GaveUpError", "ReconnectorError", "ReconnectorStoppedError"]


class ReconnectorError(Exception):
    """Base class of the errors this package raises."""


class AlreadyStartedError(ReconnectorError):
    """``startConnecting()`` was called on a Reconnector that had already been started."""


class ReconnectorStoppedError(ReconnectorError):
    """The Reconnector was stopped, so no (further) connection will be made."""


class GaveUpError(ReconnectorError):
    """The Reconnector gave up: ``max_attempts`` or ``deadline`` was exhausted.

    ``last_failure`` is the failure of the last attempt (None if it gave up right
    after losing a connection, before any attempt failed).
    """

    def __init__(self, last_failure: Failure | None) -> None:
        detail = "" if last_failure is None else f": {last_failure.getErrorMessage()}"
        super().__init__(f"gave up reconnecting{detail}")
        self.last_failure = last_failure
