"""Atheris fuzz target: hostile bytes, in any chunking, raise only BananaError/Violation.

Run (as ``tox -e fuzz`` does)::

    python fuzz/fuzz_banana.py -max_total_time=60 -rss_limit_mb=2048

Each input is a chunking byte, a configuration byte (root constraint, tight depth and
token-size limits, initial vocabulary) and the stream. The stream goes to
``octavo.banana.unserialize`` and, cut into chunks chosen by the chunking byte, to a
``Decoder`` so configured. Only ``BananaError`` and ``Violation`` may escape, decoded
objects must be inert values, and the chunked decoder must report the same events and
the same outcome (no error, or the same error type) as one fed the whole stream at once;
and a decoder with its fast paths off (``fast_paths=False``: the general path alone)
fed the same chunks must give the same events and the same error, message included.
Unless a corpus directory is given, the fuzzer starts from seeds made of valid streams
(the golden vectors and a few encoded values) in a temporary directory kept between
runs, so mutations of valid streams are explored from the first second. Inputs that
once failed are kept in fuzz/regressions/ (the ``*.bin`` not named ``pb-*``) and replayed
first.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from pathlib import Path

import atheris
from _fuzzing import chunk_sizes, describe, run

with atheris.instrument_imports():
    from octavo import banana

ALLOWED = (banana.BananaError, banana.Violation)

# The second input byte picks a decoder configuration: a root constraint (low nibble)
# and tight or default limits and an initial vocabulary (high nibble bits).
CONSTRAINTS: list[banana.Constraint | None] = [
    None,
    None,
    banana.ListOf(int, maxLength=3),
    banana.DictOf(str, banana.ListOf(int)),
    banana.TupleOf(int, bytes, banana.Any()),
    banana.ByteStringConstraint(maxLength=8),
    banana.IntegerConstraint(),
    banana.ChoiceOf(int, banana.StringConstraint(5), None),
    banana.SetOf(int, maxLength=4),
    banana.Optional(banana.ListOf(banana.Any(), maxLength=2)),
    banana.Shared(banana.ListOf(banana.Any())),
    banana.UnicodeConstraint(maxLength=4),
    banana.BooleanConstraint(),
    banana.NumberConstraint(maxBytes=4),
    banana.ListOf(banana.TupleOf(str, banana.DictOf(int, bytes, maxKeys=2))),
    banana.Nothing(),
]
VOCAB = [b"list", b"tuple", b"dict", b"unicode", b"reference", b"abc"]


def settings_for(selector: int) -> dict[str, object]:
    """Decoder keyword arguments chosen by one byte."""
    kwargs: dict[str, object] = {"constraint": CONSTRAINTS[selector & 0x0F]}
    if selector & 0x10:
        kwargs["max_depth"] = 3
    if selector & 0x20:
        kwargs["max_token_size"] = 16
    return kwargs


def event_key(event: object) -> object:
    """What must agree between one-feed and chunked decoding for one event."""
    if isinstance(event, banana.ObjectReceived):
        return ("object", describe(event.obj))
    return (type(event).__name__, repr(event))


def decode_in_chunks(
    stream: bytes, sizes: list[int], selector: int, fast_paths: bool = True
) -> tuple[list[object], BaseException | None]:
    """Feed ``stream`` cut at ``sizes`` to a fresh Decoder: its events and the error met."""
    kwargs = settings_for(selector)
    if selector & 0x40:
        kwargs["vocab"] = VOCAB
    decoder = banana.Decoder(fast_paths=fast_paths, **kwargs)  # type: ignore[arg-type]
    events: list[object] = []
    offset = 0
    for size in sizes:
        piece = stream[offset : offset + size]
        offset += size
        try:
            decoder.receive_data(piece)
        except ALLOWED as err:
            events.extend(event_key(e) for e in decoder.events())
            return events, err
        events.extend(event_key(e) for e in decoder.events())
    return events, None


def TestOneInput(data: bytes) -> None:
    """One fuzz case: see the module docstring."""
    if len(data) < 2:
        return
    seed, selector, stream = data[0], data[1], data[2:]
    try:
        result = banana.unserialize(stream, **settings_for(selector))  # type: ignore[arg-type]
    except ALLOWED:
        pass
    else:
        describe(result)
    whole_events, whole_error = decode_in_chunks(stream, [max(len(stream), 1)], selector)
    sizes = chunk_sizes(seed, len(stream))
    parts_events, parts_error = decode_in_chunks(stream, sizes, selector)
    # Events decoded before a BananaError stay queued, so both must match exactly.
    assert type(parts_error) is type(whole_error), (stream.hex(), seed, whole_error, parts_error)
    assert parts_events == whole_events, (stream.hex(), seed)
    general_events, general_error = decode_in_chunks(stream, sizes, selector, fast_paths=False)
    assert general_events == parts_events, (stream.hex(), seed, "general path")
    assert str(general_error) == str(parts_error), (stream.hex(), seed, "general path")


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


def seed_inputs() -> list[bytes]:
    """The seeds, each behind a chunking byte and a configuration byte."""
    inputs = []
    for index, stream in enumerate(seed_streams()):
        config = bytes([index % 7, index % 5 if index % 3 else index % 256])
        inputs.append(config + stream)
    return inputs


def main() -> None:
    """Replay past failures, then start atheris (seeded unless a corpus is given)."""
    run(
        TestOneInput,
        regression_prefix="",
        corpus_name="octavo-fuzz-banana-corpus",
        seeds=seed_inputs,
    )


if __name__ == "__main__":
    main()
