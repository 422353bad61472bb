"""What a :class:`~octavo.tub._wire._connection.PBConnection` reports to its owner.

Events come out of ``PBConnection.events()`` in the order they happened. The
owner (the Twisted Broker, or a test) acts on each: runs a received call and
answers it with ``send_answer``/``send_error``, completes or fails the request an
answer or error belongs to, resolves a gift, answers a PING.

``request`` in the answer events is the object the owner gave ``send_call``
(it only needs ``reqID`` and ``constraint`` attributes); the connection hands it
back untouched.

Events are plain slotted dataclasses, to be treated as immutable: not frozen,
because a frozen dataclass costs four times as much to build, and two of them
are built for every call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from octavo.banana import Violation

__all__ = [
    "AnswerReceived",
    "AnswerRefused",
    "CallReceived",
    "CallRefused",
    "ErrorReceived",
    "GiftReceived",
    "MessageRefused",
    "PBEvent",
    "PeerError",
    "PingReceived",
]


@dataclass(slots=True)
class CallReceived:
    """A call arrived whole and was admitted: run it, then answer ``reqID`` (0: no answer).

    ``methodname`` is None when the target is itself a callable (a negative clid).
    Its arguments may be filled in (gifts) until the event is emitted; from then on
    nothing changes it.
    """

    reqID: int
    obj: Any
    methodname: str | None
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)
    #: the method's schema (a RemoteMethodSchema), checked before and after the call
    schema: Any = None
    #: the schema already took the whole call (the fast path asked the admission)
    args_checked: bool = False

    def describe(self) -> str:
        """A short text for logs."""
        return f"<call reqID={self.reqID} obj={self.obj!r} method={self.methodname}>"


@dataclass(slots=True)
class CallRefused:
    """An inbound call was refused or could not be delivered: answer ``reqID`` with
    an error (nothing to answer when it is 0). ``reason`` is the Violation, or what
    ``gift_failed`` was given for a gift the call carried."""

    reqID: int
    reason: object


@dataclass(slots=True)
class AnswerReceived:
    """The answer to ``request`` arrived (checked against its constraint)."""

    request: Any
    result: Any


@dataclass(slots=True)
class ErrorReceived:
    """The far end answered ``request`` with a failure (made by the host's
    ``make_failure``)."""

    request: Any
    failure: Any


@dataclass(slots=True)
class AnswerRefused:
    """The answer to ``request`` could not be accepted: ``reason`` is the Violation (a
    malformed or constraint-breaking answer), or what ``gift_failed`` was given."""

    request: Any
    reason: object


@dataclass(slots=True)
class GiftReceived:
    """A ``their-reference`` arrived: resolve ``url`` (to a third Tub) and report with
    ``gift_resolved(gift, reference)`` or ``gift_failed(gift, reason)``; the call or
    answer carrying it waits until then."""

    gift: Any
    url: str


@dataclass(slots=True)
class MessageRefused:
    """A top-level message was refused and skipped (a call among them was already
    reported with CallRefused, an answer with AnswerRefused); for logs."""

    violation: Violation


@dataclass(slots=True)
class PingReceived:
    """The far end sent PING: answer with ``send_pong(number)``."""

    number: int


@dataclass(slots=True)
class PeerError:
    """The far end sent an ERROR token: it is hanging up. Nothing after it is read."""

    message: str


PBEvent = (
    CallReceived
    | CallRefused
    | AnswerReceived
    | ErrorReceived
    | AnswerRefused
    | GiftReceived
    | MessageRefused
    | PingReceived
    | PeerError
)
