"""The three top-level messages a connection sends, as values for the encoder.

Wire shapes (Foolscap's)::

    OPEN(call) reqID:int clid:int|neg methodname:str OPEN(arguments) ... CLOSE CLOSE
    OPEN(arguments) nargs:int arg... (kwname:str value)... CLOSE   # kwargs sorted by name
    OPEN(answer) reqID:int result CLOSE
    OPEN(error) reqID:int OPEN(copyable twisted.python.failure.Failure) ... CLOSE CLOSE

reqID 0 means "no answer wanted" (callRemoteOnly); clid 0 is the far end's own
methods (``getReferenceByName``, ``decref``, ``decgift``). What arrives is reported
as events (``_events``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["AnswerMessage", "CallMessage", "ErrorMessage"]


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
    """The failure of an inbound call (an object the failure slicer knows)."""

    reqID: int
    failure: Any
