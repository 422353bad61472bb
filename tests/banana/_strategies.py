"""Hypothesis strategies for inert Banana values (shared by the banana tests)."""

from __future__ import annotations

import decimal
from typing import Any

from hypothesis import strategies as st

from octavo.banana import Encoder

ints = st.one_of(
    st.integers(min_value=-(2**40), max_value=2**40),
    st.sampled_from([0, 127, 128, 2**31 - 1, 2**31, -(2**31), -(2**31) - 1, 2**64, -(2**64)]),
    st.integers(min_value=-(2**300), max_value=2**300),
)
floats = st.floats(allow_nan=False)
decimals = st.decimals(allow_nan=False, allow_infinity=False, places=4).map(decimal.Decimal)
hashable_leaves = st.one_of(
    ints, floats, st.binary(max_size=40), st.text(max_size=20), st.booleans(), st.none(), decimals
)
hashables = st.recursive(
    hashable_leaves,
    lambda inner: st.one_of(
        st.tuples(inner, inner),
        st.frozensets(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
    ),
    max_leaves=8,
)


def values(max_leaves: int = 30) -> st.SearchStrategy[Any]:
    """Arbitrary nested inert values (no cycles)."""
    return st.recursive(
        hashable_leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=6),
            st.lists(inner, max_size=6).map(tuple),
            st.dictionaries(st.text(max_size=8), inner, max_size=5),
            st.dictionaries(st.integers(), inner, max_size=5),
            st.dictionaries(st.binary(max_size=8), inner, max_size=5),
            st.sets(hashables, max_size=5),
            st.frozensets(hashables, max_size=5),
        ),
        max_leaves=max_leaves,
    )


def same(a: object, b: object) -> bool:
    """Equality that also compares types, recursively (True != 1 here)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))  # type: ignore[arg-type]
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)  # type: ignore[attr-defined, index]
    return a == b


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    """``data`` cut at the positions ``cuts`` (clamped, deduplicated)."""
    points = sorted({min(c, len(data)) for c in cuts})
    pieces = []
    prev = 0
    for p in [*points, len(data)]:
        pieces.append(data[prev:p])
        prev = p
    return pieces


@st.composite
def mutated_stream(draw: st.DrawFn) -> bytes:
    """Valid streams of several objects (and control tokens), then mutated."""
    enc = Encoder()
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        choice = draw(st.integers(0, 5))
        if choice == 0:
            parts.append(enc.ping(draw(st.integers(0, 300))))
        elif choice == 1 and draw(st.booleans()):
            parts.append(enc.add_vocab(draw(st.sampled_from(["list", "unicode", "dict", "x"]))))
        else:
            parts.append(enc.encode(draw(values(12))))
    data = bytearray(b"".join(parts))
    for _ in range(draw(st.integers(0, 4))):
        if not data:
            break
        op = draw(st.integers(0, 3))
        i = draw(st.integers(0, len(data) - 1))
        if op == 0:
            data[i] = draw(st.integers(0, 255))
        elif op == 1:
            del data[i]
        elif op == 2:
            data.insert(i, draw(st.sampled_from([0x80, 0x81, 0x88, 0x89, 0x8A, 0x87, 0x00, 0x7F])))
        else:
            j = draw(st.integers(i, len(data)))
            data[i:j] = data[i:j] * 2
    return bytes(data)
