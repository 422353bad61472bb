"""Decoder-side handlers of OPEN sequences (unslicers) and their registry.

An unslicer receives the tokens of one sequence and produces one object. The
method names are Foolscap's, so its unslicers translate directly; type bytes are
ints (``octavo.banana.INT`` ...), and there are no Deferreds: a value that is not
ready yet is a :class:`Pending`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from ._constraints import (
    BooleanConstraint,
    ByteStringConstraint,
    Constraint,
    DictConstraint,
    ListConstraint,
    SetConstraint,
    TupleConstraint,
    UnicodeConstraint,
    select_for,
)
from ._errors import BananaError, Violation, short_repr
from ._pending import Pending
from ._tokens import INT, STRING, VOCAB

if TYPE_CHECKING:
    from ._decoder import Decoder

__all__ = [
    "BooleanUnslicer",
    "DecimalUnslicer",
    "DictUnslicer",
    "FrozenSetUnslicer",
    "LeafUnslicer",
    "ListUnslicer",
    "NoneUnslicer",
    "ReferenceUnslicer",
    "SetUnslicer",
    "TupleUnslicer",
    "UnicodeUnslicer",
    "Unslicer",
    "UnslicerEntry",
    "UnslicerRegistry",
    "default_unslicers",
]

Opentype = tuple[str, ...]


class Unslicer:
    """Base class: turns the tokens of one OPEN sequence into one object.

    The decoder sets ``decoder`` (use ``self.decoder.context`` for the
    per-connection context, ``setObject``/``getObject`` for shared
    references), ``parent`` and ``openCount`` before calling ``start``.

    Call order: ``setConstraint`` (maybe), ``start(count)``, then per child
    ``checkToken`` (primitive tokens, before their body is read) or ``doOpen``
    (sequences, once per index token until it returns an unslicer), then
    ``receiveChild``; finally ``receiveClose`` and ``finish``. Any of them may
    raise :class:`Violation` (the sequence is abandoned: ``reportViolation``
    is called on it and then on its parents until one returns None) or
    :class:`BananaError` (the connection must be dropped).
    """

    opentype: Opentype = ()
    decoder: Decoder
    parent: Unslicer | None = None
    openCount: int | None = None
    #: the decoder calls checkToken only if this is true (a speed hint)
    wants_check: bool = True
    #: True only for built-in unslicers whose doOpen adds nothing (a speed hint)
    plain_open: bool = False
    #: a callable taking finished, non-Pending children in place of receiveChild
    #: (a speed hint; must not refer back to the unslicer, to avoid cycles)
    prim: Callable[[object], object] | None = None

    def setConstraint(self, constraint: Constraint | None) -> None:
        """Apply the constraint chosen by the parent (default: ignore it)."""

    def start(self, count: int) -> None:
        """Called once pushed; ``count`` is this sequence's object number."""

    def checkToken(self, typebyte: int, size: int) -> None:
        """Refuse a primitive token before its body is read (size = header value)."""

    def doOpen(self, opentype: Opentype) -> Unslicer | None:
        """Return the child unslicer for ``opentype`` (None: wait for more index tokens).

        Override to check ``opentype`` against a constraint and to call the
        child's ``setConstraint`` with the constraint for this position.
        """
        return self.open(opentype)

    def open(self, opentype: Opentype) -> Unslicer | None:
        """Look ``opentype`` up in the decoder's registry (nested objects)."""
        return self.decoder.open(opentype, top_level=False)

    def receiveChild(self, obj: object) -> None:
        """Take one child: a primitive value, a finished child object, or a Pending."""

    def reportViolation(self, why: Violation) -> Violation | None:
        """A Violation happened in this sequence (or a child gave up).

        Return it to give up this sequence too, or None to absorb it and go on.
        """
        return why

    def receiveClose(self) -> object:
        """The sequence ended: return its object (or a Pending)."""
        raise BananaError(f"{type(self).__name__} does not accept CLOSE")

    def finish(self) -> None:
        """Called after receiveClose, before the object goes to the parent."""

    def describe(self) -> str:
        """A short name for this node, used in Violation locations."""
        return "??"


