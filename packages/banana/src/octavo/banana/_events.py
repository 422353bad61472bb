"""Events the decoder produces."""

from __future__ import annotations

from dataclasses import dataclass

from ._errors import Violation

__all__ = [
    "ErrorReceived",
    "Event",
    "ObjectReceived",
    "PingReceived",
    "PongReceived",
    "ViolationReceived",
]


@dataclass(frozen=True)
class ObjectReceived:
    """A complete top-level object arrived."""

    obj: object


@dataclass(frozen=True)
class ViolationReceived:
    """A top-level object was rejected (constraint, ABORT, ...); the stream goes on."""

    violation: Violation


@dataclass(frozen=True)
class PingReceived:
    """The peer sent PING; answer with ``Encoder.pong(number)``."""

    number: int


@dataclass(frozen=True)
class PongReceived:
    """The peer answered a PING."""

    number: int


@dataclass(frozen=True)
class ErrorReceived:
    """The peer sent an ERROR token: it is hanging up. Nothing after it is decoded."""

    message: bytes


Event = ObjectReceived | ViolationReceived | PingReceived | PongReceived | ErrorReceived
