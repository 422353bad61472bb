"""Hostile input: only BananaError or Violation events, the same whatever the chunking."""

from __future__ import annotations

import tracemalloc
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from octavo.banana import (
    BananaError,
    Decoder,
    DictOf,
    Encoder,
    ErrorReceived,
    ListOf,
    ObjectReceived,
    PingReceived,
    PongReceived,
    ViolationReceived,
    serialize,
)

from ._strategies import mutated_stream
from ._strategies import split as _split


def _outcome(chunks: list[bytes], **kwargs: Any) -> tuple[list[str], bool]:
    """Feed chunks; return a comparable record of the events and whether it failed."""
    dec = Decoder(**kwargs)
    failed = False
    for chunk in chunks:
        try:
            dec.receive_data(chunk)
        except BananaError:
            failed = True
            break
    record = []
    for e in dec.events():
        if isinstance(e, ObjectReceived):
            record.append("obj " + repr(e.obj))
        elif isinstance(e, ViolationReceived):
            record.append("violation " + str(e.violation))
        elif isinstance(e, (PingReceived, PongReceived, ErrorReceived)):
            record.append(repr(e))
        else:  # pragma: no cover
            raise AssertionError(e)
    return record, failed


@given(st.binary(max_size=300), st.lists(st.integers(0, 300), max_size=10))
def test_random_bytes(data: bytes, cuts: list[int]) -> None:
    """Random bytes give BananaError or events (never another exception), chunking-invariant."""
    assert _outcome(_split(data, cuts)) == _outcome([data])


_CONSTRAINTS = [None, ListOf(int), DictOf(str, ListOf(int, maxLength=2))]


@given(
    mutated_stream(),
    st.lists(st.integers(0, 2000), max_size=12),
    st.sampled_from(_CONSTRAINTS),
    st.sampled_from([2, 3, 5, 20]),
)
def test_mutated_streams(data: bytes, cuts: list[int], constraint: Any, depth: int) -> None:
    """Mutated valid streams: only BananaError or events, the same in any chunking
    (with depth limits the values reach, where the decoder's fast paths must agree
    with its main loop on what is too deep)."""
    limits = {"constraint": constraint, "max_depth": depth, "max_token_size": 64}
    one = _outcome([data], **limits)
    assert _outcome(_split(data, cuts), **limits) == one


@settings(max_examples=50)
@given(mutated_stream())
def test_byte_at_a_time_equals_one_feed(data: bytes) -> None:
    """Feeding one byte at a time equals one feed (default limits)."""
    assert _outcome([bytes([b]) for b in data]) == _outcome([data])


def test_depth_limit() -> None:
    """Nesting beyond max_depth is a Violation, and the stream goes on."""
    v: list[object] = []
    for _ in range(30):
        v = [v]
    dec = Decoder(max_depth=10)
    dec.receive_data(serialize(v) + serialize(1))
    evs = dec.events()
    assert isinstance(evs[0], ViolationReceived)
    assert "max_depth" in str(evs[0].violation)
    assert evs[1] == ObjectReceived(1)


@pytest.mark.parametrize("leaf", ["s", None, True, [], (), {}])
@pytest.mark.parametrize("depth", [2, 3, 4])
def test_depth_limit_holds_for_every_kind_at_the_edge(leaf: object, depth: int) -> None:
    """A str, None, bool or empty container just past max_depth inside plain containers
    is refused the same way in one feed and byte by byte (the recursive container
    reader hands over at it; found by the fuzzer)."""
    value: object = leaf
    for i in range(depth):
        value = [value] if i % 2 else (value, 1)
    data = serialize([value, "after"]) + serialize(1)
    results = []
    for pieces in ([data], [data[i : i + 1] for i in range(len(data))]):
        # the root, the outer list and the ``depth`` containers fit; the leaf does not
        dec = Decoder(max_depth=depth + 1)
        for piece in pieces:
            dec.receive_data(piece)
        results.append([repr(e) for e in dec.events()])
    assert results[0] == results[1]
    assert any("max_depth" in r for r in results[0])
    assert results[0][-1] == repr(ObjectReceived(1))


def test_default_depth_allows_what_we_send() -> None:
    """The default depth limit decodes a 400-deep object."""
    v: list[object] = []
    for _ in range(400):
        v = [v]
    dec = Decoder()
    dec.receive_data(serialize(v))
    assert isinstance(dec.events()[0], ObjectReceived)


def test_depth_bomb_is_cheap() -> None:
    """A million OPENs with nothing closed do not build a million unslicers."""
    dec = Decoder(max_depth=50)
    one = b"\x00\x88\x04\x82list"
    dec.receive_data(one * 100_000)
    assert dec.depth <= 51
    assert dec.events()[0].violation  # type: ignore[union-attr]


def test_token_size_limit() -> None:
    """A STRING larger than max_token_size is refused and skipped without buffering."""
    dec = Decoder(max_token_size=1000)
    dec.receive_data(serialize(b"x" * 5000)[:100])
    assert isinstance(dec.events()[0], ViolationReceived)
    dec.receive_data(b"x" * (5003 - 100) + serialize(b"ok"))
    assert dec.events() == [ObjectReceived(b"ok")]


