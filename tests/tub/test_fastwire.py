"""The whole-message fast paths (octavo.tub._wire._fastwire) against the general codec.

The fast encoder must write exactly the general encoder's bytes, and the fast decoder
must hand the Broker exactly what the general decoder hands it; both fall back to the
general path for everything else.
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet.task import Clock

from octavo.banana import Encoder
from octavo.tub import Referenceable
from octavo.tub._wire._fastwire import FastEncoder
from octavo.tub._wire._messages import CallMessage, InboundDelivery
from octavo.tub._wire._sequences import _SLICERS
from octavo.tub._wire._vocabulary import INITIAL_VOCAB_TABLES as VOCAB_TABLES
from octavo.tub.testing import BrokerConnection, FakeTub

VOCAB = VOCAB_TABLES[1]

# words of the vocabulary are sent as VOCAB tokens, so they are worth drawing
_words = st.sampled_from([w.decode() for w in VOCAB])
simple = st.one_of(
    st.integers(min_value=-(2**40), max_value=2**40),
    st.binary(max_size=40),
    st.sampled_from(VOCAB),
    st.text(max_size=20),
    _words,
    st.none(),
    st.booleans(),
    st.floats(allow_nan=False),
)
not_simple = st.one_of(
    st.lists(st.integers(), max_size=3),
    st.tuples(st.integers()),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.sets(st.integers(), max_size=2),
)
kwargs_of = st.dictionaries(st.one_of(st.text(min_size=1, max_size=10), _words), simple, max_size=4)


def encoders(start: int) -> tuple[Encoder, Encoder]:
    """Two encoders in the same state: one for the fast path, one for the general."""
    pair = []
    for _ in range(2):
        enc = Encoder(slicers=_SLICERS, vocab=VOCAB)
        enc.take_opens(start)
        pair.append(enc)
    return pair[0], pair[1]


@settings(max_examples=300, deadline=None)
@given(
    start=st.integers(min_value=0, max_value=2**22),
    reqid=st.integers(min_value=0, max_value=2**31 - 1),
    clid=st.integers(min_value=-(2**20), max_value=2**20),
    method=st.one_of(st.text(min_size=1, max_size=30), _words),
    args=st.lists(simple, max_size=6),
    kwargs=kwargs_of,
)
def test_fast_call_bytes_equal_the_general_encoders(  # noqa: PLR0917 - drawn by Hypothesis
    start: int, reqid: int, clid: int, method: str, args: list[Any], kwargs: dict[str, Any]
) -> None:
    fast, general = encoders(start)
    got = FastEncoder(fast).call(reqid, clid, method, tuple(args), kwargs)
    want = general.encode(CallMessage(reqid, clid, method, tuple(args), kwargs))
    assert got == want
    assert fast.open_count == general.open_count


@settings(max_examples=300, deadline=None)
@given(
    start=st.integers(min_value=0, max_value=2**22),
    reqid=st.integers(min_value=1, max_value=2**31 - 1),
    result=simple,
)
def test_fast_answer_bytes_equal_the_general_encoders(start: int, reqid: int, result: Any) -> None:
    from octavo.tub._wire._messages import AnswerMessage

    fast, general = encoders(start)
    assert FastEncoder(fast).answer(reqid, result) == general.encode(AnswerMessage(reqid, result))
    assert fast.open_count == general.open_count


@given(args=st.lists(simple, max_size=3), odd=not_simple, where=st.integers(0, 3))
def test_fast_encoder_declines_what_is_not_simple(args: list[Any], odd: Any, where: int) -> None:
    """A value that is not simple anywhere: None, and the encoder's count is untouched."""
    enc = Encoder(slicers=_SLICERS, vocab=VOCAB)
    args.insert(min(where, len(args)), odd)
    fast = FastEncoder(enc)
    assert fast.call(1, 1, "m", tuple(args), {}) is None
    assert fast.call(1, 1, "m", (), {"k": odd}) is None
    assert fast.answer(1, odd) is None
    assert enc.open_count == 0


def test_unencodable_str_is_left_to_the_general_encoder() -> None:
    """A lone surrogate is not simple: the general encoder raises its Violation."""
    enc = Encoder(slicers=_SLICERS, vocab=VOCAB)
    assert FastEncoder(enc).call(1, 1, "m", ("\ud800",), {}) is None
    assert FastEncoder(enc).answer(1, "\ud800") is None


