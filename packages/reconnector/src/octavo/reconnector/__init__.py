"""octavo-reconnector: keep a connection alive, with Foolscap's Reconnector contract."""

from ._backoff import (
    DEFAULT_FACTOR,
    DEFAULT_INITIAL_DELAY,
    DEFAULT_JITTER,
    DEFAULT_MAX_DELAY,
    Backoff,
    NormalVariate,
)
from ._clock import ClockLike, DelayedCallLike
from ._errors import AlreadyStartedError, GaveUpError, ReconnectorError, ReconnectorStoppedError
from ._info import ReconnectionInfo
from ._machine import State
from ._reconnector import ConnectionIterator, Reconnector, SupportsNotifyOnDisconnect
from ._version import __version__

__all__ = [
    "DEFAULT_FACTOR",
    "DEFAULT_INITIAL_DELAY",
    "DEFAULT_JITTER",
    "DEFAULT_MAX_DELAY",
    "AlreadyStartedError",
    "Backoff",
    "ClockLike",
    "ConnectionIterator",
    "DelayedCallLike",
    "GaveUpError",
    "NormalVariate",
    "ReconnectionInfo",
    "Reconnector",
    "ReconnectorError",
    "ReconnectorStoppedError",
    "State",
    "SupportsNotifyOnDisconnect",
    "__version__",
]
