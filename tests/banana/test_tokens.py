"""Token-level tests: headers, type bytes, control tokens."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from octavo.banana import (
    MAX_HEADER_BYTES,
    BananaError,
    Decoder,
    Encoder,
    ErrorReceived,
    PingReceived,
    PongReceived,
    b128_decode,
    b128_encode,
    read_header,
    serialize,
)
from octavo.banana._tokens import read_int_run


@given(st.integers(min_value=0, max_value=2**400))
def test_b128_round_trip(n: int) -> None:
    """b128_decode inverts b128_encode, and every header byte is below 0x80."""
    h = b128_encode(n)
    assert b128_decode(h) == n
    assert all(b < 0x80 for b in h)


def test_b128_is_little_endian() -> None:
    """The least significant 7 bits come first, as in banana.rst."""
    assert b128_encode(0) == b"\x00"
    assert b128_encode(128) == b"\x00\x01"
    assert b128_encode(300) == bytes((300 & 0x7F, 300 >> 7))


def test_b128_refuses_negative() -> None:
    """Headers are non-negative."""
    with pytest.raises(ValueError):
        b128_encode(-1)


def test_ping_pong_error_bytes() -> None:
    """PING/PONG omit a zero header, as Foolscap's sendPING does; ERROR carries its text."""
    assert Encoder.ping() == b"\x8e"
    assert Encoder.ping(5) == b"\x05\x8e"
    assert Encoder.pong(300) == b"\x2c\x02\x8f"
    assert Encoder.error("bad") == b"\x03\x8dbad"
    assert len(Encoder.error("x" * 5000)) < 1010


def test_ping_pong_events() -> None:
    """PING and PONG come out as events, between objects, without disturbing them."""
    enc = Encoder()
    dec = Decoder()
    dec.receive_data(enc.ping(3) + enc.encode([1]) + enc.pong(0) + enc.ping())
    evs = dec.events()
    assert evs[0] == PingReceived(3)
    assert evs[1].obj == [1]  # type: ignore[union-attr]
    assert evs[2] == PongReceived(0)
    assert evs[3] == PingReceived(0)


def test_ping_inside_an_object() -> None:
    """A PING may arrive in the middle of a sequence; the object still decodes."""
    data = serialize([1, 2])
    dec = Decoder()
    dec.receive_data(data[:8] + b"\x07\x8e" + data[8:])
    evs = dec.events()
    assert evs[0] == PingReceived(7)
    assert evs[1].obj == [1, 2]  # type: ignore[union-attr]


def test_error_token_stops_decoding() -> None:
    """ERROR is surfaced and nothing after it is decoded."""
    dec = Decoder()
    dec.receive_data(Encoder.error("go away") + serialize(1))
    assert dec.events() == [ErrorReceived(b"go away")]
    assert dec.stopped
    dec.receive_data(serialize(2))
    assert dec.events() == []


def test_oversized_error_is_fatal() -> None:
    """An ERROR body over SIZE_LIMIT drops the connection."""
    dec = Decoder()
    with pytest.raises(BananaError):
        dec.receive_data(b128_encode(1001) + b"\x8d")


def test_header_limit() -> None:
    """64 header bytes are allowed; the 65th is a protocol error."""
    dec = Decoder()
    dec.receive_data(b"\x00" * 64 + b"\x81")
    assert dec.events()[0].obj == 0  # type: ignore[union-attr]
    dec = Decoder()
    with pytest.raises(BananaError, match="64"):
        dec.receive_data(b"\x00" * 65 + b"\x81")


def test_header_limit_across_feeds() -> None:
    """The header limit holds when the header arrives one byte at a time."""
    dec = Decoder()
    with pytest.raises(BananaError):
        for _ in range(70):
            dec.receive_data(b"\x01")


@pytest.mark.parametrize("typebyte", [0x80, 0x8B, 0x8C, 0x90, 0xFF])
def test_invalid_type_bytes(typebyte: int) -> None:
    """LIST (old banana) and unknown type bytes are protocol errors."""
    dec = Decoder()
    with pytest.raises(BananaError):
        dec.receive_data(bytes((1, typebyte)))


def test_failed_decoder_stays_failed() -> None:
    """After a BananaError, more data raises again."""
    dec = Decoder()
    with pytest.raises(BananaError):
        dec.receive_data(b"\xff")
    assert dec.failed
    with pytest.raises(BananaError):
        dec.receive_data(serialize(1))


def test_events_before_error_are_kept() -> None:
    """Objects decoded before a protocol error in the same feed stay queued."""
    dec = Decoder()
    with pytest.raises(BananaError):
        dec.receive_data(serialize([1]) + b"\xff")
    assert dec.next_event().obj == [1]  # type: ignore[union-attr]
    assert dec.next_event() is None


