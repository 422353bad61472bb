"""The far end's calls between admission and the owner: in arrival order, bounded.

A call admitted by :class:`~._admission.Admission` is handed to the owner (a
``CallReceived`` among the connection's events) at once, unless it must wait:

- for gifts: a call carrying a ``their-reference`` waits until the owner has
  resolved it (:class:`GiftWaiter`);
- for room: no more than ``max_inbound_calls`` calls run at once (handed out and
  not answered); later ones wait until answers free room, and meanwhile the
  owner stops reading (``PBConnection.input_blocked``);
- behind a waiting call: calls are handed out in the order they arrived.

The waiting calls are :attr:`InboundCalls.held` (at most ``max_inbound_calls``:
admission refuses more). Their count, and that of calls handed out that want no
answer and that the owner has not taken yet, is ``Admission.queued``.
"""

from __future__ import annotations

from collections import deque

from octavo.banana import Pending

from ._admission import Admission
from ._events import AnswerReceived, CallReceived, CallRefused, PBEvent

__all__ = ["Gift", "GiftWaiter", "InboundCalls"]


class GiftWaiter:
    """A call or answer waiting for the gifts inside it (or, for a call, its turn)."""

    __slots__ = ("event", "failure", "is_call", "pending")

    def __init__(self, is_call: bool) -> None:
        self.is_call = is_call
        #: gifts not resolved yet
        self.pending = 0
        #: what the first gift that failed was failed with (None: none failed)
        self.failure: object = None
        #: the message's event, once the message has ended
        self.event: CallReceived | AnswerReceived | None = None


class Gift:
    """One received their-reference, until the owner has resolved it."""

    __slots__ = ("gift_id", "pending", "waiter")

    def __init__(self, gift_id: int, waiter: GiftWaiter | None) -> None:
        self.gift_id = gift_id
        self.pending = Pending()
        self.waiter = waiter


class InboundCalls:
    """Hands admitted calls to ``events`` (the connection's event list) in order."""

    def __init__(self, admission: Admission, events: list[PBEvent]) -> None:
        self._admission = admission
        self._events = events
        #: calls waiting (for gifts, for room, or behind one that waits)
        self.held: deque[GiftWaiter] = deque()
        #: calls without an answer handed out, not yet taken by the owner
        self.oneway_out = 0

    def arrived(self, event: CallReceived, waiter: GiftWaiter | None) -> None:
        """A whole, admitted call: handed out now, or once the gifts in it (and in the
        calls before it) are resolved and there is room for it to run."""
        admission = self._admission
        if waiter is None and not self.held and admission.running < admission.max_inbound_calls:
            # room, nothing waiting before it: _hand_out, inline (every call comes here)
            self._events.append(event)
            if event.reqID:
                admission.queued -= 1
                admission.running += 1
            else:
                self.oneway_out += 1
            return
        if waiter is None:
            waiter = GiftWaiter(is_call=True)
        waiter.event = event
        self.held.append(waiter)
        self.release()

    def arrived_whole(self, event: CallReceived) -> None:
        """A call read whole, without gifts (the fast decoder's): ``begin_call`` and
        :meth:`arrived` in one step, leaving the state they leave
        (tests/tub/test_inbound_whole.py holds it to that)."""
        admission = self._admission
        reqid = event.reqID
        if not self.held and admission.running < admission.max_inbound_calls:
            # begin_call, then _hand_out (queued up and down again): the usual
            self._events.append(event)
            if reqid:
                admission.active.add(reqid)
                admission.running += 1
            else:
                admission.queued += 1
                self.oneway_out += 1
            return
        admission.begin_call(reqid)
        self.arrived(event, None)

    def _hand_out(self, event: CallReceived) -> None:
        self._events.append(event)
        admission = self._admission
        if event.reqID:
            admission.queued -= 1
            admission.running += 1
        else:
            self.oneway_out += 1  # queued until the owner takes it

    def release(self) -> None:
        """Hand out the calls at the head of the line that may go now."""
        held = self.held
        admission = self._admission
        while held and not held[0].pending:
            waiter = held[0]
            event = waiter.event
            assert isinstance(event, CallReceived)
            if waiter.failure is not None:
                held.popleft()
                self.refused(event.reqID, waiter.failure, begun=True, answer=True)
            elif admission.has_room:
                held.popleft()
                self._hand_out(event)
            else:
                return

    def refused(self, reqid: int, reason: object, *, begun: bool, answer: bool) -> None:
        """A call was refused (``begun``: after admission); report it unless
        ``answer`` is False (an ABORT) or no answer is wanted."""
        if begun:
            self._admission.forget_call(reqid)
            self._admission.queued -= 1
        if answer and reqid:
            self._events.append(CallRefused(reqid, reason))

    def taken(self) -> None:
        """The owner took the events: calls without an answer are no longer queued."""
        if self.oneway_out:
            self._admission.queued -= self.oneway_out
            self.oneway_out = 0

    def waiting(self) -> list[CallReceived]:
        """The calls held back, oldest first."""
        return [w.event for w in self.held if isinstance(w.event, CallReceived)]

    def clear(self) -> None:
        """Forget every waiting call (the connection is gone)."""
        self.held.clear()
