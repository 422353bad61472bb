"""Decoder-side handlers of OPEN sequences (unslicers): the base class and containers.

An unslicer receives the tokens of one sequence and produces one object. The
method names are Foolscap's, so its unslicers translate directly; type bytes are
ints (``octavo.banana.INT`` ...), and there are no Deferreds: a value that is not
ready yet is a :class:`Pending`. The leaf sequences (str, None, bool, reference,
Decimal, the vocabulary) are in ``_leaves.py``, the registry in ``_registry.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from ._constraints import (
    Constraint,
    DictConstraint,
    ListConstraint,
    SetConstraint,
    TupleConstraint,
    select_for,
)
from ._errors import BananaError, Violation, short_repr
from ._pending import Pending

__all__ = [
    "DecoderView",
    "DictUnslicer",
    "FrozenSetUnslicer",
    "LeafUnslicer",
    "ListUnslicer",
    "Opentype",
    "SetUnslicer",
    "TupleUnslicer",
    "Unslicer",
]

Opentype = tuple[str, ...]


class TupleOpener(Protocol):
    """What a tuple unslicer uses of the decoder's object table (``ObjectTable``)."""

    def open_tuple(self, count: int, unslicer: TupleUnslicer) -> None: ...


class DecoderView(Protocol):
    """What an unslicer (and the decoder's stack) uses of its :class:`Decoder`, which
    provides it; typed here so this module need not import the decoder's."""

    #: what the decoder's owner passed as ``context`` (octavo-tub: the connection)
    context: Any

    @property
    def objects(self) -> TupleOpener: ...

    def open(self, opentype: Opentype, *, top_level: bool = False) -> Unslicer | None: ...

    def setObject(self, count: int, obj: object) -> None: ...

    def getObject(self, count: int) -> object: ...

    def checkIncomingVocabulary(self, entries: int, size: int) -> None: ...

    def replaceIncomingVocabulary(self, vocab: dict[int, bytes]) -> None: ...

    def addIncomingVocabulary(self, index: int, value: bytes) -> None: ...


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
    decoder: DecoderView
    parent: Unslicer | None = None
    openCount: int | None = None
    #: the decoder calls checkToken only if this is true (a speed hint)
    wants_check: bool = True
    #: True only for built-in unslicers whose doOpen adds nothing (a speed hint)
    plain_open: bool = False
    #: a callable taking finished, non-Pending children in place of receiveChild, with
    #: the same effects and errors (a speed hint; must not refer back to the unslicer,
    #: to avoid cycles)
    prim: Callable[[object], object] | None = None
    #: True for a leaf sequence (a str, bool, None...: one object whatever its tokens,
    #: for the message budget); set by LeafUnslicer
    is_leaf: bool = False

    def setConstraint(self, constraint: Constraint | None) -> None:
        """Apply the constraint chosen by the parent (default: ignore it)."""

    def start(self, count: int) -> None:
        """Called once pushed; ``count`` is this sequence's object number."""

    def checkToken(self, typebyte: int, size: int) -> None:
        """Refuse a primitive token before its body is read (size = header value)."""

    def token_allowance(self, typebyte: int) -> int:
        """The largest body of a ``typebyte`` token the next child may have even past
        the decoder's ``max_token_size``: what the constraint for that child explicitly
        accepts (``Constraint.token_allowance``); 0: none. Asked only for a token
        past that limit, after :meth:`checkToken` (if ``wants_check``) passed."""
        return 0

    def doOpen(self, opentype: Opentype) -> Unslicer | None:
        """Return the child unslicer for ``opentype`` (None: wait for more index tokens).

        Override to check ``opentype`` against a constraint and to call the
        child's ``setConstraint`` with the constraint for this position.
        """
        return self.open(opentype)

    def open(self, opentype: Opentype) -> Unslicer | None:
        """Look ``opentype`` up in the decoder's registry (nested objects)."""
        return self.decoder.open(opentype, top_level=False)

    def open_constrained(self, opentype: Opentype, constraint: Any) -> Unslicer | None:
        """:meth:`open` a child that must obey ``constraint`` (None: any): Violation if
        the constraint refuses ``opentype``, else the child gets the constraint."""
        if constraint is not None:
            constraint.checkOpentype(opentype)
        child = self.open(opentype)
        if child is not None and constraint is not None:
            child.setConstraint(constraint)
        return child

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

    is_leaf = True

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

    def token_allowance(self, typebyte: int) -> int:
        c = self.itemConstraint
        return 0 if c is None else c.token_allowance(typebyte)

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
        self.decoder.objects.open_tuple(count, self)  # a reference now gets pending()
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

    def token_allowance(self, typebyte: int) -> int:
        cs = self.constraints
        if cs is None or len(self.list) >= len(cs):
            return 0
        return cs[len(self.list)].token_allowance(typebyte)

    def doOpen(self, opentype: Opentype) -> Unslicer | None:
        c = None
        if self.constraints is not None:
            if len(self.list) >= len(self.constraints):
                raise Violation("the tuple is full")
            c = self.constraints[len(self.list)]
        return self.open_constrained(opentype, c)

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
        # (no prim: set.add would raise a bare TypeError for an unhashable element, where
        # receiveChild refuses it with its own BananaError; a prim must do what
        # receiveChild does)
        self.set: set[object] = set()
        self.decoder.setObject(count, self.set)

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

    def token_allowance(self, typebyte: int) -> int:
        c = self.keyConstraint if self.gettingKey else self.valueConstraint
        return 0 if c is None else c.token_allowance(typebyte)

    def doOpen(self, opentype: Opentype) -> Unslicer | None:
        if self.maxKeys is not None and len(self.items) >= 2 * self.maxKeys:
            raise Violation("the dict is full")
        c = self.keyConstraint if self.gettingKey else self.valueConstraint
        return self.open_constrained(opentype, c)

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
