"""The message budget: what one top-level message may make the decoder build."""

from __future__ import annotations

import time
import tracemalloc
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from octavo.banana import (
    BananaError,
    Decoder,
    Encoder,
    ObjectReceived,
    ViolationReceived,
    serialize,
    unserialize,
)
from octavo.banana import _budget as budget_module

from ._strategies import split, values

FAST = [True, False]
CHUNKS = [None, 1, 7, 1000]


def _decode(data: bytes, fast: bool, chunk: int | None, **limits: Any) -> list[str]:
    dec = Decoder(fast_paths=fast, **limits)
    pieces = [data] if chunk is None else [data[i : i + chunk] for i in range(0, len(data), chunk)]
    for piece in pieces:
        dec.receive_data(piece)
    return [repr(e) for e in dec.events()]


def _check(value: object, limits: dict[str, Any], *, admitted: bool, rule: str = "") -> None:
    """``value`` is admitted (or refused by ``rule``) on both paths and in any chunking,
    and the next message decodes."""
    enc = Encoder()
    data = enc.encode(value) + enc.encode([]) + enc.encode(value)
    for fast in FAST:
        for chunk in CHUNKS:
            events = _decode(data, fast, chunk, **limits)
            assert events[1] == repr(ObjectReceived([])), (fast, chunk)
            assert events[2] == events[0]  # (the budget is per message)
            assert len(events) == 3
            if admitted:
                assert events[0] == repr(ObjectReceived(unserialize(serialize(value))))
            else:
                assert events[0].startswith("ViolationReceived"), (fast, chunk, events[0])
                assert rule in events[0], (fast, chunk, events[0])


def test_defaults() -> None:
    """The defaults, as documented."""
    dec = Decoder()
    assert dec.max_message_objects == 200_000
    assert dec.max_message_memory_ratio == 16
    with pytest.raises(ValueError):
        Decoder(max_message_objects=0)
    with pytest.raises(ValueError):
        Decoder(max_message_memory_ratio=-1)


