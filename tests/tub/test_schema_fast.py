"""The fast paths and schemas: one decision, whichever path reads the message.

The whole-message fast path takes a call to a schema'd method only when the
admission says the schema surely takes its scalar arguments, and an answer only when
its result surely fits; everything else (refusals included) is left to the general
path. These tests compare the two paths on the same bytes.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from octavo.banana import (
    SIZE_LIMIT,
    BooleanConstraint,
    ByteStringConstraint,
    ChoiceOf,
    IntegerConstraint,
    ListOf,
    Nothing,
    NumberConstraint,
    Optional,
    TupleOf,
    UnicodeConstraint,
    Violation,
    b128_encode,
    quick_check,
    serialize,
    unserialize,
)
from octavo.banana import (
    Any as AnyC,
)
from octavo.tub import RemoteMethodSchema
from octavo.tub._wire._admission import surely_fits

from ._pb_pair import Obj, Pair
from .test_fastwire import FastSpy, call_stream, outcome_of, values

SCALAR_CONSTRAINTS = [
    IntegerConstraint(),
    IntegerConstraint(maxBytes=1024),
    IntegerConstraint(maxBytes=4),
    IntegerConstraint(maxBytes=None),
    NumberConstraint(),
    ByteStringConstraint(),
    ByteStringConstraint(maxLength=3, minLength=1),
    UnicodeConstraint(),
    UnicodeConstraint(maxLength=2, regexp="^[a-z]*$"),
    BooleanConstraint(),
    BooleanConstraint(True),
    Nothing(),
    AnyC(),
    Optional(IntegerConstraint(), 0),
    ChoiceOf(int, bytes),
    ListOf(int),
    ListOf(ByteStringConstraint(maxLength=3), maxLength=2, minLength=1),
    ListOf(UnicodeConstraint(maxLength=2)),
    ListOf(Optional(IntegerConstraint(), 0)),
    ListOf(ChoiceOf(int, bytes)),
    ListOf(BooleanConstraint(), maxLength=3),
    ListOf(AnyC()),
    Optional(ListOf(NumberConstraint()), None),
    TupleOf(int, bytes),
    TupleOf(),
    TupleOf(Nothing(), UnicodeConstraint(), bool),
]


def general_path_takes(c: Any, value: object) -> bool:
    """What the general decoder (token checks) and checkObject say together."""
    try:
        got = unserialize(serialize(value), constraint=c)
        c.checkObject(got, True)
    except Violation:
        return False
    return True


@settings(max_examples=300, deadline=None)
@given(c=st.sampled_from(SCALAR_CONSTRAINTS), value=values)
def test_surely_fits_only_what_the_general_path_takes(c: Any, value: Any) -> None:
    """surely_fits never says yes where the general path would refuse (scalars, and
    flat lists and tuples of them)."""
    if surely_fits(c, value):
        assert general_path_takes(c, value), (c, value)
    if surely_fits(c, value, checked_after=True):  # then checkObject, as checkAllArgs runs it
        try:
            c.checkObject(value, True)
        except Violation:
            return
        assert general_path_takes(c, value), (c, value)


def test_surely_fits_says_yes_to_plain_cases() -> None:
    """It is useful: the common scalar cases are sure."""
    assert surely_fits(IntegerConstraint(maxBytes=1024), 5)
    assert surely_fits(ByteStringConstraint(3), b"abc")
    assert surely_fits(Nothing(), None)
    assert not surely_fits(IntegerConstraint(), True)  # a bool arrives as ('boolean',)
    assert not surely_fits(ChoiceOf(int, bytes), 1)  # choices are left to the general path
    assert surely_fits(ListOf(bytes), [b"i" * 32] * 10)
    assert surely_fits(ListOf(Optional(int, 0), maxLength=2), [1, 2])
    assert not surely_fits(ListOf(int, maxLength=2), [1, 2, 3])
    assert not surely_fits(ListOf(int), (1, 2))  # a tuple arrives as ('tuple',)
    assert surely_fits(TupleOf(int, str), (1, "a"))
    assert not surely_fits(TupleOf(int, str), (1, "a", 2))


SCHEMA = RemoteMethodSchema(
    _response=int,
    a=int,
    b=Optional(ByteStringConstraint(maxLength=3), b""),
    c=Optional(UnicodeConstraint(maxLength=2), ""),
    d=Optional(bool, False),
    e=Optional(None, None),
    f=Optional(float, 0.0),
    g=Optional(ListOf(ByteStringConstraint(maxLength=3), maxLength=2), None),
    h=Optional(TupleOf(int, str), None),
)


class SchemaObj(Obj):
    """A wire-level target whose "take" obeys SCHEMA."""

    def getMethodSchema(self, methodname: str) -> Any:
        if methodname != "take":
            raise Violation(f"method '{methodname}' not defined")
        return SCHEMA


names = st.sampled_from(["a", "b", "c", "d", "e", "f", "g", "h", "zz"])


@settings(max_examples=150, deadline=None)
@given(
    calls=st.lists(
        st.tuples(st.lists(values, max_size=3), st.dictionaries(names, values, max_size=3)),
        min_size=1,
        max_size=4,
    ),
    chunk=st.integers(min_value=1, max_value=300),
)
def test_schema_calls_same_outcome_on_both_paths(
    calls: list[tuple[list[Any], dict[str, Any]]], chunk: int
) -> None:
    """Calls to a schema'd method, whole or cut anywhere, fast paths on or off: the
    same calls delivered and the same refusals, with the same words. (The log-only
    MessageRefused events are compared as a set: where they fall among the others
    depends on how the bytes were cut, on either path.)"""
    results = []
    for fast, whole in ((True, True), (True, False), (False, True)):
        pair = Pair(fast_paths=fast)
        proxy = pair.publish("t", SchemaObj(take=lambda *args, **kwargs: 0))
        stream = call_stream(pair, proxy.tracker.clid, calls)
        out = outcome_of(pair, stream, len(stream) if whole else chunk)
        logged = sorted(repr(e) for e in out if e[0] == "message refused")
        results.append(([e for e in out if e[0] != "message refused"], logged))
    assert results[1] == results[0]
    assert results[2] == results[0]


def test_sure_scalar_calls_take_the_fast_path() -> None:
    """A call whose scalar arguments surely fit is read whole by the fast path and
    marked checked; one that does not is left to the general path, which refuses it."""
    pair = Pair(fast_paths=True)
    proxy = pair.publish("t", SchemaObj(take=lambda *args, **kwargs: 0))
    spy = FastSpy(pair.b)
    stream = call_stream(pair, proxy.tracker.clid, [([1, b"ab"], {"c": "x"}), ([b"no"], {})])
    out = outcome_of(pair, stream, len(stream))
    assert spy.taken == 1
    assert out[0][0] == "call" and out[1][0] == "refused"
    assert "rejected by IntegerConstraint" in out[1][2]


def test_sure_list_calls_take_the_fast_path() -> None:
    """Lists and tuples of scalars that surely fit their ListOf and TupleOf are read
    whole too; a list too long is left to the general path, which refuses it."""
    pair = Pair(fast_paths=True)
    proxy = pair.publish("t", SchemaObj(take=lambda *args, **kwargs: 0))
    spy = FastSpy(pair.b)
    calls = [
        ([1], {"g": [b"ab", b"c"], "h": (2, "x")}),
        ([1, b"", "", False, None, 0.5, [], (3, "")], {}),
        ([1], {"g": [b"a", b"b", b"c"]}),
    ]
    stream = call_stream(pair, proxy.tracker.clid, calls)
    out = [e for e in outcome_of(pair, stream, len(stream)) if e[0] != "message refused"]
    assert spy.taken == 2
    assert [e[0] for e in out] == ["call", "call", "refused"]
    assert "list" in out[2][2]


@settings(max_examples=300, deadline=None)
@given(c=st.sampled_from(SCALAR_CONSTRAINTS), value=values)
def test_quick_check_yes_means_surely_fits(c: Any, value: Any) -> None:
    """The admission lets a schema's quick check stand for surely_fits: a quick yes is
    a surely_fits yes (for the values the fast path reads whole)."""
    accepts = quick_check(c)
    if accepts is not None and accepts(value):
        assert surely_fits(c, value), (c, value)


@settings(max_examples=300, deadline=None)
@given(
    args=st.lists(values, max_size=9),
    kwargs=st.dictionaries(names, values, max_size=3),
)
def test_quick_accepts_only_what_check_all_args_takes(
    args: list[Any], kwargs: dict[str, Any]
) -> None:
    """RemoteMethodSchema.quick_accepts says yes only to calls the long way takes."""
    if SCHEMA.quick_accepts(args, kwargs):
        fresh = RemoteMethodSchema(**{n: SCHEMA.argConstraints[n] for n in SCHEMA.argumentNames})
        fresh._quick = [None] * len(SCHEMA.argumentNames)  # the long way only
        fresh._position = {}
        fresh.checkAllArgs(args, kwargs, True)
        fresh.checkAllArgs(args, kwargs, False)


def test_quick_accepts_the_plain_typed_calls(monkeypatch: Any) -> None:
    """The benchmark's typed call, and calls naming their arguments, are quick; a
    missing, repeated, unknown or ill-typed argument is not (the long way decides)."""
    monkeypatch.delenv("OCTAVO_FAST_PATHS", raising=False)
    store = RemoteMethodSchema(n=int, items=ListOf(bytes))
    assert store.quick_accepts((7, [b"i" * 32] * 10), {})
    assert store.quick_accepts((7,), {"items": []})
    assert store.quick_accepts((), {"items": [], "n": 1})
    assert not store.quick_accepts((7,), {})
    assert not store.quick_accepts((7, []), {"n": 1})
    assert not store.quick_accepts((7,), {"n": 1})
    assert not store.quick_accepts((7,), {"zz": []})
    assert not store.quick_accepts((7, [1]), {})
    try:
        store.checkAllArgs((7, [1]), {}, True)
    except Violation as v:
        assert "items=" in str(v.getLocation())
    else:
        raise AssertionError("an int in a ListOf(bytes) was taken")


def test_quick_accepts_is_off_without_fast_paths(monkeypatch: Any) -> None:
    """OCTAVO_FAST_PATHS=0: every call is checked the long way."""
    monkeypatch.setenv("OCTAVO_FAST_PATHS", "0")
    store = RemoteMethodSchema(n=int, items=ListOf(bytes))
    assert not store.quick_accepts((7, []), {})


def test_subclass_with_its_own_check_is_not_quick() -> None:
    """A schema subclass that checks calls its own way is always asked."""

    class Picky(RemoteMethodSchema):
        def checkAllArgs(self, args: Any, kwargs: Any, inbound: bool) -> None:
            raise Violation("picky")

    assert not Picky(n=int).quick_accepts((1,), {})


def test_after_a_split_call_the_fast_path_reads_the_next_ones() -> None:
    """A call split across reads is finished by the general path, which then hands the
    rest of that read back (pause_at_boundary): the calls after it are read whole."""
    pair = Pair(fast_paths=True)
    proxy = pair.publish("t", SchemaObj(take=lambda *args, **kwargs: 0))
    spy = FastSpy(pair.b)
    calls: list[tuple[list[Any], dict[str, Any]]] = [([1], {"g": [b"ab"]})] * 4
    stream = call_stream(pair, proxy.tracker.clid, calls)
    one = len(stream) // 4
    out = outcome_of(pair, stream[: one // 2], len(stream))
    out += outcome_of(pair, stream[one // 2 :], len(stream))
    assert [e[0] for e in out] == ["call"] * 4
    assert spy.taken == 3  # the first was split: the general path read it


def _long_token(n: int, *, negative: bool = False, pad: int = 0) -> bytes:
    """A LONGINT (LONGNEG) token for ``n`` (its magnitude), its body with ``pad``
    leading zero bytes."""
    body = b"\x00" * pad + n.to_bytes(max(1, (n.bit_length() + 7) // 8), "big")
    return b128_encode(len(body)) + (b"\x86" if negative else b"\x85") + body


LONG_VARIANTS = {
    "2**40": (_long_token(2**40), 2**40),
    "-(2**40)": (_long_token(2**40, negative=True), -(2**40)),
    "2**40, a leading zero": (_long_token(2**40, pad=1), 2**40),
    "2**63, two leading zeros": (_long_token(2**63, pad=2), 2**63),
    "5 as LONGINT": (_long_token(5), 5),
    "-(2**31) as LONGNEG": (_long_token(2**31, negative=True), -(2**31)),
    "2**31 - 1 as LONGINT": (_long_token(2**31 - 1), 2**31 - 1),
    "past SIZE_LIMIT": (_long_token(2 ** (8 * SIZE_LIMIT)), 2 ** (8 * SIZE_LIMIT)),
}


class _OneSchemaObj(Obj):
    """A wire-level target whose every method obeys one schema."""

    def __init__(self, schema: Any, **methods: Any) -> None:
        super().__init__(**methods)
        self.schema = schema

    def getMethodSchema(self, methodname: str) -> Any:
        return self.schema


#: the variants the fast path reads: the fewest bytes, past INT's and NEG's range
LONG_CANONICAL = {"2**40", "-(2**40)"}


@pytest.mark.parametrize("variant", sorted(LONG_VARIANTS))
@pytest.mark.parametrize("constraint", [None, IntegerConstraint(), IntegerConstraint(maxBytes=8)])
def test_long_ints_are_read_fast_only_as_the_encoders_write_them(
    variant: str, constraint: Any
) -> None:
    """A LONGINT or LONGNEG argument is read by the fast path only with the fewest
    bytes for a number past INT's and NEG's range (what Foolscap and Octavo write):
    then what a constraint allows of the token follows from the number. Written
    otherwise (a leading zero, a small number, a body past SIZE_LIMIT) the general
    path reads it. The same outcome either way, with no constraint, with int and with
    IntegerConstraint(maxBytes=8) (which refuses a 9-byte body even for a number that
    fits in 8)."""
    token, value = LONG_VARIANTS[variant]
    outcomes = []
    for fast in (True, False):
        pair = Pair(fast_paths=fast)
        take = Obj(take=lambda *args, **kwargs: 0)
        if constraint is not None:
            take = _OneSchemaObj(
                RemoteMethodSchema(_response=int, a=constraint), take=take.methods["take"]
            )
        proxy = pair.publish("t", take)
        spy = FastSpy(pair.b)
        marker = 2**40 + 12345  # a LONGINT the stream carries where the token goes
        stream = call_stream(pair, proxy.tracker.clid, [([marker], {})])
        stream = stream.replace(_long_token(marker), token)
        outcomes.append(outcome_of(pair, stream, len(stream)))
        if fast:
            taken = spy.taken
    assert outcomes[0] == outcomes[1]
    if variant not in LONG_CANONICAL:
        assert taken == 0
    elif constraint is None or constraint.maxBytes == 8:
        assert taken == 1
        assert outcomes[0][0][0] == "call"
        assert outcomes[0][0][3] == [("int", repr(value))]
    else:
        assert outcomes[0][0][0] == "refused"
