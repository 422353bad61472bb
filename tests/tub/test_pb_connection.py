"""The sans-IO PB connection: two of them joined by hand, with no Twisted anywhere."""

from __future__ import annotations

import gc
from typing import Any

import pytest

from octavo.banana import IntegerConstraint
from octavo.tub._errors import BananaError, Violation
from octavo.tub._wire._events import (
    AnswerReceived,
    AnswerRefused,
    CallReceived,
    CallRefused,
    ErrorReceived,
    GiftReceived,
    MessageRefused,
    PeerError,
    PingReceived,
)

from ._pb_pair import B_TUBID, CopiedProblem, Obj, Pair, Proxy, Request

FAST = [True, False]


def echo_pair(fast: bool = True, **kwargs: Any) -> tuple[Pair, Proxy]:
    pair = Pair(fast_paths=fast, **kwargs)
    proxy = pair.publish("echo", Obj(echo=lambda v=None, **kw: kw if kw else v))
    return pair, proxy


@pytest.mark.parametrize("fast", FAST)
def test_a_call_and_its_answer(fast: bool) -> None:
    """a calls b's object through a proxy it got by name; the answer comes back."""
    pair, proxy = echo_pair(fast)
    assert proxy.tracker.url == f"pb://{B_TUBID}@tcp:127.0.0.1:1/echo"
    for value in [1, -5, 2**70, "snow \u2603", b"\x00", None, True, 0.5, [1, (2, {"k": 3})]]:
        ev = pair.round_trip(proxy.tracker.clid, "echo", value)
        assert isinstance(ev, AnswerReceived)
        assert ev.result == value and type(ev.result) is type(value)
    assert pair.round_trip(proxy.tracker.clid, "echo", k=1, j="x").result == {"k": 1, "j": "x"}
    assert pair.a.waiting == {}
    assert pair.b.admission.active == set()


@pytest.mark.parametrize("fast", FAST)
def test_an_error_answer(fast: bool) -> None:
    """A method that raises: the caller gets ErrorReceived with the host's failure."""
    pair = Pair(fast_paths=fast)

    def boom() -> None:
        raise ValueError("no way")

    proxy = pair.publish("boom", Obj(boom=boom))
    ev = pair.round_trip(proxy.tracker.clid, "boom")
    assert isinstance(ev, ErrorReceived)
    assert isinstance(ev.failure, CopiedProblem)
    assert ev.failure.state["value"] == b"no way"


@pytest.mark.parametrize("fast", FAST)
def test_unknown_clid_is_refused_with_the_same_reason_either_way(fast: bool) -> None:
    """Admission refuses a call to a clid we never sent; the caller gets the error."""
    pair, _ = echo_pair(fast)
    req, data = pair.call(pair.a, 999, "echo", 1)
    answers, events = pair.serve(pair.b, data)
    assert [type(e) for e in events] == [CallRefused, MessageRefused]
    refusal = events[0]
    assert isinstance(refusal, CallRefused) and refusal.reqID == req.reqID  # type: ignore[union-attr]
    assert "unknown CLID 999" in str(refusal.reason)
    pair.a.receive_data(answers)
    (ev,) = pair.a.events()
    assert isinstance(ev, ErrorReceived) and ev.request is req
    assert b"unknown CLID 999" in ev.failure.state["value"]


@pytest.mark.parametrize("fast", FAST)
def test_an_objects_admission_is_kept_per_method_and_dies_with_it(fast: bool) -> None:
    """What the admission decided for a method of one of our objects is kept on its
    tracker and reused by the next call; once the object is revoked the kept
    decision is gone with it and calls are refused as revoked."""
    pair, proxy = echo_pair(fast)
    clid = proxy.tracker.clid
    tracker = pair.b.my_references.by_clid[clid]
    assert pair.round_trip(clid, "echo", 1).result == 1
    kept = tracker.admitted[b"echo"]
    assert kept.methodname == "echo" and kept.target is tracker.obj
    assert pair.round_trip(clid, "echo", 2).result == 2
    assert tracker.admitted == {b"echo": kept}  # the same decision, not a new one
    pair.b.my_references.revoke(tracker.obj)
    ev = pair.round_trip(clid, "echo", 3)
    assert isinstance(ev, ErrorReceived)
    assert b"was revoked" in ev.failure.state["value"]


