"""Instruction counts (callgrind) of octavo.banana's encoder and decoder, per value.

Wall-clock timings drift on a shared machine; instruction counts do not. For each case
this runs Python twice under ``valgrind --tool=callgrind``: once doing the set-up and
one warm-up round, once doing the same and then ``ROUNDS`` more rounds; the difference
divided by ``ROUNDS`` is the cost of one round. Compare two trees (say, before and after
a change) by pointing ``--src`` at each one's ``packages/banana/src``::

    python benchmarks/count_banana.py --src ../wt-base/packages/banana/src \\
        --src packages/banana/src

The cases are the values of ``bench_banana.py`` (decoded with ``unserialize`` and
encoded with ``serialize``), plus a stream of call-shaped messages (``OPEN call INT INT
STRING OPEN arguments INT ... CLOSE CLOSE``) decoded through a registry with registered
``call`` and ``arguments`` opentypes and Foolscap's initial vocabulary, as on a Tub
connection. The children run with ``-S`` (no site-packages: the tree given is the only
octavo.banana), a fixed hash seed, and ``OCTAVO_FAST_PATHS`` as in this environment.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROUNDS = 3
HERE = Path(__file__).resolve()

# Foolscap's initial vocabulary table 1 (octavo.tub's VOCAB_TABLES[1])
VOCAB_1 = (
    "none", "boolean", "reference", "dict", "list", "tuple", "set", "immutable-set",
    "unicode", "set-vocab", "add-vocab", "call", "arguments", "answer", "error",
    "my-reference", "your-reference", "their-reference", "copyable", "instance", "module",
    "class", "method", "function", "attrdict",
)  # fmt: skip


def _values() -> dict[str, object]:
    nested = {f"key{i:03d}": [i % 10, "ab", "cd", (i, "x")] for i in range(200)}
    node: tuple[object, ...] = (0, "leaf")
    for level in range(1, 50):
        node = (node, level, "n")
    return {
        "dict 200 keys": nested,
        "list 10k ints": list(range(10_000)),
        "tuple tree 50 deep": node,
        "bytes 1 MB": b"\xa5" * 1_000_000,
    }


def _call_codec() -> tuple[Callable[[], bytes], Callable[[bytes], object]]:
    """(encode 100 call messages, decode a stream of them) as a Tub connection would."""
    from octavo import banana

    class Call:
        def __init__(self, reqid: int, args: tuple[object, ...]) -> None:
            self.reqid = reqid
            self.args = args

    class Args:
        def __init__(self, args: tuple[object, ...]) -> None:
            self.args = args

    slicers = banana.SlicerRegistry()
    slicers.register(Call, lambda c, ctx: (("call",), (c.reqid, 7, b"add", Args(c.args))))
    slicers.register(Args, lambda a, ctx: (("arguments",), (len(a.args), *a.args)))

    class CallUnslicer(banana.Unslicer):
        wants_check = False
        plain_open = True

        def start(self, count: int) -> None:
            self.items: list[object] = []
            self.prim = self.items.append

        def receiveChild(self, obj: object) -> None:
            self.items.append(obj)

        def receiveClose(self) -> object:
            return self.items

    unslicers = banana.default_unslicers()
    unslicers.register(("call",), lambda ot: CallUnslicer(), top_level=True, nested=False)
    unslicers.register(("arguments",), lambda ot: CallUnslicer(), top_level=False)
    encoder = banana.Encoder(slicers=slicers, vocab=VOCAB_1)
    calls = [Call(i + 1, (i, 2, "text", b"bytes", -5, None, True)) for i in range(100)]

    def encode() -> bytes:
        return b"".join(encoder.encode(c) for c in calls)

    decoder = banana.Decoder(unslicers=unslicers, top_level_primitives=False, vocab=VOCAB_1)

    def decode(data: bytes) -> object:
        decoder.receive_data(data)
        return decoder.events()

    return encode, decode


def _case(name: str) -> Callable[[], object]:
    """The operation measured by case ``name`` (set-up done here, not measured)."""
    from octavo import banana

    op, _, label = name.partition(" ")
    if label == "call messages":
        encode, decode = _call_codec()
        if op == "encode":
            return encode
        data = encode()
        return lambda: decode(data)
    value = _values()[label]
    if op == "encode":
        return lambda: banana.serialize(value)
    data = banana.serialize(value)
    return lambda: banana.unserialize(data)


def case_names() -> list[str]:
    """Every case, as ``"encode LABEL"`` / ``"decode LABEL"``."""
    labels = [*_values_labels(), "call messages"]
    return [f"{op} {label}" for label in labels for op in ("decode", "encode")]


def _values_labels() -> list[str]:
    return ["dict 200 keys", "list 10k ints", "tuple tree 50 deep", "bytes 1 MB"]


def _inner(name: str, rounds: int) -> None:
    run = _case(name)
    run()  # warm-up: lazily built tables, caches
    for _ in range(rounds):
        run()


def _count(python: str, src: str, name: str, rounds: int) -> int:
    env = {**os.environ, "PYTHONPATH": src, "PYTHONHASHSEED": "0"}
    with tempfile.TemporaryDirectory() as tmp:
        command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/cg.out"]
        command += [python, "-S", str(HERE), "--inner", name, str(rounds)]
        out = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    m = re.search(r"Collected : (\d+)", out.stderr)
    if m is None:
        raise RuntimeError(out.stderr[-2000:])
    return int(m.group(1))


def measure(python: str, src: str, name: str) -> int:
    """Instructions of one round of case ``name`` with octavo.banana from ``src``."""
    return (_count(python, src, name, ROUNDS) - _count(python, src, name, 0)) // ROUNDS


def main(argv: list[str] | None = None) -> int:
    """Print a table of instruction counts per case, one column per --src."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", action="append", required=False, default=[])
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--case", action="append", default=[])
    parser.add_argument("--inner", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.inner:
        _inner(args.inner[0], int(args.inner[1]))
        return 0
    srcs = args.src or [str(HERE.parents[1] / "packages" / "banana" / "src")]
    names = args.case or case_names()
    print("| case | " + " | ".join(srcs) + (" | change |" if len(srcs) == 2 else " |"))
    print("|---" * (len(srcs) + 1 + (len(srcs) == 2)) + "|")
    for name in names:
        counts: list[Any] = [measure(args.python, src, name) for src in srcs]
        row = f"| {name} | " + " | ".join(f"{c / 1e6:.3f} M" for c in counts)
        if len(srcs) == 2:
            row += f" | {100 * (counts[1] - counts[0]) / counts[0]:+.1f}% |"
        else:
            row += " |"
        print(row, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
