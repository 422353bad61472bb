"""Decoding frees its objects by reference counting alone (memory stays flat).

If decoding left reference cycles behind, every decoded object (and the bytes tokens it
holds) would live until the cyclic GC happened to run, and a long stream would pile them
up: the issue asks for peak memory under 2x the largest token while decoding a stream
in 64 KiB chunks (see benchmarks/bench_banana.py for the measurement).
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from octavo.banana import Decoder, Encoder, ObjectReceived, serialize, unserialize

GOLDEN = json.loads((Path(__file__).parent / "vectors" / "golden.json").read_text(encoding="utf-8"))
# Values with cycles are cyclic by design; every other value must leave no garbage.
ACYCLIC = [v for v in GOLDEN["vectors"] if not v["name"].startswith("cycle")]


@pytest.fixture
def no_gc() -> Iterator[None]:
    """Run with the cyclic GC off, starting from a clean slate."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _garbage_after(action: object) -> int:
    assert callable(action)
    gc.collect()
    action()
    return gc.collect()


def test_decoder_leaves_no_cycles(no_gc: None) -> None:
    """Objects a live Decoder has delivered leave no cyclic garbage once dropped."""
    encoder = Encoder()
    stream = b"".join(
        encoder.encode([b"x" * 1000, {"k": [1, "s", (2, 3.5)]}, {4}, frozenset([5])])
        for _ in range(10)
    )
    decoder = Decoder()

    def decode() -> None:
        for offset in range(0, len(stream), 64):
            decoder.receive_data(stream[offset : offset + 64])
            for event in decoder.events():
                assert isinstance(event, ObjectReceived)

    assert _garbage_after(decode) == 0


def test_unserialize_garbage_does_not_grow_with_the_value(no_gc: None) -> None:
    """unserialize() leaves a small constant of cyclic garbage per call, whatever the value.

    (A Decoder may be cyclic itself; that is once per call, not once per object.)
    """
    tiny = [b"\x00\x81", serialize([[]]), serialize({"a": ("b", {1})})]
    baseline = max(_garbage_after(lambda data=data: unserialize(data)) for data in tiny)
    big = serialize([[i, {"k": (i, str(i))}, {i}] for i in range(1000)])
    assert _garbage_after(lambda: unserialize(big)) <= baseline
    streams = [bytes.fromhex(vector["hex"]) for vector in ACYCLIC]

    def decode_all() -> None:
        for data in streams:
            unserialize(data)

    assert _garbage_after(decode_all) <= baseline * len(streams)