class LeafUnslicer(Unslicer):
    """An unslicer that refuses sub-sequences."""

    def doOpen(self, opentype: Opentype) -> Unslicer | None:
        raise Violation(f"'{self.describe()}' does not accept sub-objects")


class _BoundedItems(Unslicer):
    """Constraint checks shared by list, set and frozenset: a maxLength and one item
    constraint, both from a ``constraint_type`` (ListOf or SetOf) when one applies."""

    constraint_type: type[Constraint]
    noun: str
    maxLength: int | None = None
    itemConstraint: Constraint | None = None

    if TYPE_CHECKING:

        def _count(self) -> int:
            """How many items are in so far."""
            ...

    def setConstraint(self, constraint: Constraint | None) -> None:
        c = select_for(constraint, self.constraint_type)
        if isinstance(c, (ListConstraint, SetConstraint)):
            self.maxLength = c.maxLength
            self.itemConstraint = c.constraint
            self.wants_check = True
            self.plain_open = False

    def _check_room(self) -> None:
        if self.maxLength is not None and self._count() >= self.maxLength:
            raise Violation(f"the {self.noun} is full")

    def checkToken(self, typebyte: int, size: int) -> None:
        self._check_room()
        if self.itemConstraint is not None:
            self.itemConstraint.checkToken(typebyte, size)

    def doOpen(self, opentype: Opentype) -> Unslicer | None:
        self._check_room()
        if self.itemConstraint is not None:
            self.itemConstraint.checkOpentype(opentype)
        child = self.open(opentype)
        if child is not None and self.itemConstraint is not None:
            child.setConstraint(self.itemConstraint)
        return child


class ListUnslicer(_BoundedItems):
    """``list``; honours ListOf (maxLength, item constraint)."""

    opentype = ("list",)
    constraint_type = ListConstraint
    noun = "list"
    wants_check = False
    plain_open = True

    def start(self, count: int) -> None:
        self.list: list[object] = []
        self.decoder.setObject(count, self.list)
        if not self.wants_check:
            self.prim = self.list.append

    def _count(self) -> int:
        return len(self.list)

    def receiveChild(self, obj: object) -> None:
        lst = self.list
        if self.maxLength is not None and len(lst) >= self.maxLength:
            raise Violation("the list is full")
        if type(obj) is Pending:
            index = len(lst)
            lst.append(obj)
            obj.add_callback(lambda v: lst.__setitem__(index, v))
        else:
            lst.append(obj)

    def receiveClose(self) -> object:
        return self.list

    def describe(self) -> str:
        return f"[{len(self.list)}]"


