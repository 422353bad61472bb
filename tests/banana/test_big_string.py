"""How a large STRING body is held while it arrives (octavo.banana._big_string)."""

from __future__ import annotations

import tracemalloc

import pytest

from octavo.banana import Decoder, Encoder, ObjectReceived
from octavo.banana._big_string import ALWAYS_MAPPED, BigString

FEED = 65536


def traced_while_feeding(size: int, fraction: float) -> tuple[int, int, bytes]:
    """Feed the first ``fraction`` of a ``size``-byte STRING message in 64 KiB pieces,
    as a socket gives them: (memory traced then, memory traced once the rest is in and
    the pieces are dropped, the value decoded)."""
    stream = Encoder().encode(b"\xa5" * size)
    cut = int(len(stream) * fraction)
    dec = Decoder(max_token_size=size)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        for i in range(0, cut, FEED):
            dec.receive_data(stream[i : min(i + FEED, cut)])
        during = tracemalloc.get_traced_memory()[0] - base
        for i in range(cut, len(stream), FEED):
            dec.receive_data(stream[i : i + FEED])
        (event,) = dec.events()
        after = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    assert isinstance(event, ObjectReceived)
    return during, after, event.obj  # type: ignore[return-value]


def test_under_45_percent_the_buffer_holds_what_came() -> None:
    """Before 45% of the body is here the buffer is about what has arrived (grown as it
    comes, never sized from the header alone)."""
    size = 10_000_000
    during, after, value = traced_while_feeding(size, 0.40)
    assert 0.39 * size < during < 0.47 * size, during / size  # BytesIO's 1/8 headroom
    assert value == b"\xa5" * size
    assert size <= after < 1.01 * size, after / size  # the value: one buffer, exact size


def test_past_45_percent_the_buffer_has_the_full_size() -> None:
    """Once 45% of the body is here, the buffer takes the token's exact size in one
    step: memory is the full size, not a grown share."""
    size = 10_000_000
    during, after, value = traced_while_feeding(size, 0.50)
    assert size < during < 1.02 * size, during / size
    assert value == b"\xa5" * size
    assert size <= after < 1.01 * size, after / size


def test_a_body_of_32_mib_or_more_grows_as_it_arrives() -> None:
    """Bodies the allocator always maps grow by small steps to the end (``realloc``
    remaps them, never copies): at half way about half the size is held."""
    size = ALWAYS_MAPPED + 1_000_000
    during, after, value = traced_while_feeding(size, 0.50)
    assert 0.49 * size < during < 0.58 * size, during / size  # BytesIO's 1/8 headroom
    assert len(value) == size and value.count(b"\xa5") == size
    assert size <= after < 1.01 * size, after / size


@pytest.mark.parametrize("size", [FEED, 100_000, 1_000_000, ALWAYS_MAPPED + 5])
@pytest.mark.parametrize("piece", [1, 4096, 65536, 300_001])
def test_bigstring_reassembles_any_split(size: int, piece: int) -> None:
    """Whatever the pieces, the value is the bytes written, in order, of the exact size."""
    body = bytes(range(256)) * (size // 256) + bytes(size % 256)
    first = min(piece, size)
    big = BigString(size, body[:first])
    step = piece if size <= 100_000 else max(piece, 4096)
    for i in range(first, size, step):
        big.write(memoryview(body)[i : i + step] if i % 2 else body[i : i + step])
    assert big.value() == body


def test_a_peer_is_given_at_most_2_2_times_what_it_sent() -> None:
    """The buffer takes the declared size only once 45% of it has arrived."""
    size = 4_000_000
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        big = BigString(size, b"")
        sent = 0
        while sent < size:
            piece = min(FEED, size - sent)
            big.write(bytes(piece))
            sent += piece
            held = tracemalloc.get_traced_memory()[0] - base
            assert held < 2.2 * sent + 1000, (sent, held)
            if 20 * sent < 9 * size:
                assert held < 1.2 * sent + 1000, (sent, held)
            else:
                assert held > size, (sent, held)
        assert big.value() == bytes(size)
    finally:
        tracemalloc.stop()
