"""Copyable / RemoteCopy: registries, classes, schemas, through a bare Banana codec."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.python.components import globalRegistry, registerAdapter
from zope.interface import implementedBy, implementer

from octavo.banana import (
    Decoder,
    Encoder,
    IntegerConstraint,
    ListOf,
    ObjectReceived,
    Optional,
    SlicerRegistry,
    StringConstraint,
    UnicodeConstraint,
    Violation,
    ViolationReceived,
    default_unslicers,
)
from octavo.furl import SturdyRef
from octavo.tub import (
    AttributeDictConstraint,
    Copyable,
    CopyableRegistry,
    ICopyable,
    RemoteCopy,
    RemoteCopyUnslicer,
    registerCopier,
    registerRemoteCopy,
    registerRemoteCopyFactory,
    registerRemoteCopyUnslicerFactory,
)
from octavo.tub._copy_registry import PROCESS_COPYABLES
from octavo.tub._copyable import install_copy_slicers
from octavo.tub._wire._copyables import register_copyable_opener

FURL = "pb://ddnrbbsvpezkdp6ydwqrakddwlclfu6f@tcp:127.0.0.1:1234,tcp:example.org:99/swiss"


class Point(Copyable):
    typeToCopy = "test.copyable.Point"

    def __init__(self, x: int, y: int) -> None:
        self.x = x
        self.y = y


class RemotePoint(RemoteCopy):
    copytype = "test.copyable.Point"
    stateSchema = AttributeDictConstraint(("x", int), ("y", int))


class Named(Copyable, RemoteCopy):
    """Both ends in one class, as Foolscap's SturdyRef."""

    copytype = "test.copyable.Named"

    def __init__(self, name: str = "", tags: list[str] | None = None) -> None:
        self.name = name
        self.tags = tags or []


class Strict(RemoteCopy):
    copytype = "test.copyable.Strict"
    stateSchema = AttributeDictConstraint(
        ("name", UnicodeConstraint(5)),
        ("blob", Optional(StringConstraint(4))),
        ("items", ListOf(IntegerConstraint(), maxLength=3)),
    )


class Loop(Copyable, RemoteCopy):
    copytype = "test.copyable.Loop"

    def __init__(self) -> None:
        self.others: list[Any] = [self]


def codec(registry: CopyableRegistry = PROCESS_COPYABLES) -> tuple[Encoder, Decoder]:
    slicers = SlicerRegistry()
    install_copy_slicers(slicers)
    unslicers = default_unslicers()
    register_copyable_opener(unslicers, registry, top_level=True)
    return Encoder(slicers=slicers), Decoder(unslicers=unslicers)


def send(obj: object, registry: CopyableRegistry = PROCESS_COPYABLES) -> object:
    """``obj`` encoded and decoded; a refused one comes back as its Violation."""
    enc, dec = codec(registry)
    dec.receive_data(enc.encode(obj))
    (ev,) = dec.events()
    if isinstance(ev, ViolationReceived):
        return ev.violation
    assert isinstance(ev, ObjectReceived)
    return ev.obj


@pytest.fixture
def scratch() -> Iterator[list[str]]:
    """Copytypes registered process-wide by a test, forgotten afterwards."""
    names: list[str] = []
    yield names
    for n in names:
        PROCESS_COPYABLES.unregister(n)


def test_a_copyable_arrives_as_its_registered_remote_copy() -> None:
    """A Point is sent as its state and arrives as a RemotePoint with that state."""
    got = send(Point(3, -4))
    assert isinstance(got, RemotePoint)
    assert (got.x, got.y) == (3, -4)


def test_bytes_are_foolscaps_copyable_sequence() -> None:
    """The copytype is the second index token; names are byte strings, in dict order."""
    data = Encoder(slicers=_slicers()).encode(Point(1, 2))
    assert data == (
        b"\x00\x88\x08\x82copyable\x13\x82test.copyable.Point"
        b"\x01\x82x\x01\x81\x01\x82y\x02\x81\x00\x89"
    )


def _slicers() -> SlicerRegistry:
    reg = SlicerRegistry()
    install_copy_slicers(reg)
    return reg


