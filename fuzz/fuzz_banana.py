"""Atheris fuzz target: hostile bytes, in any chunking, raise only BananaError/Violation.

Run (as ``tox -e fuzz`` does)::

    python fuzz/fuzz_banana.py -max_total_time=60 -rss_limit_mb=2048

Each input is one chunking byte followed by the stream. The stream goes to
``octavo.banana.unserialize`` and, cut into chunks chosen by the chunking byte, to a
``Decoder``; the only exceptions allowed out are ``BananaError`` and ``Violation``, and
the chunked decoder must report the same events and the same outcome as a decoder fed
the whole stream at once. Unless a corpus directory is given, the fuzzer starts from
seeds made of valid streams (the golden vectors and a few encoded values) in a
temporary directory, so mutations of valid streams are explored from the first second.
"""

from __future__ import annotations

import json
import math
import random
import struct
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from octavo import banana

ALLOWED = (banana.BananaError, banana.Violation)
MAX_DEPTH = 200  # for describing decoded objects; the decoder's own limit is lower


def describe(value: object) -> object:
    """A comparable, cycle-safe description of a decoded object graph."""
    labels: dict[int, int] = {}

    def walk(node: object, depth: int) -> object:
        if depth > MAX_DEPTH:
            raise AssertionError("decoded object nested deeper than any decoder limit")
        kind = type(node)
        if kind is float:
            return ("float", struct.pack("!d", node))
        if kind is Decimal:
            return ("decimal", str(node))
        if kind in (list, tuple, dict, set, frozenset):
            if id(node) in labels:
                return ("ref", labels[id(node)])
            labels[id(node)] = len(labels)
            if kind is dict:
                items = [(walk(k, depth + 1), walk(v, depth + 1)) for k, v in node.items()]
                return ("dict", tuple(items))
            parts = [walk(item, depth + 1) for item in node]
            if kind in (set, frozenset):
                parts.sort(key=repr)
            return (kind.__name__, tuple(parts))
        if kind in (bool, int, str, bytes) or node is None:
            return (kind.__name__, node)
        raise AssertionError(f"decoder produced a {kind.__name__}, not an inert value")

    return walk(value, 0)


def event_key(event: object) -> object:
    """What must agree between one-feed and chunked decoding for one event."""
    if isinstance(event, banana.ObjectReceived):
        return ("object", describe(event.object))
    return (type(event).__name__, repr(event))


def decode_in_chunks(stream: bytes, sizes: list[int]) -> tuple[list[object], str | None]:
    """Feed ``stream`` cut at ``sizes`` to a fresh Decoder: its events and the error met."""
    decoder = banana.Decoder()
    events: list[object] = []
    offset = 0
    for size in sizes:
        piece = stream[offset : offset + size]
        offset += size
        try:
            events.extend(event_key(e) for e in decoder.receive_data(piece))
        except ALLOWED as err:
            return events, type(err).__name__
    return events, None


def chunk_sizes(seed: int, length: int) -> list[int]:
    """Chunk lengths covering ``length`` bytes: seed 0 is one chunk, 1 is byte by byte."""
    if seed == 0 or length == 0:
        return [max(length, 1)]
    if seed == 1:
        return [1] * length
    rng = random.Random(seed)
    sizes = []
    while length > 0:
        size = min(length, rng.choice((1, 2, 3, 5, 8, 64, rng.randint(1, 512))))
        sizes.append(size)
        length -= size
    return sizes


def TestOneInput(data: bytes) -> None:
    """One fuzz case: see the module docstring."""
    if not data:
        return
    seed, stream = data[0], data[1:]
    try:
        result = banana.unserialize(stream)
    except ALLOWED:
        pass
    else:
        describe(result)
    whole_events, whole_error = decode_in_chunks(stream, [max(len(stream), 1)])
    parts_events, parts_error = decode_in_chunks(stream, chunk_sizes(seed, len(stream)))
    if whole_error is None and parts_error is None:
        assert parts_events == whole_events, (stream.hex(), seed)
    else:
        # An error may cut short the events of the call that raised it, so with an
        # error only the outcome and the events both sides delivered must agree.
        assert whole_error == parts_error, (stream.hex(), seed, whole_error, parts_error)
        common = min(len(whole_events), len(parts_events))
        assert parts_events[:common] == whole_events[:common], (stream.hex(), seed)


def seed_streams() -> list[bytes]:
    """Valid streams to start mutating from."""
    seeds = []
    golden = Path(__file__).resolve().parents[1] / "tests" / "banana" / "vectors" / "golden.json"
    if golden.exists():
        for vector in json.loads(golden.read_text(encoding="utf-8"))["vectors"]:
            if len(vector["hex"]) <= 2000:
                seeds.append(bytes.fromhex(vector["hex"]))
    me: list[object] = []
    me.append(me)
    values: list[object] = [
        {"a": [1, 2.5, b"x", (True, None)], "b": {3, 4}, "c": frozenset([5])},
        [2**70, -(2**70), -(2**31), math.pi, Decimal("-1.5E-3"), "\u00e9\U0001f34c"],
        me,
    ]
    seeds += [banana.serialize(value) for value in values]
    encoder = banana.Encoder()
    seeds.append(b"".join(encoder.encode(value) for value in values))
    return seeds


def main() -> None:
    """Start atheris, seeding a temporary corpus unless one is given."""
    argv = list(sys.argv)
    if not any(not arg.startswith("-") for arg in argv[1:]):
        corpus = Path(tempfile.mkdtemp(prefix="fuzz-banana-"))
        for index, stream in enumerate(seed_streams()):
            (corpus / f"seed-{index:03d}").write_bytes(bytes([index % 7]) + stream)
        argv.append(str(corpus))
    atheris.Setup(argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
