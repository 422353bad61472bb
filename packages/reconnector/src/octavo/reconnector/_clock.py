"""The small part of IReactorTime a Reconnector uses, as structural types."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["ClockLike", "DelayedCallLike"]


class DelayedCallLike(Protocol):
    """What ``callLater`` returns (``IDelayedCall``)."""

    def getTime(self) -> float:
        """Clock time at which the call is due."""
        ...

    def cancel(self) -> None:
        """Prevent the call from happening."""
        ...

    def active(self) -> bool:
        """Whether the call is still pending."""
        ...


class ClockLike(Protocol):
    """An ``IReactorTime`` provider: the reactor or ``twisted.internet.task.Clock``."""

    def seconds(self) -> float:
        """The current time, in seconds."""
        ...

    def callLater(
        self, delay: float, callable: Callable[..., object], /, *args: Any, **kw: Any
    ) -> Any:
        """Call ``callable(*args, **kw)`` after ``delay`` seconds; return an IDelayedCall."""
        ...
