"""The speed-up paths give the same bytes and behaviour as the plain rules."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from octavo.banana import (
    Decoder,
    Encoder,
    Event,
    ObjectReceived,
    SliceContext,
    SlicerRegistry,
    Unslicer,
    Violation,
    ViolationReceived,
    default_unslicers,
    fast_paths_default,
)
from octavo.banana._encoder import (
    _CLOSE_T,
    _INT_T,
    _OPEN_T,
    _open_close,
    encode_message,
)
from octavo.banana._tokens import b128_encode

BOUNDARIES = [0, 127, 128, 2047, 2048, 16383, 16384, 16385, 2**21 - 1, 2**21, 2**28, 2**35 + 3]


def test_precomputed_tables_are_canonical_headers() -> None:
    """Every precomputed OPEN, CLOSE and INT token is b128_encode(i) plus its type byte."""
    for i, (o, c, n) in enumerate(zip(_OPEN_T, _CLOSE_T, _INT_T, strict=True)):
        h = b128_encode(i)
        assert (o, c, n) == (h + b"\x88", h + b"\x89", h + b"\x81")


@given(st.one_of(st.sampled_from(BOUNDARIES), st.integers(0, 2**40)))
def test_open_close_headers(k: int) -> None:
    """OPEN/CLOSE tokens of any sequence number are its canonical header plus 0x88/0x89."""
    h = b128_encode(k)
    assert _open_close(k) == (h + b"\x88", h + b"\x89")


def _reference(obj: object, k: int) -> tuple[bytes, int]:
    """Banana of ints, strs, lists and tuples by the plain rules, OPENs numbered from k."""
    if isinstance(obj, int):
        return b128_encode(obj) + b"\x81", k
    h = b128_encode(k)
    if isinstance(obj, str):
        data = obj.encode()
        body = b"\x07\x82unicode" + b128_encode(len(data)) + b"\x82" + data
        return h + b"\x88" + body + h + b"\x89", k + 1
    assert isinstance(obj, (list, tuple))
    name = b"list" if isinstance(obj, list) else b"tuple"
    parts = [h + b"\x88", b128_encode(len(name)) + b"\x82" + name]
    n = k + 1
    for x in obj:
        data, n = _reference(x, n)
        parts.append(data)
    parts.append(h + b"\x89")
    return b"".join(parts), n


VALUE = [1, "ab", ["cd", (2, "x")], ("y",), 300]


def test_messages_at_high_open_numbers() -> None:
    """A message numbered from far into a connection's life is encoded exactly."""
    enc = Encoder()
    for start in BOUNDARIES + [b - 3 for b in BOUNDARIES if b >= 3]:
        assert encode_message(enc, VALUE, start) == _reference(VALUE, start)


def test_open_count_continues_across_messages() -> None:
    """Successive encode() calls past 16384 OPENs number their sequences on."""
    enc = Encoder()
    value = ["s"] * 100
    data = b""
    for _ in range(170):
        data = enc.encode(value)
    start = enc.open_count - 101
    assert start > 16384
    assert data == _reference(value, start)[0]


class _Box:
    """A custom type whose slicer encodes something else with the same Encoder."""

    def __init__(self, inner: object) -> None:
        self.inner = inner


def test_reentrant_encode_from_a_slicer() -> None:
    """A slicer that calls encode() on the same Encoder mid-message does not disturb it."""
    reentrant = SlicerRegistry()
    plain = SlicerRegistry()
    enc = Encoder(slicers=reentrant)
    side: list[bytes] = []

    def slice_box(obj: _Box, ctx: SliceContext) -> tuple[tuple[str, ...], list[object]]:
        return ("box",), [obj.inner, "after"]

    def slice_box_reentrant(obj: _Box, ctx: SliceContext) -> tuple[tuple[str, ...], list[object]]:
        side.append(enc.encode(["side", obj.inner]))
        return slice_box(obj, ctx)

    reentrant.register(_Box, slice_box_reentrant)
    plain.register(_Box, slice_box)
    inner = ["b", ("c",)]
    value = [("a", 1), _Box(inner), {"k": "v"}]
    data = enc.encode(value)
    assert data == encode_message(Encoder(slicers=plain), value, 0)[0]
    assert side == [encode_message(Encoder(), ["side", inner], 0)[0]]
    for _ in range(3):  # later messages are still exact
        k = enc.open_count
        assert enc.encode(VALUE) == _reference(VALUE, k)[0]