# ------------------------------------------------------------------ decoding


class Target(Referenceable):
    def remote_take(self, *args: Any, **kwargs: Any) -> Any:
        return args[0] if args else None


def connection() -> tuple[BrokerConnection, Any, Clock]:
    clock = Clock()
    a, b = FakeTub("a"), FakeTub("b")
    conn = BrokerConnection.between(a, b, clock=clock)
    b.names["t"] = Target()
    d = conn.left.getYourReferenceByName("t")  # type: ignore[attr-defined]
    got: list[Any] = []
    d.addBoth(got.append)
    conn.pump()
    return conn, got[0], clock


def deliveries_of(
    conn: BrokerConnection, stream: bytes, fast: bool, chunk: int, expect_fast: bool = True
) -> list[Any]:
    """What the right Broker schedules for ``stream`` fed in ``chunk``-byte pieces."""
    broker: Any = conn.right
    seen: list[InboundDelivery] = []
    broker.scheduleCall = lambda delivery, ready: seen.append(delivery)
    codec = broker._codec
    used: list[int] = []
    consume = codec._fast_decoder.consume

    def counting(data: bytes) -> tuple[int, int]:
        pos, done = consume(data)
        used.append(done)
        return pos, done

    codec._fast_decoder.consume = counting if fast else (lambda data: (0, 0))
    for i in range(0, len(stream), chunk):
        broker.dataReceived(stream[i : i + chunk])
    if fast and expect_fast and chunk >= len(stream):
        assert sum(used) > 0, "the fast path was not used"
    return [(d.reqID, d.methodname, list(d.args), d.kwargs, type(d.obj).__name__) for d in seen]


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


@settings(max_examples=100, deadline=None)
@given(
    calls=st.lists(st.tuples(st.lists(simple, max_size=4), kwargs_of), min_size=1, max_size=5),
    chunk=st.integers(min_value=1, max_value=400),
)
def test_fast_decoder_schedules_what_the_general_decoder_does(
    calls: list[tuple[list[Any], dict[str, Any]]], chunk: int
) -> None:
    """Simple calls, whole or cut anywhere: the same deliveries as the general path."""
    results = []
    for fast, whole in ((True, True), (True, False), (False, True)):
        conn, ref, _ = connection()
        clid = ref.tracker.clid
        enc: Any = conn.left._codec.encoder  # type: ignore[attr-defined]
        stream = b"".join(
            enc.encode(CallMessage(n + 1, clid, "take", tuple(args), kwargs))
            for n, (args, kwargs) in enumerate(calls)
        )
        # ints beyond 31 bits are LONGINT tokens, which the fast path leaves alone
        small = all(
            type(v) is not int or -(2**31) <= v < 2**31
            for args, kwargs in calls
            for v in [*args, *kwargs.values()]
        )
        results.append(deliveries_of(conn, stream, fast, len(stream) if whole else chunk, small))
    for got in results[1:]:
        assert len(got) == len(results[0])
        for x, y in zip(got, results[0], strict=True):
            assert x[:2] == y[:2] and x[4] == y[4]
            assert all(same(p, q) for p, q in zip(x[2], y[2], strict=True))
            assert x[3].keys() == y[3].keys()
            assert all(same(x[3][k], y[3][k]) for k in x[3])


@settings(max_examples=100, deadline=None)
@given(value=simple)
def test_answers_arrive_through_the_fast_path(value: Any) -> None:
    """A simple result comes back equal, of the same type, through the fast path."""
    conn, ref, _ = connection()
    left: Any = conn.left
    before = left._codec.messages_completed
    got: list[Any] = []
    ref.callRemote("take", value).addBoth(got.append)
    conn.pump()
    assert same(got[0], value)
    assert left._codec.messages_completed == before + 1


def test_index_tokens_as_string_or_vocab() -> None:
    """A peer may name 'call' and 'arguments' by STRING or by VOCAB: both are fast."""
    conn, ref, _ = connection()
    clid = ref.tracker.clid
    plain = Encoder(slicers=_SLICERS)  # no vocabulary: every index token a STRING
    plain.take_opens(100)
    stream = plain.encode(CallMessage(7, clid, "take", (1, "x", None), {"k": True}))
    assert b"\x04\x82call" in stream
    assert deliveries_of(conn, stream, True, len(stream)) == [
        (7, "take", [1, "x", None], {"k": True}, "Target")
    ]


