"""The schema of one remote method: what each argument and the answer may be.

A RemoteInterface method is written either as Foolscap writes it, every argument's
constraint as its default and the answer's as the returned value::

    def add(a=int, b=int): return int

or with annotations (``self`` allowed, as in a Protocol)::

    def add(self, a: int, b: int) -> int: ...

Both become a :class:`RemoteMethodSchema`. It is a zope ``Attribute``, so the
interface keeps it like any other attribute (``RIFoo["add"]``, ``RIFoo.get``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any as _Any

from zope.interface.interface import Attribute  # type: ignore[import-untyped,unused-ignore]

from octavo.banana import (
    Accepts,
    Any,
    Constraint,
    Optional,
    Violation,
    adapt_constraint,
    fast_paths_default,
    quick_check,
)

from ._annotations import signature_constraints

__all__ = ["InvalidRemoteInterface", "RemoteMethodSchema", "UnconstrainedMethod"]


class InvalidRemoteInterface(Exception):  # noqa: N818 (Foolscap's name)
    """A RemoteInterface declaration that cannot be turned into schemas."""


def _unwrap(c: Constraint) -> Constraint:
    return c.constraint if isinstance(c, Optional) else c


def _foolscap_style(
    func: Callable[..., object],
) -> tuple[list[str], dict[str, Constraint], list[str], Constraint]:
    spec = inspect.getfullargspec(func)
    names = list(spec.args)
    defaults = list(spec.defaults or ())
    if names and names[0] == "self":
        raise InvalidRemoteInterface(
            "RemoteInterface methods should not have 'self' in their argument list"
        )
    if spec.varargs or spec.varkw or spec.kwonlyargs or len(defaults) != len(names):
        raise InvalidRemoteInterface(
            "RemoteInterface methods must have default values for all their arguments"
        )
    constraints: dict[str, Constraint] = {}
    required: list[str] = []
    for name, spec_value in zip(names, defaults, strict=True):
        c = adapt_constraint(spec_value)
        constraints[name] = c
        if not isinstance(c, Optional):
            required.append(name)
    return names, constraints, required, adapt_constraint(func())


class RemoteMethodSchema(Attribute):  # type: ignore[misc]
    """The constraints of one remote method (Foolscap's RemoteMethodSchema).

    Made from a declared function (``method``), or from keyword constraints with
    ``_response`` for the answer. ``__ignoreUnknown__`` / ``__acceptUnknown__``
    (keywords) drop or accept unexpected keyword arguments instead of refusing them.
    """

    #: the method name and its RemoteInterface, set when the interface is made
    name: str | None = None
    interface: _Any = None
    ignoreUnknown = False
    acceptUnknown = False
    #: checkAllArgs runs checkObject on each argument with the very constraint that
    #: argument_constraint gives for it (the inbound fast path relies on it)
    checks_each_argument = True
    #: the arguments' quick checks (made on first use): one per argument name, None
    #: for an argument that has none; and each name's position
    _quick: list[Accepts | None] | None = None
    _position: dict[str, int]
    #: True once every argument has a quick check (the fast paths on): a call may then
    #: pass :meth:`quick_accepts`, and a caller keeps it per method (``_outbound``)
    quick_complete = False

    def __init__(
        self, method: Callable[..., object] | None = None, _response: object = None, **kwargs: _Any
    ) -> None:
        Attribute.__init__(
            self, getattr(method, "__name__", ""), getattr(method, "__doc__", "") or ""
        )
        self.options: dict[str, object] = {}
        if method is not None:
            if getattr(method, "__annotations__", None):
                parsed = signature_constraints(method)
            else:
                parsed = _foolscap_style(method)
            self.argumentNames, self.argConstraints, self.required, response = parsed
            self.responseConstraint: Constraint | None = response
            return
        self.ignoreUnknown = bool(kwargs.pop("__ignoreUnknown__", False))
        self.acceptUnknown = bool(kwargs.pop("__acceptUnknown__", False))
        self.responseConstraint = adapt_constraint(_response) if _response is not None else None
        self.argumentNames = list(kwargs)
        self.argConstraints = {k: adapt_constraint(v) for k, v in kwargs.items()}
        self.required = [k for k, c in self.argConstraints.items() if not isinstance(c, Optional)]

    # -- per argument, as the call arrives -------------------------------------------

    def getPositionalArgConstraint(self, argnum: int) -> tuple[bool, Constraint]:
        """(True, constraint) of positional argument ``argnum``; Violation past the last."""
        if argnum >= len(self.argumentNames):
            raise Violation(f"too many positional arguments: {argnum} >= {len(self.argumentNames)}")
        return True, _unwrap(self.argConstraints[self.argumentNames[argnum]])

    def getKeywordArgConstraint(
        self, argname: str, num_posargs: int = 0, previous_kwargs: Iterable[str] = ()
    ) -> tuple[bool, Constraint | None]:
        """(accept, constraint) of keyword argument ``argname``; Violation if unknown or
        already given (positionally, or as an earlier keyword)."""
        if argname in self.argumentNames[:num_posargs] or argname in previous_kwargs:
            raise Violation(f"got multiple values for keyword argument '{argname}'")
        c = self.argConstraints.get(argname)
        if c is not None:
            return True, _unwrap(c)
        if self.ignoreUnknown:
            return False, None
        if self.acceptUnknown:
            return True, None
        raise Violation(f"unknown argument '{argname}'")

    def argument_constraint(self, methodname: str, which: int | str) -> Constraint | None:
        """The inbound call decoder's hook: the constraint of one argument as it arrives."""
        if type(which) is int:
            return self.getPositionalArgConstraint(which)[1]
        assert isinstance(which, str)
        return self.getKeywordArgConstraint(which)[1]

    # -- whole calls and answers -----------------------------------------------------

    def getResponseConstraint(self) -> Constraint | None:
        """What the answer must satisfy (None: anything)."""
        return self.responseConstraint

    def quick_accepts(self, args: Sequence[object], kwargs: Mapping[str, object]) -> bool:
        """True only if :meth:`checkAllArgs` surely takes this call: every argument is
        given once (positionally, or by name after the positional ones) and passes
        its constraint's quick check (``octavo.banana.quick_check``). False decides
        nothing: :meth:`checkAllArgs` then looks at the call the long way."""
        quick = self._quick
        if quick is None:
            quick = self._compile_quick()
        npos = len(args)
        if npos + len(kwargs) != len(quick):
            return False
        for check, value in zip(quick, args, strict=False):
            if check is None or not check(value):
                return False
        if kwargs:
            position = self._position
            for name, value in kwargs.items():
                i = position.get(name, -1)
                if i < npos:  # unknown, or given positionally too
                    return False
                check = quick[i]
                if check is None or not check(value):
                    return False
        return True

    def _compile_quick(self) -> list[Accepts | None]:
        # a fast path: with OCTAVO_FAST_PATHS=0 every call is checked the long way, and
        # so is every call of a subclass that checks calls its own way
        fast = fast_paths_default() and type(self).checkAllArgs is RemoteMethodSchema.checkAllArgs
        self._position = {name: i for i, name in enumerate(self.argumentNames)}
        self._quick = [
            quick_check(self.argConstraints[n]) if fast else None for n in self.argumentNames
        ]
        self.quick_complete = fast and None not in self._quick
        return self._quick

    def checkAllArgs(
        self, args: Iterable[object], kwargs: Mapping[str, object], inbound: bool
    ) -> None:
        """Violation unless these arguments fit: none unknown, none twice, none missing,
        each obeying its constraint."""
        if (type(args) is tuple or type(args) is list) and self.quick_accepts(args, kwargs):
            return
        args = list(args)
        if len(args) > len(self.argumentNames):
            raise Violation(
                f"method takes {len(self.argumentNames)} positional arguments ({len(args)} given)"
            )
        given = dict(zip(self.argumentNames, args, strict=False))
        for name, value in kwargs.items():
            if name in given:
                raise Violation(f"got multiple values for keyword argument '{name}'")
            given[name] = value
        for name, value in given.items():
            _accept, c = self.getKeywordArgConstraint(name)
            if c is None:
                continue
            try:
                c.checkObject(value, inbound)
            except Violation as v:
                v.setLocation(f"{name}=")
                raise
        for name in self.required:
            if name not in given:
                raise Violation(f"missing required argument '{name}'")

    def checkResults(self, results: object, inbound: bool) -> None:
        """Violation unless ``results`` obeys the response constraint."""
        if self.responseConstraint is not None:
            self.responseConstraint.checkObject(results, inbound)

    def __repr__(self) -> str:
        iface = getattr(self.interface, "__remote_name__", "?")
        return f"<RemoteMethodSchema {iface}.{self.name}>"


class UnconstrainedMethod(Attribute):  # type: ignore[misc]
    """A method of a RemoteInterface that takes any arguments and answers anything.

    For example::

        class RIFoo(RemoteInterface):
            anything = UnconstrainedMethod()
    """

    name: str | None = None
    interface: _Any = None

    def __init__(self) -> None:
        Attribute.__init__(self, "")

    def getPositionalArgConstraint(self, argnum: int) -> tuple[bool, Constraint]:
        """Anything."""
        return True, Any()

    def getKeywordArgConstraint(
        self, argname: str, num_posargs: int = 0, previous_kwargs: Iterable[str] = ()
    ) -> tuple[bool, Constraint]:
        """Anything."""
        return True, Any()

    def argument_constraint(self, methodname: str, which: int | str) -> Constraint | None:
        """No per-argument constraint."""
        return None

    def getResponseConstraint(self) -> Constraint:
        """Anything."""
        return Any()

    def checkAllArgs(
        self, args: Iterable[object], kwargs: Mapping[str, object], inbound: bool
    ) -> None:
        """Every call is accepted."""

    def checkResults(self, results: object, inbound: bool) -> None:
        """Every answer is accepted."""