def test_vocabulary_change_is_seen_by_the_next_message() -> None:
    """After add_vocab the next message abbreviates the new word."""
    enc = Encoder()
    first = enc.encode(["word"])
    assert b"\x07\x82unicode" in first
    enc.add_vocab("unicode")
    second = enc.encode(["word"])
    assert b"unicode" not in second
    assert b"\x00\x87" in second


# -- decoder: a Violation raised by a child on the fast path ---------------------


class _Pick:
    """Sent as a ``pick`` sequence of its items."""

    def __init__(self, *items: object) -> None:
        self.items = items


def _slice_pick(obj: _Pick, ctx: SliceContext) -> tuple[tuple[str, ...], list[object]]:
    return ("pick",), list(obj.items)


class _PickUnslicer(Unslicer):
    """Collects children into a list; refuses the int 13 and the bytes b"bad"."""

    def __init__(self, checked: bool) -> None:
        self.wants_check = checked
        self.plain_open = True
        self.items: list[object] = []

    def receiveChild(self, obj: object) -> None:
        if obj in (13, b"bad"):
            raise Violation(f"refused {obj!r}")
        self.items.append(obj)

    def receiveClose(self) -> object:
        return self.items

    def describe(self) -> str:
        return "<pick>"


def _pick_stream(values: list[object]) -> bytes:
    slicers = SlicerRegistry()
    slicers.register(_Pick, _slice_pick)
    enc = Encoder(slicers=slicers)
    return b"".join(enc.encode(v) for v in values)


def _summary(events: list[Event]) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for ev in events:
        if isinstance(ev, ObjectReceived):
            out.append(("object", ev.obj))
        else:
            assert isinstance(ev, ViolationReceived)
            out.append(("violation", str(ev.violation)))
    return out


def _decode_picks(data: bytes, checked: bool, chunk: int, **kwargs: Any) -> list[tuple[str, Any]]:
    reg = default_unslicers()
    reg.register(("pick",), lambda ot: _PickUnslicer(checked))
    dec = Decoder(unslicers=reg, **kwargs)
    for i in range(0, len(data), chunk):
        dec.receive_data(data[i : i + chunk])
    assert not dec.failed
    return _summary(dec.events())


PICKS: list[object] = [
    _Pick(1, b"ok", "s"),
    _Pick(1, 13, 2, [3, "x"], 4),  # INT refused
    _Pick(b"bad", 5),  # STRING refused
    _Pick(-5, 2.5, ["a"], None, True),
    _Pick(["a", (1, 2)], ("t",), 13),  # a finished child accepted, then INT refused
    [_Pick("q", b"bad"), 7],  # refused inside a list: the whole top-level object goes
    ["after", 1],
]


@pytest.mark.parametrize("chunk", [1, 3, 1 << 20])
def test_violation_from_fast_path_child_is_a_violation_event(chunk: int) -> None:
    """receiveChild raising Violation with wants_check False refuses that object only,
    exactly as with wants_check True (every token on the general path)."""
    data = _pick_stream(PICKS)
    fast = _decode_picks(data, False, chunk)
    assert fast == _decode_picks(data, True, chunk)
    assert [kind for kind, _ in fast] == [
        "object",
        "violation",
        "violation",
        "object",
        "violation",
        "violation",
        "object",
    ]
    assert fast[0][1] == [1, b"ok", "s"]
    assert fast[-1][1] == ["after", 1]


# -- decoder: registered opentypes opened on the fast path ----------------------


class _Refused:
    """Sent as a ``refused`` sequence, whose factory raises Violation."""


class _Stops:
    """Sent as a ``stops`` sequence, whose unslicer's start raises Violation."""


class _StopsUnslicer(_PickUnslicer):
    def start(self, count: int) -> None:
        raise Violation("start refused")


