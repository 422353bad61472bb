"""The extension point: custom slicers and unslicers, as octavo-tub uses them.

A miniature of Foolscap's ``call`` / ``arguments`` sequences and a ``my-reference``
leaf are built here on the public API only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from octavo.banana import (
    INT,
    OPEN,
    STRING,
    VOCAB,
    BananaError,
    Constraint,
    Decoder,
    DictOf,
    Encoder,
    IntegerConstraint,
    LeafUnslicer,
    ListOf,
    ObjectReceived,
    ObjectTable,
    Pending,
    SliceContext,
    SlicerEntry,
    SlicerRegistry,
    TupleUnslicer,
    Unslicer,
    Violation,
    ViolationReceived,
    default_unslicers,
    serialize,
    unserialize,
)
from octavo.banana._objects import NOT_READY


@dataclass
class Call:
    reqID: int
    clid: int
    methodname: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


@dataclass
class Arguments:
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


def slice_call(call: Call, ctx: SliceContext) -> tuple[tuple[str, ...], Iterable[object]]:
    return ("call",), (
        call.reqID,
        call.clid,
        call.methodname.encode(),
        Arguments(call.args, call.kwargs),
    )


def slice_arguments(a: Arguments, ctx: SliceContext) -> tuple[tuple[str, ...], Iterable[object]]:
    def body() -> Iterable[object]:
        yield len(a.args)
        yield from a.args
        for name in sorted(a.kwargs):
            yield name.encode()
            yield a.kwargs[name]

    return ("arguments",), body()


@dataclass
class Broker:
    """Stands in for the per-connection context (octavo-tub's Broker)."""

    schemas: dict[str, dict[str, Constraint]] = field(default_factory=dict)
    failed_calls: list[tuple[int | None, str]] = field(default_factory=list)
    next_clid: int = 1
    clids: dict[int, int] = field(default_factory=dict)


class ArgumentsUnslicer(Unslicer):
    """count, positional args, then name/value pairs; constraint per argument."""

    schema: dict[str, Constraint] | None = None

    def setConstraint(self, constraint: Any) -> None:
        self.schema = constraint

    def start(self, count: int) -> None:
        self.numargs: int | None = None
        self.args: list[object] = []
        self.kwargs: dict[str, object] = {}
        self.argname: str | None = None

    def _constraint(self) -> Constraint | None:
        if self.schema is None:
            return None
        if self.numargs is not None and len(self.args) < self.numargs:
            key = f"arg{len(self.args)}"
        else:
            key = self.argname or ""
        if key not in self.schema:
            raise Violation(f"unknown argument {key}")
        return self.schema[key]

    def checkToken(self, typebyte: int, size: int) -> None:
        if self.numargs is None:
            if typebyte != INT:
                raise BananaError("posarg count must be an INT")
        elif len(self.args) >= self.numargs and self.argname is None:
            if typebyte not in (STRING, VOCAB):
                raise BananaError("kwarg name must be a STRING")
        else:
            c = self._constraint()
            if c is not None:
                c.checkToken(typebyte, size)

    def doOpen(self, opentype: tuple[str, ...]) -> Unslicer | None:
        c = self._constraint()
        if c is not None:
            c.checkOpentype(opentype)
        child = self.open(opentype)
        if child is not None and c is not None:
            child.setConstraint(c)
        return child

    def receiveChild(self, obj: object) -> None:
        if self.numargs is None:
            assert isinstance(obj, int)
            self.numargs = obj
        elif len(self.args) < self.numargs:
            self.args.append(obj)
        elif self.argname is None:
            assert isinstance(obj, bytes)
            self.argname = obj.decode()
        else:
            self.kwargs[self.argname] = obj
            self.argname = None

    def receiveClose(self) -> object:
        if self.numargs is None or len(self.args) < self.numargs or self.argname is not None:
            raise BananaError("'arguments' sequence ended too early")
        return self

    def describe(self) -> str:
        return "<arguments>"


class CallUnslicer(Unslicer):
    """reqID, objID, methodname, then arguments whose constraints depend on the method."""

    def start(self, count: int) -> None:
        self.stage = 0
        self.reqID: int | None = None
        self.methodname = ""
        self.broker: Broker = self.decoder.context  # type: ignore[assignment]

    def checkToken(self, typebyte: int, size: int) -> None:
        want = {0: (INT,), 1: (INT,), 2: (STRING, VOCAB), 3: (OPEN,)}.get(self.stage, ())
        if typebyte not in want:
            raise BananaError(f"bad token in call stage {self.stage}")
        if self.stage == 2 and size > 100:
            raise Violation("method name too long")

    def doOpen(self, opentype: tuple[str, ...]) -> Unslicer | None:
        if self.stage != 3 or opentype != ("arguments",):
            raise BananaError("call wants an arguments sequence")
        child = self.open(opentype)
        if child is not None:
            child.setConstraint(self.broker.schemas.get(self.methodname))
        return child

    def receiveChild(self, obj: object) -> None:
        if self.stage == 0:
            self.reqID = obj  # type: ignore[assignment]
        elif self.stage == 1:
            self.clid = obj
        elif self.stage == 2:
            assert isinstance(obj, bytes)
            self.methodname = obj.decode()
            if self.methodname not in self.broker.schemas:
                raise Violation(f"no method {self.methodname}")
        else:
            self.arguments = obj
        self.stage += 1

    def reportViolation(self, why: Violation) -> Violation | None:
        self.broker.failed_calls.append((self.reqID, str(why)))
        return why

    def receiveClose(self) -> object:
        if self.stage != 4:
            raise BananaError("'call' sequence ended too early")
        a = self.arguments
        assert isinstance(a, ArgumentsUnslicer)
        return Call(self.reqID or 0, self.clid, self.methodname, tuple(a.args), a.kwargs)  # type: ignore[arg-type]

    def describe(self) -> str:
        return f"<methodcall {self.methodname}>"


def _pair(broker: Broker) -> tuple[Encoder, Decoder]:
    slicers = SlicerRegistry()
    slicers.register(Call, slice_call)
    slicers.register(Arguments, slice_arguments)
    unslicers = default_unslicers()
    unslicers.register(("call",), lambda ot: CallUnslicer(), top_level=True, nested=False)
    unslicers.register(("arguments",), lambda ot: ArgumentsUnslicer(), top_level=False)
    return Encoder(slicers=slicers, context=broker), Decoder(
        unslicers=unslicers, context=broker, top_level_primitives=False
    )


def test_call_bytes_match_foolscap_callslicer() -> None:
    """Our call sequence is byte-identical to Foolscap's CallSlicer on the same values
    (recorded from a Foolscap Banana sending CallSlicer(7, 3, 'add', ...))."""
    enc, _dec = _pair(Broker(schemas={"add": {}}))
    shared = [1]
    data = enc.encode(Call(7, 3, "add", ([1, "x"], shared), {"b": shared, "a": 2.5}))
    assert data.hex() == (
        "0088048263616c6c07810381038261646401880982617267756d656e74730281028804826c6973"
        "74018103880782756e69636f646501827803890289048804826c69737401810489018261844004"
        "000000000000018262058809827265666572656e63650481058901890089"
    )


def test_call_round_trip_with_per_argument_constraints() -> None:
    """The call unslicer picks argument constraints after reading the method name."""
    broker = Broker(
        schemas={"add": {"arg0": ListOf(int), "arg1": IntegerConstraint(), "z": DictOf(str, int)}}
    )
    enc, dec = _pair(broker)
    dec.receive_data(enc.encode(Call(1, 0, "add", ([1, 2], 3), {"z": {"k": 1}})))
    (ev,) = dec.events()
    assert isinstance(ev, ObjectReceived)
    assert ev.obj == Call(1, 0, "add", ([1, 2], 3), {"z": {"k": 1}})


def test_call_argument_violation_is_reported_with_reqid() -> None:
    """A bad argument fails that call (the unslicer learns the reqID) and the stream goes on."""
    broker = Broker(schemas={"add": {"arg0": ListOf(int), "arg1": IntegerConstraint()}})
    enc, dec = _pair(broker)
    bad = enc.encode(Call(5, 0, "add", ([1, b"no"], 3), {}))
    good = enc.encode(Call(6, 0, "add", ([1], 2), {}))
    dec.receive_data(bad + good)
    evs = dec.events()
    assert isinstance(evs[0], ViolationReceived)
    assert evs[0].violation.where == "<RootUnslicer>.<methodcall add>.<arguments>.[1]"
    assert broker.failed_calls == [(5, str(evs[0].violation))]
    assert evs[1] == ObjectReceived(Call(6, 0, "add", ([1], 2), {}))


def test_unknown_method_is_violation() -> None:
    """Refusing the method name rejects the call; later calls decode."""
    broker = Broker(schemas={"add": {}})
    enc, dec = _pair(broker)
    dec.receive_data(enc.encode(Call(1, 0, "nope", (), {})) + enc.encode(Call(2, 0, "add", (), {})))
    evs = dec.events()
    assert isinstance(evs[0], ViolationReceived)
    assert broker.failed_calls[0][0] == 1
    assert evs[1] == ObjectReceived(Call(2, 0, "add", (), {}))


def test_top_level_only_opens() -> None:
    """With top_level_primitives=False a bare token at top level is a protocol error,
    and nested-only opentypes are refused at the top."""
    enc, dec = _pair(Broker())
    with pytest.raises(BananaError, match="top-level must be OPEN"):
        dec.receive_data(enc.encode(5))
    enc, dec = _pair(Broker())
    dec.receive_data(enc.encode(Arguments((), {})))
    assert isinstance(dec.events()[0], ViolationReceived)


class Referenceable:
    pass


class Sub(Referenceable):
    pass


@dataclass
class RemoteRef:
    clid: int


class MyRefUnslicer(LeafUnslicer):
    def start(self, count: int) -> None:
        self.count = count

    def checkToken(self, typebyte: int, size: int) -> None:
        if typebyte != INT:
            raise BananaError("clid must be an INT")

    def receiveChild(self, obj: object) -> None:
        self.clid = obj

    def receiveClose(self) -> object:
        ref = RemoteRef(self.clid)  # type: ignore[arg-type]
        # the sender tracks these, so make this object referenceable
        self.decoder.setObject(self.count, ref)
        return ref


def test_context_mro_and_reference_tracking() -> None:
    """Slicers see the context, match subclasses along the MRO, and may be shared."""

    def slice_ref(
        obj: Referenceable, ctx: SliceContext
    ) -> tuple[tuple[str, ...], Iterable[object]]:
        broker = ctx.context
        assert isinstance(broker, Broker)
        clid = broker.clids.setdefault(id(obj), broker.next_clid)
        broker.next_clid = max(broker.next_clid, clid + 1)
        return ("my-reference",), (clid,)

    broker = Broker()
    slicers = SlicerRegistry()
    slicers.register(Referenceable, slice_ref, track_references=True)
    enc = Encoder(slicers=slicers, context=broker)
    unslicers = default_unslicers()
    unslicers.register("my-reference", lambda ot: MyRefUnslicer(), top_level=False)
    dec = Decoder(unslicers=unslicers, context=broker)
    a, b = Sub(), Referenceable()
    dec.receive_data(enc.encode([a, b, a]))
    (ev,) = dec.events()
    assert isinstance(ev, ObjectReceived)
    got = ev.obj
    assert isinstance(got, list)
    assert got[0] == RemoteRef(1)
    assert got[1] == RemoteRef(2)
    assert got[2] is got[0]  # the second occurrence was a reference sequence


def test_fallback_is_asked_about_unregistered_types() -> None:
    """set_fallback: asked about a type no registered class of its MRO covers; an
    entry it gives is kept, a None is asked again (something may be registered later)."""
    asked: list[type] = []
    answer: dict[type, SlicerEntry] = {}

    def fallback(cls: type) -> SlicerEntry | None:
        asked.append(cls)
        return answer.get(cls)

    class Late:
        pass

    slicers = SlicerRegistry()
    slicers.register(Referenceable, lambda obj, ctx: (("ref",), ()))
    slicers.set_fallback(fallback)
    assert slicers.lookup(Sub) is not None and asked == []  # registered: not asked
    assert slicers.lookup(Late) is None
    assert slicers.lookup(Late) is None
    assert asked == [Late, Late]
    entry = SlicerEntry(lambda obj, ctx: (("late",), ()))
    answer[Late] = entry
    assert slicers.lookup(Late) is entry
    assert slicers.lookup(Late) is entry
    assert asked == [Late, Late, Late]  # kept once given
    assert slicers.copy().lookup(Late) is entry  # a copy has the fallback too
    assert Encoder(slicers=slicers).encode(Late()) == b"\x00\x88\x04\x82late\x00\x89"


def test_extra_index_tokens_for_copyable() -> None:
    """('copyable', classname) needs one more index token; unknown names are refused."""

    class CopyUnslicer(Unslicer):
        def __init__(self, name: str) -> None:
            self.name = name
            self.state: dict[str, object] = {}
            self.key: str | None = None

        def receiveChild(self, obj: object) -> None:
            if self.key is None:
                assert isinstance(obj, bytes)
                self.key = obj.decode()
            else:
                self.state[self.key] = obj
                self.key = None

        def receiveClose(self) -> object:
            return (self.name, self.state)

    def make(opentype: tuple[str, ...]) -> Unslicer:
        if opentype[1] != "my.Point":
            raise Violation(f"unknown RemoteCopy name {opentype[1]!r}")
        return CopyUnslicer(opentype[1])

    @dataclass
    class Point:
        x: int

    slicers = SlicerRegistry()
    slicers.register(Point, lambda p, ctx: (("copyable", "my.Point"), (b"x", p.x)))
    slicers.register(Sub, lambda p, ctx: (("copyable", "other.Thing"), ()))
    unslicers = default_unslicers()
    unslicers.register("copyable", make, extra_index_tokens=1, max_index_length=50)
    enc = Encoder(slicers=slicers)
    dec = Decoder(unslicers=unslicers)
    dec.receive_data(enc.encode([Point(3)]) + enc.encode([Sub()]) + enc.encode(1))
    evs = dec.events()
    assert evs[0] == ObjectReceived([("my.Point", {"x": 3})])
    assert isinstance(evs[1], ViolationReceived)
    assert evs[2] == ObjectReceived(1)


def test_pending_results_fill_containers() -> None:
    """An unslicer may return a Pending; containers fill the slot when it resolves."""
    made: list[Pending] = []

    class GiftUnslicer(LeafUnslicer):
        def receiveChild(self, obj: object) -> None:
            self.n = obj

        def receiveClose(self) -> object:
            p = Pending()
            made.append(p)
            return p

    slicers = SlicerRegistry()
    slicers.register(Sub, lambda o, ctx: (("gift",), (9,)))
    unslicers = default_unslicers()
    unslicers.register("gift", lambda ot: GiftUnslicer())
    dec = Decoder(unslicers=unslicers)
    dec.receive_data(Encoder(slicers=slicers).encode({"k": [Sub(), (Sub(), 1)]}))
    (ev,) = dec.events()
    assert isinstance(ev, ObjectReceived)
    obj = ev.obj
    assert isinstance(obj, dict)
    assert isinstance(obj["k"][1], Pending)  # the tuple waits for its gift
    made[0].resolve("g0")
    made[1].resolve("g1")
    assert obj == {"k": ["g0", ("g1", 1)]}


def test_slicer_violation_leaves_encoder_clean() -> None:
    """A slicer that raises Violation emits nothing and does not advance OPEN numbers."""

    def refuse(obj: object, ctx: SliceContext) -> tuple[tuple[str, ...], Iterable[object]]:
        raise Violation("not today")

    slicers = SlicerRegistry()
    slicers.register(Sub, refuse)
    enc = Encoder(slicers=slicers)
    with pytest.raises(Violation):
        enc.encode([1, Sub()])
    assert enc.open_count == 0


def test_unserialize_with_extra_unslicers_and_context() -> None:
    """unserialize(unslicers=, context=) reads registered opentypes and gives them the context."""
    seen: list[object] = []

    class TagUnslicer(LeafUnslicer):
        def receiveChild(self, obj: object) -> None:
            self.n = obj

        def receiveClose(self) -> object:
            seen.append(self.decoder.context)
            return ("tag", self.n)

    slicers = SlicerRegistry()
    slicers.register(Sub, lambda o, ctx: (("tag",), (5,)))
    unslicers = default_unslicers()
    unslicers.register("tag", lambda ot: TagUnslicer())
    data = Encoder(slicers=slicers).encode([Sub(), 1])
    assert unserialize(data, unslicers=unslicers, context="ctx") == [("tag", 5), 1]
    assert seen == ["ctx"]
    with pytest.raises(Violation):
        unserialize(data)  # the default registry does not know "tag"
    with pytest.raises(BananaError):
        unserialize(data[:-1], unslicers=unslicers)


def test_slicer_temporaries_are_not_mistaken_for_shared_objects() -> None:
    """Fresh state dicts made by a slicer for two objects are sent as two dicts."""

    class Thing:
        pass

    slicers = SlicerRegistry()
    slicers.register(Thing, lambda o, ctx: (("thing",), ({"a": [1]},)))
    data = Encoder(slicers=slicers).encode([Thing(), Thing(), Thing()])
    assert b"reference" not in data


# ------------------------------------------------ whole-message fast paths of an extension


def test_tokens_written_by_a_caller_match_the_encoders() -> None:
    """int_token, open_close_tokens, bytes_token, index_token and take_opens let a caller
    write a message byte for byte as the encoder would, numbering included."""
    from octavo.banana import int_token, open_close_tokens

    enc = Encoder(vocab=["list", "x"])
    enc.encode([1])  # OPEN 0 used
    k = enc.take_opens(2)
    assert k == 1
    assert enc.open_count == 3
    o1, c1 = open_close_tokens(k)
    o2, c2 = open_close_tokens(k + 1)
    mine = b"".join(
        [o1, enc.index_token("list"), int_token(-5), enc.bytes_token(b"x"),
         o2, enc.index_token("list"), int_token(2**40), c2, c1]
    )  # fmt: skip
    other = Encoder(vocab=["list", "x"])
    other.encode([1])
    assert mine == other.encode([-5, b"x", [2**40]])
    assert enc.bytes_token(b"y") == b"\x01\x82y"
    with pytest.raises(ValueError, match="n must be"):
        enc.take_opens(-1)


def _spec_header(n: int) -> bytes:
    """banana.rst's header: base 128, low digit first, the fewest digits (at least one)."""
    digits = bytearray()
    while True:
        digits.append(n & 0x7F)
        n >>= 7
        if not n:
            return bytes(digits)


@given(
    st.integers(min_value=-(2**80), max_value=2**80)
    | st.integers(0, 1 << 22)
    | st.integers((1 << 21) - 5, (1 << 28) + 5)  # four digits: a long-lived connection's
)
def test_int_token_writes_what_the_specification_says(o: int) -> None:
    """int_token writes every int as banana.rst says (its tables of one- to
    four-digit INTs included): INT or NEG within 31 bits, else LONGINT or LONGNEG
    with the magnitude's fewest big-endian bytes; headers base 128, low digit first."""
    from octavo.banana import int_token

    header = _spec_header
    m = abs(o)
    if m < 2**31 or o == -(2**31):
        expected = header(m) + (b"\x81" if o >= 0 else b"\x83")
    else:
        body = m.to_bytes((m.bit_length() + 7) // 8, "big")
        expected = header(len(body)) + (b"\x85" if o > 0 else b"\x86") + body
    assert int_token(o) == expected


@given(st.integers(0, 1 << 40) | st.integers((1 << 21) - 5, (1 << 28) + 5))
def test_open_close_tokens_write_what_the_specification_says(k: int) -> None:
    """open_close_tokens(k) is OPEN and CLOSE with banana.rst's header of ``k`` (its
    tables and pairs of digits included)."""
    from octavo.banana import open_close_tokens

    assert open_close_tokens(k) == (_spec_header(k) + b"\x88", _spec_header(k) + b"\x89")


#: OPEN numbers around each width of header: one to five digits, and six
_OPEN_NUMBERS = (0, 5, 16382, 16383, 16384, 99_999, (1 << 21) - 2, (1 << 21) - 1, 1 << 21)
_OPEN_NUMBERS_LONG = ((1 << 28) - 2, (1 << 28) - 1, 1 << 28, 1 << 35)


@pytest.mark.parametrize("start", [*_OPEN_NUMBERS, *_OPEN_NUMBERS_LONG])
def test_nested_opens_taken_match_the_encoders(start: int) -> None:
    """take_nested_opens numbers two OPENs, the second inside the first, with the
    tokens open_close_tokens gives each number (one- to five-digit headers) and the
    bytes the encoder writes for a list in a list."""
    from octavo.banana import open_close_tokens

    enc = Encoder(vocab=["list"])
    enc.take_opens(start)
    outer_open, inner_open, inner_close, outer_close = enc.take_nested_opens()
    assert enc.open_count == start + 2
    assert (outer_open, outer_close) == open_close_tokens(start)
    assert (inner_open, inner_close) == open_close_tokens(start + 1)
    lst = enc.index_token("list")
    mine = outer_open + lst + inner_open + lst + inner_close + outer_close
    other = Encoder(vocab=["list"])
    other.take_opens(start)
    assert mine == other.encode([[]])


def test_decoder_message_boundary_and_counted_opens() -> None:
    """at_message_boundary is True only between top-level messages; count_opens moves
    the object numbering as if the decoder had read the OPENs itself."""
    enc = Encoder(vocab=["list"])
    dec = Decoder(vocab=["list"])
    assert dec.at_message_boundary
    data = enc.encode([1, [2]])
    dec.receive_data(data[:3])
    assert not dec.at_message_boundary
    dec.receive_data(data[3:])
    assert dec.at_message_boundary
    assert dec.object_count == 2
    dec.count_opens(5)
    assert dec.object_count == 7
    assert dec.vocab_word(0) == b"list"
    assert dec.vocab_word(1) is None
    with pytest.raises(ValueError, match="n must be"):
        dec.count_opens(-1)


def test_finished_unslicers_do_not_point_back_up() -> None:
    """A parent that keeps a finished child (the call keeps its arguments) forms no
    cycle with it: the child's ``parent`` is cleared once it is closed, so the decoded
    values die with the message, without waiting for the cycle collector."""
    import gc

    broker = Broker(schemas={"m": {"arg0": ListOf(IntegerConstraint())}})
    enc, dec = _pair(broker)
    gc.collect()
    gc.disable()
    try:
        for reqid in range(20):
            dec.receive_data(enc.encode(Call(reqid, 1, "m", ([reqid, 2, 3],), {})))
            (event,) = dec.events()
            assert isinstance(event, ObjectReceived)
            del event
        kinds = (CallUnslicer, ArgumentsUnslicer)
        assert not [o for o in gc.get_objects() if isinstance(o, kinds)]
    finally:
        gc.enable()


def test_take_body_takes_only_the_middle_of_a_big_string() -> None:
    """take_body accepts chunks that continue a large STRING without completing it;
    anything else is left to receive_data, and the result is the same (with the fast
    paths off it takes nothing, and the result is still the same)."""
    body = bytes(range(256)) * 2000
    data = Encoder().encode([body, 7])
    dec = Decoder()
    assert not dec.take_body(data[:100])  # nothing is being collected yet
    dec.receive_data(data[:100])
    taken = 0
    pos = 100
    while pos < len(data):
        piece = data[pos : pos + 4096]
        if dec.take_body(piece):
            taken += 1
        else:
            dec.receive_data(piece)
        pos += len(piece)
    assert taken > 100 if dec.fast_paths else taken == 0
    assert dec.events() == [ObjectReceived([body, 7])]


# -- the object table ----------------------------------------------------------------


def test_object_table() -> None:
    """set/get/clear, a dangling number is a BananaError, an open tuple is a Pending
    until it closes, and ready() leaves unfinished objects to the general path."""
    table = ObjectTable()
    table.set(0, [1])
    assert table.get(0) == [1]
    assert table.ready(0) == [1]
    with pytest.raises(BananaError, match="dangling reference 3"):
        table.get(3)
    assert table.ready(3) is NOT_READY
    dec = Decoder()
    unslicer = TupleUnslicer()
    unslicer.decoder = dec
    table.open_tuple(1, unslicer)
    pending = table.get(1)
    assert type(pending) is Pending
    assert pending is unslicer.pending()
    assert table.ready(1) is NOT_READY
    table.clear()
    assert len(table) == 0


def test_unslicers_use_the_decoders_object_table() -> None:
    """Decoder.objects is the table setObject/getObject use; it is emptied after each
    top-level object."""
    dec = Decoder()
    dec.setObject(5, "x")
    assert dec.objects.get(5) == "x" == dec.getObject(5)
    dec.receive_data(serialize([1]))
    assert len(dec.objects) == 0