def test_open_count_continues_across_messages() -> None:
    """OPEN numbers keep counting on one connection, as in Foolscap."""
    enc = Encoder()
    assert enc.encode("a")[:2] == b"\x00\x88"
    assert enc.encode("b")[:2] == b"\x01\x88"
    assert enc.open_count == 2
    dec = Decoder()
    dec.receive_data(Encoder().encode("a") + b"\x01\x88\x07\x82unicode\x01\x82b\x01\x89")
    assert [e.obj for e in dec.events()] == ["a", "b"]  # type: ignore[union-attr]


def test_close_with_wrong_number_is_fatal() -> None:
    """A CLOSE whose number does not match the OPEN means lost sync."""
    dec = Decoder()
    with pytest.raises(BananaError, match="lost sync"):
        dec.receive_data(b"\x00\x88\x04\x82list\x05\x89")


def test_top_level_close_is_fatal() -> None:
    """A CLOSE with nothing open is a protocol error."""
    with pytest.raises(BananaError):
        Decoder().receive_data(b"\x00\x89")


def test_open_followed_by_open_is_fatal() -> None:
    """An OPEN during the index phase of another OPEN is a protocol error."""
    with pytest.raises(BananaError):
        Decoder().receive_data(b"\x00\x88\x01\x88")


# -- the header reader: read_header, and what is built on it ---------------------


@given(
    st.integers(0, 2**400) | st.integers(0, 2**35),  # (up to five digits: the unrolled ones)
    st.integers(0x80, 0xFF),
    st.binary(max_size=3),
)
def test_read_header_reads_what_b128_encode_writes(value: int, typ: int, tail: bytes) -> None:
    """read_header(b128_encode(n) + type byte) is (type byte, n, where the body starts),
    whatever follows; b128_decode agrees."""
    token = b128_encode(value) + bytes((typ,))
    assert read_header(token + tail, 0, len(token) + len(tail)) == (typ, value, len(token))
    assert read_header(b"xy" + token, 2, len(token) + 2) == (typ, value, len(token) + 2)
    assert b128_decode(b128_encode(value)) == value


@given(st.integers(0, 2**60), st.integers(0, 6))
def test_read_header_zero_digits_and_empty_headers(value: int, pad: int) -> None:
    """High zero digits do not change a header; a bare type byte is header 0."""
    token = b128_encode(value) + b"\x00" * pad + b"\x81"
    assert read_header(token, 0, len(token)) == (0x81, value, len(token))
    assert read_header(b"\x89", 0, 1) == (0x89, 0, 1)


@given(st.integers(0, 2**300))
def test_read_header_needs_the_type_byte(value: int) -> None:
    """Every proper prefix of a token's header and type byte is (0, 0, -1): not yet."""
    token = b128_encode(value) + b"\x82"
    for cut in range(len(token)):
        assert read_header(token[:cut] + b"\x81", 0, cut) == (0, 0, -1)


def test_read_header_refuses_headers_past_the_limit() -> None:
    """A header of more than MAX_HEADER_BYTES digits is a BananaError, even before its
    type byte arrives; with a smaller max_bytes it is only (0, 0, -1)."""
    ok = b"\x01" * MAX_HEADER_BYTES + b"\x81"
    assert read_header(ok, 0, len(ok))[2] == len(ok)
    long = b"\x01" * (MAX_HEADER_BYTES + 1)
    with pytest.raises(BananaError, match="limited to 64 bytes"):
        read_header(long, 0, len(long))
    assert read_header(ok, 0, len(ok), 5) == (0, 0, -1)
    assert read_header(b"\x01" * 5 + b"\x81", 0, 6, 5) == (0x81, b128_decode(b"\x01" * 5), 6)
    # four digits are read unrolled, but only when max_bytes allows four
    four = b"\x01\x02\x03\x04\x81"
    assert read_header(four, 0, 5, 4) == (0x81, 1 + 2 * 128 + 3 * 128**2 + 4 * 128**3, 5)
    assert read_header(four, 0, 5, 3) == (0, 0, -1)


def test_b128_decode_takes_only_digits() -> None:
    """b128_decode reads digits of any length and refuses a byte that is not one."""
    assert b128_decode(b"\x01" * 100) == sum(1 << (7 * i) for i in range(100))
    assert b128_decode(b"") == 0
    with pytest.raises(ValueError, match="not a base-128 header"):
        b128_decode(b"\x01\x81")


@given(st.lists(st.integers(0, 16383), max_size=50), st.binary(max_size=4))
def test_read_int_run_is_read_header_token_by_token(ints: list[int], tail: bytes) -> None:
    """read_int_run decodes what read_header decodes, INT by INT, and stops where it
    would meet something else (a header of three digits, another type byte)."""
    data = b"".join(b128_encode(i) + b"\x81" for i in ints) + tail
    run, stop = read_int_run(data, 0, len(data))
    expected = []
    pos = 0
    while pos < len(data):
        typ, header, body = read_header(data, pos, len(data))
        if typ != 0x81 or body - pos > 3:
            break
        expected.append(header)
        pos = body
    assert (list(run), stop) == (expected, pos)