def test_a_class_that_is_both_ends_round_trips() -> None:
    """Copyable + RemoteCopy in one class: copytype names both ends."""
    got = send(Named("n", ["a", "b"]))
    assert isinstance(got, Named)
    assert (got.name, got.tags) == ("n", ["a", "b"])


def test_a_copy_is_sent_again_where_it_recurs_as_foolscap_does() -> None:
    """A Copyable is not a shared reference (Foolscap's trackReferences=False): met
    again inside its own state it is sent again, and the list around it is shared."""
    got = send(Loop())
    assert isinstance(got, Loop)
    inner = got.others[0]
    assert isinstance(inner, Loop) and inner is not got
    assert inner.others is got.others


def test_a_reference_to_a_copy_being_read_resolves_when_it_is_made() -> None:
    """A (hand-made) reference to an open copy gets the finished copy."""
    # OPEN(0) copyable test.copyable.Named; name: "n"; tags: OPEN(1) list [ref 0] CLOSE(1)
    data = (
        b"\x00\x88\x08\x82copyable\x13\x82test.copyable.Named"
        b"\x04\x82name\x01\x88\x07\x82unicode\x01\x82n\x01\x89"
        b"\x04\x82tags\x02\x88\x04\x82list\x03\x88\x09\x82reference\x00\x81\x03\x89"
        b"\x02\x89\x00\x89"
    )
    _, dec = codec()
    dec.receive_data(data)
    (ev,) = dec.events()
    assert isinstance(ev, ObjectReceived), ev
    assert isinstance(ev.obj, Named)
    assert ev.obj.name == "n" and ev.obj.tags[0] is ev.obj


def test_unknown_copytype_is_a_violation_naming_it() -> None:
    """A copytype nobody registered is refused, and nothing is imported."""

    class Stranger(Copyable):
        typeToCopy = "os.system"

    got = send(Stranger())
    assert isinstance(got, Violation)
    assert "unknown RemoteCopy name 'os.system'" in str(got)


def test_schema_refuses_a_wrong_token_before_it_is_read() -> None:
    """A str longer than its UnicodeConstraint allows is a Violation naming the place."""

    class Sender(Copyable):
        typeToCopy = "test.copyable.Strict"

        def getStateToCopy(self) -> dict[str, Any]:
            return {"name": "far too long", "items": [1]}

    got = send(Sender())
    assert isinstance(got, Violation)
    assert "<test.copyable.Strict>.name" in str(got)


@pytest.mark.parametrize(
    ("state", "why"),
    [
        ({"name": "ok", "items": [1, 2, 3, 4]}, "full"),
        ({"name": "ok", "items": ["x"]}, "rejected"),
        ({"name": "ok", "blob": b"12345", "items": []}, "too large"),
        ({"name": "ok", "items": [], "extra": 1}, "unknown attribute 'extra'"),
        ({"name": "ok"}, "missing attributes: items"),
        ({"name": b"ok", "items": []}, "invalid token type: STRING"),
    ],
)
def test_schema_breaches(state: dict[str, Any], why: str) -> None:
    """Each way of breaking the schema is a Violation that says what was wrong."""

    class Sender(Copyable):
        typeToCopy = "test.copyable.Strict"

        def getStateToCopy(self) -> dict[str, Any]:
            return state

    got = send(Sender())
    assert isinstance(got, Violation), got
    assert why in str(got)


def test_schema_allows_optional_attributes_to_be_left_out() -> None:
    """An Optional attribute may be absent; the others must be there."""

    class Sender(Copyable):
        typeToCopy = "test.copyable.Strict"

        def getStateToCopy(self) -> dict[str, Any]:
            return {"name": "abc", "items": [1, 2]}

    got = send(Sender())
    assert isinstance(got, Strict)
    assert got.__dict__ == {"name": "abc", "items": [1, 2]}


def test_ignore_unknown_drops_attributes_the_schema_does_not_name(scratch: list[str]) -> None:
    """ignoreUnknown: unknown attributes are read and dropped; acceptUnknown keeps them."""
    scratch += ["test.copyable.Lax", "test.copyable.Open"]
    registerRemoteCopyFactory(
        "test.copyable.Lax", dict, AttributeDictConstraint(("a", int), ignoreUnknown=True)
    )
    registerRemoteCopyFactory(
        "test.copyable.Open", dict, AttributeDictConstraint(("a", int), acceptUnknown=True)
    )

    class Lax(Copyable):
        typeToCopy = "test.copyable.Lax"

        def __init__(self) -> None:
            self.a = 1
            self.b = [2]

    assert send(Lax()) == {"a": 1}
    Lax.typeToCopy = "test.copyable.Open"
    assert send(Lax()) == {"a": 1, "b": [2]}