class TupleUnslicer(Unslicer):
    """``tuple``; honours TupleOf. A reference to it before its CLOSE is a Pending."""

    opentype = ("tuple",)
    wants_check = False
    plain_open = True
    constraints: list[Constraint] | None = None
    _pending: Pending | None = None
    unresolved = 0
    closed = False

    def setConstraint(self, constraint: Constraint | None) -> None:
        c = select_for(constraint, TupleConstraint)
        if isinstance(c, TupleConstraint):
            self.constraints = c.constraints
            self.wants_check = True
            self.plain_open = False

    def start(self, count: int) -> None:
        self.list: list[object] = []
        self.count = count
        self.decoder._objects[count] = self  # placeholder: see pending()
        if not self.wants_check:
            self.prim = self.list.append

    def pending(self) -> Pending:
        """The Pending that stands for this tuple until it is complete."""
        if self._pending is None:
            self._pending = Pending()
        return self._pending

    def checkToken(self, typebyte: int, size: int) -> None:
        if self.constraints is not None:
            if len(self.list) >= len(self.constraints):
                raise Violation("the tuple is full")
            self.constraints[len(self.list)].checkToken(typebyte, size)

    def doOpen(self, opentype: Opentype) -> Unslicer | None:
        c = None
        if self.constraints is not None:
            if len(self.list) >= len(self.constraints):
                raise Violation("the tuple is full")
            c = self.constraints[len(self.list)]
            c.checkOpentype(opentype)
        child = self.open(opentype)
        if child is not None and c is not None:
            child.setConstraint(c)
        return child

    def receiveChild(self, obj: object) -> None:
        if self.constraints is not None and len(self.list) >= len(self.constraints):
            raise Violation("the tuple is full")
        if type(obj) is Pending:
            # a reference to an unfinished tuple that encloses us through tuples only
            # would make a tuple contain itself: no such object can exist
            u: Unslicer | None = self
            while isinstance(u, TupleUnslicer):
                if u._pending is obj:
                    raise Violation("a tuple cannot contain itself")
                u = u.parent
            index = len(self.list)
            self.list.append(obj)
            self.unresolved += 1
            obj.add_callback(lambda v: self._update(index, v))
        else:
            self.list.append(obj)

    def _update(self, index: int, value: object) -> None:
        self.list[index] = value
        self.unresolved -= 1
        if self.closed and not self.unresolved:
            self._complete()

    def _build(self) -> object:
        return tuple(self.list)

    def _complete(self) -> object:
        obj = self._build()
        self.decoder.setObject(self.count, obj)
        if self._pending is not None:
            self._pending.resolve(obj)
        return obj

    def receiveClose(self) -> object:
        if self.constraints is not None and len(self.list) != len(self.constraints):
            raise Violation("wrong size tuple")
        self.closed = True
        if self.unresolved:
            return self.pending()
        return self._complete()

    def describe(self) -> str:
        return f"[{len(self.list)}]"


class FrozenSetUnslicer(_BoundedItems, TupleUnslicer):
    """``frozenset`` (opentype ``immutable-set``); honours SetOf."""

    opentype = ("immutable-set",)
    constraint_type = SetConstraint
    noun = "set"

    def _count(self) -> int:
        return len(self.list)

    def receiveChild(self, obj: object) -> None:
        if self.maxLength is not None and len(self.list) >= self.maxLength:
            raise Violation("the set is full")
        TupleUnslicer.receiveChild(self, obj)

    def _build(self) -> object:
        try:
            return frozenset(self.list)
        except TypeError as e:
            raise BananaError(f"unhashable set element: {e}") from None

    def receiveClose(self) -> object:
        self.closed = True
        if self.unresolved:
            return self.pending()
        return self._complete()


class SetUnslicer(_BoundedItems):
    """``set``; honours SetOf."""

    opentype = ("set",)
    constraint_type = SetConstraint
    noun = "set"
    wants_check = False
    plain_open = True

    def start(self, count: int) -> None:
        self.set: set[object] = set()
        self.decoder.setObject(count, self.set)
        if not self.wants_check:
            self.prim = self.set.add

    def _count(self) -> int:
        return len(self.set)

    def receiveChild(self, obj: object) -> None:
        if self.maxLength is not None and len(self.set) >= self.maxLength:
            raise Violation("the set is full")
        if type(obj) is Pending:
            raise BananaError("incomplete object as set element")
        try:
            self.set.add(obj)
        except TypeError as e:
            raise BananaError(f"unhashable set element: {e}") from None

    def receiveClose(self) -> object:
        return self.set

    def describe(self) -> str:
        return f"<set>[{len(self.set)}]"


