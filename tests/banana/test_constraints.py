"""Constraints are checked as tokens arrive; violations name a path and the stream resyncs."""

from __future__ import annotations

from typing import Any

import pytest

from octavo.banana import (
    Any as AnyC,
)
from octavo.banana import (
    BananaError,
    BooleanConstraint,
    ByteStringConstraint,
    ChoiceOf,
    Constraint,
    Decoder,
    DictOf,
    Encoder,
    IntegerConstraint,
    ListOf,
    Nothing,
    NumberConstraint,
    ObjectReceived,
    Optional,
    SetOf,
    Shared,
    StringConstraint,
    TupleOf,
    UnicodeConstraint,
    Violation,
    ViolationReceived,
    adapt_constraint,
    serialize,
    unserialize,
)


def _run(constraint: Constraint, *objs: Any) -> list[object]:
    """Encode objs on one connection and decode them under constraint."""
    enc = Encoder()
    dec = Decoder(constraint=constraint)
    dec.receive_data(b"".join(enc.encode(o) for o in objs))
    out: list[object] = []
    for e in dec.events():
        if isinstance(e, ObjectReceived):
            out.append(e.obj)
        elif isinstance(e, ViolationReceived):
            out.append(e.violation)
    return out


def _where(v: object) -> str:
    assert isinstance(v, Violation), v
    return v.where


def test_list_item_violation_path_and_resync() -> None:
    """A bad value deep in a list is reported with its path; the next object decodes."""
    got = _run(ListOf(DictOf(str, int)), [{"a": 1}, {"b": 2}, {"c": "x"}], [{"d": 4}])
    assert _where(got[0]) == "<RootUnslicer>.[2].{}['c']"
    assert got[1] == [{"d": 4}]


def test_list_max_length() -> None:
    """ListOf(maxLength) refuses the item after the limit, before it is read."""
    got = _run(ListOf(int, maxLength=2), [1, 2], [1, 2, 3], [5])
    assert got[0] == [1, 2]
    assert "full" in str(got[1])
    assert got[2] == [5]


def test_bytestring_max_length_skips_body() -> None:
    """A too-long STRING is refused from its header; its body is skipped, not buffered."""
    dec = Decoder(constraint=ByteStringConstraint(3))
    big = serialize(b"x" * 100_000)
    dec.receive_data(big[:10])  # only the header and a little body
    evs = dec.events()
    assert isinstance(evs[0], ViolationReceived)
    assert dec._skip > 90_000  # the rest will be dropped as it arrives
    dec.receive_data(big[10:] + serialize(b"ok"))
    assert dec.events() == [ObjectReceived(b"ok")]


def test_string_constraint_is_bytestring() -> None:
    """StringConstraint is Foolscap's alias for ByteStringConstraint."""
    assert StringConstraint is ByteStringConstraint
    assert _run(StringConstraint(5), b"abc") == [b"abc"]


def test_integer_constraint_bounds() -> None:
    """IntegerConstraint() is 32-bit: larger INT or any LONGINT is refused."""
    got = _run(IntegerConstraint(), 2**31 - 1, 2**31, -(2**31), -(2**31) - 1, 5)
    assert got[0] == 2**31 - 1
    assert isinstance(got[1], Violation)
    assert got[2] == -(2**31)
    assert isinstance(got[3], Violation)
    assert got[4] == 5


def test_integer_constraint_max_bytes() -> None:
    """maxBytes bounds LONGINT bodies before they are read."""
    got = _run(IntegerConstraint(maxBytes=8), 2**63, 2**64 + 1, 1)
    assert got[0] == 2**63
    assert isinstance(got[1], Violation)
    assert got[2] == 1


def test_number_constraint_takes_floats() -> None:
    """NumberConstraint accepts floats and ints but not strings."""
    got = _run(NumberConstraint(), 1.5, 3, b"x")
    assert got[:2] == [1.5, 3]
    assert isinstance(got[2], Violation)


