"""Property tests: arbitrary nested values round-trip, in one feed or any chunking."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from octavo.banana import BananaError, Decoder, Encoder, ObjectReceived, serialize, unserialize

from ._strategies import same, values


@given(values())
def test_round_trip(value: Any) -> None:
    """unserialize(serialize(v)) equals v, types included."""
    assert same(unserialize(serialize(value)), value)


def decode_cut(blob: bytes, cuts: list[int]) -> Any:
    """The one object ``blob`` decodes to, fed in pieces cut at ``cuts``."""
    dec = Decoder()
    prev = 0
    for cut in [*sorted(cuts), len(blob)]:
        dec.receive_data(blob[prev:cut])
        prev = cut
    evs = dec.events()
    assert len(evs) == 1
    assert isinstance(evs[0], ObjectReceived)
    return evs[0].obj


@given(values(), st.data())
def test_round_trip_any_chunking(value: Any, data: st.DataObject) -> None:
    """Feeding the bytes in arbitrary pieces gives the same object."""
    blob = serialize(value)
    cuts = data.draw(st.lists(st.integers(0, len(blob)), max_size=8))
    assert same(decode_cut(blob, cuts), value)


@given(st.lists(values(10), min_size=1, max_size=5))
def test_stream_of_messages(msgs: list[Any]) -> None:
    """One encoder/decoder pair carries many messages in order (OPEN counts continue)."""
    enc = Encoder()
    dec = Decoder()
    dec.receive_data(b"".join(enc.encode(m) for m in msgs))
    got = [e.obj for e in dec.events() if isinstance(e, ObjectReceived)]
    assert len(got) == len(msgs)
    assert all(same(a, b) for a, b in zip(got, msgs, strict=True))


@st.composite
def cyclic(draw: st.DrawFn) -> list[Any]:
    """A graph of lists and dicts with back references to earlier containers."""
    nodes: list[Any] = [[]]
    for _ in range(draw(st.integers(1, 8))):
        parent = draw(st.sampled_from(nodes))
        kind = draw(st.sampled_from(["list", "dict", "ref", "tuple"]))
        if kind == "ref":
            child = draw(st.sampled_from(nodes))
        elif kind == "list":
            child = []
            nodes.append(child)
        elif kind == "dict":
            child = {}
            nodes.append(child)
        else:
            child = (draw(st.sampled_from(nodes)), draw(st.integers()))
        if isinstance(parent, list):
            parent.append(child)
        elif isinstance(parent, dict):
            parent[f"k{len(parent)}"] = child
    return nodes


def _shape(obj: Any, seen: dict[int, int]) -> Any:
    """A canonical description of a graph: containers numbered by first visit."""
    if isinstance(obj, (list, dict, tuple)):
        if id(obj) in seen:
            return ("ref", seen[id(obj)])
        seen[id(obj)] = len(seen)
        if isinstance(obj, dict):
            return ("dict", [(k, _shape(v, seen)) for k, v in sorted(obj.items())])
        return (type(obj).__name__, [_shape(x, seen) for x in obj])
    return obj


@given(cyclic())
def test_cycles_keep_identity(nodes: list[Any]) -> None:
    """Shared and cyclic graphs come back with the same shape and sharing."""
    root = nodes[0]
    back = unserialize(serialize(root))
    assert _shape(back, {}) == _shape(root, {})


@given(
    st.lists(st.integers(min_value=-5, max_value=40000), min_size=0, max_size=300),
    st.lists(st.integers(0, 2000), max_size=5),
)
def test_long_int_lists_any_chunking(ints: list[int], cuts: list[int]) -> None:
    """Long lists of ints (the decoder's batched path) round-trip in any chunking."""
    blob = serialize([ints, ints[:3]])
    dec = Decoder()
    prev = 0
    for cut in [*sorted(c for c in cuts if c <= len(blob)), len(blob)]:
        dec.receive_data(blob[prev:cut])
        prev = cut
    (ev,) = dec.events()
    assert isinstance(ev, ObjectReceived)
    assert ev.obj == [ints, ints[:3]]


def test_noncanonical_int_headers_in_a_run() -> None:
    """INT headers with redundant zero digits decode to the same value, even in a long run."""
    body = b"\x01\x81" * 20 + b"\x05\x00\x81" + b"\x02\x81" * 20
    dec = Decoder()
    dec.receive_data(b"\x00\x88\x04\x82list" + body + b"\x00\x89")
    (ev,) = dec.events()
    assert ev == ObjectReceived([1] * 20 + [5] + [2] * 20)


@pytest.mark.parametrize("skip", [0, 100, 127, 128, 200, 16380, 16390])
def test_open_numbers_across_header_sizes(skip: int) -> None:
    """Sequences decode the same when OPEN numbers need 1, 2 or 3 header bytes."""
    value = {"k": ["ab", "\u00e9", ("x", [1, "y"]), None, True], "z": "w" * 200}
    enc = Encoder()
    prefix = b"".join(enc.encode(None) for _ in range(skip))
    data = enc.encode(value)
    dec = Decoder()
    dec.receive_data(prefix + data)
    assert dec.events()[-1] == ObjectReceived(value)
    dec = Decoder()
    dec.receive_data(prefix)
    for i in range(len(data)):
        dec.receive_data(data[i : i + 1])
    assert dec.events()[-1] == ObjectReceived(value)


def test_str_with_wrong_close_number_is_fatal() -> None:
    """A str sequence closed with another number loses sync, whatever the feeding."""
    good = Encoder().encode(["ab"])
    bad = good.replace(b"\x01\x89", b"\x02\x89", 1)
    assert bad != good
    with pytest.raises(BananaError):
        Decoder().receive_data(bad)
    dec = Decoder()
    with pytest.raises(BananaError):
        for i in range(len(bad)):
            dec.receive_data(bad[i : i + 1])


def test_noncanonical_close_number_accepted() -> None:
    """A CLOSE number with a redundant zero digit still matches its OPEN."""
    data = b"\x00\x88\x04\x82list\x01\x88\x07\x82unicode\x02\x82ab\x01\x00\x89\x00\x89"
    dec = Decoder()
    dec.receive_data(data)
    assert dec.events() == [ObjectReceived(["ab"])]


@given(cyclic(), st.data())
def test_cycles_keep_identity_in_any_chunking(nodes: list[Any], data: st.DataObject) -> None:
    """Shared and cyclic graphs cut anywhere: the containers read in one pass hand
    over to the main loop at the cut (or at a reference) with nothing lost."""
    root = nodes[0]
    blob = serialize(root)
    cuts = data.draw(st.lists(st.integers(0, len(blob)), max_size=4))
    assert _shape(decode_cut(blob, cuts), {}) == _shape(root, {})


@pytest.mark.parametrize("skip", [0, 20000])
def test_every_cut_of_nested_containers(skip: int) -> None:
    """A message of nested lists, tuples and dicts with every kind of leaf, a set, a
    shared list and a tuple that refers to its dict, fed in two pieces cut at every
    byte: the same object each time (one- and three-byte OPEN numbers)."""
    shared = [1, 2]
    value: dict[str, Any] = {
        "a": [0, -3, 2**40, 1.5, b"raw", "s", "\u00e9t\u00e9", None, True, False, "", b""],
        "b": ((1, "x"), [shared, shared], {"n": {"m": ("deep", [[], {}])}}),
        "c": {1, 2, 3},
    }
    value["d"] = (value["a"], shared)
    enc = Encoder()
    enc.take_opens(skip)
    data = enc.encode(value)
    want = _shape(value, {})
    for cut in range(len(data) + 1):
        dec = Decoder()
        dec.count_opens(skip)
        dec.receive_data(data[:cut])
        dec.receive_data(data[cut:])
        (ev,) = dec.events()
        assert isinstance(ev, ObjectReceived)
        got = ev.obj
        assert _shape(got, {}) == want
        assert got["b"][1][0] is got["b"][1][1] is got["d"][1]
