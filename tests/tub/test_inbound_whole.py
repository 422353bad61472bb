"""``InboundCalls.arrived_whole`` (the fast decoder's taker of a call) leaves exactly
the state ``Admission.begin_call`` then ``InboundCalls.arrived`` leave: it is those
two steps written as one for speed, and must not drift from them."""

from __future__ import annotations

from typing import Any

import pytest

from octavo.tub._wire._admission import Admission
from octavo.tub._wire._events import CallReceived
from octavo.tub._wire._inbound import GiftWaiter, InboundCalls

#: request ids from here on stand for calls with a gift not resolved yet, which come
#: through the general path (begin_call, arrived with their waiter) in both runs
GIFTED = 100


def _state(admission: Admission, inbound: InboundCalls, events: list[Any]) -> tuple[Any, ...]:
    return (
        sorted(admission.active),
        admission.queued,
        admission.running,
        inbound.oneway_out,
        [e.reqID for e in events],
        [w.event.reqID for w in inbound.held],
    )


def _run(steps: list[int], limit: int, whole: bool) -> tuple[Any, ...]:
    events: list[Any] = []
    admission = Admission(references=None, own_methods=None, max_inbound_calls=limit)  # type: ignore[arg-type]
    inbound = InboundCalls(admission, events)
    for reqid in steps:
        event = CallReceived(reqid, object(), "m")
        if reqid >= GIFTED:
            waiter = GiftWaiter(is_call=True)
            waiter.pending = 1
            admission.begin_call(reqid)
            inbound.arrived(event, waiter)
        elif whole:
            inbound.arrived_whole(event)
        else:
            admission.begin_call(reqid)
            inbound.arrived(event, None)
    return _state(admission, inbound, events)


@pytest.mark.parametrize(
    ("steps", "limit"),
    [
        ([1], 10),  # a call with room: handed out, running
        ([0], 10),  # a oneway: handed out, queued until taken
        ([1, 0, 2, 0, 3], 10),  # both, in turn
        ([1, 2, 3, 4], 2),  # past the limit: the rest held, in order
        ([1, 2, 0, 3], 1),  # a oneway behind a held call waits too
        ([1, GIFTED, 2, 0], 10),  # room, but behind a call waiting for a gift: held
    ],
)
def test_arrived_whole_is_begin_call_then_arrived(steps: list[int], limit: int) -> None:
    assert _run(steps, limit, whole=True) == _run(steps, limit, whole=False)