class DictUnslicer(Unslicer):
    """``dict``; honours DictOf (maxKeys, key and value constraints)."""

    opentype = ("dict",)
    wants_check = False
    plain_open = True
    keyConstraint: Constraint | None = None
    valueConstraint: Constraint | None = None
    maxKeys: int | None = None
    pending_slots: list[int] | None = None

    def setConstraint(self, constraint: Constraint | None) -> None:
        c = select_for(constraint, DictConstraint)
        if isinstance(c, DictConstraint):
            self.keyConstraint = c.keyConstraint
            self.valueConstraint = c.valueConstraint
            self.maxKeys = c.maxKeys
            self.wants_check = True
            self.plain_open = False

    def start(self, count: int) -> None:
        # keys and values are collected flat and put in the dict at CLOSE (one C
        # call); the dict itself exists from the start so references to it work
        self.d: dict[object, object] = {}
        self.items: list[object] = []
        self.decoder.setObject(count, self.d)
        if not self.wants_check:
            self.prim = self.items.append

    @property
    def gettingKey(self) -> bool:
        """True when the next child is a key."""
        return not len(self.items) % 2

    def checkToken(self, typebyte: int, size: int) -> None:
        if self.maxKeys is not None and len(self.items) >= 2 * self.maxKeys:
            raise Violation("the dict is full")
        c = self.keyConstraint if self.gettingKey else self.valueConstraint
        if c is not None:
            c.checkToken(typebyte, size)

    def doOpen(self, opentype: Opentype) -> Unslicer | None:
        if self.maxKeys is not None and len(self.items) >= 2 * self.maxKeys:
            raise Violation("the dict is full")
        c = self.keyConstraint if self.gettingKey else self.valueConstraint
        if c is not None:
            c.checkOpentype(opentype)
        child = self.open(opentype)
        if child is not None and c is not None:
            child.setConstraint(c)
        return child

    def receiveChild(self, obj: object) -> None:
        if type(obj) is Pending:
            if self.gettingKey:
                raise BananaError("incomplete object as dictionary key")
            if self.pending_slots is None:
                self.pending_slots = []
            self.pending_slots.append(len(self.items))
        self.items.append(obj)

    def receiveClose(self) -> object:
        items = self.items
        if len(items) % 2:
            raise BananaError("dict sequence ended after a key")
        d = self.d
        it = iter(items)
        try:
            d.update(zip(it, it, strict=False))
        except TypeError as e:
            raise BananaError(f"unhashable dict key: {e}") from None
        if 2 * len(d) != len(items):
            raise BananaError("duplicate dict key")
        for slot in self.pending_slots or ():
            key = items[slot - 1]
            items[slot].add_callback(lambda v, key=key: d.__setitem__(key, v))  # type: ignore[attr-defined]
        return d

    def describe(self) -> str:
        if self.gettingKey:
            return "{}"
        return f"{{}}[{short_repr(self.items[-1])}]"


class UnicodeUnslicer(LeafUnslicer):
    """``str`` (opentype ``unicode``): one UTF-8 STRING; honours UnicodeConstraint."""

    opentype = ("unicode",)
    constraint: UnicodeConstraint | None = None
    string: str | None = None

    def setConstraint(self, constraint: Constraint | None) -> None:
        c = select_for(constraint, UnicodeConstraint)
        if isinstance(c, UnicodeConstraint):
            self.constraint = c

    def checkToken(self, typebyte: int, size: int) -> None:
        if typebyte not in (STRING, VOCAB):
            raise BananaError("UnicodeUnslicer only accepts strings")
        if self.string is not None:
            raise BananaError("already received a string")
        c = self.constraint
        if (
            typebyte == STRING
            and c is not None
            and c.maxLength is not None
            and size > 4 * c.maxLength
        ):
            raise Violation(f"string too long ({size} bytes > 4*{c.maxLength})")

    def receiveChild(self, obj: object) -> None:
        if self.string is not None:
            raise BananaError("already received a string")
        if type(obj) is not bytes:
            raise BananaError("UnicodeUnslicer only accepts strings")
        try:
            s = obj.decode("utf-8")
        except UnicodeDecodeError as e:
            raise BananaError(f"invalid UTF-8 in unicode: {e}") from None
        if self.constraint is not None:
            self.constraint.checkObject(s, True)
        self.string = s

    def receiveClose(self) -> object:
        if self.string is None:
            raise BananaError("unicode sequence without a string")
        return self.string

    def describe(self) -> str:
        return "<unicode>"


