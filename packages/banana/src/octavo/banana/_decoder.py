"""The Banana decoder: sans-IO, bytes in, events out."""

from __future__ import annotations

import contextlib
import io
import re
from collections import deque
from collections.abc import Callable, Sequence
from itertools import repeat
from operator import mul, rshift, sub
from struct import Struct
from typing import Any, cast

from ._constraints import Constraint
from ._errors import BananaError, Violation
from ._events import (
    ErrorReceived,
    Event,
    ObjectReceived,
    PingReceived,
    PongReceived,
    ViolationReceived,
)
from ._leaves import VocabMarker
from ._nested import (
    KIND_DICT,
    KIND_LIST,
    KIND_TUPLE,
    MAX_RECURSION,
    Frame,
    Handover,
    read_container,
)
from ._pending import Pending
from ._registry import (
    BUILTIN_FACTORIES,
    UnslicerEntry,
    UnslicerRegistry,
    shared_default_unslicers,
)
from ._tokens import (
    ABORT,
    CLOSE,
    ERROR,
    FLOAT,
    INT,
    LIST,
    LONGINT,
    LONGNEG,
    MAX_HEADER_BYTES,
    NEG,
    OPEN,
    PING,
    PONG,
    SIZE_LIMIT,
    STRING,
    VOCAB,
    b128_encode,
)
from ._unslicers import (
    DictUnslicer,
    FrozenSetUnslicer,
    ListUnslicer,
    Opentype,
    SetUnslicer,
    TupleUnslicer,
    Unslicer,
)

__all__ = ["Decoder", "RootUnslicer"]

_unpack_double = Struct("!d").unpack_from
_from_bytes: Callable[[bytes, str], int] = int.from_bytes  # type: ignore[assignment]
_INT_RUN = re.compile(rb"(?:[\x00-\x7f]{0,2}\x81)+")
_UNICODE_INDEX = b"\x07\x82unicode"
_BIG_TOKEN = 65536  # STRING bodies at least this long are collected without re-joining


_VALID_TYPES = frozenset(range(0x80, 0x8B)) | {ERROR, PING, PONG}
_ALWAYS_LEGAL = frozenset((PING, PONG, ABORT, CLOSE, ERROR))
_MAX_OPENTYPE_TOKENS = 8
_Registered = tuple[UnslicerEntry, Opentype]  # a registered opentype the fast path opens
# built-in kinds (top level, nested), registered opentypes (top level, nested) by index token
_FastTables = tuple[
    dict[bytes, int], dict[bytes, int], dict[bytes, _Registered], dict[bytes, _Registered]
]
_UNSET = object()

#: inbound vocabularies shared between decoders given the same initial table
_SHARED_VOCABS: dict[tuple[bytes, ...], dict[int, bytes]] = {}
_MAX_SHARED_VOCABS = 16

# fast-path kinds for the built-in opentypes
_K_UNICODE, _K_NONE, _K_BOOL, _K_REF = 1, 2, 3, 4
_K_CONTAINERS: dict[int, type[Unslicer]] = {
    5: ListUnslicer,
    6: TupleUnslicer,
    7: DictUnslicer,
    8: SetUnslicer,
    9: FrozenSetUnslicer,
}
_FAST_KINDS: dict[str, int] = {
    "unicode": _K_UNICODE,
    "none": _K_NONE,
    "boolean": _K_BOOL,
    "reference": _K_REF,
    "list": 5,
    "tuple": 6,
    "dict": 7,
    "set": 8,
    "immutable-set": 9,
}


class RootUnslicer(Unslicer):
    """The bottom of the decoder's stack: hands finished top-level objects out as events."""

    plain_open = True

    def __init__(
        self, decoder: Decoder, constraint: Constraint | None, top_level_primitives: bool
    ) -> None:
        self.decoder = decoder
        self.constraint = constraint
        self.top_level_primitives = top_level_primitives
        self.wants_check = constraint is not None or not top_level_primitives
        self.plain_open = constraint is None

    def checkToken(self, typebyte: int, size: int) -> None:
        if not self.top_level_primitives and typebyte != OPEN:
            raise BananaError("top-level must be OPEN")
        if self.constraint is not None:
            self.constraint.checkToken(typebyte, size)

    def doOpen(self, opentype: Opentype) -> Unslicer | None:
        if self.constraint is not None:
            self.constraint.checkOpentype(opentype)
        child = self.decoder.open(opentype, top_level=True)
        if child is not None and self.constraint is not None:
            child.setConstraint(self.constraint)
        return child

    def receiveChild(self, obj: object) -> None:
        self.decoder._deliver(obj)

    def reportViolation(self, why: Violation) -> Violation | None:
        self.decoder._rejected(why)
        return None

    def receiveClose(self) -> object:
        raise BananaError("top-level should never receive CLOSE tokens")

    def describe(self) -> str:
        return "<RootUnslicer>"