# a list of n objects: the list, and n - 1 values in it
@pytest.mark.parametrize(
    ("make", "objects"),
    [
        (lambda n: list(range(n - 1)), lambda n: n),  # ints: runs of INT tokens
        (lambda n: [b"ab"] * (n - 1), lambda n: n),  # STRING values
        (lambda n: [-7.5] * (n - 1), lambda n: n),  # FLOATs
        (lambda n: ["s"] * (n - 1), lambda n: n),  # str sequences: one object each
        (lambda n: [None, True] * ((n - 1) // 2), lambda n: n - (n - 1) % 2),
        (lambda n: [[i] for i in range((n - 1) // 2)], lambda n: n - (n - 1) % 2),
        (lambda n: {f"k{i}": i for i in range((n - 1) // 2)}, lambda n: n - (n - 1) % 2),
        (lambda n: (1, (2, [3] * (n - 4))), lambda n: n + 1),
        (lambda n: [[0]] * (n - 3), lambda n: n - 1),  # references: one object each
    ],
    ids=["ints", "bytes", "floats", "strs", "none-bool", "lists", "dict", "nested", "refs"],
)
@pytest.mark.parametrize("n", [5, 41, 300])
def test_objects_limit_edge(make: Any, objects: Any, n: int) -> None:
    """A message of exactly max_message_objects objects passes; one more is refused
    (fast paths on and off, any chunking), and the next message decodes."""
    value = make(n)
    limit = objects(n)
    _check(value, {"max_message_objects": limit}, admitted=True)
    _check(value, {"max_message_objects": limit - 1}, admitted=False, rule="max_message_objects")


def test_top_level_values_are_one_object() -> None:
    """A top-level value is a message of one object, whatever the limit."""
    for value in (1, b"x" * 100, "s", None):
        _check(value, {"max_message_objects": 1}, admitted=True)


def _tiny_lists(n: int) -> bytes:
    """A hostile list of ``n`` empty lists, every OPEN numbered 0 and opened by VOCAB 0
    (``list``), all headers empty: three bytes a sequence."""
    return b"\x88\x87" + b"\x88\x87\x89" * n + b"\x89"


def _memory_edge(ratio: float) -> int:
    """The most empty lists in ``_tiny_lists`` the memory rule admits at ``ratio``."""
    for opens in range(2, 10_000_000):  # OPEN number ``opens`` ends 3*opens-3 bytes in
        used = budget_module.SEQUENCE_COST * opens
        if used > ratio * (3 * opens - 3) + budget_module.FLOOR:
            return opens - 2  # (the first OPEN is the outer list)
    raise AssertionError


@pytest.mark.parametrize("ratio", [16, 8, 4])
@pytest.mark.parametrize("fast", FAST)
def test_memory_ratio_edge(ratio: float, fast: bool) -> None:
    """Runs of tiny sequences: the most the memory rule admits pass, one more is
    refused, on both paths and in any chunking; the next message decodes."""
    n = _memory_edge(ratio)
    after = Encoder(vocab=["list"]).encode([1])
    limits = {"vocab": ["list"], "max_message_memory_ratio": ratio}
    for chunk in (None, 4096):
        events = _decode(_tiny_lists(n) + after, fast, chunk, **limits)
        assert events[0].startswith("ObjectReceived"), events[0][:200]
        assert events[1] == repr(ObjectReceived([1]))
        events = _decode(_tiny_lists(n + 1) + after, fast, chunk, **limits)
        assert events[0].startswith("ViolationReceived"), events[0][:200]
        assert "max_message_memory_ratio" in events[0]
        assert events[1] == repr(ObjectReceived([1]))


def test_legit_data_passes_the_defaults() -> None:
    """What honest peers send passes the default limits: lists of small ints, dicts of
    short strings, big byte strings, deep-ish trees, runs of small containers."""
    node: object = (0, "leaf")
    for level in range(400):
        node = (node, level, "n")
    legit = [
        list(range(100_000)),
        [i % 100 for i in range(190_000)],
        {f"k{i}": f"v{i}" for i in range(30_000)},
        b"\xa5" * 4_000_000,
        node,
        [[i] for i in range(60_000)],
        [{"a": None, "b": True} for i in range(20_000)],
        [0.5] * 100_000,
    ]
    enc = Encoder(vocab=["list", "unicode", "none", "dict", "tuple", "boolean"])
    for value in legit:  # (both ways: the suite runs with OCTAVO_FAST_PATHS=0 too)
        dec = Decoder()
        dec.receive_data(serialize(value))
        assert dec.events() == [ObjectReceived(value)]
        dec = Decoder(vocab=list(enc.vocab))
        dec.receive_data(enc.encode(value))
        assert dec.events() == [ObjectReceived(value)]


def _million_empty_lists() -> bytes:
    el = b"\x01\x88\x04\x82list\x01\x89"
    return b"\x00\x88\x04\x82list" + el * 1_000_000 + b"\x00\x89"


@pytest.mark.parametrize("fast", FAST)
def test_a_million_empty_lists_is_refused(fast: bool) -> None:
    """A list of a million empty lists (10 MB; ~140 MiB if built) is refused with a
    Violation as its 200,001st object arrives, and the decoder goes on."""
    data = _million_empty_lists() + serialize(["next"])
    dec = Decoder(fast_paths=fast)
    began = time.perf_counter()
    dec.receive_data(data)
    elapsed = time.perf_counter() - began
    events = dec.events()
    assert isinstance(events[0], ViolationReceived)
    assert "max_message_objects" in str(events[0].violation)
    assert events[1:] == [ObjectReceived(["next"])]
    assert elapsed < 60, elapsed  # (a few seconds unloaded; generous for a busy machine)


def test_a_million_empty_lists_keeps_memory_bounded() -> None:
    """Decoding it in 64 KiB feeds keeps the traced peak far below what building it
    would take (~140 MiB): traced up to the refusal, where the peak is (the skipped
    rest builds nothing); the decoder then goes on. Both ways with OCTAVO_FAST_PATHS."""
    data = _million_empty_lists() + serialize(["next"])
    dec = Decoder()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        offset = 0
        while dec.next_event() is None:
            dec.receive_data(data[offset : offset + 65536])
            offset += 65536
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert offset < 4_000_000, offset
    dec.receive_data(data[offset:])
    assert dec.events() == [ObjectReceived(["next"])]
    assert peak < 64 << 20, peak


@settings(max_examples=200, deadline=None)
@given(
    values(),
    st.integers(1, 40),
    st.sampled_from([0, 2, 8, 16]),
    st.integers(0, 3000),
    st.lists(st.integers(0, 400), max_size=6),
)
def test_both_paths_apply_the_same_rules(
    value: object, max_objects: int, ratio: float, floor: int, cuts: list[int]
) -> None:
    """With small limits (and a small floor), the fast paths on and off give the same
    events, in any chunking: the fast reader admits what the rules admit, no more."""
    data = serialize(value) + serialize([value, 1]) + serialize(2)
    limits = {"max_message_objects": max_objects, "max_message_memory_ratio": ratio}
    outcomes = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(budget_module, "FLOOR", floor)
        for fast in FAST:
            for pieces in ([data], split(data, cuts)):
                dec = Decoder(fast_paths=fast, **limits)
                try:
                    for piece in pieces:
                        dec.receive_data(piece)
                    failed = None
                except BananaError as e:
                    failed = str(e.args)
                outcomes.append(([repr(e) for e in dec.events()], failed))
    assert all(o == outcomes[0] for o in outcomes), outcomes