class DecimalUnslicer(LeafUnslicer):
    """``decimal.Decimal``: one STRING holding its str()."""

    opentype = ("decimal",)
    value: Decimal | None = None

    def checkToken(self, typebyte: int, size: int) -> None:
        if typebyte not in (STRING, VOCAB):
            raise BananaError("DecimalUnslicer only accepts strings")
        if self.value is not None:
            raise BananaError("already received a string")

    def receiveChild(self, obj: object) -> None:
        if self.value is not None or type(obj) is not bytes:
            raise BananaError("DecimalUnslicer takes one string")
        try:
            self.value = Decimal(obj.decode("ascii"))
        except (UnicodeDecodeError, InvalidOperation, ValueError):
            raise BananaError(f"invalid decimal {obj[:40]!r}") from None

    def receiveClose(self) -> object:
        if self.value is None:
            raise BananaError("decimal sequence without a string")
        return self.value

    def describe(self) -> str:
        return "<decimal>"


class BooleanUnslicer(LeafUnslicer):
    """``bool``: one INT; honours BooleanConstraint(value)."""

    opentype = ("boolean",)
    value: bool | None = None
    constraint: BooleanConstraint | None = None

    def setConstraint(self, constraint: Constraint | None) -> None:
        c = select_for(constraint, BooleanConstraint)
        if isinstance(c, BooleanConstraint):
            self.constraint = c

    def checkToken(self, typebyte: int, size: int) -> None:
        if typebyte != INT:
            raise BananaError("BooleanUnslicer only accepts an INT token")
        if self.value is not None:
            raise BananaError("BooleanUnslicer only accepts one token")

    def receiveChild(self, obj: object) -> None:
        if self.value is not None or type(obj) is not int:
            raise BananaError("BooleanUnslicer only accepts one INT token")
        value = bool(obj)
        c = self.constraint
        if c is not None and c.value is not None and value != c.value:
            raise Violation(f"This boolean can only be {c.value}")
        self.value = value

    def receiveClose(self) -> object:
        if self.value is None:
            raise BananaError("boolean sequence without a value")
        return self.value

    def describe(self) -> str:
        return "<bool>"


class NoneUnslicer(LeafUnslicer):
    """``None``: an empty sequence."""

    opentype = ("none",)

    def checkToken(self, typebyte: int, size: int) -> None:
        raise BananaError("NoneUnslicer does not accept any tokens")

    def receiveClose(self) -> object:
        return None

    def describe(self) -> str:
        return "<none>"


class ReferenceUnslicer(LeafUnslicer):
    """A shared reference: one INT naming an earlier OPEN of this message."""

    opentype = ("reference",)
    constraint: Constraint | None = None
    finished = False
    obj: object = None

    def setConstraint(self, constraint: Constraint | None) -> None:
        self.constraint = constraint

    def checkToken(self, typebyte: int, size: int) -> None:
        if typebyte != INT:
            raise BananaError("ReferenceUnslicer only accepts INTs")
        if self.finished:
            raise BananaError("ReferenceUnslicer only accepts one int")

    def receiveChild(self, obj: object) -> None:
        if self.finished or type(obj) is not int:
            raise BananaError("ReferenceUnslicer only accepts one int")
        self.obj = self.decoder.getObject(obj)
        self.finished = True
        if self.constraint is not None and type(self.obj) is not Pending:
            self.constraint.checkObject(self.obj, True)

    def receiveClose(self) -> object:
        if not self.finished:
            raise BananaError("reference sequence without a number")
        return self.obj

    def describe(self) -> str:
        return "<reference>"


class VocabMarker:
    """What the vocabulary sequences produce; the root drops it."""


