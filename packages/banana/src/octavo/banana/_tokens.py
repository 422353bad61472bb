"""Banana token type bytes, the base-128 header, and the limits on both.

A token is a header (base-128 digits, least significant first, each byte below 0x80),
one type byte (0x80 and up) and, for STRING, LONGINT, LONGNEG, ERROR and FLOAT, a body.
:func:`read_header` is the one reader of headers: the decoder's general path and its
fast reader call it (so can octavo-tub's whole-message reader), and :func:`b128_decode`
is built on it. Two hot loops read some headers without it, each checked against it by
tests (tests/banana/test_fast_paths.py): :func:`read_int_run`, the C-level batch form for
runs of INT tokens, and the fast reader's container loop (``_fast._container``), which
reads headers of up to three digits inline, as read_header's own unrolled case (a call per
token there would cost a quarter of the decoding time) and leaves every other header,
and the MAX_HEADER_BYTES refusal, to read_header and the general path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from itertools import repeat
from operator import mul, rshift, sub

from ._errors import BananaError

__all__ = [
    "ABORT",
    "CLOSE",
    "ERROR",
    "FLOAT",
    "INT",
    "LIST",
    "LONGINT",
    "LONGNEG",
    "MAX_HEADER_BYTES",
    "NEG",
    "OPEN",
    "PING",
    "PONG",
    "SIZE_LIMIT",
    "STRING",
    "VOCAB",
    "b128_decode",
    "b128_encode",
    "int_run_end",
    "read_header",
    "read_int_run",
    "tokenNames",
]

# Type bytes, as ints (the byte that follows the header on the wire).
LIST = 0x80  # old banana; refused
INT = 0x81
STRING = 0x82
NEG = 0x83
FLOAT = 0x84
LONGINT = 0x85
LONGNEG = 0x86
VOCAB = 0x87
OPEN = 0x88
CLOSE = 0x89
ABORT = 0x8A
ERROR = 0x8D
PING = 0x8E
PONG = 0x8F

tokenNames: dict[int, str] = {
    LIST: "LIST",
    INT: "INT",
    STRING: "STRING",
    NEG: "NEG",
    FLOAT: "FLOAT",
    LONGINT: "LONGINT",
    LONGNEG: "LONGNEG",
    VOCAB: "VOCAB",
    OPEN: "OPEN",
    CLOSE: "CLOSE",
    ABORT: "ABORT",
    ERROR: "ERROR",
    PING: "PING",
    PONG: "PONG",
}

#: Foolscap's default limit on the body of LONGINT/LONGNEG (under ``Any``) and ERROR.
SIZE_LIMIT = 1000

#: A header longer than this many base-128 digits is a protocol error.
MAX_HEADER_BYTES = 64


def b128_encode(value: int) -> bytes:
    """Encode a non-negative int as a little-endian base-128 header (0 is ``b"\\x00"``)."""
    if value < 0:
        raise ValueError("headers are non-negative")
    if value < 0x80:
        return bytes((value,))
    out = bytearray()
    while value:
        out.append(value & 0x7F)
        value >>= 7
    return bytes(out)


def b128_decode(header: bytes) -> int:
    """Decode a little-endian base-128 header (every byte below 0x80), of any length."""
    n = len(header)
    _, value, body = read_header(header + b"\x80", 0, n + 1, max(n, 3))
    if body != n + 1:
        raise ValueError(f"not a base-128 header: {header[:80]!r}")
    return value


def read_header(
    buf: bytes, pos: int, end: int, max_bytes: int = MAX_HEADER_BYTES
) -> tuple[int, int, int]:
    """Read the header and type byte of the token at ``buf[pos]``.

    Returns ``(type byte, header, body position)``; ``end`` (at most ``len(buf)``) is
    where the bytes received so far end. If the type byte is not before ``end``, returns
    ``(0, 0, -1)``: 0 is no type byte, so a caller that dispatches on the type byte
    falls through to its "not mine" case. A header of more than ``max_bytes`` digits
    (3 or more) also gives ``(0, 0, -1)`` (a fast path that only wants short headers
    stops there), except with ``max_bytes=MAX_HEADER_BYTES``, the default: then it is
    the protocol's limit, and a longer header raises BananaError.
    """
    if pos + 3 < end:  # the usual case: up to three digits (four below), unrolled
        # (comparisons, + and * on ints are specialised by CPython; &, | and << are not)
        c = buf[pos]
        if c > 127:
            return c, 0, pos + 1
        t = buf[pos + 1]
        if t > 127:
            return t, c, pos + 2
        t = buf[pos + 2]
        if t > 127:
            return t, c + buf[pos + 1] * 128, pos + 3
        t = buf[pos + 3]
        if t > 127:
            return t, c + buf[pos + 1] * 128 + buf[pos + 2] * 16384, pos + 4
        if pos + 4 < end and max_bytes > 3:  # four digits: a long-lived connection's OPENs
            t = buf[pos + 4]
            if t > 127:
                return (
                    t,
                    c + buf[pos + 1] * 128 + buf[pos + 2] * 16384 + buf[pos + 3] * 2097152,
                    pos + 5,
                )
    header = 0
    shift = 0
    p = pos
    while p < end:
        c = buf[p]
        p += 1
        if c & 0x80:
            return c, header, p
        if p - pos > max_bytes:
            if max_bytes == MAX_HEADER_BYTES:
                raise BananaError(
                    f"token prefix is limited to {MAX_HEADER_BYTES} bytes: "
                    f"but got {buf[pos : pos + 80]!r}"
                )
            break
        header |= c << shift
        shift += 7
    return 0, 0, -1


_INT_RUN = re.compile(rb"(?:[\x00-\x7f]{0,2}\x81)+")
_from_bytes: Callable[[bytes, str], int] = int.from_bytes  # type: ignore[assignment]


def int_run_end(buf: bytes, pos: int, end: int) -> int:
    """Where the run of INT tokens with headers of at most two digits from ``pos`` on
    ends, before ``end`` (``pos``: no such token): what :func:`read_int_run` would read,
    without decoding it."""
    m = _INT_RUN.match(buf, pos, end)
    return pos if m is None else m.end()


def read_int_run(buf: bytes, pos: int, end: int) -> tuple[Iterator[int], int]:
    """The INT tokens with headers of at most two digits from ``pos`` on, decoded in C:
    ``(their values, the position after them)`` (no values: the same position).

    What :func:`read_header` gives token by token, for long runs of small ints: each
    header is ``h0 + 256*h1`` as a little-endian int, minus ``128*h1``.
    """
    m = _INT_RUN.match(buf, pos, end)
    if m is None:
        return iter(()), pos
    stop = m.end()
    headers = buf[pos:stop].split(b"\x81")
    headers.pop()
    raw = list(map(_from_bytes, headers, repeat("little")))
    return map(sub, raw, map(mul, map(rshift, raw, repeat(8)), repeat(128))), stop
