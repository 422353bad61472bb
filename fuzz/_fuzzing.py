"""What the fuzz targets share: chunkings, comparable descriptions, regressions, the run.

Each target (``fuzz_banana.py``, ``fuzz_pb.py``) calls :func:`run` with its one-input
test and its seeds. :func:`run` replays the target's regressions first (the inputs
kept in ``fuzz/regressions/``: ``pb-*.bin`` are the PB target's, the other ``*.bin``
Banana's), then starts atheris on a seeded corpus in a temporary directory that is
kept between runs, unless a corpus directory is given on the command line.
"""

from __future__ import annotations

import random
import struct
import sys
import tempfile
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import cast

import atheris

REGRESSIONS = Path(__file__).resolve().parent / "regressions"
#: the regression file prefixes of the targets other than Banana's (which has none)
TARGET_PREFIXES = ("pb-",)

MAX_DEPTH = 200  # for describing decoded objects; the decoders' own limits are lower

#: describes a value :func:`describe` does not know (``again`` describes its parts),
#: or returns None if it is not a value that may be decoded
Leaf = Callable[[object, Callable[[object], object]], object]


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


def describe(value: object, leaf: Leaf | None = None) -> object:
    """A comparable, cycle-safe description of a decoded object graph (floats by
    their bits, sets sorted). Anything but inert values is an AssertionError, unless
    ``leaf`` describes it. Containers are told apart by identity, so every one seen is
    kept alive until the walk ends: a temporary one (``leaf`` may describe an object's
    state as a fresh dict) freed mid-walk would leave its id to the next, which would
    then be described as a reference to it, depending on where the allocator put it."""
    labels: dict[int, int] = {}
    seen: list[object] = []  # keeps every labelled container alive (see above)

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
            seen.append(node)
            if isinstance(node, dict):
                items = [(walk(k, depth + 1), walk(v, depth + 1)) for k, v in node.items()]
                return ("dict", tuple(items))
            parts = [walk(item, depth + 1) for item in cast("Iterable[object]", node)]
            if kind in (set, frozenset):
                parts.sort(key=repr)
            return (kind.__name__, tuple(parts))
        if kind in (bool, int, str, bytes) or node is None:
            return (kind.__name__, node)
        if leaf is not None:
            described = leaf(node, lambda part: walk(part, depth + 1))
            if described is not None:
                return described
        raise AssertionError(f"decoder produced a {kind.__name__}, not an inert value")

    return walk(value, 0)


def regressions(prefix: str) -> list[Path]:
    """The kept inputs of one target: ``PREFIX*.bin`` (prefix "": Banana's, the files
    without another target's prefix)."""
    files = sorted(REGRESSIONS.glob("*.bin"))
    if prefix:
        return [path for path in files if path.name.startswith(prefix)]
    return [path for path in files if not path.name.startswith(TARGET_PREFIXES)]


def run(
    test_one_input: Callable[[bytes], None],
    *,
    regression_prefix: str,
    corpus_name: str,
    seeds: Callable[[], Iterable[bytes]],
) -> None:
    """Replay the target's past failures, then start atheris (on a corpus seeded with
    ``seeds()`` under the temporary directory, unless a corpus is given)."""
    for path in regressions(regression_prefix):
        print(f"replaying {path.name}", flush=True)
        test_one_input(path.read_bytes())
    argv = list(sys.argv)
    if not any(not arg.startswith("-") for arg in argv[1:]):
        corpus = Path(tempfile.gettempdir()) / corpus_name
        corpus.mkdir(exist_ok=True)  # kept between runs: what one run finds, the next reuses
        for index, data in enumerate(seeds()):
            (corpus / f"seed-{index:03d}").write_bytes(data)
        argv.append(str(corpus))
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()
