"""The fast paths, fenced: a switch turns them off, and on or off the results are the same."""

from __future__ import annotations

import struct
import sys
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from octavo import banana
from octavo.banana import (
    FAST_PATHS_ENV,
    MAX_HEADER_BYTES,
    BananaError,
    Decoder,
    DictOf,
    Encoder,
    ListOf,
    ObjectReceived,
    Unslicer,
    UnslicerRegistry,
    Violation,
    ViolationReceived,
    b128_encode,
    default_unslicers,
    fast_paths_default,
    read_header,
    serialize,
)
from octavo.banana._encoder import encode_message
from octavo.banana._stack import Stack

from ._strategies import mutated_stream, split, values

VOCAB = ["list", "tuple", "dict", "unicode", "boolean", "none", "reference", "pick", "x"]

# -- the switch --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"), [(None, True), ("1", True), ("", True), ("0", False)]
)
def test_the_environment_sets_the_default(
    monkeypatch: Any, value: str | None, expected: bool
) -> None:
    """OCTAVO_FAST_PATHS=0 turns the fast paths off for codecs made without fast_paths=."""
    if value is None:
        monkeypatch.delenv(FAST_PATHS_ENV, raising=False)
    else:
        monkeypatch.setenv(FAST_PATHS_ENV, value)
    assert fast_paths_default() is expected
    assert Decoder().fast_paths is expected
    assert Encoder().fast_paths is expected
    assert Decoder(fast_paths=not expected).fast_paths is not expected
    assert Encoder(fast_paths=not expected).fast_paths is not expected


def _tub_like_registry() -> UnslicerRegistry:
    """A registry with a top-level ``pick`` opentype, as octavo-tub registers ``call``."""
    reg = default_unslicers()
    reg.register(("pick",), lambda ot: _Pick(), top_level=True, nested=True)
    return reg


class _Pick(Unslicer):
    """Collects its children; takes them unchecked (the fast reader may feed it)."""

    wants_check = False
    plain_open = True

    def start(self, count: int) -> None:
        self.items: list[object] = []

    def receiveChild(self, obj: object) -> None:
        if obj == b"refuse":
            raise Violation("refused")
        self.items.append(obj)

    def receiveClose(self) -> object:
        return ("pick", self.items)

    def describe(self) -> str:
        return "<pick>"


def _pick_stream() -> bytes:
    slicers = banana.SlicerRegistry()
    slicers.register(_PickValue, lambda o, ctx: (("pick",), o.items))
    enc = Encoder(slicers=slicers)
    return b"".join(
        enc.encode(v)
        for v in (
            _PickValue([1, "a", None, True, b"b", -3, 2.5, [1, (2, "c")], {"k": "v"}, {1, 2}]),
            _PickValue([b"refuse", 1]),
            [1, "x", {"d": (None, False)}, frozenset([3])],
        )
    )


class _PickValue:
    def __init__(self, items: list[object]) -> None:
        self.items = items


STREAMS = [
    serialize({"k": [1, "s", (2, b"b", None, True, 2.5, -7, 2**70)], "z": {1, 2}}),
    serialize([list(range(100)), "x" * 200, [[[]]], (1,) * 3]),
    _pick_stream(),
]


def _events(data: bytes, chunk: int, **kwargs: Any) -> list[str]:
    dec = Decoder(**kwargs)
    for i in range(0, len(data), chunk):
        dec.receive_data(data[i : i + chunk])
    return [repr(e) for e in dec.events()]


@pytest.mark.parametrize("data", STREAMS)
def test_with_the_fast_paths_off_the_fast_reader_is_never_entered(
    monkeypatch: Any, data: bytes
) -> None:
    """fast_paths=False: neither the fast reader, nor its container reader, nor its
    registered-opentype shortcut runs, and the events are those of the fast paths."""
    from octavo.banana import _decoder, _fast

    entered: list[str] = []
    real_take, real_container = _fast.take, _fast._container
    real_open_registered = Stack.open_registered

    def take(*args: Any) -> Any:
        entered.append("take")
        return real_take(*args)

    def container(*args: Any) -> Any:
        entered.append("container")
        return real_container(*args)

    def open_registered(*args: Any) -> Any:
        entered.append("registered")
        return real_open_registered(*args)

    monkeypatch.setattr(_decoder, "take", take)
    monkeypatch.setattr(_fast, "_container", container)
    monkeypatch.setattr(Stack, "open_registered", open_registered)
    reg = _tub_like_registry()
    chunks = (1, 7, 1 << 20)
    general = [_events(data, chunk, fast_paths=False, unslicers=reg) for chunk in chunks]
    assert entered == []
    assert general == [_events(data, chunk, fast_paths=True, unslicers=reg) for chunk in chunks]
    assert "take" in entered
    assert "container" in entered