def test_a_factory_that_raises_is_a_violation(scratch: list[str]) -> None:
    """An exception of the receiving factory refuses that object only."""
    scratch.append("test.copyable.Boom")

    def boom(state: dict[str, Any]) -> object:
        raise KeyError("nope")

    registerRemoteCopyFactory("test.copyable.Boom", boom)

    class Boom(Copyable):
        typeToCopy = "test.copyable.Boom"

    got = send(Boom())
    assert isinstance(got, Violation)
    assert "KeyError" in str(got)


def test_sturdy_ref_is_sent_by_value() -> None:
    """A SturdyRef is Foolscap's foolscap.SturdyRef copy and comes back equal."""
    ref = SturdyRef(FURL)
    got = send([ref])
    assert isinstance(got, list)
    (back,) = got
    assert isinstance(back, SturdyRef)
    assert back == ref and str(back) == FURL


def test_a_bad_sturdy_ref_url_is_a_violation() -> None:
    """A SturdyRef state whose url does not parse is refused."""

    class Fake(Copyable):
        typeToCopy = "foolscap.SturdyRef"

        def getStateToCopy(self) -> dict[str, Any]:
            return {"url": "http://not-a-furl"}

    got = send(Fake())
    assert isinstance(got, Violation)
    assert "SturdyRef" in str(got)


def test_register_copier_sends_a_third_party_class(scratch: list[str]) -> None:
    """registerCopier makes a class copyable without changing it, even after the
    encoder's registry was made."""
    scratch.append("test.copyable.Third")

    class Third:
        def __init__(self, v: int) -> None:
            self.v = v

    enc, dec = codec()
    with pytest.raises(Violation):
        enc.encode(Third(1))
    registerCopier(Third, lambda t: ("test.copyable.Third", {"v": t.v}))
    registerRemoteCopyFactory("test.copyable.Third", lambda st: Third(st["v"]))
    dec.receive_data(enc.encode(Third(7)))
    (ev,) = dec.events()
    assert isinstance(ev, ObjectReceived)
    assert isinstance(ev.obj, Third) and ev.obj.v == 7


def test_a_class_declaring_icopyable_is_sent_by_value() -> None:
    """A class that only declares ICopyable (no Copyable base) is sent as its
    copytype and state, as Foolscap sends it."""

    @implementer(ICopyable)
    class Declared:
        def getTypeToCopy(self) -> str:
            return "test.copyable.Point"

        def getStateToCopy(self) -> dict[str, Any]:
            return {"x": 5, "y": 6}

    assert Encoder(slicers=_slicers()).encode(Declared()) == Encoder(slicers=_slicers()).encode(
        Point(5, 6)
    )
    got = send(Declared())
    assert isinstance(got, RemotePoint) and (got.x, got.y) == (5, 6)


def test_an_adapter_to_icopyable_makes_a_class_copyable() -> None:
    """registerAdapter(Adapter, cls, ICopyable): instances of cls are sent as the
    adapter says, even when the encoder refused one of them before."""

    class Plain:
        def __init__(self, x: int) -> None:
            self.x = x

    @implementer(ICopyable)
    class PlainAsPoint:
        def __init__(self, original: Plain) -> None:
            self.original = original

        def getTypeToCopy(self) -> str:
            return "test.copyable.Point"

        def getStateToCopy(self) -> dict[str, Any]:
            return {"x": self.original.x, "y": 0}

    enc, dec = codec()
    with pytest.raises(Violation, match="cannot serialize"):
        enc.encode(Plain(1))
    registerAdapter(PlainAsPoint, Plain, ICopyable)
    try:
        dec.receive_data(enc.encode([Plain(7), Plain(8)]))
    finally:
        globalRegistry.unregister([implementedBy(Plain)], ICopyable, "", PlainAsPoint)
    (ev,) = dec.events()
    assert isinstance(ev, ObjectReceived)
    assert [(p.x, p.y) for p in ev.obj] == [(7, 0), (8, 0)]


