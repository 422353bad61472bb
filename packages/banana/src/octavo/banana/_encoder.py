"""The Banana encoder: Python objects to bytes, one top-level object at a time.

:class:`Encoder` holds a connection's state: the OPEN counter, which continues across
messages, and the outbound vocabulary with the index tokens it implies. The tokens of
small numbers are precomputed here; ``_emitter.py`` turns objects into tokens.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._emitter import Emitter, Tables, make_emitter
from ._errors import Violation
from ._slicers import SliceContext, SlicerRegistry
from ._switch import fast_paths_default
from ._tokens import ERROR, PING, PONG, SIZE_LIMIT, b128_encode

__all__ = ["Encoder"]

_TABLE = 2048  # precomputed headers for values below this
_INT_TABLE = 16384  # every INT token with a header of up to two bytes
# two-byte base-128 forms of 0..16383 (low seven bits first); the first 128 are
# not canonical headers on their own, only the low part of a longer header
_PAIR = [bytes((i & 0x7F, i >> 7)) for i in range(_INT_TABLE)]
_HEAD14 = [bytes((i,)) for i in range(0x80)] + _PAIR[0x80:]  # canonical headers
_OPEN_TABLE = _INT_TABLE  # OPEN/CLOSE headers of up to two bytes are precomputed
_OPEN_T = [h + b"\x88" for h in _HEAD14]
_CLOSE_T = [h + b"\x89" for h in _HEAD14]
_INT_T = [h + b"\x81" for h in _HEAD14]
# the third byte of a three-byte header, with the type byte
_THIRD_OPEN = [bytes((i, 0x88)) for i in range(0x80)]
_THIRD_CLOSE = [bytes((i, 0x89)) for i in range(0x80)]
_THIRD_INT = [bytes((i, 0x81)) for i in range(0x80)]
_OPEN3_LIMIT = 1 << 21
#: headers of four digits (numbers below this) are two pairs: a connection past ~1M
#: calls numbers its OPENs so, and its request ids past ~2M
_OPEN4_LIMIT = 1 << 28
_NEG_T = [b128_encode(i) + b"\x83" for i in range(_TABLE)]
_STR_T = [b128_encode(i) + b"\x82" for i in range(_TABLE)]
_VOCAB_T = [b128_encode(i) + b"\x87" for i in range(_TABLE)]
_B31 = 2**31

_BUILTIN_OPENTYPES = (
    "unicode",
    "list",
    "tuple",
    "dict",
    "set",
    "immutable-set",
    "none",
    "boolean",
    "reference",
    "decimal",
    "set-vocab",
    "add-vocab",
)


_PLAIN_OPENTYPES: dict[str, bytes] = {
    name: _STR_T[len(name)] + name.encode() for name in _BUILTIN_OPENTYPES
}


#: an outbound vocabulary shared between encoders: (string -> index, opentype tokens,
#: longest string)
_SharedVocab = tuple[dict[bytes, int], dict[str, bytes], int]
_SHARED_VOCABS: dict[tuple[bytes, ...], _SharedVocab] = {}
#: tables shared at most (the negotiated initial ones are few; others are not shared)
_MAX_SHARED_VOCABS = 16


def int_token(o: int) -> bytes:
    """The token for the int ``o``: INT, NEG, LONGINT or LONGNEG, as Foolscap sends it."""
    if o >= 0:
        if o < _INT_TABLE:
            return _INT_T[o]
        if o < _OPEN3_LIMIT:  # a three-byte header (a busy connection's request ids)
            return _PAIR[o & 0x3FFF] + _THIRD_INT[o >> 14]
        if o < _OPEN4_LIMIT:  # four bytes (a long-lived connection's)
            return _PAIR[o & 0x3FFF] + _PAIR[o >> 14] + b"\x81"
        if o < _B31:
            return b128_encode(o) + b"\x81"
        body = o.to_bytes((o.bit_length() + 7) // 8, "big")
        return b128_encode(len(body)) + b"\x85" + body
    m = -o
    if m < _TABLE:
        return _NEG_T[m]
    if m <= _B31:
        return b128_encode(m) + b"\x83"
    body = m.to_bytes((m.bit_length() + 7) // 8, "big")
    return b128_encode(len(body)) + b"\x86" + body


def open_close_tokens(k: int) -> tuple[bytes, bytes]:
    """The OPEN and CLOSE tokens of the sequence numbered ``k``."""
    if k < _OPEN_TABLE:
        return _OPEN_T[k], _CLOSE_T[k]
    if k < _OPEN3_LIMIT:
        low = _PAIR[k & 0x3FFF]
        return low + _THIRD_OPEN[k >> 14], low + _THIRD_CLOSE[k >> 14]
    if k < _OPEN4_LIMIT:
        h = _PAIR[k & 0x3FFF] + _PAIR[k >> 14]
        return h + b"\x88", h + b"\x89"
    h = b128_encode(k)
    return h + b"\x88", h + b"\x89"


# the encoder's own names for them (called directly: a wrapper would cost a call each)
_int_token = int_token
_open_close = open_close_tokens


def _str_header(n: int) -> bytes:
    return _STR_T[n] if n < _TABLE else b128_encode(n) + b"\x82"


class Encoder:
    """A per-connection Banana encoder (sans-IO: returns bytes, writes nothing).

    The OPEN counter continues across messages, as Foolscap's does; shared
    references (and cycles) are scoped to one top-level object.

    :param slicers: extra slicers by Python type (the extension point).
    :param context: any object; custom slicers see it as ``ctx.context``.
    :param vocab: an initial outbound vocabulary, as negotiated (not sent).
    :param fast_paths: False: no shortcut for lists of small ints (the same bytes,
        element by element); None: :func:`fast_paths_default`.
    """

    def __init__(
        self,
        *,
        slicers: SlicerRegistry | None = None,
        context: object = None,
        vocab: Sequence[bytes | str] | None = None,
        fast_paths: bool | None = None,
    ) -> None:
        self._fast = fast_paths_default() if fast_paths is None else bool(fast_paths)
        self._slicers = slicers if slicers is not None else SlicerRegistry()
        self._ctx = SliceContext(context)
        #: the number of OPEN tokens emitted so far (the next OPEN's number); an
        #: attribute, not a property: octavo-tub's fast path reads it for every message
        self.open_count = 0
        self._vocab: dict[bytes, int] = {}
        self._vocab_shared = False
        self._next_vocab = 0
        self._pending_vocab: set[bytes] = set()
        self._ot: dict[str, bytes] = {}
        self._emitters: list[Emitter] = []
        #: a number that changes whenever the outbound vocabulary changes (for caches of
        #: :meth:`bytes_token` and :meth:`index_token` results; an attribute, as above)
        self.vocab_generation = 0
        self._rebuild_opentypes()
        if vocab:
            self.populateVocabTable(vocab)

    # -- state ---------------------------------------------------------------

    @property
    def context(self) -> object:
        """The per-connection context object given to custom slicers."""
        return self._ctx.context

    @property
    def slicers(self) -> SlicerRegistry:
        """This encoder's slicer registry."""
        return self._slicers

    @property
    def fast_paths(self) -> bool:
        """Whether this encoder uses its fast path (see ``fast_paths=``)."""
        return self._fast

    # -- for whole-message fast paths of an extension (see octavo.tub) ---------------

    def bytes_token(self, data: bytes) -> bytes:
        """The token this encoder sends for the byte string ``data`` (VOCAB if it can)."""
        # (a long string cannot be a vocabulary word: do not hash it to find out)
        idx = self._vocab.get(data) if len(data) <= self._max_vocab_len else None
        if idx is not None:
            return _VOCAB_T[idx] if idx < _TABLE else b128_encode(idx) + b"\x87"
        n = len(data)  # (_str_header, inline: octavo-tub calls this per str and bytes)
        return (_STR_T[n] if n < _TABLE else b128_encode(n) + b"\x82") + data

    _bytes_token = bytes_token  # (the encoder's own name for it)

    def bytes_tokens(self, data: bytes) -> tuple[bytes, ...]:
        """:meth:`bytes_token` as pieces: ``(VOCAB,)`` or ``(header, data)``, where
        ``data`` is the object given, not a copy (for big byte strings)."""
        idx = self._vocab.get(data) if len(data) <= self._max_vocab_len else None
        if idx is not None:
            return (_VOCAB_T[idx] if idx < _TABLE else b128_encode(idx) + b"\x87",)
        return (_str_header(len(data)), data)

    def index_token(self, name: str) -> bytes:
        """The index token this encoder sends for the opentype ``name``."""
        tok = self._ot.get(name)
        return tok if tok is not None else self._bytes_token(name.encode())

    def take_opens(self, n: int) -> int:
        """Number ``n`` OPEN tokens written by the caller: the first one's number.

        A caller that writes a whole top-level message itself (with
        :func:`open_close_tokens`, :func:`int_token`, :meth:`bytes_token`,
        :meth:`index_token`) takes its OPEN numbers here, so that the numbering stays
        what this encoder would have written.
        """
        if n < 0:
            raise ValueError("n must be >= 0")
        k = self.open_count
        self.open_count = k + n
        return k

    def take_nested_opens(self) -> tuple[bytes, bytes, bytes, bytes]:
        """Number two OPEN tokens written by the caller, the second inside the first
        (a call and its arguments, an answer and its None): the outer OPEN, the inner
        OPEN, the inner CLOSE and the outer CLOSE. :meth:`take_opens` with 2 and
        :func:`open_close_tokens` of both numbers, in one call."""
        k = self.open_count
        self.open_count = k + 2
        if k + 1 < _OPEN_TABLE:
            return _OPEN_T[k], _OPEN_T[k + 1], _CLOSE_T[k + 1], _CLOSE_T[k]
        if k >= _OPEN_TABLE and k + 1 < _OPEN3_LIMIT:  # three digits each (a busy connection)
            low, high = _PAIR[k & 0x3FFF], k >> 14
            low1, high1 = _PAIR[(k + 1) & 0x3FFF], (k + 1) >> 14
            return (
                low + _THIRD_OPEN[high],
                low1 + _THIRD_OPEN[high1],
                low1 + _THIRD_CLOSE[high1],
                low + _THIRD_CLOSE[high],
            )
        if k >= _OPEN3_LIMIT and k + 1 < _OPEN4_LIMIT:  # four digits each (a long-lived one)
            outer = _PAIR[k & 0x3FFF] + _PAIR[k >> 14]
            inner = _PAIR[(k + 1) & 0x3FFF] + _PAIR[(k + 1) >> 14]
            return outer + b"\x88", inner + b"\x88", inner + b"\x89", outer + b"\x89"
        outer_open, outer_close = _open_close(k)
        inner_open, inner_close = _open_close(k + 1)
        return outer_open, inner_open, inner_close, outer_close

    def _rebuild_opentypes(self, shared: _SharedVocab | None = None) -> None:
        self.vocab_generation += 1
        self._emitters = []  # they hold the old tables
        if shared is not None:
            self._vocab, self._ot, self._max_vocab_len = shared
            return
        self._max_vocab_len = max(map(len, self._vocab), default=0)
        if not self._vocab:
            self._ot = _PLAIN_OPENTYPES
            return
        self._ot = {name: self._bytes_token(name.encode()) for name in _BUILTIN_OPENTYPES}

    # -- vocabulary ----------------------------------------------------------

    def populateVocabTable(self, strings: Sequence[bytes | str]) -> None:
        """Install a negotiated initial vocabulary without sending anything.

        Encoders given the same table share its dictionaries (a connection holds
        two per direction otherwise) until one of them changes its vocabulary.
        """
        table = tuple(s.encode() if isinstance(s, str) else bytes(s) for s in strings)
        self._next_vocab = len(table)
        shared = _SHARED_VOCABS.get(table)
        if shared is not None:
            self._vocab_shared = True
            self._rebuild_opentypes(shared)
            return
        self._vocab = {s: i for i, s in enumerate(table)}
        self._rebuild_opentypes()
        self._vocab_shared = len(_SHARED_VOCABS) < _MAX_SHARED_VOCABS
        if self._vocab_shared:
            _SHARED_VOCABS[table] = (self._vocab, self._ot, self._max_vocab_len)

    def set_vocab(self, strings: Sequence[bytes | str]) -> bytes:
        """Return a ``set-vocab`` sequence and start using ``strings`` as the vocabulary."""
        table = [s.encode() if isinstance(s, str) else bytes(s) for s in strings]
        if len(set(table)) != len(table):
            raise ValueError("duplicate vocabulary strings")
        self._vocab = {}  # the sequence itself is not abbreviated
        self._vocab_shared = False
        self._rebuild_opentypes()
        k = self.open_count
        self.open_count += 1
        out = [b128_encode(k), b"\x88", self._ot["set-vocab"]]
        for i, s in enumerate(table):
            out.append(_int_token(i))
            out.append(_str_header(len(s)) + s)
        out.append(b128_encode(k) + b"\x89")
        self.populateVocabTable(table)
        return b"".join(out)

    def add_vocab(self, string: bytes | str) -> bytes:
        """Return an ``add-vocab`` sequence and add ``string`` to the vocabulary.

        Returns ``b""`` if the string is already in the vocabulary.
        """
        s = string.encode() if isinstance(string, str) else bytes(string)
        if s in self._vocab:
            return b""
        index = self._next_vocab
        self._next_vocab += 1
        k = self.open_count
        self.open_count += 1
        data = b"".join(
            (
                b128_encode(k),
                b"\x88",
                self._ot["add-vocab"],
                _int_token(index),
                _str_header(len(s)),
                s,
                b128_encode(k),
                b"\x89",
            )
        )
        if self._vocab_shared:  # copy on write
            self._vocab = dict(self._vocab)
            self._vocab_shared = False
        self._vocab[s] = index
        self._rebuild_opentypes()
        return data

    @property
    def vocab(self) -> dict[bytes, int]:
        """A copy of the outbound vocabulary (string to index)."""
        return dict(self._vocab)

    # -- control tokens --------------------------------------------------------

    @staticmethod
    def ping(number: int = 0) -> bytes:
        """A PING token (the peer answers with PONG of the same number)."""
        return (b128_encode(number) if number else b"") + bytes((PING,))

    @staticmethod
    def pong(number: int = 0) -> bytes:
        """A PONG token."""
        return (b128_encode(number) if number else b"") + bytes((PONG,))

    @staticmethod
    def error(msg: bytes | str) -> bytes:
        """An ERROR token (after sending it, drop the connection); truncated to SIZE_LIMIT."""
        data = msg.encode("utf-8", "replace") if isinstance(msg, str) else bytes(msg)
        if len(data) > SIZE_LIMIT:
            data = data[: SIZE_LIMIT - 10] + b"..."
        return b128_encode(len(data)) + bytes((ERROR,)) + data

    # -- objects ---------------------------------------------------------------

    def encode(self, obj: object) -> bytes:
        """Encode one top-level object; raise Violation if it cannot be serialized.

        On Violation nothing is emitted and the OPEN counter is unchanged.
        """
        data, self.open_count = encode_message(self, obj, self.open_count)
        return data


def encode_message(encoder: Encoder, obj: object, start: int) -> tuple[bytes, int]:
    """Encode ``obj`` with ``encoder``'s tables, OPENs numbered from ``start``.

    Returns the bytes and the next OPEN number; does not change ``encoder``'s
    OPEN counter or vocabulary.
    """
    pool = encoder._emitters
    try:
        run = pool.pop()  # atomic: re-entrant and thread-safe without a lock
    except IndexError:
        run = make_emitter(
            _TABLES,
            encoder._vocab,
            encoder._max_vocab_len,
            encoder._ot,
            encoder._slicers,
            encoder._ctx,
            encoder._fast,
        )
    try:
        return run(obj, start)
    except RecursionError:
        raise Violation("object graph nested too deeply to serialize") from None
    except UnicodeEncodeError as e:
        raise Violation(f"cannot encode str as UTF-8: {e}") from None
    finally:
        pool.append(run)  # a pool replaced meanwhile (new vocabulary) is dropped


_TABLES = Tables(
    _OPEN_T, _CLOSE_T, _INT_T, _STR_T, _VOCAB_T, _PAIR, _THIRD_OPEN, _THIRD_CLOSE,
    _int_token, _open_close,
)  # fmt: skip