@pytest.mark.parametrize("fast", FAST)
def test_kept_admissions_are_bounded_and_refusals_are_not_kept(fast: bool) -> None:
    """A peer calling many method names makes us keep at most MAX_ADMITTED_NAMES of
    them per object; a refused call (a name too long) keeps nothing."""
    from octavo.tub._wire._admission import MAX_ADMITTED_NAMES, MAX_METHOD_NAME

    pair, proxy = echo_pair(fast)
    clid = proxy.tracker.clid
    tracker = pair.b.my_references.by_clid[clid]
    long_name = "x" * (MAX_METHOD_NAME + 1)
    _, data = pair.call(pair.a, clid, long_name, 1)
    _, events = pair.serve(pair.b, data)
    assert isinstance(events[0], CallRefused)
    assert "method name too long" in str(events[0].reason)  # type: ignore[union-attr]
    assert tracker.admitted == {}
    for i in range(MAX_ADMITTED_NAMES + 10):
        ev = pair.round_trip(clid, f"m{i}", 1)
        assert isinstance(ev, ErrorReceived)  # admitted; Obj has no such method
    assert len(tracker.admitted) == MAX_ADMITTED_NAMES
    assert pair.round_trip(clid, "echo", 4).result == 4  # past the bound: decided afresh


@pytest.mark.parametrize("fast", FAST)
def test_kept_admissions_are_bounded_per_connection(fast: bool, monkeypatch: Any) -> None:
    """At most MAX_KEPT_ADMISSIONS are kept over all the objects of a connection, and
    none for a name past MAX_KEPT_NAME bytes; an object revoked gives its room back."""
    from octavo.tub._wire import _admission

    monkeypatch.setattr(_admission, "MAX_KEPT_ADMISSIONS", 5)
    pair = Pair(fast_paths=fast)
    proxies = [pair.publish(f"o{i}", Obj(echo=lambda v=None: v)) for i in range(4)]
    refs = pair.b.my_references
    long_name = "x" * (_admission.MAX_KEPT_NAME + 1)
    assert isinstance(pair.round_trip(proxies[0].tracker.clid, long_name, 1), ErrorReceived)
    assert refs.kept_admissions == 0  # admitted (Obj has no such method), not kept
    for proxy in proxies:
        for name in ("echo", "other"):
            pair.round_trip(proxy.tracker.clid, name, 1)
    assert refs.kept_admissions == 5
    assert sum(len(t.admitted) for t in refs.by_clid.values()) == 5
    first = refs.by_clid[proxies[0].tracker.clid]
    assert len(first.admitted) == 2
    refs.revoke(first.obj)
    assert refs.kept_admissions == 3
    assert pair.round_trip(proxies[3].tracker.clid, "echo", 7).result == 7
    assert refs.kept_admissions == 4  # room again: the last object's "echo" is kept now


def test_a_released_object_gives_its_kept_admissions_back() -> None:
    """decref to zero forgets the tracker and its kept admissions; clear() all of them."""
    from octavo.tub._wire._references import MyReferenceTable

    table = MyReferenceTable(lambda obj: None)
    a, b = object(), object()
    ta, tb = table.tracker_for(a, 1), table.tracker_for(b, 2)
    for tracker in (ta, tb):
        tracker.send()
        tracker.send()
        tracker.admitted[b"m"] = tracker.admitted[b"n"] = object()
    table.kept_admissions = 4
    table.decref(ta.clid, 1)
    assert table.kept_admissions == 4  # still held once
    table.decref(ta.clid, 1)
    assert table.kept_admissions == 2
    table.clear()
    assert table.kept_admissions == 0


@pytest.mark.parametrize("fast", FAST)
def test_calls_beyond_the_running_limit_wait_their_turn(fast: bool) -> None:
    """max_inbound_calls calls run at once; later ones wait (input_blocked tells the
    owner to stop reading) and are handed out, in order, as answers free room; as
    many again may wait, beyond that calls are refused."""
    pair, proxy = echo_pair(fast, max_inbound_calls=3)
    data = b"".join(pair.call(pair.a, proxy.tracker.clid, "echo", i)[1] for i in range(8))
    pair.b.receive_data(data)
    events = pair.b.events()
    calls = [e for e in events if isinstance(e, CallReceived)]
    refused = [e for e in events if isinstance(e, CallRefused)]
    assert [c.args for c in calls] == [[0], [1], [2]]
    assert [r.reqID for r in refused] == [calls[0].reqID + 6, calls[0].reqID + 7]
    assert all("too many queued calls (limit 3)" in str(r.reason) for r in refused)
    assert [c.args for c in pair.b.waiting_calls] == [[3], [4], [5]]
    assert pair.b.input_blocked
    pair.b.send_answer(calls[0].reqID, None)
    assert pair.b.has_events
    (released,) = pair.b.events()
    assert isinstance(released, CallReceived) and released.args == [3]
    assert pair.b.input_blocked
    for c in [*calls[1:], released]:
        pair.b.send_answer(c.reqID, None)
    assert [e.args for e in pair.b.events()] == [[4], [5]]  # type: ignore[union-attr]
    assert not pair.b.input_blocked  # 4 and 5 run: room for one more
    assert pair.b.waiting_calls == []
    assert pair.b.admission.queued == 0


