"""Quick checks: a compiled predicate only ever says yes to what checkObject takes.

``quick_check(c)`` is a fast path in front of ``c.checkObject``; these tests
generate constraints and values (nasty ones included: bools where ints are due,
subclasses of int and list, numbers at the bounds) and check the implication in
both directions of a call, and that the predicate is useful for the common cases.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from octavo.banana import (
    Any as AnyC,
)
from octavo.banana import (
    BooleanConstraint,
    ByteStringConstraint,
    ChoiceOf,
    Constraint,
    DictOf,
    IntegerConstraint,
    ListOf,
    Nothing,
    NumberConstraint,
    Optional,
    SetOf,
    Shared,
    TupleOf,
    UnicodeConstraint,
    Violation,
    quick_check,
)

lengths = st.one_of(st.none(), st.integers(min_value=0, max_value=4))

scalar_constraints = st.one_of(
    st.builds(IntegerConstraint, st.sampled_from([-1, None, 4, 5, 1024])),
    st.builds(NumberConstraint, st.sampled_from([None, 4, 1024])),
    st.builds(ByteStringConstraint, lengths, st.integers(min_value=0, max_value=2)),
    st.builds(UnicodeConstraint, lengths, st.integers(min_value=0, max_value=2)),
    st.builds(UnicodeConstraint, lengths, st.just(0), st.just("^[a-z]*$")),
    st.builds(BooleanConstraint, st.sampled_from([None, True, False])),
    st.builds(Nothing),
    st.builds(AnyC),
)


def _wrap(children: st.SearchStrategy[Constraint]) -> st.SearchStrategy[Constraint]:
    return st.one_of(
        st.builds(ListOf, children, lengths, st.integers(min_value=0, max_value=2)),
        st.builds(lambda cs: TupleOf(*cs), st.lists(children, max_size=3)),
        st.builds(Optional, children),
        st.builds(Shared, children),
        st.builds(ChoiceOf, children, children),
        st.builds(DictOf, children, children),
        st.builds(SetOf, children),
    )


constraints = st.recursive(scalar_constraints, _wrap, max_leaves=6)


class MyInt(int):
    pass


class MyList(list):  # type: ignore[type-arg]
    pass


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([2**31 - 1, 2**31, -(2**31), -(2**31) - 1, 2**32, -(2**40), 2**8192]),
    st.floats(allow_nan=False),
    st.binary(max_size=5),
    st.text(max_size=5),
    st.builds(MyInt, st.integers()),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.tuples(children),
        st.tuples(children, children),
        st.builds(MyList, st.lists(children, max_size=3)),
        st.sets(st.integers(), max_size=2),
        st.dictionaries(st.text(max_size=2), children, max_size=2),
    ),
    max_leaves=8,
)


def near(c: Constraint) -> st.SearchStrategy[Any]:
    """Values shaped like what ``c`` takes, at and around its bounds."""
    while isinstance(c, Optional | Shared):
        c = c.constraint
    if isinstance(c, ListOf):
        low, high = c.minLength, c.maxLength if c.maxLength is not None else 4
        return st.lists(near(c.constraint), min_size=max(0, low - 1), max_size=high + 1)
    if isinstance(c, TupleOf):
        return st.tuples(*(near(item) for item in c.constraints))
    if isinstance(c, DictOf):
        high = c.maxKeys if c.maxKeys is not None else 3
        keys = near(c.keyConstraint).filter(_hashable)
        return st.dictionaries(keys, near(c.valueConstraint), max_size=high + 1)
    if isinstance(c, ByteStringConstraint | UnicodeConstraint):
        top = (c.maxLength if c.maxLength is not None else 4) + 1
        kind = st.binary if isinstance(c, ByteStringConstraint) else st.text
        return kind(min_size=max(0, c.minLength - 1), max_size=top)
    if isinstance(c, IntegerConstraint):
        edges = [2**31, 2**32, 2**40, 2**8192]
        return st.one_of(
            st.integers(min_value=-(2**33), max_value=2**33),
            st.sampled_from(
                edges + [-e for e in edges] + [e - 1 for e in edges] + [1 - e for e in edges]
            ),
            st.floats(allow_nan=False),
        )
    return values


def _hashable(value: object) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def takes(c: Constraint, value: object, inbound: bool) -> bool:
    try:
        c.checkObject(value, inbound)
    except Violation:
        return False
    return True


@settings(max_examples=1500, deadline=None)
@given(c=constraints, data=st.data())
def test_quick_yes_means_check_object_takes_it(c: Constraint, data: st.DataObject) -> None:
    value = data.draw(st.one_of(values, near(c)))
    accepts = quick_check(c)
    if accepts is not None and accepts(value):
        assert takes(c, value, True), (c, value)
        assert takes(c, value, False), (c, value)


def test_quick_says_yes_to_the_common_cases() -> None:
    cases: list[tuple[Constraint, object]] = [
        (IntegerConstraint(), 2**31 - 1),
        (IntegerConstraint(), -(2**31)),
        (IntegerConstraint(maxBytes=1024), 10**300),
        (NumberConstraint(), 1.5),
        (ByteStringConstraint(maxLength=3, minLength=1), b"abc"),
        (UnicodeConstraint(maxLength=2), "ab"),
        (BooleanConstraint(), False),
        (Nothing(), None),
        (AnyC(), object()),
        (ListOf(bytes), [b"i" * 32] * 10),
        (ListOf(ByteStringConstraint(maxLength=2), maxLength=3), [b"ab", b""]),
        (ListOf(UnicodeConstraint(minLength=1)), ["a", "bc"]),
        (ListOf(ListOf(int)), [[1, 2], []]),
        (TupleOf(int, str, ListOf(bool)), (1, "x", [True])),
        (Optional(ListOf(int), None), [1]),
        (Shared(bytes), b"x"),
        (DictOf(str, int), {"a": 1, "b": -2}),
        (DictOf(AnyC(), AnyC()), {"a": [1, (2, None)], 3: {}}),
        (DictOf(bytes, ListOf(int), maxKeys=2), {b"k": [1, 2]}),
        (TupleOf(int, DictOf(str, int)), (1, {"x": 2})),
    ]
    for c, value in cases:
        accepts = quick_check(c)
        assert accepts is not None and accepts(value), (c, value)


def test_quick_says_no_where_check_object_refuses() -> None:
    cases: list[tuple[Constraint, object]] = [
        (IntegerConstraint(), 2**31),
        (IntegerConstraint(), -(2**31) - 1),
        (IntegerConstraint(maxBytes=4), 2**32),
        (IntegerConstraint(), True),  # checkObject takes a bool; the quick check leaves it
        (ByteStringConstraint(maxLength=3), b"abcd"),
        (ByteStringConstraint(minLength=1), b""),
        (ListOf(bytes, maxLength=2), [b"", b"", b""]),
        (ListOf(bytes, minLength=1), []),
        (ListOf(ByteStringConstraint(maxLength=1)), [b"ab"]),
        (ListOf(int), (1, 2)),
        (ListOf(int), MyList([1])),
        (TupleOf(int), (1, 2)),
        (Nothing(), 0),
        (DictOf(str, int), {"a": "b"}),
        (DictOf(str, int), {b"a": 1}),
        (DictOf(AnyC(), AnyC(), maxKeys=1), {1: 1, 2: 2}),
        (DictOf(str, int), [("a", 1)]),
    ]
    for c, value in cases:
        accepts = quick_check(c)
        assert accepts is not None and not accepts(value), (c, value)


def test_constraints_without_a_quick_form() -> None:
    for c in (
        UnicodeConstraint(regexp="^a"),
        BooleanConstraint(True),
        ChoiceOf(int, bytes),
        SetOf(int),
        ListOf(ChoiceOf(int, bytes)),
        TupleOf(int, DictOf(str, SetOf(int))),
        DictOf(ChoiceOf(int, bytes), int),
    ):
        assert quick_check(c) is None, c

    class Strict(ByteStringConstraint):
        def checkObject(self, obj: object, inbound: bool) -> None:
            raise Violation("never")

    assert quick_check(Strict()) is None  # a subclass may check its own way
