"""Copied objects on the wire: the ``copyable`` sequence, inbound.

A Copyable travels as ``OPEN "copyable" COPYTYPE (name value)* CLOSE``: its copytype
as the second index token, then attribute names (byte strings) each followed by its
value. Inbound, the copytype is looked up in a registry (``CopyableLookup``: the
Tub's, then the process-wide one) that gives a fresh unslicer; an unknown copytype is
a Violation naming it. Nothing is ever imported by name.

:class:`RemoteCopyUnslicer` collects the attributes, checking each against the
RemoteCopy's state schema as its tokens arrive, then hands the dict to a factory.
Anything wrong with one copy (a bad name, a schema breach, a factory that raises) is a
Violation of the call or answer carrying it, never of the connection.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from octavo.banana import (
    OPEN,
    STRING,
    VOCAB,
    Constraint,
    Pending,
    UnicodeConstraint,
    Unslicer,
    UnslicerRegistry,
)
from octavo.tub._errors import BananaError, Violation

__all__ = [
    "ATTRNAME_LIMIT",
    "COPYTYPE_LIMIT",
    "CopyableLookup",
    "RemoteCopyUnslicer",
    "StateSchema",
    "register_copyable_opener",
]

#: the longest copytype accepted (longer index tokens are refused before being read)
COPYTYPE_LIMIT = 1000
#: the longest attribute name accepted, in bytes
ATTRNAME_LIMIT = 1000

_COPYABLE = ("copyable",)
_ATTRNAME_AS_STR = UnicodeConstraint(ATTRNAME_LIMIT // 4)


class StateSchema(Protocol):
    """A RemoteCopy's ``stateSchema`` (``AttributeDictConstraint`` provides it)."""

    def getAttrConstraint(self, attrname: str) -> tuple[bool, Constraint | None]:
        """(keep the attribute?, its constraint); Violation for a refused name."""
        ...

    def missing(self, names: Any) -> list[str]:
        """The required attribute names absent from ``names``."""
        ...


class CopyableLookup(Protocol):
    """Where the unslicer factory of a copytype is found (a ``CopyableRegistry``)."""

    def unslicer_factory(self, copytype: str) -> Callable[[], Unslicer] | None:
        """The factory registered for ``copytype`` (None if there is none)."""
        ...


class RemoteCopyUnslicer(Unslicer):
    """One ``copyable`` sequence -> ``factory(state)``.

    :param copytype: the copytype (for messages).
    :param factory: makes the object from the attribute dict (an exception it raises
        becomes a Violation).
    :param schema: checks each attribute as it arrives (None: any attributes).
    :param cyclic: True lets references inside the state point back at the copy
        (they get a Pending until it is made); False for objects that must not
        pass through one (Foolscap's ``cyclic=False``, for failures).
    """

    def __init__(
        self,
        copytype: str,
        factory: Callable[[dict[str, Any]], object],
        schema: StateSchema | None = None,
        *,
        cyclic: bool = True,
    ) -> None:
        self.copytype = copytype
        self.factory = factory
        self.schema = schema
        self.cyclic = cyclic

    def start(self, count: int) -> None:
        self.count = count
        self.state: dict[str, Any] = {}
        self.attrname: str | None = None
        self.keep = True
        self.attr_constraint: Constraint | None = None
        self.pending: Pending | None = None
        if self.cyclic:
            self.pending = Pending()
            self.decoder.setObject(count, self.pending)

    def checkToken(self, typebyte: int, size: int) -> None:
        if self.attrname is None:
            if typebyte == OPEN:
                return  # a str name: checked in doOpen
            if typebyte not in (STRING, VOCAB):
                raise Violation(f"attribute names of {self.copytype!r} must be strings")
            if typebyte == STRING and size > ATTRNAME_LIMIT:
                raise Violation(f"attribute name too long ({size}>{ATTRNAME_LIMIT})")
        elif self.attr_constraint is not None:
            try:
                self.attr_constraint.checkToken(typebyte, size)
            except BananaError as e:
                # a strict constraint's "wrong token type": the stream is intact, only
                # this copy breaks its schema
                raise Violation(f"attribute {self.attrname!r}: {e.args[0]}") from None

    def doOpen(self, opentype: tuple[str, ...]) -> Unslicer | None:
        c = _ATTRNAME_AS_STR if self.attrname is None else self.attr_constraint
        return self.open_constrained(opentype, c)

    def receiveChild(self, obj: object) -> None:
        if self.attrname is None:
            self._take_name(obj)
            return
        if type(obj) is Pending:
            raise Violation(
                f"attribute {self.attrname!r} refers to an unfinished object (a gift or a"
                " reference to an enclosing tuple: a copy cannot wait for it)"
            )
        if self.attr_constraint is not None:
            self.attr_constraint.checkObject(obj, True)
        if self.keep:
            self.state[self.attrname] = obj
        self.attrname = None
        self.attr_constraint = None

    def _take_name(self, obj: object) -> None:
        if isinstance(obj, bytes):
            try:
                name = obj.decode("utf-8")
            except UnicodeDecodeError:
                raise Violation(f"attribute name {obj[:50]!r} is not UTF-8") from None
        elif isinstance(obj, str):
            name = obj
        else:
            raise Violation(f"attribute names of {self.copytype!r} must be strings")
        if name in self.state:
            raise Violation(f"duplicate attribute name {name[:100]!r}")
        self.keep, self.attr_constraint = True, None
        if self.schema is not None:
            self.keep, self.attr_constraint = self.schema.getAttrConstraint(name)
        self.attrname = name

    def receiveClose(self) -> object:
        if self.attrname is not None:
            raise Violation(f"{self.copytype!r} ended after attribute name {self.attrname!r}")
        if self.schema is not None:
            absent = self.schema.missing(self.state)
            if absent:
                raise Violation(f"{self.copytype!r} is missing attributes: {', '.join(absent)}")
        try:
            obj = self.factory(self.state)
        except Violation:
            raise
        except Exception as e:
            raise Violation(
                f"could not make a {self.copytype!r} from its state: {type(e).__name__}: {e}"
            ) from None
        self.decoder.setObject(self.count, obj)
        if self.pending is not None:
            self.pending.resolve(obj)
        return obj

    def describe(self) -> str:
        if self.attrname is None:
            return f"<{self.copytype}>"
        return f"<{self.copytype}>.{self.attrname}"


def _opener(lookup: CopyableLookup) -> Callable[[tuple[str, ...]], Unslicer]:
    def open_copyable(opentype: tuple[str, ...]) -> Unslicer:
        copytype = opentype[1]
        factory = lookup.unslicer_factory(copytype)
        if factory is None:
            raise Violation(f"unknown RemoteCopy name {copytype[:200]!r}")
        return factory()

    return open_copyable


def register_copyable_opener(
    registry: UnslicerRegistry, lookup: CopyableLookup, *, top_level: bool = False
) -> None:
    """Read ``("copyable", COPYTYPE)`` sequences in ``registry`` through ``lookup``
    (opentypes registered in full, like the failure copyable, take precedence)."""
    registry.register(
        _COPYABLE,
        _opener(lookup),
        top_level=top_level,
        nested=True,
        extra_index_tokens=1,
        max_index_length=COPYTYPE_LIMIT,
    )
