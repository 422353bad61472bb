"""The decoder's open sequences and what each token does to them (the general path).

A Decoder keeps one :class:`Stack`: the unslicers of the sequences open now, innermost
last, on top of the RootUnslicer. Tokens act on it with Foolscap's semantics:

- an OPEN starts the *index phase*: the next STRING/VOCAB tokens name the opentype, and
  the top unslicer's ``doOpen`` is asked for a child until it gives one (``push``);
- every other token is first *admitted* (:meth:`Stack.admit`): the depth and size
  limits (:class:`Limits`), the index-token rules, the top unslicer's ``checkToken``;
  a value then goes to the top unslicer's ``receiveChild``;
- a CLOSE ends the top sequence (:meth:`Stack.close`): ``receiveClose``, ``finish``,
  and the object goes to the parent;
- a Violation abandons sequences (:meth:`Stack.violation`) up to one that absorbs it:
  the tokens of an abandoned sequence are counted off (``discard``) to its CLOSE.

The decoder's general path calls :meth:`admit` and the token methods for every
token; its fast reader (``_fast.py``) takes plain tokens itself but opens and closes
unslicers with :meth:`push`, :meth:`open_registered` and :meth:`close`, reports
Violations with :meth:`violation`, and turns the containers it built itself into
unslicers with :meth:`adopt`, so every refusal is made here.
"""

from __future__ import annotations

import contextlib
from typing import Any

from ._budget import MessageBudget
from ._errors import BananaError, Violation
from ._objects import ObjectTable
from ._registry import UnslicerEntry, UnslicerRegistry
from ._tables import CONTAINER_UNSLICERS, KIND_DICT, KIND_TUPLE, FastTables
from ._tokens import (
    ABORT,
    CLOSE,
    ERROR,
    LONGINT,
    LONGNEG,
    OPEN,
    PING,
    PONG,
    STRING,
    VOCAB,
    tokenNames,
)
from ._unslicers import DecoderView, Opentype, Unslicer

__all__ = ["Frame", "Limits", "Stack"]

_ALWAYS_LEGAL = frozenset((PING, PONG, ABORT, CLOSE, ERROR))
_SIZED = frozenset((STRING, LONGINT, LONGNEG))
_MAX_OPENTYPE_TOKENS = 8

#: a container the fast reader had open: (kind, OPEN number, object number, list or
#: dict, the dict's flat items or None)
Frame = tuple[int, int, int, Any, Any]


class Limits:
    """A decoder's limits on what a peer may send, and the refusals they make.

    The general path refuses with :meth:`check_open` and :meth:`check_size`; the fast
    paths compare with the same two attributes and hand the token over to the general
    path past them, so the refusal (or the admission of a bigger token that a
    constraint allows) is only ever decided here.
    """

    __slots__ = ("max_depth", "max_token_size")

    def __init__(self, max_depth: int, max_token_size: int) -> None:
        if max_depth < 1:
            raise ValueError("max_depth must be >= 1")
        if max_token_size < 0:
            raise ValueError("max_token_size must be >= 0")
        #: an OPEN is refused when this many sequences (the root included) are open
        self.max_depth = max_depth
        #: the largest STRING/LONGINT/LONGNEG body
        self.max_token_size = max_token_size

    def check_open(self, depth: int) -> None:
        """Refuse an OPEN arriving with ``depth`` sequences open (the root included)."""
        if depth > self.max_depth:
            raise Violation(f"nesting deeper than max_depth={self.max_depth}")

    def check_size(self, typ: int, size: int, top: Unslicer) -> int:
        """Admit or refuse a STRING/LONGINT/LONGNEG body of ``size`` bytes for a child of
        ``top``: up to ``max_token_size``, or up to what ``top`` explicitly allows for
        it (``Unslicer.token_allowance``: a constraint that accepts a bigger byte
        string, or a str whose UTF-8 body is bigger). Returns the bytes admitted past
        ``max_token_size`` (0 or ``size``)."""
        if size <= self.max_token_size:
            return 0
        if size <= top.token_allowance(typ):
            return size
        raise Violation(
            f"{tokenNames.get(typ, hex(typ))} token too large: {size}>{self.max_token_size}"
            " (max_token_size; a constraint on this value may allow more)"
        )