@pytest.mark.parametrize("fast", FAST)
def test_one_way_calls_beyond_the_limit_are_dropped(fast: bool) -> None:
    """Calls that want no answer count against the same limit, per received chunk."""
    pair, proxy = echo_pair(fast, max_inbound_calls=3)
    data = b"".join(
        pair.call(pair.a, proxy.tracker.clid, "echo", i, answer=False)[1] for i in range(5)
    )
    pair.b.receive_data(data)
    events = pair.b.events()
    assert len([e for e in events if isinstance(e, CallReceived)]) == 3
    assert not [e for e in events if isinstance(e, CallRefused)]  # nobody to tell
    pair.b.receive_data(data)  # the queue was taken: room again
    assert len([e for e in pair.b.events() if isinstance(e, CallReceived)]) == 3


@pytest.mark.parametrize("fast", FAST)
def test_a_duplicate_reqid_is_refused_and_the_first_call_stays_owed(fast: bool) -> None:
    """A second call with a reqID still running is refused; the first still counts."""
    pair, proxy = echo_pair(fast)
    req = Request(7)
    first = pair.joined(pair.a.send_call(req, proxy.tracker.clid, "echo", (1,), {}))
    pair.b.receive_data(first + first)
    events = pair.b.events()
    assert [type(e) for e in events] == [CallReceived, CallRefused, MessageRefused]
    assert "duplicate reqID 7" in str(events[1].reason)  # type: ignore[union-attr]
    assert pair.b.admission.active == {7}


@pytest.mark.parametrize("fast", FAST)
def test_a_result_constraint_refuses_a_bad_answer(fast: bool) -> None:
    """An answer that breaks the call's result constraint fails the request."""
    pair, proxy = echo_pair(fast)
    req = Request(pair.a.allocate_reqid(), IntegerConstraint())
    data = pair.joined(pair.a.send_call(req, proxy.tracker.clid, "echo", ("x",), {}))
    answers, _ = pair.serve(pair.b, data)
    pair.a.receive_data(answers)
    events = pair.a.events()
    assert isinstance(events[0], AnswerRefused) and events[0].request is req
    assert isinstance(events[0].reason, Violation)
    assert pair.a.waiting == {}


@pytest.mark.parametrize("fast", FAST)
def test_references_travel_and_come_home(fast: bool) -> None:
    """Our object goes as a my-reference (a proxy there), and comes home as itself."""
    pair, proxy = echo_pair(fast)
    mine = Obj(ping=lambda: "pong")
    ev = pair.round_trip(proxy.tracker.clid, "echo", mine)
    assert ev.result is mine  # b echoed our object back: a your-reference
    held = []
    pair.hb.names["keeper"] = Obj(keep=held.append)
    keeper = pair.round_trip(0, "getReferenceByName", name=b"keeper").result
    pair.round_trip(keeper.tracker.clid, "keep", mine)
    assert isinstance(held[0], Proxy)
    assert held[0].tracker.connection is pair.b
    # b calls our object through its proxy
    _req, data = pair.call(pair.b, held[0].tracker.clid, "ping")
    answers, _ = pair.serve(pair.a, data)
    pair.b.receive_data(answers)
    (ev,) = pair.b.events()
    assert isinstance(ev, AnswerReceived) and ev.result == "pong"


@pytest.mark.parametrize("fast", FAST)
def test_a_lost_proxy_is_released_with_a_decref(fast: bool) -> None:
    """When b's proxy is collected, b's host hears of it; the decref b then sends
    makes a forget the object, and the answer makes b forget its tracker."""
    pair, _proxy = echo_pair(fast)
    held: list[Any] = []
    pair.hb.names["keeper"] = Obj(keep=held.append, drop=held.clear)
    keeper = pair.round_trip(0, "getReferenceByName", name=b"keeper").result
    mine = Obj()
    pair.round_trip(keeper.tracker.clid, "keep", mine)
    clid = held[0].tracker.clid
    assert clid in pair.a.my_references.by_clid
    pair.round_trip(keeper.tracker.clid, "drop")
    gc.collect()
    (tracker,) = pair.hb.lost
    decref = pair.b.release_reference(tracker)
    answers, _ = pair.serve(pair.a, decref)
    assert clid not in pair.a.my_references.by_clid
    pair.b.receive_data(answers)
    assert pair.b.events() == []  # settled inside the connection
    assert clid not in pair.b.their_references.by_clid