def test_with_the_fast_paths_off_take_body_takes_nothing() -> None:
    """take_body declines every chunk with the fast paths off (they go to receive_data)."""
    data = Encoder().encode(b"\x01" * 200_000)
    for fast in (True, False):
        dec = Decoder(fast_paths=fast)
        dec.receive_data(data[:70_000])
        assert dec.take_body(data[70_000:100_000]) is fast


def test_the_encoders_int_run_is_a_fast_path() -> None:
    """The encoder writes a long list of small ints in one step only with the fast paths
    on (it calls min() to check the run); the bytes are the same either way."""
    value = [list(range(50)), [3] * 9 + [20000], [5, -1] * 9]
    calls: list[str] = []

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "c_call" and getattr(arg, "__name__", "") == "min":
            calls.append("min")

    results = {}
    for fast in (True, False):
        enc = Encoder(fast_paths=fast)
        calls.clear()
        sys.setprofile(profile)
        try:
            results[fast] = enc.encode(value)
        finally:
            sys.setprofile(None)
        assert bool(calls) is fast
    assert results[True] == results[False]


# -- fast and general paths agree ------------------------------------------------------


def _describe(value: object) -> object:
    """A comparable, cycle-safe description of a decoded object graph."""
    labels: dict[int, int] = {}

    def walk(node: object) -> object:
        kind = type(node)
        if kind is float:
            return ("float", struct.pack("!d", node))  # type: ignore[arg-type]
        if kind in (list, tuple, dict, set, frozenset):
            if id(node) in labels:
                return ("ref", labels[id(node)])
            labels[id(node)] = len(labels)
            if kind is dict:
                return ("dict", [(walk(k), walk(v)) for k, v in node.items()])  # type: ignore[attr-defined]
            parts = [walk(x) for x in node]  # type: ignore[attr-defined]
            if kind in (set, frozenset):
                parts.sort(key=repr)
            return (kind.__name__, parts)
        if kind is Decimal:
            return ("decimal", str(node))
        return (kind.__name__, repr(node))

    return walk(value)


def _outcome(chunks: list[bytes], fast: bool, config: dict[str, Any]) -> list[object]:
    """Events (described) and the error, if any, of a decoder fed ``chunks``."""
    kwargs = dict(config)
    if kwargs.pop("pick", False):
        kwargs["unslicers"] = _tub_like_registry()
    dec = Decoder(fast_paths=fast, **kwargs)
    out: list[object] = []
    for chunk in chunks:
        try:
            dec.receive_data(chunk)
        except BananaError as e:
            out += [_event(ev) for ev in dec.events()]
            out.append(("BananaError", str(e)))
            return out
    out += [_event(ev) for ev in dec.events()]
    return out


def _event(ev: object) -> object:
    if isinstance(ev, ObjectReceived):
        return ("object", _describe(ev.obj))
    if isinstance(ev, ViolationReceived):
        return ("violation", str(ev.violation))
    return repr(ev)


CONFIGS: list[dict[str, Any]] = [
    {},
    {"max_depth": 3, "max_token_size": 16},
    {"max_depth": 2},
    {"constraint": ListOf(int)},
    {"constraint": DictOf(str, ListOf(int, maxLength=2))},
    {"vocab": VOCAB},
    {"vocab": VOCAB, "pick": True, "top_level_primitives": False},
    {"pick": True, "max_token_size": 64},
]


def _agree(data: bytes, cuts_a: list[int], cuts_b: list[int], config: dict[str, Any]) -> None:
    fast = _outcome(split(data, cuts_a), True, config)
    assert fast == _outcome(split(data, cuts_b), False, config)
    assert fast == _outcome([data], False, config)


cuts = st.lists(st.integers(0, 3000), max_size=12)


@given(mutated_stream(), cuts, cuts, st.sampled_from(CONFIGS))
def test_fast_and_general_agree_on_mutated_streams(
    data: bytes, a: list[int], b: list[int], config: dict[str, Any]
) -> None:
    """Valid and mutated streams: the fast paths give the general path's events,
    Violations (text and place) and BananaError, in any chunking."""
    _agree(data, a, b, config)