def test_a_class_neither_declaring_nor_adapted_is_refused() -> None:
    """Without a Copyable base, a declaration or an adapter, an object is not sent."""

    class Other:
        pass

    with pytest.raises(Violation, match="cannot serialize"):
        Encoder(slicers=_slicers()).encode(Other())


def test_a_per_tub_registry_comes_first_and_falls_back() -> None:
    """A registry with a parent finds its own names first, then the parent's."""
    mine = CopyableRegistry(parent=PROCESS_COPYABLES)
    registerRemoteCopyFactory("test.copyable.Point", lambda st: ("mine", st), registry=mine)
    assert send(Point(1, 2), mine) == ("mine", {"x": 1, "y": 2})
    assert isinstance(send(Named("x")), Named)
    assert isinstance(send(Named("x"), mine), Named)
    assert "test.copyable.Point" in mine and "nothing" not in mine
    assert mine.names() == ["test.copyable.Point"]


def test_copyable_registry_attribute_of_a_remote_copy() -> None:
    """A RemoteCopy with copyableRegistry registers there, not process-wide."""
    mine = CopyableRegistry()

    class Private(RemoteCopy):
        copytype = "test.copyable.Private"
        copyableRegistry = mine

    assert mine.names() == ["test.copyable.Private"]
    assert "test.copyable.Private" not in PROCESS_COPYABLES


def test_remote_copy_subclass_must_name_its_copytype() -> None:
    """Leaving out copytype is an error at class definition; None opts out."""
    with pytest.raises(RuntimeError, match="copytype"):

        class Nameless(RemoteCopy):
            pass

    class Abstract(RemoteCopy):
        copytype = None

    assert "None" not in PROCESS_COPYABLES


def test_registering_a_copytype_twice_is_an_error() -> None:
    """One copytype, one reader per registry."""
    with pytest.raises(ValueError, match="already registered"):
        registerRemoteCopy("test.copyable.Point", RemotePoint)
    with pytest.raises(TypeError):
        registerRemoteCopyFactory("", dict)
    with pytest.raises(ValueError, match="longer"):
        registerRemoteCopyFactory("x" * 1001, dict)


def test_copyable_without_type_to_copy_cannot_be_sent() -> None:
    """A Copyable that names no copytype is refused when sent."""

    class Anonymous(Copyable):
        pass

    with pytest.raises(Violation, match="typeToCopy"):
        Encoder(slicers=_slicers()).encode(Anonymous())


def test_non_string_state_keys_cannot_be_sent() -> None:
    """State keys are strings (Foolscap sends them as byte strings)."""

    class Odd(Copyable):
        typeToCopy = "test.copyable.Point"

        def getStateToCopy(self) -> dict[Any, Any]:
            return {1: 2}

    with pytest.raises(Violation, match="keys must be strings"):
        Encoder(slicers=_slicers()).encode(Odd())


def test_a_custom_unslicer_factory(scratch: list[str]) -> None:
    """registerRemoteCopyUnslicerFactory: any octavo.banana Unslicer reads the copy."""
    scratch.append("test.copyable.Custom")
    registerRemoteCopyUnslicerFactory(
        "test.copyable.Custom",
        lambda: RemoteCopyUnslicer("test.copyable.Custom", sorted),
    )

    class Custom(Copyable):
        typeToCopy = "test.copyable.Custom"

        def __init__(self) -> None:
            self.b = 1
            self.a = 2

    assert send(Custom()) == ["a", "b"]


def test_attribute_dict_constraint_check_object() -> None:
    """checkObject applies the same rules to a finished dict."""
    c = AttributeDictConstraint(("a", int), ("b", Optional(bytes)))
    c.checkObject({"a": 1}, True)
    with pytest.raises(Violation, match="missing"):
        c.checkObject({"b": b""}, True)
    with pytest.raises(Violation, match="not in schema"):
        c.checkObject({"a": 1, "z": 2}, True)
    with pytest.raises(Violation, match="not a dict"):
        c.checkObject([1], True)
    with pytest.raises(ValueError, match="twice"):
        AttributeDictConstraint(("a", int), attributes={"a": int})