def test_gifts_hold_their_call_and_the_calls_behind_it() -> None:
    """A call carrying a their-reference waits for the gift; calls after it wait too."""
    pair, proxy = echo_pair()
    third = Pair()  # a connection of a to a third Tub (c is its "b")
    gift = third.publish("g", Obj())
    assert gift.tracker.connection is third.a
    _, with_gift = pair.call(pair.a, proxy.tracker.clid, "echo", gift)
    _, plain = pair.call(pair.a, proxy.tracker.clid, "echo", 2)
    pair.b.receive_data(with_gift + plain)
    events = pair.b.events()
    assert [type(e) for e in events] == [GiftReceived]
    assert len(pair.b.waiting_calls) == 2
    ack = pair.b.gift_resolved(events[0].gift, "the reference")  # type: ignore[union-attr]
    assert b"decgift" in ack
    calls = pair.b.events()
    assert [type(e) for e in calls] == [CallReceived, CallReceived]
    assert calls[0].args == ["the reference"] and calls[1].args == [2]  # type: ignore[union-attr]
    assert len(pair.a.gifts.gifts) == 1
    pair.serve(pair.a, ack)  # a hears the decgift
    assert pair.a.gifts.gifts == {}


def test_a_failed_gift_refuses_its_call() -> None:
    """A gift that cannot be resolved makes its call an error answer."""
    pair, proxy = echo_pair()
    gift = Pair().publish("g", Obj())
    req, data = pair.call(pair.a, proxy.tracker.clid, "echo", gift)
    pair.b.receive_data(data)
    (ev,) = pair.b.events()
    pair.b.gift_failed(ev.gift, "no route")  # type: ignore[union-attr]
    (refusal,) = pair.b.events()
    assert isinstance(refusal, CallRefused) and refusal.reason == "no route"
    assert refusal.reqID == req.reqID  # type: ignore[union-attr]


def test_gifts_are_refused_when_the_host_says_so() -> None:
    """A host that takes no gifts: the call is refused with a Violation."""
    pair, proxy = echo_pair()
    pair.hb.gifts = False
    gift = Pair().publish("g", Obj())
    _, data = pair.call(pair.a, proxy.tracker.clid, "echo", gift)
    pair.b.receive_data(data)
    events = pair.b.events()
    assert isinstance(events[0], CallRefused)
    assert "gifts are prohibited" in str(events[0].reason)


def test_ping_and_peer_error() -> None:
    """PING is reported for the owner to answer; an ERROR token ends the reading."""
    pair = Pair()
    pair.b.receive_data(pair.a.send_ping(3))
    assert pair.b.events() == [PingReceived(3)]
    pair.b.receive_data(pair.a.error_token("bye") + pair.a.send_ping(4))
    assert pair.b.events() == [PeerError("bye")]
    pair.b.receive_data(pair.a.send_ping(5))
    assert pair.b.events() == []


@pytest.mark.parametrize("fast", FAST)
def test_protocol_errors_raise_banana_error(fast: bool) -> None:
    """Bytes that break the protocol raise BananaError (the owner drops the link)."""
    pair = Pair(fast_paths=fast)
    with pytest.raises(BananaError):
        pair.b.receive_data(b"\xff\xff")


@pytest.mark.parametrize("fast", FAST)
def test_a_message_over_max_message_size_is_a_protocol_error(fast: bool) -> None:
    """A message still unfinished past max_message_size bytes raises BananaError."""
    pair, proxy = echo_pair(fast, max_message_size=1000)
    _, data = pair.call(pair.a, proxy.tracker.clid, "echo", b"x" * 2000)
    with pytest.raises(BananaError, match="max_message_size=1000"):
        for i in range(0, len(data), 100):
            pair.b.receive_data(data[i : i + 100])


def test_close_returns_the_waiting_requests() -> None:
    """At the end, the requests still waiting are handed back; tables are emptied."""
    pair, proxy = echo_pair()
    req, _ = pair.call(pair.a, proxy.tracker.clid, "echo", 1)
    assert pair.a.close() == [req]
    assert pair.a.closed and pair.a.waiting == {}
    assert pair.a.their_references.by_clid == {}
    pair.a.receive_data(b"\xff")  # ignored once closed
    assert pair.a.close() == []


def test_unsendable_arguments_are_refused_before_anything_is_recorded() -> None:
    """An argument the codec cannot send: Violation, and no request waits."""
    pair, proxy = echo_pair()
    req = Request(pair.a.allocate_reqid())
    with pytest.raises(Violation):
        pair.a.send_call(req, proxy.tracker.clid, "echo", (object(),), {})
    assert pair.a.waiting == {}