def test_tuple_constraint() -> None:
    """TupleOf checks each position and the size."""
    c = TupleOf(int, bytes)
    got = _run(c, (1, b"a"), (1, 2), (1, b"a", 3), [1], (1,), (2, b"x"))
    assert got[0] == (1, b"a")
    assert _where(got[1]) == "<RootUnslicer>.[1]"
    assert "full" in str(got[2])
    assert "unacceptable OPEN type" in str(got[3])
    assert "wrong size" in str(got[4])
    assert got[5] == (2, b"x")


def test_set_constraint() -> None:
    """SetOf limits size and items, and accepts both set kinds unless mutable= says."""
    got = _run(
        DictOf(str, SetOf(int, maxLength=2)), {"a": {1, 2}, "b": frozenset([3])}, {"a": {1, 2, 3}}
    )
    assert got[0] == {"a": {1, 2}, "b": frozenset([3])}
    assert _where(got[1]) == "<RootUnslicer>.{}['a'].<set>[2]"
    got = _run(SetOf(int, mutable=True), frozenset([1]), {1})
    assert isinstance(got[0], Violation)
    assert got[1] == {1}


def test_choice_of() -> None:
    """ChoiceOf accepts any alternative, including a container alternative."""
    got = _run(ListOf(ChoiceOf(int, ListOf(int))), [1, [2], 3], [1, [b"x"]])
    assert got[0] == [1, [2], 3]
    assert _where(got[1]) == "<RootUnslicer>.[1].[0]"


def test_unicode_constraint() -> None:
    """UnicodeConstraint counts code points, and refuses huge bodies from the header."""
    got = _run(
        ListOf(UnicodeConstraint(maxLength=3)),
        ["abc"],
        ["abcd"],
        ["x" * 20],
        ["\u00e9\u00e9\u00e9"],
    )
    assert got[0] == ["abc"]
    assert "too long (4 > 3)" in str(got[1])
    assert "bytes" in str(got[2])
    assert got[3] == ["\u00e9\u00e9\u00e9"]


def test_unicode_regexp() -> None:
    """UnicodeConstraint(regexp=) rejects non-matching strings."""
    got = _run(UnicodeConstraint(regexp="^[a-z]+$"), "abc", "ABC")
    assert got[0] == "abc"
    assert isinstance(got[1], Violation)


def test_strict_tasters_are_protocol_errors() -> None:
    """As in Foolscap, a primitive where a str/bool/None must be is a BananaError."""
    for c in (UnicodeConstraint(), BooleanConstraint(), Nothing()):
        dec = Decoder(constraint=c)
        with pytest.raises(BananaError):
            dec.receive_data(serialize(5))


def test_boolean_value() -> None:
    """BooleanConstraint(True) accepts only True."""
    got = _run(BooleanConstraint(True), True, False)
    assert got[0] is True
    assert isinstance(got[1], Violation)


def test_nothing() -> None:
    """Nothing accepts None only."""
    got = _run(Nothing(), None, [1])
    assert got[0] is None
    assert isinstance(got[1], Violation)


def test_any_limits_longint() -> None:
    """Any keeps Foolscap's SIZE_LIMIT on LONGINT bodies."""
    got = _run(AnyC(), 2**8100, 1)
    assert isinstance(got[0], Violation)
    assert got[1] == 1


def test_shared_and_optional_delegate() -> None:
    """Shared and Optional enforce their inner constraint."""
    assert _run(Shared(ListOf(int)), [1], [b"x"])[0] == [1]
    assert isinstance(_run(Shared(ListOf(int)), [b"x"])[0], Violation)
    assert isinstance(_run(Optional(int, 0), b"x")[0], Violation)


def test_reference_checked_against_constraint() -> None:
    """A shared reference resolved into a constrained slot is checked with checkObject."""
    inner = [b"x"]
    got = _run(TupleOf(ListOf(bytes), ListOf(int)), (inner, inner))
    assert isinstance(got[0], Violation)
    got = _run(TupleOf(ListOf(bytes), ListOf(bytes)), (inner, inner))
    assert got[0] == ([b"x"], [b"x"])


