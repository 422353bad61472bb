"""The Banana decoder: sans-IO, bytes in, events out.

Theory of operation. :meth:`Decoder.receive_data` appends the bytes to what is left of
a token split across feeds, then walks the buffer with an offset. Every token header is
read by :func:`~octavo.banana.read_header`. Each token then goes one of two ways:

- the *fast reader* (``_fast.take``, with the fast paths on) takes the plain tokens at
  the top of the stack itself, building lists, tuples, dicts, strs... directly, and
  stops at the first token it does not take;
- the *general path* (:meth:`Decoder._token` and the :class:`~._stack.Stack`) takes
  that token: it checks the body is all here (or skips the body of a refused token, or
  collects a big STRING body as it arrives), admits the token (limits, constraints,
  index-token rules) and gives it its meaning, one token at a time, with Foolscap's
  semantics. With ``fast_paths=False`` it takes every token.

A token whose body is not all here waits for more bytes (``_need``/``_acc``); the
body of a big STRING is collected as it arrives (``take_body``, :mod:`._big_string`), that
of a refused token is skipped unread (``_skip``). Protocol errors raise BananaError and
leave the decoder failed; rejected objects become ViolationReceived events.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from struct import Struct

from ._big_string import BigString
from ._budget import MessageBudget
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
from ._fast import take
from ._leaves import VocabMarker
from ._objects import ObjectTable
from ._registry import UnslicerRegistry, shared_default_unslicers
from ._stack import Limits, Stack
from ._switch import fast_paths_default
from ._tables import FastTables
from ._tokens import (
    ABORT,
    CLOSE,
    ERROR,
    FLOAT,
    INT,
    LIST,
    LONGINT,
    LONGNEG,
    NEG,
    OPEN,
    PING,
    PONG,
    SIZE_LIMIT,
    STRING,
    read_header,
)
from ._unslicers import Opentype, Unslicer
from ._vocabulary import InboundVocabulary

__all__ = ["Decoder", "RootUnslicer"]

_unpack_double = Struct("!d").unpack_from
_BIG_TOKEN = 65536  # STRING bodies at least this long are collected without re-joining
_VALID_TYPES = frozenset(range(0x81, 0x8B)) | {ERROR, PING, PONG}
_SIZED = frozenset((STRING, LONGINT, LONGNEG))


class RootUnslicer(Unslicer):
    """The bottom of the decoder's stack: hands finished top-level objects out as events."""

    decoder: Decoder  # (its own decoder, not only the DecoderView other unslicers see)
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

    def token_allowance(self, typebyte: int) -> int:
        c = self.constraint
        return 0 if c is None else c.token_allowance(typebyte)

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
        one is a Violation and its body is skipped, never buffered, unless the
        constraint that applies to it explicitly allows it (a
        ``ByteStringConstraint(maxLength=N)``, N above this limit, admits a STRING of
        up to N bytes there, a ``UnicodeConstraint(maxLength=N)`` a str's UTF-8 body of
        up to 4*N bytes: ``Unslicer.token_allowance``; see :attr:`granted_token_bytes`).
    :param vocab: an initial inbound vocabulary, as negotiated.
    :param max_vocab_entries: the most entries the inbound vocabulary may hold (default
        4096; Foolscap negotiates 25 and sends no more).
    :param max_vocab_bytes: the most bytes its words may hold in all (default 256 KiB;
        Foolscap's words are at most 100 bytes). A ``set-vocab`` past either limit is
        refused as its entries arrive, an ``add-vocab`` that would take the table past
        one is refused; both with BananaError, as the peer's encoder has changed its
        table already and the two ends would disagree on every later VOCAB token.
    :param max_message_objects: the most objects one top-level message may create
        (default 200,000): every sequence, and every value in a sequence other than a
        str, bool, None, reference, Decimal or vocabulary sequence (each of those is one
        object).
    :param max_message_memory_ratio: as each sequence of a message opens, its estimated
        memory may be at most this many times the message's bytes so far, plus 1 MiB
        (default 16). The estimate is coarse: 80 bytes per sequence, 8 per value (see
        ``_budget.py``); Foolscap's encoding of the commonest data is at least 5 bytes
        a sequence, so only hostile runs of tiny sequences come near it. A message past
        either limit is a Violation: it is reported, the rest of it is skipped without
        building anything, and decoding goes on with the next message.
    :param fast_paths: False: every token takes the general path (the fast reader,
        ``take_body`` and the like are off); None: :func:`fast_paths_default`.
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
        fast_paths: bool | None = None,
        max_vocab_entries: int = 4096,
        max_vocab_bytes: int = 256 * 1024,
        max_message_objects: int = 200_000,
        max_message_memory_ratio: float = 16,
    ) -> None:
        self._limits = Limits(max_depth, max_token_size)
        self._registry = unslicers if unslicers is not None else shared_default_unslicers()
        self.context = context
        self._fast = fast_paths_default() if fast_paths is None else bool(fast_paths)
        self._root = RootUnslicer(self, constraint, top_level_primitives)
        self._budget = MessageBudget(max_message_objects, max_message_memory_ratio)
        self._st = Stack(self, self._root, self._registry, self._limits, self._budget)
        self._received = 0  # bytes fed so far: the stream offset of the buffer's end
        self._events: deque[Event] = deque()
        self._buf = b""
        self._pos = 0
        self._need = 0
        self._need_end = 0
        self._acc = bytearray()  # an unfinished token, when it spans feeds
        self._skip = 0
        #: bytes of refused STRING/LONGINT/LONGNEG bodies skipped unread so far (a
        #: running total): bytes that arrived and were never held, which a caller that
        #: bounds messages by their bytes on the wire need not count (an attribute, not a
        #: property: octavo-tub reads it for every read the general path decodes)
        self.skipped_bytes = 0
        self._big: BigString | None = None
        self._big_left = 0
        self._failed: BananaError | None = None
        #: True once an ERROR token arrived: nothing more is decoded (an attribute, not a
        #: property: octavo-tub reads it for every read from the network)
        self.stopped = False
        #: stop decoding after a top-level token that leaves nothing open, keeping the
        #: rest for :meth:`take_unparsed`: for a caller with a whole-message fast path
        #: of its own (octavo-tub), which may then read the next messages itself
        self.pause_at_boundary = False
        self._paused = False  # a pause left bytes for take_unparsed
        self._vocabulary = InboundVocabulary(
            self._registry, max_vocab_entries, max_vocab_bytes, vocab
        )
        self._tables: FastTables
        self._use(self._vocabulary.tables)

    # -- public API ------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Feed bytes from the peer; raise BananaError if the stream is broken."""
        if self._failed is not None:
            raise BananaError(f"decoder already failed: {self._failed}")
        if self.stopped or not data:
            return
        if type(data) is not bytes:
            data = bytes(data)
        self._received += len(data)
        try:
            self._receive(data)
        except BananaError as e:
            e.where = self._st.describe()
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
            err.where = self._st.describe()
            self._failed = err
            raise err from e

    def take_body(self, data: bytes) -> bool:
        """Take ``data`` if it only continues the body of a large STRING being
        collected (without completing it): True if taken, else feed it with
        :meth:`receive_data`. A short path for bulk transfers, chunk after chunk
        (always False with the fast paths off)."""
        big = self._big
        if big is None or len(data) >= self._big_left or self._skip or self._failed:
            return False
        if not self._fast:
            return False
        big.write(data)
        self._big_left -= len(data)
        self._received += len(data)
        return True

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
    def fast_paths(self) -> bool:
        """Whether this decoder uses its fast paths (see ``fast_paths=``)."""
        return self._fast

    @property
    def max_depth(self) -> int:
        """Deepest allowed nesting of sequences (the root counts as one)."""
        return self._limits.max_depth

    @property
    def max_token_size(self) -> int:
        """Largest STRING/LONGINT/LONGNEG body, in bytes."""
        return self._limits.max_token_size

    @property
    def granted_token_bytes(self) -> int:
        """Bytes of the message being decoded whose tokens were admitted past
        ``max_token_size`` because a constraint explicitly allows them (a
        ``ByteStringConstraint(maxLength=N)`` with N above the limit, or a
        ``UnicodeConstraint(maxLength=N)`` with 4*N above it); 0 between
        messages. A caller that bounds whole messages (octavo-tub's
        ``max-message-size``) raises its bound by this much."""
        return self._budget.granted

    @property
    def max_message_objects(self) -> int:
        """The most objects one top-level message may create."""
        return self._budget.max_objects

    @property
    def sure_message_objects(self) -> int:
        """The most objects a message may have and be admitted by the message budget,
        whatever they are: a reader that takes whole messages past this decoder (as
        octavo-tub's does) takes none with more, so the budget decides alone."""
        return self._budget.sure_objects

    @property
    def max_message_memory_ratio(self) -> float:
        """A message's estimated memory at most this times its bytes, plus 1 MiB."""
        return self._budget.ratio

    @property
    def at_message_boundary(self) -> bool:
        """True when nothing is buffered or open: the next byte starts a top-level token.

        Only then may a caller decode a whole top-level message itself (a fast path
        for the commonest messages of an extension) and report it with
        :meth:`count_opens`. (``octavo.banana.unserialize`` also checks it: a single
        object must leave the decoder here.)
        """
        st = self._st
        return (
            len(st.items) == 1
            and self._pos >= len(self._buf)
            and not (self._need or self._skip or st.discard or st.in_open)
            and self._big is None
            and self._failed is None
            and not self.stopped
            and self._tables.version == self._registry.version
        )

    def count_opens(self, n: int) -> None:
        """Count ``n`` OPEN tokens of a top-level message the caller decoded itself."""
        if n < 0:
            raise ValueError("n must be >= 0")
        self._st.obj_count += n

    def vocab_word(self, index: int) -> bytes | None:
        """The inbound vocabulary's string at ``index`` (None: not in the table)."""
        return self._tables.words.get(index)

    @property
    def vocab_words(self) -> Mapping[int, bytes]:
        """The inbound vocabulary as it stands (index to string; not a copy: it changes
        only as vocabulary messages are decoded, so a reader between two of those may
        keep it)."""
        return self._tables.words

    @property
    def depth(self) -> int:
        """How many sequences are open (0 between top-level objects)."""
        return len(self._st.items) - 1

    @property
    def object_count(self) -> int:
        """How many OPEN tokens have been received (the next one's object number)."""
        return self._st.obj_count

    @property
    def unslicers(self) -> UnslicerRegistry:
        """This decoder's opentype registry."""
        return self._registry

    # -- for unslicers ------------------------------------------------------------

    @property
    def objects(self) -> ObjectTable:
        """The object table of the message being decoded (what references refer to)."""
        return self._st.objects

    def open(self, opentype: Opentype, *, top_level: bool = False) -> Unslicer | None:
        """Make the unslicer for ``opentype`` from the registry (None: more index tokens
        may follow); raise Violation for unknown or misplaced opentypes."""
        return self._st.open(opentype, top_level=top_level)

    def setObject(self, count: int, obj: object) -> None:
        """Record the object made by OPEN number ``count`` (for shared references)."""
        self._st.objects.set(count, obj)

    def getObject(self, count: int) -> object:
        """The object made by OPEN number ``count`` in this message (maybe a Pending)."""
        return self._st.objects.get(count)

    # -- vocabulary ---------------------------------------------------------------

    def populateVocabTable(self, strings: Sequence[bytes | str]) -> None:
        """Install a negotiated initial inbound vocabulary (decoders given the same
        table share its dictionary, and their fast tables, until one changes it)."""
        self._use(self._vocabulary.populate(strings))

    def checkIncomingVocabulary(self, entries: int, size: int) -> None:
        """Refuse (BananaError) a ``set-vocab`` that has reached ``entries`` entries of
        ``size`` bytes of words in all (its unslicer asks as each entry arrives)."""
        self._vocabulary.check_replace(entries, size)

    def replaceIncomingVocabulary(self, vocab: dict[int, bytes]) -> None:
        """Replace the inbound vocabulary (a ``set-vocab`` sequence arrived)."""
        self._use(self._vocabulary.replace(vocab))

    def addIncomingVocabulary(self, index: int, value: bytes) -> None:
        """Add one inbound vocabulary entry (an ``add-vocab`` sequence arrived);
        BananaError if that takes the table past ``max_vocab_entries`` or
        ``max_vocab_bytes``."""
        self._use(self._vocabulary.add(index, value))

    @property
    def vocab(self) -> dict[int, bytes]:
        """A copy of the inbound vocabulary (index to string)."""
        return dict(self._tables.words)

    @property
    def max_vocab_entries(self) -> int:
        """The most entries the inbound vocabulary may hold."""
        return self._vocabulary.max_entries

    @property
    def max_vocab_bytes(self) -> int:
        """The most bytes the inbound vocabulary's words may hold in all."""
        return self._vocabulary.max_bytes

    @property
    def _vocab(self) -> dict[int, bytes]:
        return self._tables.words

    # -- internals ----------------------------------------------------------------

    def _use(self, tables: FastTables) -> None:
        self._tables = self._st.tables = tables

    def _deliver(self, obj: object) -> None:
        self._st.objects.clear()
        self._budget.granted = 0
        if type(obj) is VocabMarker:
            return
        self._events.append(ObjectReceived(obj))

    def _rejected(self, why: Violation) -> None:
        self._st.objects.clear()
        self._budget.granted = 0
        why.__traceback__ = None  # do not keep decoder frames (and buffers) alive
        self._events.append(ViolationReceived(why))

    def _receive(self, data: bytes) -> None:
        self._paused = False
        if self._skip:
            if len(data) <= self._skip:
                self._skip -= len(data)
                self.skipped_bytes += len(data)
                return
            data = data[self._skip :]
            self.skipped_bytes += self._skip
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
            obj = self._big.value()  # no copy: the buffer becomes the bytes object
            self._big = None
            self._big_left = 0
            data = data[left:]
            self._st.value(obj)
            del obj
            if not data or self.stopped:
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
        if self._tables.version != self._registry.version:
            self._use(self._vocabulary.refresh())
        self._parse()

    def _parse(self) -> None:
        """Decode the buffer: the fast reader while it takes tokens, the general path
        for each token it does not take."""
        buf = self._buf
        pos = self._pos
        end = len(buf)
        st = self._st
        items = st.items
        root = self._root
        fast = self._fast
        self._budget.base = self._received - end  # the stream offset of buf[0]
        # (a root that only insists on OPEN tokens leaves OPENs to the fast reader)
        open_root = root if root.plain_open and root.wants_check else None
        pause = self.pause_at_boundary
        first = pos
        while pos < end:
            top = items[-1]
            if (
                fast
                and (not top.wants_check or top is open_root)
                and not (st.discard or st.in_open)
            ):
                pos, typ, header, body = take(st, buf, pos, end, pause)
                if pause and len(items) == 1 and pos != first and self._nothing_pending():
                    self._buf = buf  # the rest waits for take_unparsed (or the next feed)
                    self._pos = pos
                    self._paused = True
                    return
            else:
                typ, header, body = read_header(buf, pos, end)
            if body < 0:
                if pos < end:  # a header split across feeds: keep it
                    self._pos = pos
                    return
                break
            npos = self._token(buf, pos, end, typ, header, body)
            if npos < 0:  # its body is not all here: wait for it
                self._wait(buf, pos)
                return
            pos = npos
            if self.stopped:
                break
            if pause and len(items) == 1 and pos < end and self._nothing_pending():
                self._buf = buf  # the rest waits for take_unparsed (or the next feed)
                self._pos = pos
                self._paused = True
                return
        self._buf = b""
        self._pos = 0

    def _nothing_pending(self) -> bool:
        """Whether no token, skipped body, big string or OPEN is pending."""
        st = self._st
        return not (self._need or self._skip or self._big is not None or st.discard or st.in_open)

    def take_unparsed(self) -> bytes:
        """The bytes a pause at a message boundary left unread (``pause_at_boundary``),
        handed back to the caller, who feeds them again (or reads them itself); b""
        when there are none, or when decoding is not at a message boundary."""
        if not self._paused:
            return b""
        self._paused = False
        buf, pos = self._buf, self._pos
        if pos >= len(buf) or len(self._st.items) != 1 or not self._nothing_pending():
            return b""
        if self._failed is not None or self.stopped:
            return b""
        rest = buf[pos:]
        self._buf = b""
        self._pos = 0
        self._received -= len(rest)  # they will be fed (and counted) again
        return rest

    def _wait(self, buf: bytes, pos: int) -> None:
        """Keep the token at ``pos``, whose body reaches ``_need_end``, for the next feed."""
        self._pos = pos
        need = self._need_end - pos
        if need > len(buf) - pos:
            self._acc = bytearray(memoryview(buf)[pos:])
            self._need = need
            self._buf = b""
            self._pos = 0

    def _start_big(self, buf: bytes, body: int, e: int, end: int) -> None:
        """Start collecting the body of a large STRING token that is not all here."""
        # (sized as the body arrives, not up front: a message that completes in the
        # same feed may still be alive, and two big buffers at once would double the
        # peak; tests/banana/test_hostile.py checks the memory bound)
        with memoryview(buf) as view:
            self._big = BigString(e - body, view[body:end])
        self._big_left = e - end

    def _token(  # noqa: PLR0917
        self, buf: bytes, pos: int, end: int, typ: int, header: int, body: int
    ) -> int:
        """The general path: take one token with full Foolscap semantics; return the
        position after it, or -1 if its body is not all here (``_need_end`` says how far
        it reaches)."""
        if typ not in _VALID_TYPES:
            if typ == LIST:
                raise BananaError("oldbanana peer detected, compatibility code not yet written")
            raise BananaError(f"Invalid Type Byte 0x{typ:x}")
        st = self._st
        # tokens with a body must be complete before any state changes, so that
        # a token split across feeds is handled once
        if typ in _SIZED or typ == ERROR:
            if typ == ERROR and header > SIZE_LIMIT:
                raise BananaError("oversized ERROR token")
            e = body + header
        elif typ == FLOAT:
            e = body + 8
        else:
            e = body
        if e > end and typ not in _SIZED:
            self._need_end = e
            return -1
        if typ == OPEN:  # where it is, for the message budget
            budget = self._budget
            budget.at = budget.base + body
            budget.token = budget.base + pos
        rejected = st.admit(typ, header)
        if e > end:  # a STRING, LONGINT or LONGNEG
            if rejected:
                self._skip = e - end
                self.skipped_bytes += end - body
                return end
            if typ == STRING and header >= _BIG_TOKEN:
                self._start_big(buf, body, e, end)
                return end
            self._need_end = e
            return -1
        if typ == OPEN:
            st.open_token(header, rejected)
        elif typ == CLOSE:
            st.close_token(header)
        elif typ == ABORT:
            if not rejected:
                st.abort()
        elif typ == ERROR:
            self._events.append(ErrorReceived(buf[body:e]))
            self.stopped = True
        elif typ == PING:
            self._events.append(PingReceived(header))
        elif typ == PONG:
            self._events.append(PongReceived(header))
        elif not rejected:  # a value
            obj: object
            if typ == INT:
                obj = header
            elif typ == STRING:
                obj = buf[body:e]
            elif typ == NEG:
                obj = -header
            elif typ == FLOAT:
                obj = _unpack_double(buf, body)[0]
            elif typ == LONGINT:
                obj = int.from_bytes(buf[body:e], "big")
            elif typ == LONGNEG:
                obj = -int.from_bytes(buf[body:e], "big")
            else:  # VOCAB
                obj = self._tables.words.get(header)
                if obj is None:
                    raise BananaError(f"unknown VOCAB index {header}")
            st.value(obj)
        return e