def _outcome(conn_fast: bool, stream: bytes, chunk: int) -> list[object]:
    """What b makes of ``stream`` fed in ``chunk``-byte pieces (events as reprs, then
    the protocol error's text)."""
    pair, _ = echo_pair(conn_fast)
    seen: list[object] = []
    try:
        for i in range(0, len(stream), chunk):
            pair.b.receive_data(stream[i : i + chunk])
            seen += [type(e).__name__ for e in pair.b.events()]
    except BananaError as e:
        seen += [type(e).__name__ for e in pair.b.events()]
        seen.append(str(e))
    return seen


@pytest.mark.parametrize("fast", FAST)
@pytest.mark.parametrize(
    ("middle", "outcome"),
    [
        # a list, then a dict, where 'arguments' is due: a protocol error
        (b"\x01\x88\x04\x82list\x01\x81\x01\x89", "arguments must be an"),
        (b"\x01\x88\x04\x82dict\x01\x89", "arguments must be an"),
        # a my-reference there, refused inside (its FURL is not UTF-8): the call is
        # refused, whole or byte by byte (it used to be dropped when fed byte by byte)
        (
            b"\x01\x88\x0c\x82my-reference\x05\x81\x00\x82\x01\x82\xff\x01\x89",
            "['CallRefused', 'MessageRefused']",
        ),
    ],
)
def test_a_call_refuses_other_sequences_in_place_of_its_arguments_alike(
    fast: bool, middle: bytes, outcome: str
) -> None:
    """Whole or byte by byte, fast paths on or off: the same outcome (a sequence that
    is not 'arguments' must not slip past the call's checks on a fast path)."""
    stream = b"\x00\x88\x04\x82call\x07\x81\x01\x81\x04\x82echo" + middle + b"\x00\x89"
    outcomes = {repr(_outcome(f, stream, chunk)) for f in (fast, not fast) for chunk in (1, 99)}
    assert len(outcomes) == 1, outcomes
    assert outcome in outcomes.pop()


def test_what_came_before_a_protocol_error_is_still_reported() -> None:
    """A PING in the same chunk as the garbage that follows it is still an event."""
    pair = Pair()
    with pytest.raises(BananaError):
        pair.b.receive_data(pair.a.send_ping(7) + b"\xff")
    assert pair.b.events() == [PingReceived(7)]


def test_the_connections_own_methods_check_their_arguments() -> None:
    """decref/decgift/getReferenceByName with arguments that do not fit: a Violation
    saying so (not a TypeError naming our functions); a count below 1 is refused."""
    pair = Pair()
    for kwargs in ({"clid": 1}, {"giftID": 1, "count": 0}, {"name": b"\xff"}):
        method = {
            "clid": "decref",
            "giftID": "decgift",
            "name": "getReferenceByName",
        }[next(iter(kwargs))]
        req = Request(pair.a.allocate_reqid())
        answers, _ = pair.serve(pair.b, pair.joined(pair.a.send_call(req, 0, method, (), kwargs)))
        pair.a.receive_data(answers)
        (ev,) = pair.a.events()
        assert isinstance(ev, ErrorReceived)
        value = ev.failure.state["value"]
        assert value.startswith(b"Violation"), value  # the test host names the class
        assert b"TypeError" not in value and b"UnicodeDecodeError" not in value


@pytest.mark.parametrize("fast", FAST)
def test_answers_queued_counts_answers_among_the_pending_events(fast: bool) -> None:
    """``answers_queued``: the answers and error answers to our calls among the events
    not taken yet (with ``waiting``, our calls in flight); taking the events resets it;
    calls received do not count."""
    pair, proxy = echo_pair(fast)
    boom = pair.publish("boom", Obj(boom=lambda: 1 / 0))
    clid = proxy.tracker.clid
    sent = [pair.call(pair.a, clid, "echo", i) for i in range(3)]
    sent.append(pair.call(pair.a, boom.tracker.clid, "boom"))
    sent.append(pair.call(pair.a, clid, "echo", 9))
    answers = b"".join(pair.serve(pair.b, data)[0] for _, data in sent[:4])
    assert pair.b.answers_queued == 0  # b received calls, answered none of its own
    pair.a.receive_data(answers)
    assert pair.a.answers_queued == 4 and len(pair.a.waiting) == 1
    assert [type(e) for e in pair.a.events()] == [AnswerReceived] * 3 + [ErrorReceived]
    assert pair.a.answers_queued == 0