class ReplaceVocabUnslicer(LeafUnslicer):
    """``set-vocab``: INT/STRING pairs replacing the inbound vocabulary."""

    opentype = ("set-vocab",)
    valueConstraint: Constraint = ByteStringConstraint(100)

    def setConstraint(self, constraint: Constraint | None) -> None:
        c = select_for(constraint, ByteStringConstraint)
        if c is not None:
            self.valueConstraint = c

    def start(self, count: int) -> None:
        self.d: dict[int, bytes] = {}
        self.key: int | None = None

    def checkToken(self, typebyte: int, size: int) -> None:
        if self.key is None:
            if typebyte != INT:
                raise BananaError("VocabUnslicer only accepts INT keys")
        else:
            if typebyte != STRING:
                raise BananaError("VocabUnslicer only accepts STRING values")
            self.valueConstraint.checkToken(typebyte, size)

    def receiveChild(self, obj: object) -> None:
        if self.key is None:
            if type(obj) is not int:
                raise BananaError("VocabUnslicer only accepts INT keys")
            if obj in self.d:
                raise BananaError(f"duplicate key {short_repr(obj)}")
            self.key = obj
        else:
            if type(obj) is not bytes:
                raise BananaError("VocabUnslicer only accepts STRING values")
            self.d[self.key] = obj
            self.key = None

    def receiveClose(self) -> object:
        if self.key is not None:
            raise BananaError("sequence ended early: got key but not value")
        self.decoder.replaceIncomingVocabulary(self.d)
        return _VOCAB_MARKER

    def describe(self) -> str:
        return "<vocabdict>" if self.key is None else f"<vocabdict>[{self.key}]"


class AddVocabUnslicer(LeafUnslicer):
    """``add-vocab``: one INT and one STRING added to the inbound vocabulary."""

    opentype = ("add-vocab",)
    index: int | None = None
    value: bytes | None = None
    valueConstraint: Constraint = ByteStringConstraint(100)

    def checkToken(self, typebyte: int, size: int) -> None:
        if self.index is None:
            if typebyte != INT:
                raise BananaError("Vocab key must be an INT")
        elif self.value is None:
            if typebyte != STRING:
                raise BananaError("Vocab value must be a STRING")
            self.valueConstraint.checkToken(typebyte, size)
        else:
            raise Violation("add-vocab only accepts two values")

    def receiveChild(self, obj: object) -> None:
        if self.index is None:
            if type(obj) is not int:
                raise BananaError("Vocab key must be an INT")
            self.index = obj
        elif self.value is None:
            if type(obj) is not bytes:
                raise BananaError("Vocab value must be a STRING")
            self.value = obj
        else:
            raise Violation("add-vocab only accepts two values")

    def receiveClose(self) -> object:
        if self.index is None or self.value is None:
            raise BananaError("sequence ended too early")
        self.decoder.addIncomingVocabulary(self.index, self.value)
        return _VOCAB_MARKER

    def describe(self) -> str:
        return "<add-vocab>" if self.index is None else f"<add-vocab>[{self.index}]"


_VOCAB_MARKER = VocabMarker()

UnslicerFactory = Callable[[Opentype], Unslicer]


@dataclass(frozen=True)
class UnslicerEntry:
    """How to build the unslicer for one opentype, and where it is allowed."""

    factory: UnslicerFactory
    top_level: bool
    nested: bool
    extra_index_tokens: int
    max_index_length: int


