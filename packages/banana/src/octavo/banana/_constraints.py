"""Constraints: Foolscap's schema vocabulary, checked as tokens arrive.

A constraint answers three questions for the decoder: may a primitive token of
this type and size come next (``checkToken``), may a sequence of this opentype
start here (``checkOpentype``), and does a finished object fit
(``checkObject``, used for shared references and outbound checks).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any as _Any

from ._errors import BananaError, Violation, short_repr
from ._tokens import (
    FLOAT,
    INT,
    LIST,
    LONGINT,
    LONGNEG,
    NEG,
    OPEN,
    SIZE_LIMIT,
    STRING,
    VOCAB,
    tokenNames,
)

__all__ = [
    "Any",
    "AnyStringConstraint",
    "BooleanConstraint",
    "ByteStringConstraint",
    "ChoiceOf",
    "Constraint",
    "DictConstraint",
    "DictOf",
    "IntegerConstraint",
    "ListConstraint",
    "ListOf",
    "Nothing",
    "NumberConstraint",
    "OpenerConstraint",
    "Optional",
    "PolyConstraint",
    "SetConstraint",
    "SetOf",
    "Shared",
    "StringConstraint",
    "TupleConstraint",
    "TupleOf",
    "UnicodeConstraint",
    "adapt_constraint",
    "register_constraint_maker",
    "register_constraint_shorthand",
]

Opentype = tuple[str, ...]

_NOT_IN_LIST = object()

everythingTaster: dict[int, int | None] = {
    STRING: None,
    LIST: None,
    INT: None,
    NEG: None,
    LONGINT: SIZE_LIMIT,
    LONGNEG: SIZE_LIMIT,
    VOCAB: None,
    FLOAT: None,
    OPEN: None,
}
openTaster: dict[int, int | None] = {OPEN: None}


class Constraint:
    """Base constraint: a taster (allowed token types and body size limits) and opentypes."""

    taster: dict[int, int | None] = everythingTaster
    #: taste failures become BananaError (protocol error) rather than Violation
    strictTaster: bool = False
    #: acceptable opentypes; None accepts every opentype
    opentypes: Sequence[Opentype] | None = None
    name: str = "Constraint"

    def checkToken(self, typebyte: int, size: int) -> None:
        """Raise Violation (or BananaError) if a token of this type/size is not acceptable."""
        limit = self.taster.get(typebyte, _NOT_IN_LIST)
        if limit is _NOT_IN_LIST:
            tname = tokenNames.get(typebyte, hex(typebyte))
            if self.strictTaster:
                raise BananaError(f"invalid token type: {tname}")
            raise Violation(f"{tname} token rejected by {self.name}")
        if limit is not None and size > limit:  # type: ignore[operator]
            tname = tokenNames.get(typebyte, hex(typebyte))
            raise Violation(f"{tname} token too large: {size}>{limit}")

    def checkOpentype(self, opentype: Opentype) -> None:
        """Raise Violation unless a sequence of ``opentype`` (maybe partial) is acceptable."""
        if self.opentypes is None:
            return
        if opentype == ("reference",):
            # shared references are always accepted here; the object is
            # checked with checkObject once it is resolved
            return
        n = len(opentype)
        for o in self.opentypes:
            if o == opentype:
                return
            if len(o) > n and o[:n] == opentype:
                return  # still a partial match
        raise Violation(f"unacceptable OPEN type: {opentype} not in my list {list(self.opentypes)}")

    def checkObject(self, obj: object, inbound: bool) -> None:
        """Raise Violation unless the finished object ``obj`` fits."""

    def token_allowance(self, typebyte: int) -> int:
        """The largest body of a ``typebyte`` token this constraint explicitly accepts,
        which the decoder admits even past its ``max_token_size`` (0: none; the
        decoder's limit applies). Only a bounded ByteStringConstraint gives one (a str
        is a sequence, not a token: a bounded UnicodeConstraint gives one to the body
        inside its sequence instead, :meth:`UnicodeConstraint.body_allowance`)."""
        return 0

    def __repr__(self) -> str:
        return f"<{self.name}>"


class OpenerConstraint(Constraint):
    """A constraint for a sequence type: accepts only OPEN tokens."""

    taster = openTaster


class Any(Constraint):
    """Accept everything (LONGINT/LONGNEG bodies are still limited to SIZE_LIMIT)."""

    name = "Any"


class ByteStringConstraint(Constraint):
    """A ``bytes`` of at most ``maxLength`` bytes."""

    opentypes: Sequence[Opentype] | None = []
    name = "ByteStringConstraint"

    def __init__(self, maxLength: int | None = None, minLength: int = 0) -> None:
        self.maxLength = maxLength
        self.minLength = minLength
        self.taster = {STRING: maxLength, VOCAB: None}

    def checkObject(self, obj: object, inbound: bool) -> None:
        if not isinstance(obj, bytes):
            raise Violation(f"{short_repr(obj)} is not a bytestring")
        if self.maxLength is not None and len(obj) > self.maxLength:
            raise Violation(f"string too long ({len(obj)} > {self.maxLength})")
        if len(obj) < self.minLength:
            raise Violation(f"string too short ({len(obj)} < {self.minLength})")

    def token_allowance(self, typebyte: int) -> int:
        # an explicit maxLength lets a STRING of that length through (None: no promise)
        return self.maxLength if typebyte == STRING and self.maxLength is not None else 0


#: Foolscap's name for ByteStringConstraint.
StringConstraint = ByteStringConstraint


class IntegerConstraint(Constraint):
    """An int; ``maxBytes=-1`` means a signed 32-bit int, None means unlimited."""

    opentypes: Sequence[Opentype] | None = []
    name = "IntegerConstraint"

    def __init__(self, maxBytes: int | None = -1) -> None:
        if not (maxBytes == -1 or maxBytes is None or maxBytes >= 4):
            raise ValueError("maxBytes must be -1, None or >= 4")
        self.maxBytes = maxBytes
        self.taster = {INT: None, NEG: None}
        if maxBytes != -1:
            self.taster[LONGINT] = maxBytes
            self.taster[LONGNEG] = maxBytes
        #: |n| must stay below this (None: no bound); computed once, 2**8192 is not free
        self._bound = None if maxBytes is None or maxBytes == -1 else 2 ** (8 * maxBytes)

    def checkToken(self, typebyte: int, size: int) -> None:
        Constraint.checkToken(self, typebyte, size)
        # INT/NEG carry the value in the header: bound it too
        if self.maxBytes == -1:
            if (typebyte == INT and size >= 2**31) or (typebyte == NEG and size > 2**31):
                raise Violation("number too large")
        elif self._bound is not None and typebyte in (INT, NEG) and size >= self._bound:
            raise Violation("number too large")

    def checkObject(self, obj: object, inbound: bool) -> None:
        if not isinstance(obj, int):  # bool counts, as in Foolscap
            raise Violation(f"{short_repr(obj)} is not a number")
        if self.maxBytes == -1:
            if obj >= 2**31 or obj < -(2**31):
                raise Violation("number too large")
        elif self._bound is not None and (obj >= self._bound or -obj >= self._bound):
            raise Violation("number too large")


class NumberConstraint(IntegerConstraint):
    """A float or an int of at most ``maxBytes`` bytes."""

    name = "NumberConstraint"

    def __init__(self, maxBytes: int | None = 1024) -> None:
        if maxBytes == -1:
            raise ValueError("maxBytes=-1 is not valid for NumberConstraint")
        IntegerConstraint.__init__(self, maxBytes)
        self.taster[FLOAT] = None

    def checkObject(self, obj: object, inbound: bool) -> None:
        if isinstance(obj, float):
            return
        IntegerConstraint.checkObject(self, obj, inbound)


class UnicodeConstraint(OpenerConstraint):
    """A ``str`` of ``minLength``..``maxLength`` code points, optionally matching ``regexp``.

    The UTF-8 body is refused before it is buffered if it exceeds 4 bytes per
    allowed code point (UTF-8's longest), and admitted up to that even past the
    decoder's ``max_token_size`` (:meth:`body_allowance`); the code points are
    counted once it has arrived.
    """

    strictTaster = True
    opentypes: Sequence[Opentype] | None = [("unicode",)]
    name = "UnicodeConstraint"

    def __init__(
        self,
        maxLength: int | None = None,
        minLength: int = 0,
        regexp: str | re.Pattern[str] | None = None,
    ) -> None:
        self.maxLength = maxLength
        self.minLength = minLength
        self.regexp = re.compile(regexp) if regexp else None

    def checkObject(self, obj: object, inbound: bool) -> None:
        if not isinstance(obj, str):
            raise Violation("not a unicode object")
        if self.maxLength is not None and len(obj) > self.maxLength:
            raise Violation(f"string too long ({len(obj)} > {self.maxLength})")
        if len(obj) < self.minLength:
            raise Violation(f"string too short ({len(obj)} < {self.minLength})")
        if self.regexp is not None and not self.regexp.search(obj):
            raise Violation("regexp failed to match")

    def body_allowance(self, typebyte: int) -> int:
        """The largest body of a ``typebyte`` token inside the ``unicode`` sequence this
        constraint accepts, which the decoder admits even past its ``max_token_size``
        (0: none): for a STRING, 4 bytes per allowed code point, the most ``maxLength``
        code points take in UTF-8 (None: no promise). The unicode unslicer asks it
        (``token_allowance``); ``token_allowance`` itself stays 0, as a STRING in the
        place of a str is a byte string, not a str."""
        return 4 * self.maxLength if typebyte == STRING and self.maxLength is not None else 0


class BooleanConstraint(OpenerConstraint):
    """A bool; ``value`` (if not None) is the only one accepted."""

    strictTaster = True
    opentypes: Sequence[Opentype] | None = [("boolean",)]
    name = "BooleanConstraint"

    def __init__(self, value: bool | None = None) -> None:
        self.value = value

    def checkObject(self, obj: object, inbound: bool) -> None:
        if type(obj) is not bool:
            raise Violation("not a bool")
        if self.value is not None and obj != self.value:
            raise Violation(f"not {self.value}")


class Nothing(OpenerConstraint):
    """Accept only None."""

    strictTaster = True
    opentypes: Sequence[Opentype] | None = [("none",)]
    name = "Nothing"

    def checkObject(self, obj: object, inbound: bool) -> None:
        if obj is not None:
            raise Violation(f"{short_repr(obj)} is not None")


class ListConstraint(OpenerConstraint):
    """A list of at most ``maxLength`` items, each obeying ``constraint``."""

    opentypes: Sequence[Opentype] | None = [("list",)]
    name = "ListConstraint"

    def __init__(self, constraint: object, maxLength: int | None = None, minLength: int = 0):
        self.constraint = adapt_constraint(constraint)
        self.maxLength = maxLength
        self.minLength = minLength

    def checkObject(self, obj: object, inbound: bool) -> None:
        if not isinstance(obj, list):
            raise Violation("not a list")
        if self.maxLength is not None and len(obj) > self.maxLength:
            raise Violation("list too long")
        if len(obj) < self.minLength:
            raise Violation("list too short")
        for o in obj:
            self.constraint.checkObject(o, inbound)


class TupleConstraint(OpenerConstraint):
    """A tuple whose items obey the given constraints, one each."""

    opentypes: Sequence[Opentype] | None = [("tuple",)]
    name = "TupleConstraint"

    def __init__(self, *elemConstraints: object) -> None:
        self.constraints = [adapt_constraint(e) for e in elemConstraints]

    def checkObject(self, obj: object, inbound: bool) -> None:
        if not isinstance(obj, tuple):
            raise Violation("not a tuple")
        if len(obj) != len(self.constraints):
            raise Violation("wrong size tuple")
        for c, o in zip(self.constraints, obj, strict=True):
            c.checkObject(o, inbound)


class DictConstraint(OpenerConstraint):
    """A dict of at most ``maxKeys`` keys; keys and values obey their constraints."""

    opentypes: Sequence[Opentype] | None = [("dict",)]
    name = "DictConstraint"

    def __init__(
        self, keyConstraint: object, valueConstraint: object, maxKeys: int | None = None
    ) -> None:
        self.keyConstraint = adapt_constraint(keyConstraint)
        self.valueConstraint = adapt_constraint(valueConstraint)
        self.maxKeys = maxKeys

    def checkObject(self, obj: object, inbound: bool) -> None:
        if not isinstance(obj, dict):
            raise Violation(f"{short_repr(obj)} ({type(obj)}) is not a Dictionary")
        if self.maxKeys is not None and len(obj) > self.maxKeys:
            raise Violation(f"Dict keys={len(obj)} > maxKeys={self.maxKeys}")
        for key, value in obj.items():
            self.keyConstraint.checkObject(key, inbound)
            self.valueConstraint.checkObject(value, inbound)


class SetConstraint(OpenerConstraint):
    """A set or frozenset of at most ``maxLength`` items (``mutable`` picks one kind)."""

    opentypes: Sequence[Opentype] | None = [("set",), ("immutable-set",)]
    name = "SetConstraint"

    def __init__(
        self, constraint: object, maxLength: int | None = None, mutable: bool | None = None
    ) -> None:
        self.constraint = adapt_constraint(constraint)
        self.maxLength = maxLength
        self.mutable = mutable
        if mutable is True:
            self.opentypes = [("set",)]
        elif mutable is False:
            self.opentypes = [("immutable-set",)]

    def checkObject(self, obj: object, inbound: bool) -> None:
        if not isinstance(obj, (set, frozenset)):
            raise Violation("not a set")
        if self.mutable is True and not isinstance(obj, set):
            raise Violation("obj is a set, but not a mutable one")
        if self.mutable is False and not isinstance(obj, frozenset):
            raise Violation("obj is a set, but not an immutable one")
        if self.maxLength is not None and len(obj) > self.maxLength:
            raise Violation("set is too large")
        for o in obj:
            self.constraint.checkObject(o, inbound)


class PolyConstraint(Constraint):
    """Any one of several alternatives (``ChoiceOf``)."""

    name = "PolyConstraint"

    def __init__(self, *alternatives: object) -> None:
        self.alternatives = tuple(adapt_constraint(a) for a in alternatives)

    def checkToken(self, typebyte: int, size: int) -> None:
        for c in self.alternatives:
            try:
                c.checkToken(typebyte, size)
            except (Violation, BananaError):
                continue
            return
        raise Violation(
            f"typebyte {tokenNames.get(typebyte, hex(typebyte))} does not satisfy any of "
            f"{self.alternatives}"
        )

    def checkOpentype(self, opentype: Opentype) -> None:
        for c in self.alternatives:
            try:
                c.checkOpentype(opentype)
            except Violation:
                continue
            return
        raise Violation(f"OPEN type {opentype} does not satisfy any of {self.alternatives}")

    def checkObject(self, obj: object, inbound: bool) -> None:
        for c in self.alternatives:
            try:
                c.checkObject(obj, inbound)
            except Violation:
                continue
            return
        raise Violation(f"object type {type(obj)} does not satisfy any of {self.alternatives}")

    def token_allowance(self, typebyte: int) -> int:
        return max((c.token_allowance(typebyte) for c in self.alternatives), default=0)


ChoiceOf = PolyConstraint
TupleOf = TupleConstraint
ListOf = ListConstraint
DictOf = DictConstraint
SetOf = SetConstraint


class _Wrapper(Constraint):
    constraint: Constraint

    def checkToken(self, typebyte: int, size: int) -> None:
        self.constraint.checkToken(typebyte, size)

    def checkOpentype(self, opentype: Opentype) -> None:
        self.constraint.checkOpentype(opentype)

    def checkObject(self, obj: object, inbound: bool) -> None:
        self.constraint.checkObject(obj, inbound)

    def token_allowance(self, typebyte: int) -> int:
        return self.constraint.token_allowance(typebyte)


class Shared(_Wrapper):
    """The object may be referenced more than once; otherwise like ``constraint``."""

    name = "Shared"

    def __init__(self, constraint: object, refLimit: int | None = None) -> None:
        self.constraint = adapt_constraint(constraint)
        self.refLimit = refLimit


class Optional(_Wrapper):
    """An argument that may be left out (``default`` is used); otherwise like ``constraint``."""

    name = "Optional"

    def __init__(self, constraint: object, default: object = None) -> None:
        self.constraint = adapt_constraint(constraint)
        self.default = default


def AnyStringConstraint(*args: _Any, **kwargs: _Any) -> PolyConstraint:
    """Either a bytes or a str obeying the same length limits."""
    return ChoiceOf(ByteStringConstraint(*args, **kwargs), UnicodeConstraint(*args, **kwargs))


def adapt_constraint(spec: object) -> Constraint:
    """Turn Foolscap's shorthand into a Constraint (``int``, ``bytes``, ``str``, ``bool``,
    ``float``, ``None``, a tuple of shorthands), or return a Constraint unchanged."""
    if isinstance(spec, Constraint):
        return spec
    if spec is None:
        return Nothing()
    if spec is bytes:
        return ByteStringConstraint()
    if spec is str:
        return UnicodeConstraint()
    if spec is bool:
        return BooleanConstraint()
    if spec is float:
        return NumberConstraint()
    if spec is int:
        return IntegerConstraint(maxBytes=1024)
    if isinstance(spec, tuple):
        return TupleConstraint(*spec)
    if isinstance(spec, type):
        shorthand = _SHORTHANDS.get(spec)
        if shorthand is not None:
            return shorthand()
    for kind, maker in _MAKERS:
        if isinstance(spec, kind):
            return maker(spec)
    raise TypeError(f"can't make constraint from {spec!r} ({type(spec)})")


#: (kind, maker): ``adapt_constraint`` turns an instance of ``kind`` into ``maker(it)``;
#: the latest registration is asked first
_MAKERS: list[tuple[type, Callable[[_Any], Constraint]]] = []
#: a class used as a shorthand (e.g. ``Referenceable``) -> a maker of its constraint
_SHORTHANDS: dict[type, Callable[[], Constraint]] = {}


def register_constraint_maker(kind: type, maker: Callable[[_Any], Constraint]) -> None:
    """Let ``adapt_constraint`` turn instances of ``kind`` into ``maker(instance)``
    (Foolscap's ``addToConstraintTypeMap``: how an Interface becomes a constraint)."""
    _MAKERS.insert(0, (kind, maker))


def register_constraint_shorthand(cls: type, maker: Callable[[], Constraint]) -> None:
    """Let ``adapt_constraint`` turn the class ``cls`` itself into ``maker()``
    (Foolscap's ``constraintMap[Referenceable]``)."""
    _SHORTHANDS[cls] = maker


def select_for(constraint: Constraint | None, kind: type[Constraint]) -> Constraint | None:
    """Reduce ``constraint`` to what a sequence unslicer of one kind can enforce.

    Returns None for no constraint (or Any), the constraint itself if it is a
    ``kind``, the first fitting alternative of a ChoiceOf, or raises Violation.
    """
    while isinstance(constraint, _Wrapper):
        constraint = constraint.constraint
    if constraint is None or type(constraint) is Any:
        return None
    if isinstance(constraint, kind):
        return constraint
    if isinstance(constraint, PolyConstraint):
        for alt in constraint.alternatives:
            try:
                got = select_for(alt, kind)
            except Violation:
                continue
            return got
    raise Violation(f"{constraint!r} does not allow a {kind.name}")
