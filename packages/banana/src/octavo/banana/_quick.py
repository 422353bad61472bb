"""Quick checks: a constraint's ``checkObject`` for common values, as one predicate.

A schema checks every argument of a typed call twice (the caller before sending,
the callee on arrival), and ``checkObject`` walks a ``ListOf(bytes)`` with one
method call per item. :func:`quick_check` turns a constraint into a predicate
``accepts(value) -> bool`` that answers in one pass for the values calls usually
carry: ``bytes``, ``str``, ``int``, ``float``, ``bool`` and ``None``, and lists,
tuples and dicts of them (nested as the constraint nests).

The predicate only ever says yes to what ``checkObject`` takes (for either
direction), and it accepts only those exact types: it says False for a subclass
of ``int`` or ``list``, for a value too long, for anything it is not sure of.
False decides nothing: the caller then runs ``checkObject``, which refuses (with
its own message) or accepts. So the quick check is a fast path in front of one
rule, never a second rule (``tests/banana/test_quick.py`` checks the
implication on generated constraints and values).

Constraints are compiled by exact type, so a subclass that overrides
``checkObject`` is never compiled (:func:`quick_check` returns None), nor are
sets, choices, strings with a regexp, references or anything a plug-in
registers.
"""

from __future__ import annotations

from collections.abc import Callable

from ._constraints import (
    Any,
    BooleanConstraint,
    ByteStringConstraint,
    Constraint,
    DictConstraint,
    IntegerConstraint,
    ListConstraint,
    Nothing,
    NumberConstraint,
    Optional,
    Shared,
    TupleConstraint,
    UnicodeConstraint,
)

__all__ = ["Accepts", "quick_check"]

#: a compiled check: True only if ``checkObject`` surely takes the value
Accepts = Callable[[object], bool]


def _always(obj: object) -> bool:
    return True


def _is_none(obj: object) -> bool:
    return obj is None


def _is_bool(obj: object) -> bool:
    return type(obj) is bool


def _sized(kind: type, low: int, high: int | None) -> Accepts:
    """``kind`` exactly, with ``low <= len <= high`` (no upper bound if None)."""
    if high is None:
        if low <= 0:
            return lambda obj: type(obj) is kind
        return lambda obj: type(obj) is kind and len(obj) >= low  # type: ignore[arg-type]
    return lambda obj: type(obj) is kind and low <= len(obj) <= high  # type: ignore[arg-type]


def _integer(c: IntegerConstraint, floats: bool) -> Accepts:
    if c.maxBytes == -1:
        low, high = -(2**31), 2**31  # checkObject: -2**31 <= n < 2**31
        if floats:
            return lambda obj: type(obj) is float or (type(obj) is int and low <= obj < high)
        return lambda obj: type(obj) is int and low <= obj < high
    bound = c._bound
    if bound is None:
        if floats:
            return lambda obj: type(obj) is float or type(obj) is int
        return lambda obj: type(obj) is int
    if floats:
        return lambda obj: type(obj) is float or (type(obj) is int and -bound < obj < bound)
    return lambda obj: type(obj) is int and -bound < obj < bound


def _list(c: ListConstraint) -> Accepts | None:
    item = c.constraint
    low, high = c.minLength, c.maxLength
    # the usual item kinds get a loop without a call per item
    if type(item) is ByteStringConstraint or type(item) is UnicodeConstraint:
        if type(item) is UnicodeConstraint and item.regexp is not None:
            return None
        kind = bytes if type(item) is ByteStringConstraint else str
        ilow, ihigh = item.minLength, item.maxLength
        if ihigh is None and ilow <= 0:

            def accepts(obj: object) -> bool:
                if (
                    type(obj) is not list
                    or len(obj) < low
                    or (high is not None and len(obj) > high)
                ):
                    return False
                for o in obj:  # noqa: SIM110 (a loop: all() of a generator is slower)
                    if type(o) is not kind:
                        return False
                return True

            return accepts
        top = ihigh if ihigh is not None else float("inf")

        def accepts_sized(obj: object) -> bool:
            if type(obj) is not list or len(obj) < low or (high is not None and len(obj) > high):
                return False
            for o in obj:  # noqa: SIM110
                if type(o) is not kind or not ilow <= len(o) <= top:
                    return False
            return True

        return accepts_sized
    each = quick_check(item)
    if each is None:
        return None
    check = each

    def accepts_each(obj: object) -> bool:
        if type(obj) is not list or len(obj) < low or (high is not None and len(obj) > high):
            return False
        for o in obj:  # noqa: SIM110
            if not check(o):
                return False
        return True

    return accepts_each


def _tuple(c: TupleConstraint) -> Accepts | None:
    checks: list[Accepts] = []
    for item in c.constraints:
        each = quick_check(item)
        if each is None:
            return None
        checks.append(each)
    n = len(checks)

    def accepts(obj: object) -> bool:
        if type(obj) is not tuple or len(obj) != n:
            return False
        for check, o in zip(checks, obj, strict=True):  # noqa: SIM110
            if not check(o):
                return False
        return True

    return accepts


def _dict(c: DictConstraint) -> Accepts | None:
    key = quick_check(c.keyConstraint)
    value = quick_check(c.valueConstraint)
    if key is None or value is None:
        return None
    high = c.maxKeys
    if key is _always and value is _always:  # DictOf(Any(), Any()): the shape alone
        if high is None:
            return lambda obj: type(obj) is dict
        return lambda obj: type(obj) is dict and len(obj) <= high
    check_key, check_value = key, value

    def accepts(obj: object) -> bool:
        if type(obj) is not dict or (high is not None and len(obj) > high):
            return False
        for k, v in obj.items():  # noqa: SIM110
            if not check_key(k) or not check_value(v):
                return False
        return True

    return accepts


def quick_check(constraint: Constraint | None) -> Accepts | None:
    """A predicate that is True only for values ``constraint.checkObject`` takes
    (inbound or not), or None when this constraint has no quick form. None as the
    constraint (no constraint at all) takes everything."""
    while type(constraint) is Optional or type(constraint) is Shared:
        constraint = constraint.constraint
    kind = type(constraint)
    if constraint is None or kind is Any:
        return _always
    if kind is ByteStringConstraint:
        assert isinstance(constraint, ByteStringConstraint)
        return _sized(bytes, constraint.minLength, constraint.maxLength)
    if kind is UnicodeConstraint:
        assert isinstance(constraint, UnicodeConstraint)
        if constraint.regexp is not None:
            return None
        return _sized(str, constraint.minLength, constraint.maxLength)
    if kind is IntegerConstraint or kind is NumberConstraint:
        assert isinstance(constraint, IntegerConstraint)
        return _integer(constraint, kind is NumberConstraint)
    if kind is BooleanConstraint:
        assert isinstance(constraint, BooleanConstraint)
        return _is_bool if constraint.value is None else None
    if kind is Nothing:
        return _is_none
    if kind is ListConstraint:
        assert isinstance(constraint, ListConstraint)
        return _list(constraint)
    if kind is TupleConstraint:
        assert isinstance(constraint, TupleConstraint)
        return _tuple(constraint)
    if kind is DictConstraint:
        assert isinstance(constraint, DictConstraint)
        return _dict(constraint)
    return None