def test_dict_max_keys() -> None:
    """DictOf(maxKeys) refuses the extra key."""
    got = _run(DictOf(int, int, maxKeys=1), {1: 1}, {1: 1, 2: 2})
    assert got[0] == {1: 1}
    assert "full" in str(got[1])


def test_unserialize_raises_violation() -> None:
    """unserialize raises the Violation for a rejected object."""
    with pytest.raises(Violation):
        unserialize(serialize([1, 2, 3]), constraint=ListOf(int, maxLength=2))


def test_adapt_constraint_shorthand() -> None:
    """Foolscap's shorthand maps to constraint objects."""
    assert isinstance(adapt_constraint(int), IntegerConstraint)
    assert isinstance(adapt_constraint(str), UnicodeConstraint)
    assert isinstance(adapt_constraint(bytes), ByteStringConstraint)
    assert isinstance(adapt_constraint(None), Nothing)
    assert isinstance(adapt_constraint((int, bytes)), TupleOf)
    with pytest.raises(TypeError):
        adapt_constraint(object())


def test_checkobject_outbound() -> None:
    """checkObject validates finished objects (used before sending)."""
    ListOf(int).checkObject([1, 2], False)
    with pytest.raises(Violation):
        DictOf(str, int).checkObject({"a": "b"}, False)
    with pytest.raises(Violation):
        TupleOf(int).checkObject((1, 2), False)


def test_abort_rejects_object_and_resyncs() -> None:
    """An ABORT from the sender rejects the sequence; its CLOSE is swallowed."""
    dec = Decoder()
    dec.receive_data(b"\x00\x88\x04\x82list\x01\x81\x00\x8a\x00\x89" + b"\x05\x81")
    evs = dec.events()
    assert isinstance(evs[0], ViolationReceived)
    assert "ABORT" in str(evs[0].violation)
    assert evs[1] == ObjectReceived(5)


def test_violation_in_nested_sequence_discards_to_matching_close() -> None:
    """After a violation deep inside, tokens are discarded up to the top-level CLOSE."""
    enc = Encoder()
    data = enc.encode([[1, [2, [b"bad", [3]]]], 4]) + enc.encode([9])
    dec = Decoder(constraint=ListOf(ChoiceOf(int, ListOf(ChoiceOf(int, ListOf(int))))))
    dec.receive_data(data)
    evs = dec.events()
    assert isinstance(evs[0], ViolationReceived)
    assert evs[0].violation.where == "<RootUnslicer>.[0].[1].[1]"
    assert evs[1] == ObjectReceived([9])
    assert len(evs) == 2


def test_unknown_opentype_is_violation() -> None:
    """An unregistered opentype is refused as a Violation; the stream goes on."""
    dec = Decoder()
    dec.receive_data(b"\x00\x88\x03\x82foo\x01\x81\x00\x89" + serialize(1))
    evs = dec.events()
    assert isinstance(evs[0], ViolationReceived)
    assert evs[1] == ObjectReceived(1)


def test_long_index_token_refused() -> None:
    """An opentype word longer than any registered one is refused from its header."""
    dec = Decoder()
    dec.receive_data(
        b"\x00\x88" + bytes((100,)) + b"\x82" + b"a" * 100 + b"\x00\x89" + serialize(2)
    )
    evs = dec.events()
    assert isinstance(evs[0], ViolationReceived)
    assert evs[1] == ObjectReceived(2)


def test_vocab_sequences_only_top_level() -> None:
    """set-vocab inside another object is refused."""
    dec = Decoder()
    dec.receive_data(
        b"\x00\x88\x04\x82list\x01\x88\x09\x82set-vocab\x01\x89\x00\x89" + serialize(3)
    )
    evs = dec.events()
    assert isinstance(evs[0], ViolationReceived)
    assert evs[1] == ObjectReceived(3)
