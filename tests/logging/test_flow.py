"""The subscription queue (sans-IO): bounded, ordered, and honest about drops."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.task import Clock

from octavo.logging._flow import DROP_FACILITY, EventQueue


def ev(n: int) -> dict[str, object]:
    return {"num": n, "message": f"m{n}"}


def test_window_limits_in_flight() -> None:
    q = EventQueue(lambda: 5.0, max_queue=100, max_in_flight=3)
    for n in range(10):
        assert q.offer(ev(n))
    assert [e["num"] for e in q.take()] == [0, 1, 2]
    assert q.take() == []
    q.acked()
    assert [e["num"] for e in q.take()] == [3]


def test_full_queue_drops_new_events_and_then_reports_them() -> None:
    clock = Clock()
    q = EventQueue(clock.seconds, max_queue=2, max_in_flight=1)
    assert q.offer(ev(0)) and q.offer(ev(1))
    assert not q.offer(ev(2)) and not q.offer(ev(3))
    assert q.total_dropped == 2 and len(q) == 2
    assert q.take() == [ev(0)]
    clock.advance(7.5)
    q.acked()
    # room again: the notice goes where the drops happened, before later events
    assert q.offer(ev(4))
    sent = []
    while len(q):
        sent += q.take()
        q.acked()
    assert sent[0] == ev(1)
    notice = sent[1]
    assert notice["facility"] == DROP_FACILITY and notice["dropped"] == 2
    assert notice["level"] == 23 and notice["time"] == 7.5
    assert sent[2] == ev(4)


def test_drops_reported_when_queue_drains_without_new_events() -> None:
    q = EventQueue(lambda: 1.0, max_queue=1, max_in_flight=1)
    q.offer(ev(0))
    q.offer(ev(1))
    assert q.take() == [ev(0)]
    q.acked()
    (notice,) = q.take()
    assert notice["dropped"] == 1


def test_prime_puts_catch_up_first() -> None:
    q = EventQueue(lambda: 1.0, max_queue=5, max_in_flight=10)
    q.offer(ev(9))
    q.prime([ev(1), ev(2)])
    assert [e["num"] for e in q.take()] == [1, 2, 9]


@given(st.lists(st.sampled_from(["offer", "take", "ack"]), max_size=300))
def test_bounded_ordered_and_accounted(ops: list[str]) -> None:
    """Whatever the interleaving: the queue stays within max_queue + 1 (the notice),
    in-flight within its window, events keep their order, and every offered event
    is delivered or counted in a notice (or still pending)."""
    q = EventQueue(lambda: 0.0, max_queue=4, max_in_flight=2)
    offered = 0
    delivered: list[dict[str, object]] = []
    for op in ops:
        if op == "offer":
            q.offer(ev(offered))
            offered += 1
        elif op == "take":
            delivered += q.take()
        else:
            q.acked()
        assert len(q) <= q.max_queue + 1
        assert 0 <= q.in_flight <= q.max_in_flight
    while len(q) or q.pending_drops:
        delivered += q.take()
        for _ in range(q.max_in_flight):
            q.acked()
    real = [e["num"] for e in delivered if e["num"] != -1]
    assert real == sorted(real)
    notices = sum(int(e["dropped"]) for e in delivered if e["num"] == -1)  # type: ignore[call-overload]
    assert len(real) + notices == offered


def test_acked_frees_as_many_slots_as_it_is_told() -> None:
    q = EventQueue(lambda: 5.0, max_queue=100, max_in_flight=5)
    for n in range(10):
        q.offer(ev(n))
    assert len(q.take()) == 5
    q.acked(3)
    assert [e["num"] for e in q.take()] == [5, 6, 7]
    q.acked(100)  # more than are in flight: none left, never fewer than none
    assert q.in_flight == 0


def test_lost_events_free_their_slots_and_are_reported() -> None:
    q = EventQueue(lambda: 7.0, max_queue=100, max_in_flight=4)
    for n in range(4):
        q.offer(ev(n))
    assert len(q.take()) == 4
    q.lost(3)
    assert q.in_flight == 1 and q.total_dropped == 3
    (notice,) = q.take()
    assert notice["dropped"] == 3 and notice["facility"] == DROP_FACILITY
