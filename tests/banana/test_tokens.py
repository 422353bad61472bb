"""Token-level tests: headers, type bytes, control tokens."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from octavo.banana import (
    BananaError,
    Decoder,
    Encoder,
    ErrorReceived,
    PingReceived,
    PongReceived,
    b128_decode,
    b128_encode,
    serialize,
)


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