class Decoder:
    """A per-connection Banana decoder (sans-IO).

    Feed bytes with :meth:`receive_data`, then take events with
    :meth:`next_event` or :meth:`events`. A protocol error raises
    :class:`BananaError` (events decoded before it stay queued; the decoder is
    then dead and raises again on more data). A rejected object becomes a
    :class:`ViolationReceived` event and decoding goes on.

    :param unslicers: the opentype registry (default: :func:`default_unslicers`).
    :param context: any object; unslicers see it as ``self.decoder.context``.
    :param constraint: a constraint for every top-level object (None: no constraint).
    :param top_level_primitives: if False, a top-level token that is not OPEN is a
        BananaError (as for Foolscap's PB connections).
    :param max_depth: deepest allowed nesting of sequences; a deeper OPEN is a Violation.
    :param max_token_size: largest STRING/LONGINT/LONGNEG body (bytes); a larger
        one is a Violation and its body is skipped, never buffered.
    :param vocab: an initial inbound vocabulary, as negotiated.
    """

    def __init__(
        self,
        *,
        unslicers: UnslicerRegistry | None = None,
        context: object = None,
        constraint: Constraint | None = None,
        top_level_primitives: bool = True,
        max_depth: int = 500,
        max_token_size: int = 16 * 1024 * 1024,
        vocab: Sequence[bytes | str] | None = None,
    ) -> None:
        if max_depth < 1:
            raise ValueError("max_depth must be >= 1")
        if max_token_size < 0:
            raise ValueError("max_token_size must be >= 0")
        self._registry = unslicers if unslicers is not None else shared_default_unslicers()
        self._registry_version = -1
        self.context = context
        self.max_depth = max_depth
        self.max_token_size = max_token_size
        self._root = RootUnslicer(self, constraint, top_level_primitives)
        self._stack: list[Unslicer] = [self._root]
        self._events: deque[Event] = deque()
        self._buf = b""
        self._pos = 0
        self._need = 0
        self._need_end = 0
        self._acc = bytearray()  # an unfinished token, when it spans feeds
        self._skip = 0
        self._big: io.BytesIO | None = None
        self._big_left = 0
        self._discard = 0
        self._in_open = False
        self._opentype: list[str] = []
        self._open_header = 0
        self._open_objcount = 0
        self._index_max = 0
        self._obj_count = 0
        self._objects: dict[int, object] = {}
        self._vocab: dict[int, bytes] = {}
        self._vocab_shared = False
        self._failed: BananaError | None = None
        self._stopped = False
        self._fast_top: dict[bytes, int] = {}
        self._fast_nested: dict[bytes, int] = {}
        self._vocab_kinds: tuple[int, ...] = ()
        self._custom_top: dict[bytes, _Registered] = {}
        self._custom_nested: dict[bytes, _Registered] = {}
        self._max_index_length = 0
        self._uni = _UNICODE_INDEX
        if vocab:
            self.populateVocabTable(vocab)
        self._rebuild_fast()

    # -- public API ------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Feed bytes from the peer; raise BananaError if the stream is broken."""
        if self._failed is not None:
            raise BananaError(f"decoder already failed: {self._failed}")
        if self._stopped or not data:
            return
        if type(data) is not bytes:
            data = bytes(data)
        try:
            self._receive(data)
        except BananaError as e:
            e.where = self._describe()
            self._failed = e
            self._buf = b""
            self._big = None
            raise
        except (RecursionError, MemoryError) as e:
            err = BananaError(f"resource limit while decoding: {e!r}")
            self._failed = err
            raise err from e
        except Exception as e:
            err = BananaError(f"error while decoding: {e!r}")
            err.where = self._describe()
            self._failed = err
            raise err from e

    def take_body(self, data: bytes) -> bool:
        """Take ``data`` if it only continues the body of a large STRING being
        collected (without completing it): True if taken, else feed it with
        :meth:`receive_data`. A short path for bulk transfers, chunk after chunk."""
        big = self._big
        if big is None or len(data) >= self._big_left or self._skip or self._failed:
            return False
        big.write(data)
        self._big_left -= len(data)
        return True

    def _receive(self, data: bytes) -> None:
        if self._skip:
            if len(data) <= self._skip:
                self._skip -= len(data)
                return
            data = data[self._skip :]
            self._skip = 0
        if self._big is not None:
            # the body of a large STRING: straight into its buffer, never re-joined
            left = self._big_left
            if len(data) < left:
                self._big.write(data)
                self._big_left = left - len(data)
                return
            with memoryview(data) as view:
                self._big.write(view[:left])
            obj = self._big.getvalue()  # no copy: the buffer becomes the bytes object
            self._big = None
            self._big_left = 0
            data = data[left:]
            self._deliver_value(obj)
            del obj
            if not data or self._stopped:
                return
        if self._need:
            self._acc += data  # amortised growth: no per-feed object, however small
            if len(self._acc) < self._need:
                return
            buf = bytes(self._acc)
            self._acc = bytearray()
            self._need = 0
        elif self._pos < len(self._buf):
            buf = self._buf[self._pos :] + data
        else:
            buf = data
        self._buf = buf
        self._pos = 0
        if self._registry_version != self._registry.version:
            self._rebuild_fast()
        self._parse()

    def _start_big(self, buf: bytes, body: int, e: int, end: int) -> None:
        """Start collecting the body of a large STRING token that is not all here."""
        # (grown as the body arrives, not sized up front: a message that completes in
        # the same feed may still be alive, and two big buffers at once would double
        # the peak; tests/banana/test_hostile.py checks the memory bound)
        bio = io.BytesIO()
        with memoryview(buf) as view:
            bio.write(view[body:end])
        self._big = bio
        self._big_left = e - end

    def _deliver_value(self, obj: object) -> None:
        """Give a finished primitive value to the top unslicer (or the index phase)."""
        if self._in_open:
            self._handle_index(obj)
            return
        try:
            self._stack[-1].receiveChild(obj)
        except Violation as v:
            self._handle_violation(v)

    def next_event(self) -> Event | None:
        """The oldest queued event, or None."""
        return self._events.popleft() if self._events else None

    def events(self) -> list[Event]:
        """All queued events, oldest first (the queue is emptied)."""
        out = list(self._events)
        self._events.clear()
        return out

    @property
    def failed(self) -> bool:
        """True once a BananaError was raised: the connection must be dropped."""
        return self._failed is not None

    @property
    def stopped(self) -> bool:
        """True once an ERROR token arrived: nothing more is decoded."""
        return self._stopped

    @property
    def at_message_boundary(self) -> bool:
        """True when nothing is buffered or open: the next byte starts a top-level token.

        Only then may a caller decode a whole top-level message itself (a fast path
        for the commonest messages of an extension) and report it with
        :meth:`count_opens`.
        """
        return (
            len(self._stack) == 1
            and self._pos >= len(self._buf)
            and not (self._need or self._skip or self._discard or self._in_open)
            and self._big is None
            and self._failed is None
            and not self._stopped
            and self._registry_version == self._registry.version
        )

    def count_opens(self, n: int) -> None:
        """Count ``n`` OPEN tokens of a top-level message the caller decoded itself."""
        if n < 0:
            raise ValueError("n must be >= 0")
        self._obj_count += n

    def vocab_word(self, index: int) -> bytes | None:
        """The inbound vocabulary's string at ``index`` (None: not in the table)."""
        return self._vocab.get(index)

    @property
    def object_count(self) -> int:
        """How many OPEN tokens have been received (the next one's object number)."""
        return self._obj_count

    @property
    def unslicers(self) -> UnslicerRegistry:
        """This decoder's opentype registry."""
        return self._registry

    # -- for unslicers ------------------------------------------------------------

    def open(self, opentype: Opentype, *, top_level: bool = False) -> Unslicer | None:
        """Make the unslicer for ``opentype`` from the registry (None: more index tokens
        may follow); raise Violation for unknown or misplaced opentypes."""
        entry, more = self._registry.lookup(opentype)
        if entry is not None:
            if not (entry.top_level if top_level else entry.nested):
                where = "top-level " if top_level else ""
                raise Violation(f"unknown {where}OPEN type {opentype}")
            return entry.factory(opentype)
        if more:
            self._index_max = more
            return None
        where = "top-level " if top_level else ""
        raise Violation(f"unknown {where}OPEN type {opentype}")

    def setObject(self, count: int, obj: object) -> None:
        """Record the object made by OPEN number ``count`` (for shared references)."""
        self._objects[count] = obj

    def getObject(self, count: int) -> object:
        """The object made by OPEN number ``count`` in this message (maybe a Pending)."""
        obj = self._objects.get(count, _UNSET)
        if obj is _UNSET:
            raise BananaError(f"dangling reference {count}")
        if isinstance(obj, TupleUnslicer):
            return obj.pending()
        return obj

    # -- vocabulary ---------------------------------------------------------------

    def populateVocabTable(self, strings: Sequence[bytes | str]) -> None:
        """Install a negotiated initial inbound vocabulary (decoders given the same
        table share its dictionary until one of them changes it)."""
        table = tuple(s.encode() if isinstance(s, str) else bytes(s) for s in strings)
        vocab = _SHARED_VOCABS.get(table)
        if vocab is None:
            vocab = dict(enumerate(table))
            if len(_SHARED_VOCABS) < _MAX_SHARED_VOCABS:
                _SHARED_VOCABS[table] = vocab
        self._vocab = vocab
        self._vocab_shared = _SHARED_VOCABS.get(table) is vocab
        self._rebuild_fast()

    def replaceIncomingVocabulary(self, vocab: dict[int, bytes]) -> None:
        """Replace the inbound vocabulary (a ``set-vocab`` sequence arrived)."""
        self._vocab = dict(vocab)
        self._vocab_shared = False
        self._rebuild_fast()

    def addIncomingVocabulary(self, index: int, value: bytes) -> None:
        """Add one inbound vocabulary entry (an ``add-vocab`` sequence arrived)."""
        if self._vocab_shared:  # copy on write
            self._vocab = dict(self._vocab)
            self._vocab_shared = False
        self._vocab[index] = value
        self._rebuild_fast()

    @property
    def vocab(self) -> dict[int, bytes]:
        """A copy of the inbound vocabulary (index to string)."""
        return dict(self._vocab)

    # -- internals ----------------------------------------------------------------

    def _rebuild_fast(self) -> None:
        reg = self._registry
        self._registry_version = reg.version
        self._max_index_length = reg.max_index_length()
        key = tuple(sorted(self._vocab.items())) if self._vocab else ()
        cached = reg.cache.get(key)
        if cached is None:
            cached = reg.cache[key] = self._fast_tables(reg)
        tables = cast("_FastTables", cached)
        self._fast_top, self._fast_nested, self._custom_top, self._custom_nested = tables
        # the fast kind of each one-byte VOCAB index token, nested (shared, like the tables)
        kinds = reg.cache.get(("vocab-kinds", key))
        if kinds is None:
            nested = self._fast_nested
            kinds = reg.cache[("vocab-kinds", key)] = tuple(
                nested.get(bytes((i, 0x87)), 0) for i in range(128)
            )
        self._vocab_kinds = cast("tuple[int, ...]", kinds)
        # the index token a peer sends for "unicode": VOCAB if the table has it
        self._uni = next(
            (
                b128_encode(i) + b"\x87"
                for i, w in self._vocab.items()
                if w == b"unicode" and i < 128
            ),
            _UNICODE_INDEX,
        )

    def _fast_tables(self, reg: UnslicerRegistry) -> _FastTables:
        """Index tokens (one-byte-header STRING or VOCAB) the fast path can open:
        built-in kinds, and registered single-token opentypes."""
        by_string = {s: i for i, s in self._vocab.items() if i < 128}

        def keys_for(raw: bytes) -> list[bytes]:
            keys = [b128_encode(len(raw)) + b"\x82" + raw] if len(raw) < 0x80 else []
            idx = by_string.get(raw)
            if idx is not None:
                keys.append(b128_encode(idx) + b"\x87")
            return keys

        top: dict[bytes, int] = {}
        nested: dict[bytes, int] = {}
        custom_top: dict[bytes, _Registered] = {}
        custom_nested: dict[bytes, _Registered] = {}
        for ot, entry in reg.entries():
            if len(ot) != 1 or entry.extra_index_tokens:
                continue  # opentypes of several index tokens take the general path
            kind = _FAST_KINDS.get(ot[0], 0)
            if kind and entry.factory is not BUILTIN_FACTORIES[ot]:
                kind = 0  # a replaced built-in behaves as a registered opentype
            for k in keys_for(ot[0].encode()):
                if kind:
                    if entry.top_level:
                        top[k] = kind
                    if entry.nested:
                        nested[k] = kind
                else:
                    if entry.top_level:
                        custom_top[k] = (entry, ot)
                    if entry.nested:
                        custom_nested[k] = (entry, ot)
        return top, nested, custom_top, custom_nested

    def _open_registered(self, entry: UnslicerEntry, opentype: Opentype, header: int) -> None:
        """Open a registered opentype whose OPEN and index token were read at once
        (what the general path does across the two tokens)."""
        count = self._obj_count
        self._obj_count = count + 1
        stack = self._stack
        top = stack[-1]
        try:
            child = entry.factory(opentype)
        except Violation as v:
            self._handle_violation(v, in_open=True)
            return
        child.decoder = self
        child.parent = top
        child.openCount = header
        stack.append(child)
        try:
            child.start(count)
        except Violation as v:
            self._handle_violation(v)

    def _deliver(self, obj: object) -> None:
        self._objects.clear()
        if type(obj) is VocabMarker:
            return
        self._events.append(ObjectReceived(obj))

    def _rejected(self, why: Violation) -> None:
        self._objects.clear()
        why.__traceback__ = None  # do not keep decoder frames (and buffers) alive
        self._events.append(ViolationReceived(why))

    def _describe(self) -> str:
        parts = []
        for u in self._stack:
            try:
                parts.append(u.describe())
            except Exception:
                parts.append("???")
        return ".".join(parts)

    def _parse(self) -> None:
        obj: object
        buf = self._buf
        pos = self._pos
        end = len(buf)
        stack = self._stack
        objects_pending = Pending
        max_tok = self.max_token_size
        max_depth = self.max_depth
        fast_top = self._fast_top
        fast_nested = self._fast_nested
        custom_top = self._custom_top
        custom_nested = self._custom_nested
        containers = _K_CONTAINERS
        unpack_double = _unpack_double
        startswith = buf.startswith
        uni = self._uni
        unilen = len(uni)
        root = self._root
        uni_top = uni in fast_top
        uni_nested = uni in fast_nested
        objects = self._objects
        int_run = _INT_RUN.match
        # a root that only insists on OPEN tokens: its OPENs take the fast path,
        # everything else at the top level the general one
        open_root = root if root.plain_open and root.wants_check else None
        top = stack[-1]
        prim = top.prim or top.receiveChild
        slow = bool(self._discard or self._in_open or (top.wants_check and top is not open_root))

        while pos < end:
            # -- header and type byte
            c = buf[pos]
            if c & 0x80:
                header = 0
                typ = c
                body = pos + 1
            elif pos + 3 < end:
                # headers of up to three bytes (numbers below 2**21: OPEN numbers and
                # request IDs of a long-lived connection), unrolled
                c1 = buf[pos + 1]
                if c1 & 0x80:
                    header = c
                    typ = c1
                    body = pos + 2
                else:
                    c2 = buf[pos + 2]
                    if c2 & 0x80:
                        header = c | (c1 << 7)
                        typ = c2
                        body = pos + 3
                    else:
                        c3 = buf[pos + 3]
                        if c3 & 0x80:
                            header = c | (c1 << 7) | (c2 << 14)
                            typ = c3
                            body = pos + 4
                        else:
                            body = -1  # a longer header
                            typ = 0
            elif pos + 1 < end and buf[pos + 1] & 0x80:
                header = c
                typ = buf[pos + 1]
                body = pos + 2
            else:
                body = -1
                typ = 0
            if body < 0:  # near the end of the buffer, or a header of 4+ bytes
                header, typ, body = self._long_header(buf, pos, end)
                if body < 0:
                    self._pos = pos
                    return

            if slow or typ >= 0x8A:
                npos = self._slow(buf, pos, end, typ, header, body)
                if npos < 0:
                    break
                pos = npos
                if self._stopped:
                    self._buf = b""
                    self._pos = 0
                    return
                top = stack[-1]
                prim = top.prim or top.receiveChild
                slow = bool(
                    self._discard or self._in_open or (top.wants_check and top is not open_root)
                )
                fast_top = self._fast_top
                fast_nested = self._fast_nested
                custom_top = self._custom_top
                custom_nested = self._custom_nested
                uni = self._uni
                unilen = len(uni)
                uni_top = uni in fast_top
                uni_nested = uni in fast_nested
                continue

            if top is open_root and typ != 0x88:
                slow = True
                continue
            try:
                if typ == 0x81:  # INT
                    if (
                        type(top) is ListUnslicer
                        and not top.list
                        and body + 16 < end
                        and (buf[body + 1] == 0x81 or buf[body + 2] == 0x81)  # next is an INT
                    ):
                        # a list starting with a run of INTs with 0-2 header bytes: decode it
                        # in C (h0 + 256*h1 from from_bytes, minus 128*h1)
                        m = int_run(buf, pos)
                        if m is not None and m.end() - pos > 16:
                            headers = buf[pos : m.end()].split(b"\x81")
                            headers.pop()
                            raw = list(map(_from_bytes, headers, repeat("little")))
                            top.list.extend(
                                map(sub, raw, map(mul, map(rshift, raw, repeat(8)), repeat(128)))
                            )
                            pos = m.end()
                            continue
                    pos = body
                    prim(header)
                elif typ == 0x82:  # STRING
                    e = body + header
                    if header > max_tok:
                        slow = True
                        continue
                    if e > end:
                        if header >= _BIG_TOKEN:
                            self._start_big(buf, body, e, end)
                            pos = end
                            continue
                        self._need_end = e
                        break
                    pos = e
                    prim(buf[body:e])
                elif typ == 0x88:  # OPEN
                    hl = body - pos - 1  # length of the OPEN number
                    if (
                        uni_nested
                        and hl <= 3
                        and top is not root
                        and top.plain_open
                        and startswith(uni, body)
                    ):
                        # the commonest sequence, a short str: OPEN "unicode" STRING CLOSE
                        r = body + unilen
                        if r + 1 < end:
                            c = buf[r]
                            e = r + 2 + c  # where the CLOSE number starts
                            after = e + hl + 1
                            if (
                                c < 0x80
                                and after <= end
                                and buf[r + 1] == 0x82
                                and buf[after - 1] == 0x89
                                and c <= max_tok
                                and len(stack) <= max_depth
                                and (
                                    buf[e] == header
                                    if hl == 1
                                    else (
                                        buf[e] == buf[pos]
                                        and buf[e + 1] == buf[pos + 1]
                                        and (hl == 2 or buf[e + 2] == buf[pos + 2])
                                    )
                                )
                            ):
                                try:
                                    sobj = buf[r + 2 : e].decode("utf-8")
                                except UnicodeDecodeError:
                                    slow = True
                                    continue
                                self._obj_count += 1
                                pos = after
                                prim(sobj)
                                continue
                    kind = 0
                    q = body
                    if (
                        top.plain_open
                        and startswith(uni, q)
                        and (uni_top if top is root else uni_nested)
                    ):
                        kind = _K_UNICODE
                        kend = q + unilen
                    elif top.plain_open and q + 1 < end:
                        c = buf[q]
                        if c < 0x80:
                            t2 = buf[q + 1]
                            if t2 == 0x82:
                                kend = q + 2 + c
                            elif t2 == 0x87:
                                kend = q + 2
                            else:
                                kend = end + 1
                            if kend <= end:
                                key = buf[q:kend]
                                kind = (fast_top if top is root else fast_nested).get(key, 0)
                                if not kind and len(stack) <= max_depth:
                                    found = (custom_top if top is root else custom_nested).get(key)
                                    if found is not None:
                                        # a registered opentype: OPEN and index token at once
                                        pos = kend
                                        self._open_registered(found[0], found[1], header)
                                        top = stack[-1]
                                        prim = top.prim or top.receiveChild
                                        slow = bool(
                                            self._discard
                                            or (top.wants_check and top is not open_root)
                                        )
                                        continue
                    if not kind or len(stack) > max_depth:
                        slow = True
                        continue
                    if kind <= KIND_DICT and kind >= KIND_LIST:
                        # list, tuple, dict: read whole, with what is inside, by recursion
                        n = self._obj_count
                        self._obj_count = n + 1
                        depth = len(stack) + 1
                        try:
                            obj, pos = read_container(
                                self, buf, kend, end, kind, header, n, depth,
                                min(max_depth, depth + MAX_RECURSION),
                            )  # fmt: skip
                        except Handover as ho:
                            # carry on at the token it did not take, inside what it opened
                            self._adopt(ho.frames, top)
                            pos = ho.pos
                            top = stack[-1]
                            prim = top.prim or top.receiveChild
                            slow = bool(self._discard or (top.wants_check and top is not open_root))
                            continue
                        prim(obj)
                        continue
                    if kind >= 5:  # set, frozenset
                        u = containers[kind]()
                        u.decoder = self
                        u.parent = top
                        u.openCount = header
                        stack.append(u)
                        u.start(self._obj_count)
                        self._obj_count += 1
                        top = u
                        prim = u.prim or u.receiveChild
                        pos = kend
                        continue
                    # leaf kinds: the whole sequence must be in the buffer
                    hl = body - 1 - pos  # length of the OPEN header
                    r = kend
                    if kind == _K_UNICODE:
                        if r + 1 >= end:
                            slow = True
                            continue
                        c = buf[r]
                        if c & 0x80:
                            if c != 0x82:
                                slow = True
                                continue
                            s = r + 1
                            size = 0
                        elif buf[r + 1] == 0x82:
                            size = c
                            s = r + 2
                        else:
                            slow = True
                            continue
                        if size > max_tok:
                            slow = True
                            continue
                        r = s + size
                    elif kind in (_K_BOOL, _K_REF):
                        if r + 1 >= end:
                            slow = True
                            continue
                        c = buf[r]
                        if c == 0x81:
                            val = 0
                            r += 1
                        elif c < 0x80 and buf[r + 1] == 0x81:
                            val = c
                            r += 2
                        else:
                            slow = True
                            continue
                    # r is where the CLOSE must start
                    if (
                        r + hl >= end
                        or buf[r + hl] != 0x89
                        or buf[r : r + hl] != buf[pos : pos + hl]
                    ):
                        slow = True
                        continue
                    if kind == _K_UNICODE:
                        try:
                            obj = buf[s:r].decode("utf-8")
                        except UnicodeDecodeError:
                            slow = True
                            continue
                    elif kind == _K_NONE:
                        obj = None
                    elif kind == _K_BOOL:
                        obj = bool(val)
                    else:
                        obj = self.getObject(val)
                        if type(obj) is objects_pending:
                            slow = True
                            continue
                    self._obj_count += 1
                    pos = r + hl + 1
                    prim(obj)
                elif typ == 0x89:  # CLOSE
                    if len(stack) == 1 or top.openCount != header:
                        slow = True
                        continue
                    tt = type(top)
                    if tt is ListUnslicer:
                        obj = top.list  # type: ignore[attr-defined]
                    elif tt is TupleUnslicer and not top.unresolved and top.constraints is None:  # type: ignore[attr-defined]
                        obj = tuple(top.list)  # type: ignore[attr-defined]
                        objects[top.count] = obj  # type: ignore[attr-defined]
                        if top._pending is not None:  # type: ignore[attr-defined]
                            top._pending.resolve(obj)  # type: ignore[attr-defined]
                    else:
                        try:
                            obj = top.receiveClose()
                            top.finish()
                        except Violation:
                            slow = True  # let the general path report it properly
                            continue
                        top.parent = None  # see _handle_close
                    stack.pop()
                    pos = body
                    top = stack[-1]
                    prim = top.prim or top.receiveChild
                    if type(obj) is objects_pending:
                        top.receiveChild(obj)
                    else:
                        prim(obj)
                    slow = top.wants_check and top is not open_root
                elif typ == 0x83:  # NEG
                    pos = body
                    prim(-header)
                elif typ == 0x84:  # FLOAT
                    e = body + 8
                    if e > end:
                        self._need_end = e
                        break
                    pos = e
                    prim(unpack_double(buf, body)[0])
                else:
                    slow = True
                    continue
            except Violation as v:
                # as on the general path: the token is consumed, the sequence refused
                self._handle_violation(v)
                top = stack[-1]
                prim = top.prim or top.receiveChild
                slow = bool(
                    self._discard or self._in_open or (top.wants_check and top is not open_root)
                )
        else:
            self._buf = b""
            self._pos = 0
            return
        # stopped for lack of data inside a token starting at pos
        self._pos = pos
        need = self._need_end - pos
        if need > len(buf) - pos:
            self._acc = bytearray(memoryview(buf)[pos:])
            self._need = need
            self._buf = b""
            self._pos = 0

    def _adopt(self, frames: list[Frame], parent: Unslicer) -> None:
        """Put the containers read_container had open (innermost first) on the stack
        as the unslicers the main loop would have made for them."""
        stack = self._stack
        for kind, header, count, coll, items in reversed(frames):
            u: Any = _K_CONTAINERS[kind]()
            u.decoder = self
            u.parent = parent
            u.openCount = header
            if kind == KIND_DICT:
                u.d = coll
                u.items = items
                u.prim = items.append  # type: ignore[union-attr]
            else:
                u.list = coll
                u.prim = coll.append  # type: ignore[union-attr]
                if kind == KIND_TUPLE:
                    u.count = count
                    self._objects[count] = u
            stack.append(u)
            parent = u

    @staticmethod
    def _long_header(buf: bytes, pos: int, end: int) -> tuple[int, int, int]:
        """(header, type byte, body position) of the token at ``pos``; body -1 if the
        token's prefix is not all in ``buf`` yet."""
        header = 0
        shift = 0
        p = pos
        while True:
            if p >= end:
                return 0, 0, -1
            c = buf[p]
            p += 1
            if c & 0x80:
                return header, c, p
            if p - pos > MAX_HEADER_BYTES:
                raise BananaError(
                    f"token prefix is limited to {MAX_HEADER_BYTES} bytes: "
                    f"but got {buf[pos : pos + 80]!r}"
                )
            header |= c << shift
            shift += 7

    def _slow(  # noqa: PLR0917
        self, buf: bytes, pos: int, end: int, typ: int, header: int, body: int
    ) -> int:
        """Handle one token with full Foolscap semantics; return the new position,
        or -1 if the token is incomplete (``_need_end`` says how far it reaches)."""
        if typ not in _VALID_TYPES or typ == LIST:
            if typ == LIST:
                raise BananaError("oldbanana peer detected, compatibility code not yet written")
            raise BananaError(f"Invalid Type Byte 0x{typ:x}")
        stack = self._stack
        rejected = self._discard > 0
        was_in_open = self._in_open
        # tokens with a body must be complete before any state changes, so that
        # a token split across feeds is handled once
        if typ in (STRING, LONGINT, LONGNEG, ERROR):
            if typ == ERROR and header > SIZE_LIMIT:
                raise BananaError("oversized ERROR token")
            e = body + header
        elif typ == FLOAT:
            e = body + 8
        else:
            e = body
        if e > end and typ not in (STRING, LONGINT, LONGNEG):
            self._need_end = e
            return -1

        if typ == OPEN:
            if self._in_open:
                raise BananaError("OPEN token followed by OPEN")
            self._open_objcount = self._obj_count
            self._obj_count += 1
            self._in_open = True

        if not rejected and typ not in _ALWAYS_LEGAL:
            try:
                if was_in_open:
                    self._opener_check(typ, header)
                else:
                    if typ == OPEN and len(stack) > self.max_depth:
                        raise Violation(f"nesting deeper than max_depth={self.max_depth}")
                    top = stack[-1]
                    if top.wants_check:
                        top.checkToken(typ, header)
                    if typ in (STRING, LONGINT, LONGNEG) and header > self.max_token_size:
                        raise Violation(
                            f"token body too large: {header}>{self.max_token_size} (max_token_size)"
                        )
            except Violation as v:
                rejected = True
                in_open = self._in_open
                self._in_open = False
                self._handle_violation(v, in_open=in_open)

        if typ in (STRING, LONGINT, LONGNEG) and e > end:
            if rejected:
                self._skip = e - end
                return end
            if typ == STRING and header >= _BIG_TOKEN:
                self._start_big(buf, body, e, end)
                return end
            self._need_end = e
            return -1

        if typ == OPEN:
            if rejected:
                if self._in_open:
                    self._discard += 1
                    self._in_open = False
            else:
                self._opentype = []
                self._open_header = header
            return body
        if typ == CLOSE:
            if self._discard:
                self._discard -= 1
            else:
                self._handle_close(header)
            return body
        if typ == ABORT:
            if not rejected:
                in_open = self._in_open
                self._in_open = False
                self._handle_violation(Violation("ABORT received"), in_open=in_open)
            return body
        if typ == ERROR:
            self._events.append(ErrorReceived(buf[body:e]))
            self._stopped = True
            return e
        if typ == PING:
            self._events.append(PingReceived(header))
            return body
        if typ == PONG:
            self._events.append(PongReceived(header))
            return body
        if rejected:
            return e

        obj: object
        if typ == INT:
            obj = header
        elif typ == NEG:
            obj = -header
        elif typ == STRING:
            obj = buf[body:e]
        elif typ == LONGINT:
            obj = int.from_bytes(buf[body:e], "big")
        elif typ == LONGNEG:
            obj = -int.from_bytes(buf[body:e], "big")
        elif typ == FLOAT:
            obj = _unpack_double(buf, body)[0]
        else:  # VOCAB
            word = self._vocab.get(header)
            if word is None:
                raise BananaError(f"unknown VOCAB index {header}")
            obj = word

        if self._in_open:
            self._handle_index(obj)
        else:
            top = stack[-1]
            try:
                top.receiveChild(obj)
            except Violation as v:
                self._handle_violation(v)
        return e

    def _opener_check(self, typ: int, size: int) -> None:
        if typ == STRING:
            limit = self._max_index_length if not self._opentype else self._index_max
            if size > limit:
                raise Violation(f"STRING token is too long, {size}>{limit}")
        elif typ != VOCAB:
            raise Violation(f"index token 0x{typ:02x} not STRING or VOCAB")

    def _handle_index(self, token: object) -> None:
        assert isinstance(token, bytes)
        try:
            name = token.decode("utf-8")
        except UnicodeDecodeError:
            self._in_open = False
            self._handle_violation(Violation(f"bad index token {token!r}"), in_open=True)
            return
        self._opentype.append(name)
        opentype = tuple(self._opentype)
        stack = self._stack
        top = stack[-1]
        try:
            child = top.doOpen(opentype)
            if child is None:
                if len(opentype) >= _MAX_OPENTYPE_TOKENS:
                    raise Violation(f"opentype {opentype} too long")
                return
        except Violation as v:
            self._in_open = False
            self._handle_violation(v, in_open=True)
            return
        self._in_open = False
        child.decoder = self
        child.parent = top
        child.openCount = self._open_header
        stack.append(child)
        try:
            child.start(self._open_objcount)
        except Violation as v:
            self._handle_violation(v)

    def _handle_close(self, count: int) -> None:
        if self._in_open:
            raise BananaError("CLOSE token during the index phase of an OPEN")
        stack = self._stack
        top = stack[-1]
        if len(stack) == 1 or top.openCount != count:
            raise BananaError(f"lost sync, got CLOSE({count}) but expecting {stack[-1].openCount}")
        try:
            obj = top.receiveClose()
            top.finish()
        except Violation as v:
            self._handle_violation(v, in_close=True)
            return
        # a finished unslicer that its parent keeps (a call keeps its arguments) must not
        # point back up: the cycle would keep the values alive until a GC pass
        top.parent = None
        stack.pop()
        parent = stack[-1]
        try:
            parent.receiveChild(obj)
        except Violation as v:
            self._handle_violation(v)

    def _handle_violation(
        self, why: Violation, *, in_open: bool = False, in_close: bool = False
    ) -> None:
        why.setLocation(self._describe())
        if in_open:
            self._discard += 1
        stack = self._stack
        while True:
            got = stack[-1].reportViolation(why)
            if got is None:
                break
            why = got
            if len(stack) == 1:
                raise BananaError("the root unslicer gave up")
            if not in_close:
                self._discard += 1
            in_close = False
            old = stack.pop()
            with contextlib.suppress(Violation):
                old.finish()
            old.parent = None
