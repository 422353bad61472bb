"""Byte strings past ``max_token_size`` that a constraint explicitly allows, and the
memory a big byte string takes while it arrives.

The admission rule is one (``Limits.check_size``): past the decoder's limit a STRING is
admitted only if the unslicer it goes to allows that size (``token_allowance``, from a
``ByteStringConstraint(maxLength=N)``); the fast reader hands such tokens over to it.
The suite runs with the fast paths on and off (``OCTAVO_FAST_PATHS=0``).
"""

from __future__ import annotations

import tracemalloc

import pytest

from octavo.banana import (
    STRING,
    Any,
    ByteStringConstraint,
    ChoiceOf,
    Decoder,
    DictOf,
    Encoder,
    IntegerConstraint,
    ListOf,
    ObjectReceived,
    Optional,
    TupleOf,
    ViolationReceived,
)


def feed(dec: Decoder, data: bytes, chunk: int = 4096) -> list[object]:
    for i in range(0, len(data), chunk):
        dec.receive_data(data[i : i + chunk])
    return dec.events()


def test_constraints_say_what_they_allow() -> None:
    """Only a bounded byte-string constraint (alone, in ChoiceOf or Optional) allows a size."""
    assert ByteStringConstraint(maxLength=5000).token_allowance(STRING) == 5000
    assert ByteStringConstraint().token_allowance(STRING) == 0  # no promise without a bound
    assert ByteStringConstraint(maxLength=5000).token_allowance(0x85) == 0  # LONGINT
    assert ChoiceOf(int, ByteStringConstraint(maxLength=7000)).token_allowance(STRING) == 7000
    assert Optional(ByteStringConstraint(maxLength=300), b"").token_allowance(STRING) == 300
    assert Any().token_allowance(STRING) == 0
    assert IntegerConstraint().token_allowance(STRING) == 0


@pytest.mark.parametrize(
    ("constraint", "value"),
    [
        (ByteStringConstraint(maxLength=5000), b"a" * 3000),
        (ListOf(ByteStringConstraint(maxLength=5000)), [b"a" * 3000, b"b" * 10]),
        (TupleOf(int, ByteStringConstraint(maxLength=5000)), (1, b"a" * 3000)),
        (DictOf(bytes, ByteStringConstraint(maxLength=5000)), {b"k": b"a" * 3000}),
    ],
    ids=["top", "list", "tuple", "dict value"],
)
def test_a_constraint_lets_a_bigger_string_through(constraint: object, value: object) -> None:
    """A 3,000-byte string passes a 1,000-byte max_token_size where its constraint says
    maxLength=5000, and is counted in granted_token_bytes until its message ends."""
    dec = Decoder(constraint=constraint, max_token_size=1000)  # type: ignore[arg-type]
    data = Encoder().encode(value)
    dec.receive_data(data[:-1])
    assert dec.granted_token_bytes == 3000
    dec.receive_data(data[-1:])
    assert dec.events() == [ObjectReceived(value)]
    assert dec.granted_token_bytes == 0


def test_elsewhere_the_limit_holds() -> None:
    """Without a bound, or for a key, or past maxLength, the limit refuses (named), the
    body is skipped and decoding goes on."""
    enc = Encoder()
    for constraint, value, good in [
        (None, b"a" * 3000, b"next"),
        (ByteStringConstraint(), b"a" * 3000, b"next"),
        (DictOf(bytes, ByteStringConstraint(maxLength=5000)), {b"k" * 3000: b"v"}, {b"k": b"v"}),
        (ByteStringConstraint(maxLength=5000), b"a" * 6000, b"next"),
    ]:
        dec = Decoder(constraint=constraint, max_token_size=1000)
        events = feed(dec, enc.encode(value) + enc.encode(good))
        assert isinstance(events[0], ViolationReceived), (constraint, events)
        assert "too large" in str(events[0].violation)
        assert events[1] == ObjectReceived(good)
        assert dec.granted_token_bytes == 0
    dec = Decoder(max_token_size=1000)
    events = feed(dec, enc.encode(b"a" * 3000), chunk=1000)
    assert "3000>1000 (max_token_size" in str(events[0].violation)  # type: ignore[union-attr]
    assert dec.skipped_bytes == 3000  # never held: a caller bounding messages may discount it


def peak_while_decoding(size: int, chunk: int = 65536) -> int:
    """Peak traced bytes while a ``size``-byte STRING arrives in ``chunk``-byte feeds
    and is taken (the stream itself is made before tracing starts)."""
    data = Encoder().encode(b"\xa5" * size)
    dec = Decoder(max_token_size=size)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        with memoryview(data) as view:
            for i in range(0, len(data), chunk):
                piece = bytes(view[i : i + chunk])  # as a socket read gives them
                if not dec.take_body(piece):
                    dec.receive_data(piece)
                del piece
        (event,) = dec.events()
        assert isinstance(event, ObjectReceived)
        assert len(event.obj) == size  # type: ignore[arg-type]
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("size", [10_000_000, 50_000_000], ids=["10MB", "50MB"])
def test_a_big_string_takes_at_most_1_5x_its_size_while_arriving(size: int) -> None:
    """Its buffer grows as the body arrives (not sized from the header, which a peer
    could lie about), without re-joining: the peak stays under 1.5x the string."""
    peak = peak_while_decoding(size)
    assert peak < 1.5 * size, peak / size


def test_a_lying_header_costs_only_what_arrived() -> None:
    """A header announcing 50 MB followed by 100 KB: about 100 KB is held, not 50 MB."""
    data = Encoder().encode(b"\xa5" * 50_000_000)[:100_000]
    dec = Decoder(max_token_size=60_000_000)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        for i in range(0, len(data), 10_000):
            dec.receive_data(data[i : i + 10_000])
        held = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert held < 1_000_000, held
