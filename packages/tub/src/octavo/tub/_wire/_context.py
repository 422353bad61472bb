"""What the sequences, slicers and the whole-message reader use of their connection.

The unslicers (``_calls``, ``_reference_sequences``) and ``_fast_decoder`` reach the
connection they decode for through the codec's ``context``; they are typed against this
Protocol, which :class:`~._connection.PBConnection` provides, so none of them imports the
connection module (which imports them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from octavo.banana import Pending

    from ._admission import Admission
    from ._events import AnswerReceived, CallReceived
    from ._inbound import GiftWaiter, InboundCalls
    from ._references import GiftTable, MyReferenceTable, TheirReferenceTable

__all__ = ["WireConnection"]


class WireConnection(Protocol):
    """The connection as its sequences see it (PBConnection provides it)."""

    #: the rule for inbound calls and answers
    admission: Admission
    #: the far end's admitted calls on their way out, in order (the fast path hands
    #: its calls there directly)
    inbound: InboundCalls
    #: our calls waiting for an answer, by reqID
    waiting: dict[int, Any]
    #: our objects the far end holds; the far end's objects we hold proxies for
    my_references: MyReferenceTable
    their_references: TheirReferenceTable
    #: proxies we passed on to the far end, for objects of third Tubs
    gifts: GiftTable
    #: True once the connection is closed
    closed: bool

    def call_arrived(self, event: CallReceived, waiter: GiftWaiter | None) -> None: ...

    def call_refused(self, reqid: int, reason: object, *, begun: bool, answer: bool) -> None: ...

    def answer_arrived(self, event: AnswerReceived, waiter: GiftWaiter | None = None) -> None: ...

    def error_arrived(self, request: Any, failure: object) -> None: ...

    def answer_refused(self, request: Any, reason: object) -> None: ...

    def is_failure(self, obj: object) -> bool: ...

    def accept_gift(self, giftID: int, url: str, where: Any) -> Pending: ...