def test_refused_calls_take_the_general_path() -> None:
    """An unknown clid is answered with the general path's error, fast path or not."""
    conn, _, _ = connection()
    right: Any = conn.right
    enc: Any = conn.left._codec.encoder  # type: ignore[attr-defined]
    from octavo.tub._referenceable import PendingRequest

    req = PendingRequest(5, None, None, "m")
    conn.left.addRequest(req)  # type: ignore[attr-defined]
    got: list[Any] = []
    req.deferred.addBoth(got.append)
    right.dataReceived(enc.encode(CallMessage(5, 999, "take", (1,), {})))
    conn.pump()
    assert "unknown CLID 999" in str(got[0].value)


def test_big_messages_come_in_pieces_without_copying_the_payload() -> None:
    """A call or answer over BIG_MESSAGE bytes is handed over as pieces: the big
    byte string itself, not a copy joined around it; the pieces are the general
    encoder's bytes."""
    from octavo.tub._wire._fastwire import BIG_MESSAGE
    from octavo.tub._wire._messages import AnswerMessage

    payload = b"\xa5" * (BIG_MESSAGE + 1)
    fast, general = encoders(10)
    parts = FastEncoder(fast).call(3, 1, "take", (payload, "x"), {"k": 1})
    assert isinstance(parts, list)
    assert any(p is payload for p in parts)
    assert b"".join(parts) == general.encode(CallMessage(3, 1, "take", (payload, "x"), {"k": 1}))
    parts = FastEncoder(fast).answer(4, payload)
    assert isinstance(parts, list)
    assert b"".join(parts) == general.encode(AnswerMessage(4, payload))


def test_big_payload_travels_uncopied_and_arrives_whole() -> None:
    """Through a pair of Brokers: the sender writes the payload object itself; the
    receiver, fed in 16 KiB chunks, gets it whole and answers."""
    conn, ref, _ = connection()
    payload = bytes(range(256)) * 1000
    got: list[Any] = []
    ref.callRemote("take", payload, "tail").addBoth(got.append)
    sent = conn.left_transport.buffer
    assert any(p is payload for p in sent)
    data = conn.left_transport.take()
    right: Any = conn.right
    for i in range(0, len(data), 16384):
        right.dataReceived(data[i : i + 16384])
    conn.pump()
    assert got == [payload]


@settings(max_examples=300, deadline=None)
@given(
    calls=st.lists(st.tuples(st.lists(simple, max_size=3), kwargs_of), min_size=1, max_size=3),
    edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=4),
    cut=st.integers(0, 10_000),
)
def test_mutated_calls_get_the_same_treatment_with_or_without_the_fast_path(
    calls: list[tuple[list[Any], dict[str, Any]]], edits: list[tuple[int, int]], cut: int
) -> None:
    """Valid call streams with bytes changed (and cut in two): the fast decoder and the
    general one schedule the same calls, answer the same errors and drop the connection
    in the same cases."""
    outcomes = []
    for fast in (True, False):
        conn, ref, _ = connection()
        enc: Any = conn.left._codec.encoder  # type: ignore[attr-defined]
        stream = bytearray(
            b"".join(
                enc.encode(CallMessage(n + 1, ref.tracker.clid, "take", tuple(args), kwargs))
                for n, (args, kwargs) in enumerate(calls)
            )
        )
        for where, byte in edits:
            stream[where % len(stream)] = byte
        at = cut % (len(stream) + 1)
        delivered = deliveries_of(conn, bytes(stream[:at]), fast, len(stream), False)
        delivered += deliveries_of(conn, bytes(stream[at:]), fast, len(stream), False)
        written = b"".join(conn.right_transport.buffer)
        outcomes.append(
            (
                [(d[0], d[1], [repr(x) for x in d[2]], sorted(d[3]), d[4]) for d in delivered],
                conn.right_transport.lose_requested,
                written,  # error answers and ERROR tokens, byte for byte
            )
        )
    assert outcomes[0] == outcomes[1]