class Stack:
    """The open sequences of one decoder and the general path's token semantics.

    ``items`` is the list of open unslicers (``items[0]`` is ``root``); ``obj_count``
    the number of OPENs received (the next one's object number); ``objects`` the
    object table of the current message; ``discard`` how many abandoned sequences are
    still being skipped; ``in_open`` whether an index phase is under way;
    ``tables`` the decoder's current FastTables; ``budget`` what the message being
    decoded may still create (``_budget.py``).
    """

    __slots__ = (
        "budget",
        "decoder",
        "discard",
        "in_open",
        "index_max",
        "items",
        "limits",
        "obj_count",
        "objects",
        "open_count",
        "open_header",
        "opentype",
        "registry",
        "root",
        "tables",
    )

    def __init__(
        self,
        decoder: DecoderView,
        root: Unslicer,
        registry: UnslicerRegistry,
        limits: Limits,
        budget: MessageBudget,
    ) -> None:
        self.decoder = decoder
        self.budget = budget
        self.root = root
        self.registry = registry
        self.limits = limits
        self.items: list[Unslicer] = [root]
        self.objects = ObjectTable()
        self.obj_count = 0
        self.discard = 0
        self.in_open = False
        self.opentype: list[str] = []
        self.open_header = 0  # the OPEN number of the sequence in its index phase
        self.open_count = 0  # and its object number
        self.index_max = 0  # the longest next index token the registry allows
        #: what the fast reader knows (kept current by the decoder)
        self.tables: FastTables

    # -- the general path, token by token -------------------------------------------

    def admit(self, typ: int, header: int) -> bool:
        """Start a token of type ``typ``: count an OPEN and check the token against the
        limits and the top unslicer. Returns True if it belongs to a refused sequence
        (refused now, or earlier) and is to be skipped."""
        rejected = self.discard > 0
        was_in_open = self.in_open
        if typ == OPEN:
            if was_in_open:
                raise BananaError("OPEN token followed by OPEN")
            self.open_count = self.obj_count
            self.obj_count += 1
            self.in_open = True
        if rejected or typ in _ALWAYS_LEGAL:
            return rejected
        try:
            if was_in_open:
                self._check_index(typ, header)
            else:
                if typ == OPEN:
                    self.limits.check_open(len(self.items))
                    if len(self.items) == 1:  # a message starts
                        self.budget.begin(self.budget.token, self.open_count)
                    self.budget.open(self.obj_count)
                top = self.items[-1]
                if top.wants_check:
                    top.checkToken(typ, header)
                if typ in _SIZED:
                    self.budget.granted += self.limits.check_size(typ, header, top)
        except Violation as v:
            in_open = self.in_open
            self.in_open = False
            self.violation(v, in_open=in_open)
            return True
        return False

    def _check_index(self, typ: int, size: int) -> None:
        if typ == STRING:
            limit = self.registry.max_index_length() if not self.opentype else self.index_max
            if size > limit:
                raise Violation(f"STRING token is too long, {size}>{limit}")
        elif typ != VOCAB:
            raise Violation(f"index token 0x{typ:02x} not STRING or VOCAB")

    def open_token(self, header: int, rejected: bool) -> None:
        """An OPEN numbered ``header`` was admitted (or ``rejected``)."""
        if rejected:
            if self.in_open:
                self.discard += 1
                self.in_open = False
        else:
            self.opentype = []
            self.open_header = header

    def close_token(self, count: int) -> None:
        """A CLOSE numbered ``count``."""
        if self.discard:
            self.discard -= 1
            return
        if self.in_open:
            raise BananaError("CLOSE token during the index phase of an OPEN")
        self.close(count)

    def abort(self) -> None:
        """An ABORT: the sequence being received is refused."""
        in_open = self.in_open
        self.in_open = False
        self.violation(Violation("ABORT received"), in_open=in_open)

    def value(self, obj: object) -> None:
        """An admitted primitive value: an index token, or a child of the top unslicer."""
        if self.in_open:
            self._index(obj)
            return
        top = self.items[-1]
        try:
            if top is not self.root and not top.is_leaf:
                self.budget.value(self.obj_count)
            top.receiveChild(obj)
        except Violation as v:
            self.violation(v)

    def _index(self, token: object) -> None:
        assert isinstance(token, bytes)
        try:
            name = token.decode("utf-8")
        except UnicodeDecodeError:
            self.in_open = False
            self.violation(Violation(f"bad index token {token!r}"), in_open=True)
            return
        self.opentype.append(name)
        opentype = tuple(self.opentype)
        try:
            child = self.items[-1].doOpen(opentype)
            if child is None:
                if len(opentype) >= _MAX_OPENTYPE_TOKENS:
                    raise Violation(f"opentype {opentype} too long")
                return
        except Violation as v:
            self.in_open = False
            self.violation(v, in_open=True)
            return
        self.in_open = False
        self.push(child, self.open_header, self.open_count)

    # -- shared with the fast paths ---------------------------------------------------

    def open(self, opentype: Opentype, *, top_level: bool = False) -> Unslicer | None:
        """Make the unslicer for ``opentype`` from the registry (None: more index tokens
        may follow); raise Violation for unknown or misplaced opentypes."""
        entry, more = self.registry.lookup(opentype)
        if entry is not None:
            if not (entry.top_level if top_level else entry.nested):
                where = "top-level " if top_level else ""
                raise Violation(f"unknown {where}OPEN type {opentype}")
            return entry.factory(opentype)
        if more:
            self.index_max = more
            return None
        where = "top-level " if top_level else ""
        raise Violation(f"unknown {where}OPEN type {opentype}")

    def push(self, child: Unslicer, header: int, count: int) -> None:
        """Put ``child``, the unslicer of OPEN ``header`` (object ``count``), on top."""
        items = self.items
        child.decoder = self.decoder
        child.parent = items[-1]
        child.openCount = header
        items.append(child)
        try:
            child.start(count)
        except Violation as v:
            self.violation(v)

    def open_registered(self, entry: UnslicerEntry, opentype: Opentype, header: int) -> None:
        """An OPEN and its one index token, read at once by a fast path, for a registered
        opentype the top unslicer opens plainly (what the index phase does)."""
        count = self.obj_count
        self.obj_count = count + 1
        try:
            child = entry.factory(opentype)
        except Violation as v:
            self.violation(v, in_open=True)
            return
        self.push(child, header, count)

    def close(self, count: int) -> None:
        """CLOSE number ``count`` ends the top sequence: its object goes to the parent."""
        items = self.items
        top = items[-1]
        if len(items) == 1 or top.openCount != count:
            raise BananaError(f"lost sync, got CLOSE({count}) but expecting {top.openCount}")
        try:
            obj = top.receiveClose()
            top.finish()
        except Violation as v:
            self.violation(v, in_close=True)
            return
        # a finished unslicer that its parent keeps (a call keeps its arguments) must not
        # point back up: the cycle would keep the values alive until a GC pass
        top.parent = None
        items.pop()
        try:
            items[-1].receiveChild(obj)
        except Violation as v:
            self.violation(v)

    def violation(self, why: Violation, *, in_open: bool = False, in_close: bool = False) -> None:
        """Report ``why`` to the top unslicer, then to its parents while they give up
        (``in_open``: during an index phase; ``in_close``: from a CLOSE)."""
        why.setLocation(self.describe())
        if in_open:
            self.discard += 1
        items = self.items
        while True:
            got = items[-1].reportViolation(why)
            if got is None:
                break
            why = got
            if len(items) == 1:
                raise BananaError("the root unslicer gave up")
            if not in_close:
                self.discard += 1
            in_close = False
            old = items.pop()
            with contextlib.suppress(Violation):
                old.finish()
            old.parent = None

    def adopt(self, frames: list[Frame]) -> None:
        """Put the containers a fast reader had open (outermost first) on top as the
        unslicers the general path would have made for them."""
        items = self.items
        for kind, header, count, coll, flat in frames:
            u: Any = CONTAINER_UNSLICERS[kind]()
            u.decoder = self.decoder
            u.parent = items[-1]
            u.openCount = header
            if kind == KIND_DICT:
                u.d = coll
                u.items = flat
                u.prim = flat.append
            else:
                u.list = coll
                u.prim = coll.append
                if kind == KIND_TUPLE:
                    u.count = count
                    self.objects.open_tuple(count, u)
            items.append(u)

    def describe(self) -> str:
        """Where the decoder is in the object graph, e.g. ``<RootUnslicer>.[3].{}``."""
        parts = []
        for u in self.items:
            try:
                parts.append(u.describe())
            except Exception:
                parts.append("???")
        return ".".join(parts)