def test_a_tubs_codec_is_made_once_and_goes_with_its_registry() -> None:
    """codec_for(tub) is built once per Tub registry and kept by that registry alone,
    so it is freed with the Tub (no process-wide cache holds it)."""
    import gc
    import weakref

    from octavo.tub import Tub
    from octavo.tub._broker._host import CODEC, codec_for

    tub = Tub()
    codec = codec_for(tub)
    assert codec is codec_for(tub) and codec is not CODEC
    assert codec.slicers is CODEC.slicers
    gone = weakref.ref(tub.copyables)
    del tub, codec
    gc.collect()
    assert gone() is None


def test_a_fresh_tubs_decoders_use_the_process_codecs_fast_tables() -> None:
    """A Tub's registry differs from the process codec's only in its copyable opener
    (an opentype of two index tokens, not in the fast tables): a fresh Tub's Broker
    builds no fast tables of its own on its first connection."""
    from octavo.banana import Decoder
    from octavo.tub import Tub
    from octavo.tub._broker._host import CODEC, codec_for
    from octavo.tub._wire._vocabulary import INITIAL_VOCAB_TABLES, VOCAB_RANGE

    table = INITIAL_VOCAB_TABLES[VOCAB_RANGE[1]]
    shared = Decoder(unslicers=CODEC.unslicers, vocab=table)._tables
    mine = Decoder(unslicers=codec_for(Tub()).unslicers, vocab=table)._tables
    assert mine is shared


def test_a_copyable_in_its_own_state_cannot_be_sent() -> None:
    """A Copyable that holds itself would be sent forever: refused with a Violation."""

    class Selfish(Copyable):
        typeToCopy = "test.copyable.Selfish"

        def __init__(self) -> None:
            self.me = self

    with pytest.raises(Violation, match="nested too deeply"):
        Encoder(slicers=_slicers()).encode(Selfish())


_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.binary(max_size=20),
    st.text(max_size=20),
)
_VALUES = st.recursive(
    _LEAVES,
    lambda kids: st.one_of(
        st.lists(kids, max_size=4),
        st.tuples(kids, kids),
        st.dictionaries(st.text(max_size=5), kids, max_size=4),
    ),
    max_leaves=10,
)


@settings(max_examples=60, deadline=None)
@given(state=st.dictionaries(st.text(max_size=20), _VALUES, max_size=6))
def test_any_inert_state_round_trips(state: dict[str, Any]) -> None:
    """Whatever inert values a Copyable's state holds arrive unchanged in the copy."""

    class Holder(Copyable):
        typeToCopy = "test.copyable.Named"

        def getStateToCopy(self) -> dict[str, Any]:
            return state

    got = send(Holder(), CopyableRegistry(parent=None))
    assert isinstance(got, Violation)  # an empty registry knows no copytype
    mine = CopyableRegistry()
    registerRemoteCopyFactory("test.copyable.Named", dict, registry=mine)
    back = send(Holder(), mine)
    assert back == state


class Thing:
    """A class registered with a copier that names no copytype."""

    def __init__(self, v: int) -> None:
        self.v = v


def test_a_copier_without_a_copytype_uses_the_qualified_class_name() -> None:
    """registerCopier's copier may return None: the class's module.qualname is sent."""
    registerCopier(Thing, lambda t: (None, {"v": t.v}))
    data = Encoder(slicers=_slicers()).encode(Thing(4))
    name = f"{Thing.__module__}.Thing".encode()
    assert name in data and b"copyable" in data
    got = send(Thing(4))
    assert isinstance(got, Violation) and name.decode() in str(got)


def test_a_tubs_codec_differs_from_the_process_one_only_in_its_copyable_lookup() -> None:
    """A Tub's codec (a copy of the process codec's registry) reads every opentype as
    the process codec does, except copyables, looked up in the Tub's registry."""
    from octavo.tub import Tub
    from octavo.tub._broker._host import CODEC, codec_for

    mine = dict(codec_for(Tub()).unslicers.entries())
    shared = dict(CODEC.unslicers.entries())
    assert mine.keys() == shared.keys()
    assert [ot for ot in mine if mine[ot] != shared[ot]] == [("copyable",)]
