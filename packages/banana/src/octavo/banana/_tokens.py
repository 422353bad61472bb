"""Banana token type bytes, the base-128 header, and the limits on both."""

from __future__ import annotations

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
    """Decode a little-endian base-128 header (every byte below 0x80)."""
    value = 0
    shift = 0
    for byte in header:
        value |= byte << shift
        shift += 7
    return value
