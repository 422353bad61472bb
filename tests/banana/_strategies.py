"""Hypothesis strategies for inert Banana values (shared by the banana tests)."""

from __future__ import annotations

import decimal
from typing import Any

from hypothesis import strategies as st

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
