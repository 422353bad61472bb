"""Regenerate golden.json: inert values and the bytes Foolscap 24.9 serializes them to.

Run from the repository root with Foolscap installed (the dev interpreter has it)::

    /tmp/dev/bin/python tests/banana/vectors/make_vectors.py

Each case is built in Python, described in the tagged form (see graph.py), rebuilt from
that form, and the rebuilt value is what Foolscap serializes, so the test rebuilds exactly
the object that produced the bytes. Sets hold ints (or one item) only: the iteration
order of str/bytes/None members changes with hash randomisation.
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if __package__ in (None, ""):
    sys.path.insert(0, str(HERE.parents[2]))

from tests.banana.vectors.graph import assert_same_graph, from_tagged, to_tagged  # noqa: E402


def _cycles() -> list[tuple[str, object]]:
    self_list: list[object] = []
    self_list.append(self_list)
    self_dict: dict[str, object] = {}
    self_dict["me"] = self_dict
    inner: list[object] = []
    through_tuple = (inner, 1)
    inner.append(through_tuple)
    a: list[object] = ["a"]
    b: list[object] = ["b", a]
    a.append(b)
    loop_list: list[object] = [0]
    loop_tuple = ("t", loop_list)
    loop_list.append({"back": loop_tuple})
    return [
        ("cycle list contains itself", self_list),
        ("cycle dict contains itself", self_dict),
        ("cycle tuple -> list -> tuple", through_tuple),
        ("cycle list -> tuple -> list", inner),
        ("cycle two lists", [a, b]),
        ("cycle list -> dict -> tuple -> list", loop_list),
        ("cycle inside a container", {"x": [self_list, self_list]}),
    ]


def _shared() -> list[tuple[str, object]]:
    shared_list = [1, 2]
    shared_tuple = (1, "t")
    shared_dict = {"k": "v"}
    shared_set = {7, 8}
    shared_frozen = frozenset([3])
    shared_str = "same"
    shared_dec = Decimal("2.5")
    return [
        ("shared list", [shared_list, shared_list]),
        ("shared tuple", [shared_tuple, shared_tuple, (shared_tuple,)]),
        ("shared dict", (shared_dict, {"again": shared_dict})),
        ("shared set", [shared_set, shared_set]),
        ("frozenset not shared", [shared_frozen, shared_frozen]),
        ("str not shared", [shared_str, shared_str]),
        ("decimal not shared", [shared_dec, shared_dec]),
        ("shared tuple as dict key and value", {shared_tuple: shared_tuple}),
        ("shared empty tuple", ((), ())),
    ]


def cases() -> list[tuple[str, object]]:
    """Every golden case as (name, value)."""
    out: list[tuple[str, object]] = []
    ints = [
        0,
        1,
        127,
        128,
        129,
        16383,
        16384,
        2**21,
        2**28 - 1,
        2**28,
        2**31 - 1,
        2**31,
        2**31 + 1,
        2**32,
        2**63 - 1,
        2**63,
        2**64 - 1,
        2**64,
        2**64 + 1,
        2**128,
        10**100,
        256**127,
        256**128,
    ]
    for n in ints:
        out.append((f"int {n}", n))
        if n:
            out.append((f"int -{n}", -n))
    out.append(("int -(2**31+1)", -(2**31 + 1)))
    floats = [
        0.0,
        -0.0,
        1.0,
        1.5,
        -2.25,
        0.1,
        1e300,
        -1e-300,
        5e-324,
        2.0**53 + 2,
        float("inf"),
        float("-inf"),
        float("nan"),
    ]
    out += [(f"float {f!r}", f) for f in floats]
    byte_strings = [b"", b"a", b"\x00\xff\x80", bytes(range(256)), b"x" * 127, b"y" * 128]
    out += [(f"bytes len {len(b)} {b[:3]!r}", b) for b in byte_strings]
    texts = [
        "",
        "a",
        "hello",
        "h\u00e9llo",
        "\u65e5\u672c\u8a9e",
        "\U0001f34c banana",
        "\x00nul",
        "tab\tnewline\n",
        "\u00e9" * 64,
        "\ud7ff\ue000\uffff",
    ]
    out += [(f"str {t[:12]!r}", t) for t in texts]
    out += [("bool True", True), ("bool False", False), ("None", None)]
    out += [
        ("list empty", []),
        ("list ints", [1, 2, 3]),
        ("list nested", [[[]], [[1]], []]),
        ("list mixed", [1, -1, 2**70, 1.5, b"b", "s", True, None, Decimal("1.1")]),
        ("tuple empty", ()),
        ("tuple one", (1,)),
        ("tuple mixed", (1, "a", b"b", (2, (3,)))),
        ("dict empty", {}),
        ("dict str keys", {"a": 1, "b": [2], "c": {"d": None}}),
        ("dict str keys unsorted", {"b": 1, "a": 2, "\u00e9": 3, "B": 4}),
        (
            "dict number keys",
            {3: "x", -1: [1], 2.5: None, 2**70: True, False: -3, Decimal("0.5"): 0},
        ),
        ("dict bytes keys", {b"b": 1, b"a": 2, b"": 3}),
        ("dict tuple keys", {(2, 1): "x", (1, "z"): "y", (): "e"}),
        ("dict frozenset key", {frozenset([1]): -3}),
        ("dict none key", {None: 0}),
        ("set empty", set()),
        ("set ints", {1, 2, 3, 1000, -5, 2**40}),
        ("set one str", {"only"}),
        ("set of tuples", {(1, 2), (3, 4)}),
        ("set with frozenset", {frozenset([1, 2])}),
        ("frozenset empty", frozenset()),
        ("frozenset ints", frozenset([3, 1, 2])),
        ("frozenset nested", frozenset([frozenset([1]), (2, 3)])),
    ]
    decimals = [
        "0",
        "-0",
        "1",
        "1.5",
        "-1.5",
        "1.50",
        "1E+5",
        "1.23E-7",
        "-4.5E+300",
        "0E-10",
        "12345678901234567890.123456789",
        "NaN",
        "-NaN",
        "sNaN",
        "NaN123",
        "Infinity",
        "-Infinity",
    ]
    out += [(f"decimal {d}", Decimal(d)) for d in decimals]
    out.append(
        (
            "nested",
            {
                "users": [
                    {"id": 1, "name": "ann", "tags": ("a", "b"), "flags": {1, 2}},
                    {"id": 2, "name": "b\u00f6b", "tags": (), "flags": set()},
                ],
                "blob": b"\x01\x02",
                "meta": (None, True, [Decimal("9.99"), frozenset([5])]),
            },
        )
    )
    deep: object = 0
    for level in range(40):
        deep = [deep] if level % 2 else (deep,)
    out.append(("deep 40 alternating list/tuple", deep))
    out += _shared()
    out += _cycles()
    return out


def serialize_with_foolscap(value: object) -> bytes:
    """foolscap.storage.serialize, waited for (it fires synchronously)."""
    from foolscap.storage import serialize

    results: list[object] = []
    serialize(value).addBoth(results.append)
    (result,) = results
    if not isinstance(result, bytes):
        raise RuntimeError(f"Foolscap failed: {result!r}")
    return result


def unserialize_with_foolscap(data: bytes) -> object:
    """foolscap.storage.unserialize, waited for (it fires synchronously)."""
    from foolscap.storage import unserialize
    from twisted.python.failure import Failure

    results: list[object] = []
    unserialize(data).addBoth(results.append)
    (result,) = results
    if isinstance(result, Failure):
        result.raiseException()
    return result


def main() -> None:
    """Write golden.json beside this script."""
    import foolscap

    vectors: list[dict[str, Any]] = []
    names = set()
    for name, value in cases():
        assert name not in names, name
        names.add(name)
        tagged = to_tagged(value)
        rebuilt = from_tagged(tagged)
        assert_same_graph(rebuilt, value)
        data = serialize_with_foolscap(rebuilt)
        assert_same_graph(unserialize_with_foolscap(data), rebuilt)
        vectors.append({"name": name, "value": tagged, "hex": data.hex()})
    doc = {
        "about": "Banana bytes from foolscap.storage.serialize; values in the tagged form "
        "of tests/banana/vectors/graph.py; regenerate with make_vectors.py",
        "foolscap": foolscap.__version__,
        "vectors": vectors,
    }
    path = HERE / "golden.json"
    lines = [json.dumps(v, ensure_ascii=True) for v in vectors]
    head = json.dumps({k: v for k, v in doc.items() if k != "vectors"}, indent=1)
    text = head[:-2] + ',\n "vectors": [\n  ' + ",\n  ".join(lines) + "\n ]\n}\n"
    assert json.loads(text) == doc
    path.write_text(text, encoding="utf-8")
    print(f"wrote {len(vectors)} vectors to {path}")


if __name__ == "__main__":
    main()