def test_longint_size_limit() -> None:
    """A LONGINT body larger than max_token_size is refused."""
    dec = Decoder(max_token_size=16)
    dec.receive_data(serialize(2**200) + serialize(2**64))
    evs = dec.events()
    assert isinstance(evs[0], ViolationReceived)
    assert evs[1] == ObjectReceived(2**64)


def test_dangling_reference_is_fatal() -> None:
    """A reference to an object that was never opened is a protocol error."""
    with pytest.raises(BananaError, match="dangling"):
        Decoder().receive_data(b"\x00\x88\x09\x82reference\x05\x81\x00\x89")


def test_references_do_not_cross_messages() -> None:
    """Shared references are scoped to one top-level object."""
    dec = Decoder()
    dec.receive_data(serialize([]))
    with pytest.raises(BananaError):
        dec.receive_data(b"\x01\x88\x09\x82reference\x00\x81\x01\x89")


def test_unhashable_key_is_fatal() -> None:
    """A list as a dict key (impossible from an honest peer) is a protocol error."""
    bad = b"\x00\x88\x04\x82dict\x01\x88\x04\x82list\x01\x89\x01\x81\x00\x89"
    with pytest.raises(BananaError):
        Decoder().receive_data(bad)


def test_unknown_vocab_is_fatal() -> None:
    """A VOCAB index that was never defined is a protocol error."""
    with pytest.raises(BananaError, match="VOCAB"):
        Decoder().receive_data(b"\x05\x87")


def test_invalid_utf8_is_fatal() -> None:
    """A unicode sequence holding invalid UTF-8 is a protocol error."""
    with pytest.raises(BananaError):
        Decoder().receive_data(b"\x00\x88\x07\x82unicode\x01\x82\xff\x00\x89")


def decode_in_64k_feeds(stream: bytes) -> tuple[int, int]:
    """Feed ``stream`` to a Decoder in 64 KiB pieces, dropping each object at once:
    (objects, tracemalloc peak above the start)."""
    dec = Decoder()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        count = 0
        for i in range(0, len(stream), 65536):
            dec.receive_data(stream[i : i + 65536])
            while dec.next_event() is not None:
                count += 1
        return count, tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def test_long_stream_in_64k_chunks_keeps_memory_flat() -> None:
    """Decoding ~3 MB in 64 KiB chunks keeps peak memory far below the stream size."""
    enc = Encoder()
    msg = {f"k{i}": [i, "v" * 20, b"x" * 30] for i in range(50)}
    stream = b"".join(enc.encode(msg) for _ in range(400))
    stream += enc.encode(b"y" * 1_000_000)
    count, peak = decode_in_64k_feeds(stream)
    assert count == 401
    assert len(stream) > 2_500_000
    # the largest token is 1 MB: its body is collected in place, never joined again
    assert peak < 2 * 1_000_000, peak


def test_back_to_back_big_tokens_do_not_overlap_in_memory() -> None:
    """Messages each carrying a 1 MiB string, fed in 64 KiB chunks and dropped as they
    arrive: a message that completes in a feed is still queued while the next one's
    body starts, so that body must not take its full size up front (peak < 1.6x)."""
    enc = Encoder()
    token = 1 << 20
    stream = b"".join(enc.encode([b"\xa5" * token, {"a": 1}, list(range(10))]) for _ in range(4))
    count, peak = decode_in_64k_feeds(stream)
    assert count == 4
    assert peak < 1.6 * token, peak


@pytest.mark.parametrize("chunk", [1000, 65536, 100_003])
def test_big_tokens_split_across_feeds(chunk: int) -> None:
    """Large STRING bodies split across feeds decode like one feed, in any container."""
    from octavo.banana import UnicodeConstraint

    big = b"\xa5" * 300_000
    text = "\u00e9" * 150_000
    enc = Encoder()
    stream = enc.encode([big, {"k": text}, (big,)]) + enc.encode(b"x" * 70_000) + enc.encode(1)
    dec = Decoder()
    for i in range(0, len(stream), chunk):
        dec.receive_data(stream[i : i + chunk])
    assert dec.events() == [
        ObjectReceived([big, {"k": text}, (big,)]),
        ObjectReceived(b"x" * 70_000),
        ObjectReceived(1),
    ]
    # a constraint that can only refuse once the body is complete
    dec = Decoder(constraint=DictOf(str, UnicodeConstraint(maxLength=100_000)))
    stream = enc.encode({"k": text}) + enc.encode({"k": "ok"})
    for i in range(0, len(stream), chunk):
        dec.receive_data(stream[i : i + chunk])
    evs = dec.events()
    assert isinstance(evs[0], ViolationReceived)
    assert "too long" in str(evs[0].violation)
    assert evs[1] == ObjectReceived({"k": "ok"})


@pytest.mark.parametrize("value", [b"z" * 60_000, 7**50_000], ids=["string", "longint"])
def test_tiny_feeds_do_not_amplify_memory(value: object) -> None:
    """A token fed a few bytes at a time is buffered compactly (no object per feed)."""
    data = serialize(value)
    dec = Decoder()
    tracemalloc.start()
    try:
        for i in range(0, len(data), 3):
            dec.receive_data(data[i : i + 3])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert dec.events() == [ObjectReceived(value)]
    assert peak < 4 * len(data) + 50_000, peak
