"""The speed-up paths give the same bytes and behaviour as the plain rules."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from octavo.banana import Encoder
from octavo.banana._encoder import (
    _CLOSE_T,
    _INT_T,
    _OPEN_T,
    _open_close,
    encode_message,
)
from octavo.banana._tokens import b128_encode

BOUNDARIES = [0, 127, 128, 2047, 2048, 16383, 16384, 16385, 2**21 - 1, 2**21, 2**28, 2**35 + 3]


def test_precomputed_tables_are_canonical_headers() -> None:
    """Every precomputed OPEN, CLOSE and INT token is b128_encode(i) plus its type byte."""
    for i, (o, c, n) in enumerate(zip(_OPEN_T, _CLOSE_T, _INT_T, strict=True)):
        h = b128_encode(i)
        assert (o, c, n) == (h + b"\x88", h + b"\x89", h + b"\x81")


@given(st.one_of(st.sampled_from(BOUNDARIES), st.integers(0, 2**40)))
def test_open_close_headers(k: int) -> None:
    """OPEN/CLOSE tokens of any sequence number are its canonical header plus 0x88/0x89."""
    h = b128_encode(k)
    assert _open_close(k) == (h + b"\x88", h + b"\x89")


def _reference(obj: object, k: int) -> tuple[bytes, int]:
    """Banana of ints, strs, lists and tuples by the plain rules, OPENs numbered from k."""
    if isinstance(obj, int):
        return b128_encode(obj) + b"\x81", k
    h = b128_encode(k)
    if isinstance(obj, str):
        data = obj.encode()
        body = b"\x07\x82unicode" + b128_encode(len(data)) + b"\x82" + data
        return h + b"\x88" + body + h + b"\x89", k + 1
    assert isinstance(obj, (list, tuple))
    name = b"list" if isinstance(obj, list) else b"tuple"
    parts = [h + b"\x88", b128_encode(len(name)) + b"\x82" + name]
    n = k + 1
    for x in obj:
        data, n = _reference(x, n)
        parts.append(data)
    parts.append(h + b"\x89")
    return b"".join(parts), n


VALUE = [1, "ab", ["cd", (2, "x")], ("y",), 300]


def test_messages_at_high_open_numbers() -> None:
    """A message numbered from far into a connection's life is encoded exactly."""
    enc = Encoder()
    for start in BOUNDARIES + [b - 3 for b in BOUNDARIES if b >= 3]:
        assert encode_message(enc, VALUE, start) == _reference(VALUE, start)


def test_open_count_continues_across_messages() -> None:
    """Successive encode() calls past 16384 OPENs number their sequences on."""
    enc = Encoder()
    value = ["s"] * 100
    data = b""
    for _ in range(170):
        data = enc.encode(value)
    start = enc.open_count - 101
    assert start > 16384
    assert data == _reference(value, start)[0]