class UnslicerRegistry:
    """Unslicers by opentype (a tuple of strings), per connection.

    ``register(("call",), factory, top_level=True, nested=False)``: the factory
    is called with the full opentype and returns a fresh Unslicer. With
    ``extra_index_tokens=k`` the opentype is the registered prefix plus k more
    index tokens (each at most ``max_index_length`` bytes), e.g.
    ``("copyable", classname)``; the factory may raise Violation for unknown
    names.
    """

    def __init__(self) -> None:
        self._table: dict[Opentype, UnslicerEntry] = {}
        self._prefixes: set[Opentype] = set()
        self._max_index_length = 0
        #: bumped on every change; decoders use it to refresh their caches
        self.version = 0
        #: decoder-side caches keyed by vocabulary, valid for one version
        self.cache: dict[object, object] = {}

    def register(
        self,
        opentype: Opentype | str,
        factory: UnslicerFactory,
        *,
        top_level: bool = True,
        nested: bool = True,
        extra_index_tokens: int = 0,
        max_index_length: int = 200,
    ) -> None:
        """Use ``factory(opentype)`` for sequences of ``opentype`` (replacing any)."""
        ot = (opentype,) if isinstance(opentype, str) else tuple(opentype)
        if not ot or not all(isinstance(x, str) for x in ot):
            raise TypeError("opentype must be a non-empty tuple of str")
        self._table[ot] = UnslicerEntry(
            factory, top_level, nested, extra_index_tokens, max_index_length
        )
        self._rebuild()

    def unregister(self, opentype: Opentype | str) -> None:
        """Forget the unslicer for ``opentype``."""
        ot = (opentype,) if isinstance(opentype, str) else tuple(opentype)
        del self._table[ot]
        self._rebuild()

    def _rebuild(self) -> None:
        self._prefixes = set()
        for ot in self._table:
            for i in range(1, len(ot)):
                self._prefixes.add(ot[:i])
        lengths = [len(x.encode()) for ot in self._table for x in ot]
        self._max_index_length = max(lengths, default=0)
        self.version += 1
        self.cache = {}

    def get(self, opentype: Opentype) -> UnslicerEntry | None:
        """The entry registered for exactly ``opentype``."""
        return self._table.get(opentype)

    def lookup(self, opentype: Opentype) -> tuple[UnslicerEntry | None, int]:
        """Find the entry for a (maybe partial) opentype.

        Returns (entry, 0) for a complete match, (None, n>0) if more index
        tokens may follow (n is the longest allowed next token), (None, 0) if
        nothing matches.
        """
        for i in range(len(opentype), 0, -1):
            base = self._table.get(opentype[:i])
            if base is None:
                continue
            extra = len(opentype) - i
            if extra == base.extra_index_tokens:
                return base, 0
            if extra < base.extra_index_tokens:
                return None, base.max_index_length
        if opentype in self._prefixes:
            return None, self._max_index_length
        return None, 0

    def entries(self) -> list[tuple[Opentype, UnslicerEntry]]:
        """Every registered (opentype, entry) pair."""
        return list(self._table.items())

    def max_index_length(self) -> int:
        """The longest index token any registered opentype starts with."""
        return self._max_index_length

    def copy(self) -> UnslicerRegistry:
        """An independent registry with the same entries (for per-connection scope)."""
        new = UnslicerRegistry()
        new._table = dict(self._table)
        new._rebuild()
        return new


BUILTIN_UNSLICERS: dict[Opentype, type[Unslicer]] = {
    ("unicode",): UnicodeUnslicer,
    ("list",): ListUnslicer,
    ("tuple",): TupleUnslicer,
    ("dict",): DictUnslicer,
    ("set",): SetUnslicer,
    ("immutable-set",): FrozenSetUnslicer,
    ("none",): NoneUnslicer,
    ("boolean",): BooleanUnslicer,
    ("reference",): ReferenceUnslicer,
    ("decimal",): DecimalUnslicer,
}


def _factory(cls: type[Unslicer]) -> UnslicerFactory:
    def make(opentype: Opentype) -> Unslicer:
        return cls()

    make.unslicer_class = cls  # type: ignore[attr-defined]
    return make


BUILTIN_FACTORIES: dict[Opentype, UnslicerFactory] = {
    ot: _factory(cls) for ot, cls in BUILTIN_UNSLICERS.items()
}
SET_VOCAB_FACTORY = _factory(ReplaceVocabUnslicer)
ADD_VOCAB_FACTORY = _factory(AddVocabUnslicer)


def _make_default() -> UnslicerRegistry:
    reg = UnslicerRegistry()
    for ot, factory in BUILTIN_FACTORIES.items():
        reg.register(ot, factory)
    reg.register(("set-vocab",), SET_VOCAB_FACTORY, nested=False)
    reg.register(("add-vocab",), ADD_VOCAB_FACTORY, nested=False)
    return reg


_DEFAULT = _make_default()


def default_unslicers() -> UnslicerRegistry:
    """A fresh registry with Foolscap's inert types (anywhere) and the vocabulary
    sequences (top level only)."""
    return _DEFAULT.copy()


def shared_default_unslicers() -> UnslicerRegistry:
    """The one default registry shared by decoders that do not register anything
    (do not modify it)."""
    return _DEFAULT
