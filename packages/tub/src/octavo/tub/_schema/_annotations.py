"""Constraints from ordinary Python annotations: one spelling for types and schemas.

================================  ==================================================
annotation                        constraint
================================  ==================================================
``int`` ``bytes`` ``str``          as Foolscap's shorthand (``int``: |n| < 2**8192)
``bool`` ``float`` ``None``
``typing.Any`` / no annotation    ``Any()``
``list[X]``                       ``ListOf(X)``
``dict[K, V]``                    ``DictOf(K, V)``
``tuple[A, B]``                   ``TupleOf(A, B)`` (``tuple[X, ...]`` is refused)
``set[X]`` / ``frozenset[X]``     ``SetOf(X)`` / ``SetOf(X, mutable=False)``
``X | Y``, ``Optional[X]``        ``ChoiceOf(X, Y)``, ``ChoiceOf(X, None)``
``Literal[a, b]``                 :class:`OneOf` (exactly those values)
``Annotated[T, MaxLength(n)]``    T's constraint with ``maxLength`` (``maxKeys``) n;
                                  also :class:`MinLength`, or a Constraint to use as is
a RemoteInterface ``RIFoo``        ``RemoteInterfaceConstraint(RIFoo)``
a zope Interface ``IFoo``          ``LocalInterfaceConstraint(IFoo)``
a Referenceable class             any reference (``Referenceable`` shorthand)
another class (a Copyable)        :class:`InstanceOf` the class
a Constraint                      itself
================================  ==================================================
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any as _Any

from octavo.banana import (
    STRING,
    Any,
    ChoiceOf,
    Constraint,
    DictOf,
    ListOf,
    Nothing,
    Optional,
    PolyConstraint,
    SetOf,
    TupleOf,
    Violation,
    adapt_constraint,
)
from octavo.banana._errors import short_repr

from ._ipb import IReferenceable, IRemoteReference
from ._refs import RemoteInterfaceConstraint

__all__ = [
    "InstanceOf",
    "MaxLength",
    "MinLength",
    "OneOf",
    "constraint_from_annotation",
    "signature_constraints",
]


@dataclass(frozen=True, slots=True)
class MaxLength:
    """``Annotated`` metadata: at most ``n`` items (bytes, characters, keys)."""

    n: int


@dataclass(frozen=True, slots=True)
class MinLength:
    """``Annotated`` metadata: at least ``n`` items (bytes, characters)."""

    n: int


class OneOf(PolyConstraint):
    """Exactly one of the given values (``Literal[...]``); tokens as their types allow
    (the alternatives are the values' types, so sequence readers find theirs)."""

    name = "OneOf"

    def __init__(self, *values: object) -> None:
        kinds: list[Constraint] = []
        for v in values:
            c = adapt_constraint(None if v is None else type(v))
            if all(type(k) is not type(c) for k in kinds):
                kinds.append(c)
        super().__init__(*kinds)
        self.values = values

    def checkObject(self, obj: object, inbound: bool) -> None:
        for v in self.values:
            if type(obj) is type(v) and obj == v:
                return
        raise Violation(f"{short_repr(obj)} is not one of {self.values!r}")


class InstanceOf(Constraint):
    """An instance of ``cls`` (e.g. a Copyable class used as an annotation)."""

    name = "InstanceOf"

    def __init__(self, cls: type) -> None:
        self.cls = cls

    def checkObject(self, obj: object, inbound: bool) -> None:
        if not isinstance(obj, self.cls):
            raise Violation(f"{short_repr(obj)} is not a {self.cls.__name__}")


def _with_metadata(c: Constraint, meta: object) -> Constraint:
    if isinstance(meta, Constraint):
        return meta
    if isinstance(meta, (MaxLength, MinLength)):
        attr = "maxLength" if isinstance(meta, MaxLength) else "minLength"
        if attr == "maxLength" and hasattr(c, "maxKeys"):
            attr = "maxKeys"
        if not hasattr(c, attr):
            raise TypeError(f"{type(meta).__name__} does not apply to {c!r}")
        setattr(c, attr, meta.n)
        taster = getattr(c, "taster", None)
        if attr == "maxLength" and isinstance(taster, dict) and STRING in taster:
            c.taster = {**c.taster, STRING: meta.n}
        return c
    return c  # other metadata is not ours


def _from_class(cls: type) -> Constraint:
    try:
        return adapt_constraint(cls)
    except TypeError:
        pass
    if IReferenceable.implementedBy(cls) or IRemoteReference.implementedBy(cls):
        return RemoteInterfaceConstraint(None)
    return InstanceOf(cls)


def constraint_from_annotation(ann: object) -> Constraint:
    """The constraint an annotation stands for (see the table above); TypeError if none."""
    if ann is _Any or ann is typing.Any:
        return Any()
    if ann is None or ann is type(None):
        return Nothing()
    if isinstance(ann, Constraint):
        return ann
    origin = typing.get_origin(ann)
    args = typing.get_args(ann)
    if origin is typing.Annotated:
        c = constraint_from_annotation(args[0])
        for meta in ann.__metadata__:  # type: ignore[attr-defined]
            c = _with_metadata(c, meta)
        return c
    if origin is typing.Union or origin is types.UnionType:
        return ChoiceOf(*(constraint_from_annotation(a) for a in args))
    if origin is typing.Literal:
        return OneOf(*args)
    if origin is list or ann is list:
        return ListOf(constraint_from_annotation(args[0]) if args else Any())
    if origin is dict or ann is dict:
        k, v = args if args else (_Any, _Any)
        return DictOf(constraint_from_annotation(k), constraint_from_annotation(v))
    if origin is set or ann is set:
        return SetOf(constraint_from_annotation(args[0]) if args else Any())
    if origin is frozenset or ann is frozenset:
        return SetOf(constraint_from_annotation(args[0]) if args else Any(), mutable=False)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            raise TypeError("tuple[X, ...] has no Foolscap constraint: use list[X]")
        return TupleOf(*(constraint_from_annotation(a) for a in args))
    if isinstance(ann, type):
        return _from_class(ann)
    return adapt_constraint(ann)  # a RemoteInterface, an Interface: TypeError otherwise


def signature_constraints(
    func: Callable[..., object],
) -> tuple[list[str], dict[str, Constraint], list[str], Constraint]:
    """(argument names, their constraints, the required ones, the return constraint)
    of a function whose parameters are annotated; a first ``self`` is skipped."""
    hints = typing.get_type_hints(func, include_extras=True)
    params = list(inspect.signature(func).parameters.values())
    if params and params[0].name == "self":
        params = params[1:]
    names: list[str] = []
    constraints: dict[str, Constraint] = {}
    required: list[str] = []
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise TypeError(f"remote methods take no *args or **kwargs ({p.name})")
        c = constraint_from_annotation(hints.get(p.name, _Any))
        names.append(p.name)
        if p.default is p.empty:
            required.append(p.name)
            constraints[p.name] = c
        else:
            constraints[p.name] = Optional(c, p.default)
    response = constraint_from_annotation(hints["return"]) if "return" in hints else Any()
    return names, constraints, required, response