@given(st.binary(max_size=400), cuts, cuts, st.sampled_from(CONFIGS))
def test_fast_and_general_agree_on_arbitrary_bytes(
    data: bytes, a: list[int], b: list[int], config: dict[str, Any]
) -> None:
    """Arbitrary bytes: the same events and the same BananaError with or without the
    fast paths, in any chunking."""
    _agree(data, a, b, config)


def _token_end(data: bytes, typ: int, header: int, body: int) -> int:
    if typ in (banana.STRING, banana.LONGINT, banana.LONGNEG, banana.ERROR):
        return body + header
    return body + 8 if typ == banana.FLOAT else body


@st.composite
def reheadered_stream(draw: st.DrawFn) -> bytes:
    """A valid stream (OPENs numbered from anywhere) with its headers rewritten: some
    longer than needed (high zero digits), some zero headers left out, so every header
    length turns up in every place (OPEN and CLOSE numbers, ints, lengths, index tokens,
    the token of a str, bool or reference)."""
    vocab = draw(st.sampled_from([None, VOCAB]))
    enc = Encoder(vocab=vocab)
    start = draw(st.sampled_from([0, 100, 127, 128, 16383, 16384, 2**21 - 2, 2**28]))
    data = b""
    for value in draw(st.lists(values(10), min_size=1, max_size=3)):
        chunk, start = encode_message(enc, value, start)
        data += chunk
    out = []
    pos = 0
    while pos < len(data):
        typ, header, body = read_header(data, pos, len(data))
        end = _token_end(data, typ, header, body)
        digits = b128_encode(header)
        how = draw(st.integers(0, 5))
        if how == 1 and header == 0:
            digits = b""
        elif how >= 4:
            digits += b"\x00" * draw(st.integers(1, 4))
        out.append(digits + bytes((typ,)) + data[body:end])
        pos = end
    return b"".join(out)


@settings(max_examples=300)
@given(reheadered_stream(), cuts, st.sampled_from([*CONFIGS[:3], CONFIGS[5]]))
def test_fast_and_general_agree_on_headers_of_any_length(
    data: bytes, a: list[int], config: dict[str, Any]
) -> None:
    """Headers of every length in every position (the fast reader reads short ones
    inline, read_header the rest): the same results with or without the fast paths."""
    fast = _outcome(split(data, a), True, config)
    assert fast == _outcome([data], False, config)


@pytest.mark.parametrize(
    "data",
    [
        # a set holding a tuple, then an empty list (fuzzer, with limits and a vocabulary)
        bytes.fromhex("00880382736574018805827475706c650181028101898804826c697374896c69737402")
        + bytes.fromhex("8103890402890089"),
        serialize({1, 2}).replace(b"\x01\x81", b"\x01\x88\x04\x82list\x01\x89", 1),
    ],
)
def test_an_unhashable_set_element_is_the_same_error_on_both_paths(data: bytes) -> None:
    """A list as a set element: the set's own BananaError either way (its prim used to be
    set.add, whose TypeError became "error while decoding" on the fast path)."""
    config = {"max_token_size": 16, "vocab": VOCAB}
    fast = _outcome([data], True, config)
    assert fast == _outcome([data], False, config)
    assert "unhashable set element" in str(fast[-1])


def _tokens(data: bytes) -> list[tuple[int, int, int]]:
    """(position, header, end of the header and type byte) of each token of ``data``."""
    out = []
    pos = 0
    while pos < len(data):
        typ, header, body = read_header(data, pos, len(data))
        out.append((pos, header, body))
        pos = _token_end(data, typ, header, body)
    return out


@pytest.mark.parametrize("data", [*STREAMS[:2], Encoder(vocab=VOCAB).encode({"a": ["b", None]})])
@pytest.mark.parametrize("digits", [11, MAX_HEADER_BYTES, MAX_HEADER_BYTES + 1])
def test_long_headers_anywhere_are_the_general_paths(data: bytes, digits: int) -> None:
    """A header of any length up to the limit, or past it, in any token (an OPEN, its
    index token, the token of a str, a CLOSE, an int...): the fast paths give the same
    result, and past the limit the same BananaError at the same place (the fast reader
    hands such a header over; only the general path refuses it)."""
    for vocab in (None, VOCAB):
        for pos, header, body in _tokens(data):
            digits_now = b128_encode(header)
            long = digits_now + b"\x00" * (digits - len(digits_now))
            stream = data[:pos] + long + data[body - 1 :]
            config = {"vocab": vocab} if vocab else {}
            assert _outcome([stream], True, config) == _outcome([stream], False, config)
