"""The three top-level messages of a connection, as values.

Outbound, the Broker builds :class:`CallMessage`, :class:`AnswerMessage` and
:class:`ErrorMessage` and hands them to the codec (``_sequences``). Inbound, the codec
builds an :class:`InboundDelivery` per ``call`` sequence; the Broker queues and runs it.

Wire shapes (Foolscap's)::

    OPEN(call) reqID:int clid:int|neg methodname:str OPEN(arguments) ... CLOSE CLOSE
    OPEN(arguments) nargs:int arg... (kwname:str value)... CLOSE   # kwargs sorted by name
    OPEN(answer) reqID:int result CLOSE
    OPEN(error) reqID:int OPEN(copyable twisted.python.failure.Failure) ... CLOSE CLOSE

reqID 0 means "no answer wanted" (callRemoteOnly); clid 0 is the far Broker itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from twisted.python.failure import Failure

__all__ = ["AnswerMessage", "CallMessage", "ErrorMessage", "InboundDelivery"]


@dataclass(slots=True)
class CallMessage:
    """An outbound call of ``methodname`` on the far object ``clid``."""

    reqID: int
    clid: int
    methodname: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


@dataclass(slots=True)
class AnswerMessage:
    """The result of an inbound call."""

    reqID: int
    result: Any


@dataclass(slots=True)
class ErrorMessage:
    """The failure of an inbound call."""

    reqID: int
    failure: Failure


@dataclass(slots=True)
class InboundDelivery:
    """A received call waiting its turn: target object, method, arguments."""

    reqID: int
    obj: Any
    methodname: str | None  # None: the target is itself a callable (negative clid)
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        """A short text for logs."""
        return f"<call reqID={self.reqID} obj={self.obj!r} method={self.methodname}>"