def _registered_events(data: bytes, chunk: int, vocab: list[str]) -> list[tuple[str, Any]]:
    reg = default_unslicers()
    reg.register(("pick",), lambda ot: _PickUnslicer(False))

    def refuse(ot: tuple[str, ...]) -> Unslicer:
        raise Violation("factory refused")

    reg.register(("refused",), refuse)
    reg.register(("stops",), lambda ot: _StopsUnslicer(False))
    dec = Decoder(unslicers=reg, top_level_primitives=False, vocab=vocab)
    for i in range(0, len(data), chunk):
        dec.receive_data(data[i : i + chunk])
    assert not dec.failed
    return _summary(dec.events())


@pytest.mark.parametrize("vocab", [[], ["pick", "list", "unicode", "refused", "stops"]])
def test_registered_opentypes_on_the_fast_path(vocab: list[str]) -> None:
    """Registered opentypes at the top level and nested (STRING or VOCAB index token)
    decode as on the general path (1-byte feeds), refusals included."""
    slicers = SlicerRegistry()
    slicers.register(_Pick, _slice_pick)
    slicers.register(_Refused, lambda o, ctx: (("refused",), [1]))
    slicers.register(_Stops, lambda o, ctx: (("stops",), ["x"]))
    enc = Encoder(slicers=slicers, vocab=vocab)
    values: list[object] = [
        _Pick(1, "a", _Pick(2, [3])),
        _Refused(),
        _Pick(13),
        _Stops(),
        [_Pick("in a list"), _Refused()],
        _Pick(b"last"),
    ]
    data = b"".join(enc.encode(v) for v in values)
    whole = _registered_events(data, 1 << 20, vocab)
    assert whole == _registered_events(data, 1, vocab)
    assert whole[0] == ("object", [1, "a", [2, [3]]])
    assert [k for k, _ in whole] == ["object"] + ["violation"] * 4 + ["object"]


@pytest.mark.skipif(
    not fast_paths_default(), reason="about the fast reader (OCTAVO_FAST_PATHS=0 turns it off)"
)
def test_top_level_registered_open_skips_the_general_path(monkeypatch: Any) -> None:
    """On a decoder that insists on top-level OPENs, a registered opentype's OPEN and
    index token and its primitive children do not go through the general path."""
    slicers = SlicerRegistry()
    slicers.register(_Pick, _slice_pick)
    data = Encoder(slicers=slicers, vocab=["pick"]).encode(_Pick(1, b"x", 2))
    reg = default_unslicers()
    reg.register(("pick",), lambda ot: _PickUnslicer(False))
    dec = Decoder(unslicers=reg, top_level_primitives=False, vocab=["pick"])
    calls: list[int] = []
    general = Decoder._token

    def counting(self: Decoder, *args: Any) -> int:
        calls.append(args[3])
        return general(self, *args)

    monkeypatch.setattr(Decoder, "_token", counting)
    dec.receive_data(data)
    assert _summary(dec.events()) == [("object", [1, b"x", 2])]
    assert calls == []


@pytest.mark.skipif(
    not fast_paths_default(), reason="about the fast reader (OCTAVO_FAST_PATHS=0 turns it off)"
)
def test_a_run_of_ints_in_a_container_is_read_in_c(monkeypatch: Any) -> None:
    """A list in a container that starts with a long run of INTs is read by
    read_int_run; short lists of ints (and lists where ints follow another value) are
    read token by token, most without even looking for a run; all as the general
    path."""
    from octavo.banana import _fast

    looked: list[int] = []
    runs: list[int] = []
    look, read = _fast.int_run_end, _fast.read_int_run

    def counting_look(buf: bytes, pos: int, end: int) -> int:
        looked.append(pos)
        return look(buf, pos, end)

    def counting_read(buf: bytes, pos: int, end: int) -> Any:
        runs.append(pos)
        return read(buf, pos, end)

    monkeypatch.setattr(_fast, "int_run_end", counting_look)
    monkeypatch.setattr(_fast, "read_int_run", counting_read)
    value = {
        "run": list(range(300)),
        "short": [[1, 300 + i] for i in range(50)],
        "late": ["x", *range(300)],
    }
    dec = Decoder()
    dec.receive_data(Encoder().encode(value))
    assert _summary(dec.events()) == [("object", value)]
    assert len(runs) == 1  # "run" only
    assert len(looked) < 5  # (a sample of the bytes ahead rules most short lists out)
