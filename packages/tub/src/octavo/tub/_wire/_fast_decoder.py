"""Whole-message fast paths for the commonest PB messages.

Most calls and answers carry only simple values: ints, floats, byte strings, short
strs, None and booleans, and lists, tuples and dicts of them (two levels of containers
at most: a log event is a dict holding tuples). For those, the codec's
general machinery (a slicer or an unslicer per sequence, a method call per token) costs
more than the message itself.
This module writes and reads such messages in one pass, with exactly the bytes and the
effects of the general path:

- :class:`~._fast_encoder.FastEncoder` writes ``call`` and ``answer`` messages whose
  values are all simple, with the bytes the general encoder writes (its module).
- :class:`FastDecoder` reads whole ``call`` and ``answer`` messages of that shape at a
  message boundary and hands them to the connection as the ``call``/``answer``
  unslicers would. It decides nothing itself: it asks the connection's
  :class:`~._admission.Admission` (the rule the unslicers ask) and takes a message
  only if it is admitted and needs no further checks (argument or result
  constraints); for anything else it stops, and the general decoder reads that
  message, with its errors and its checks. A container counts as the general path
  counts it: its OPEN and each item (a dict's keys and values) are objects of the
  message budget (``Decoder.sure_message_objects``; the reader stops as soon as a
  container holds more than the budget surely admits), and a sequence in it is one
  level deeper than the container (``max_depth``). A dict whose keys repeat or cannot
  be hashed is left to the general path, which says what was wrong.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from struct import Struct
from typing import TYPE_CHECKING, Any

from octavo.banana import (
    CLOSE,
    FLOAT,
    INT,
    LONGINT,
    LONGNEG,
    NEG,
    OPEN,
    SIZE_LIMIT,
    STRING,
    VOCAB,
    Decoder,
    read_header,
)
from octavo.tub._errors import Violation

from ._admission import Admission
from ._events import AnswerReceived, CallReceived

if TYPE_CHECKING:
    from ._context import WireConnection

__all__ = ["FastDecoder"]

_DOUBLE = Struct(">d")
#: the fast decoder reads headers of up to five digits (numbers below 2**35, every INT)
#: with octavo.banana's header reader, which gives type byte 0 for a longer header or
#: one not all here: no branch takes 0, so such a message is left to the general path
_MAX_FAST_HEADER = 5


class _NotFastError(Exception):
    """The message is not one the fast path takes: the general path reads it."""


#: a message read: what takes its event (the connection's answer_arrived, or the
#: inbound calls' arrived_whole), the event, where the message ends, its OPENs
_Read = tuple[Callable[[Any], object], Any, int, int]
#: the ints INT and NEG carry: -2**31 to 2**31 - 1 (beyond: LONGINT, LONGNEG)
_B31 = 2**31
#: what FastDecoder._value gives for a CLOSE token
_CLOSED = object()
#: None as a value: OPEN (one to five digits), a one-digit index token, and the CLOSE
#: with the OPEN's digits as the OPEN wrote them (the index must name 'none')
_NONE = re.compile(rb"([\x00-\x7f]{1,5})\x88([\x00-\x7f])\x87\1\x89")


class FastDecoder:
    """Reads simple ``call`` and ``answer`` messages of ``conn`` at a message boundary.

    What may be taken is decided by the connection's :class:`Admission`, as on the
    general path: a call it refuses, or whose target checks its arguments, and an
    answer it refuses or that has a result constraint, are left to the general path.
    """

    def __init__(self, conn: WireConnection, decoder: Decoder) -> None:
        self._conn = conn
        self._decoder = decoder
        # (fixed when the decoder is made)
        self._max_depth = decoder.max_depth
        self._max_token = decoder.max_token_size
        self._max_long = min(SIZE_LIMIT, self._max_token)
        # the decoder's message budget decides what is refused: messages with more
        # objects than it surely admits are left to the general path
        self._max_objects = decoder.sure_message_objects
        #: the message being read: objects it may still have in containers, and the
        #: levels of sequences of the last container read
        self._left = 0
        self._levels = 0
        #: the inbound vocabulary, taken as consume() starts
        self._words: Mapping[int, bytes] = decoder.vocab_words
        #: messages read here so far (the others went to the general decoder)
        self.taken = 0

    def consume(self, data: bytes) -> tuple[int, int]:
        """Read the whole fast messages at the start of ``data``: (bytes used, messages)."""
        conn = self._conn
        decoder = self._decoder
        # (vocabulary messages are never read here: the table stays as it is meanwhile)
        self._words = decoder.vocab_words
        pos = 0
        done = 0
        end = len(data)
        counted = 0  # OPENs read: told to the decoder once, as consume returns
        try:
            while pos < end and not conn.closed:
                try:
                    act, event, after, opens = self._message(data, pos)
                except (_NotFastError, IndexError):
                    break
                counted += opens
                pos = after
                done += 1
                act(event)
        finally:
            decoder.count_opens(counted)
            self.taken += done
        return pos, done

    # -- reading (raises _NotFastError or IndexError; changes nothing but its scratch
    # counts, _left and _levels, which each message starts afresh) --------------------
    #
    # Most tokens have a one-digit header (a number below 128), read inline here;
    # anything else goes through octavo.banana's read_header, which reads any header.

    def _word(self, buf: bytes, p: int) -> tuple[bytes, int]:
        """A STRING or VOCAB token's bytes, and the position after it."""
        c = buf[p]
        typ = buf[p + 1]
        if c < 128 and typ > 127:  # a one-digit header (the usual), inline
            if typ == VOCAB:
                w = self._words.get(c)
                if w is None:
                    raise _NotFastError
                return w, p + 2
            e = p + 2 + c
            if typ != STRING or c > self._max_token or e > len(buf):
                raise _NotFastError
            return buf[p + 2 : e], e
        typ, header, p = read_header(buf, p, len(buf), _MAX_FAST_HEADER)
        if typ == VOCAB:
            w = self._words.get(header)
            if w is None:
                raise _NotFastError
            return w, p
        if typ != STRING or header > self._max_token:
            raise _NotFastError
        e = p + header
        if e > len(buf):
            raise _NotFastError
        return buf[p:e], e

    def _value(self, buf: bytes, p: int, room: int = 2) -> tuple[object, int, int]:
        """One simple value, or (``room`` levels of them at most) a list, tuple or dict
        of values: (value, position after it, OPENs in it); a CLOSE token instead:
        (``_CLOSED``, position after it, its number)."""
        # the header, up to three digits inline (read_header's unrolled reading)
        start = p
        c = buf[p]
        t = buf[p + 1]
        if c > 0x7F:
            typ, header, p = read_header(buf, p, len(buf), _MAX_FAST_HEADER)
        elif t > 0x7F:
            typ = t
            header = c
            p += 2
        else:
            typ = buf[p + 2]
            if typ > 0x7F:
                header = c + t * 128
                p += 3
            else:
                typ = buf[p + 3]
                if typ > 0x7F:
                    header = c + t * 128 + buf[p + 2] * 16384
                    p += 4
                else:
                    typ, header, p = read_header(buf, p, len(buf), _MAX_FAST_HEADER)
        if typ == INT:
            return header, p, 0
        if typ == OPEN:
            return self._sequence(buf, start, p, header, room)
        if typ == CLOSE:
            return _CLOSED, p, header
        if typ == STRING:
            e = p + header
            if e > len(buf) or header > self._max_token:
                raise _NotFastError
            return buf[p:e], e, 0
        if typ == VOCAB:  # a byte string of the vocabulary
            w = self._words.get(header)
            if w is None:
                raise _NotFastError
            return w, p, 0
        if typ == NEG:
            return -header, p, 0
        if typ in (LONGINT, LONGNEG):
            return self._long(buf, p, header, typ == LONGNEG)
        if typ == FLOAT:
            if p + 8 > len(buf):
                raise _NotFastError
            return _DOUBLE.unpack_from(buf, p)[0], p + 8, 0
        raise _NotFastError

    def _long(self, buf: bytes, p: int, size: int, negative: bool) -> tuple[object, int, int]:
        """:meth:`_value` of a LONGINT or LONGNEG body of ``size`` bytes at ``p``, taken
        only as the encoders write it: the fewest bytes (no leading zero), for a number
        past INT's or NEG's range, at most ``SIZE_LIMIT`` (and ``max_token_size``)
        bytes. Then what a constraint allows of the token (``maxBytes``, or none of it)
        follows from the number, which the admission judges; anything else is left to
        the general path."""
        e = p + size
        if not size or size > self._max_long or e > len(buf) or buf[p] == 0:
            raise _NotFastError
        n = int.from_bytes(buf[p:e], "big")
        if negative:
            if n <= _B31:
                raise _NotFastError
            return -n, e, 0
        if n < _B31:
            raise _NotFastError
        return n, e, 0

    def _sequence(
        self, buf: bytes, start: int, p: int, number: int, room: int
    ) -> tuple[object, int, int]:
        """:meth:`_value` after the OPEN numbered ``number``, from ``start`` to ``p``."""
        digits = p - start - 1  # (the OPEN's header)
        c = buf[p]
        if c < 0x80 and buf[p + 1] == VOCAB:  # the index token: mostly a vocabulary word
            kind = self._words.get(c)
            if kind is None:
                raise _NotFastError
            p += 2
        else:
            kind, p = self._word(buf, p)
        obj: object
        if kind == b"unicode":
            c = buf[p]
            if c < 0x80 and buf[p + 1] == STRING:
                e = p + 2 + c
                if e > len(buf) or c > self._max_token:
                    raise _NotFastError
                raw = buf[p + 2 : e]
                p = e
            else:
                raw, p = self._word(buf, p)
            try:
                obj = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise _NotFastError from None
        elif kind == b"none":
            obj = None
        elif kind == b"boolean":
            t, v, p = read_header(buf, p, len(buf), _MAX_FAST_HEADER)
            if t != INT or v > 1:
                raise _NotFastError
            obj = v == 1
        elif room and kind in {b"list", b"tuple", b"dict"}:
            return self._items(buf, p, number, kind, room - 1)
        else:
            raise _NotFastError
        # its CLOSE, with the OPEN's number written as the OPEN wrote it (a peer that
        # writes it otherwise: the general path reads the message)
        if buf[p + digits] != CLOSE or buf[p : p + digits] != buf[start : start + digits]:
            raise _NotFastError
        return obj, p + digits + 1, 1

    def _items(
        self, buf: bytes, p: int, number: int, kind: bytes, room: int
    ) -> tuple[object, int, int]:
        """The items of the list, tuple or dict (keys and values in turn) OPENed as
        ``number``, up to its CLOSE: (the container, position after it, OPENs in it,
        its own included). Counts its items against the message's objects
        (``self._left``) and leaves its levels of sequences in ``self._levels``."""
        items: list[object] = []
        opens = 1
        deepest = 0  # levels of sequences among the items
        left = self._left
        words = self._words
        while True:
            # a str (OPEN with a one- to four-digit number, the vocabulary's 'unicode',
            # a STRING of at most 127 bytes, CLOSE with the OPEN's digits), the
            # commonest item (a dict's keys), is read here; anything else by _value
            w = 0  # the OPEN's width: its digits
            c0 = buf[p]
            if c0 < 0x80:
                c1 = buf[p + 1]
                if c1 == OPEN:
                    w = 1
                elif c1 < 0x80:
                    c2 = buf[p + 2]
                    if c2 == OPEN:
                        w = 2
                    elif c2 < 0x80:
                        c3 = buf[p + 3]
                        if c3 == OPEN:
                            w = 3
                        elif c3 < 0x80 and buf[p + 4] == OPEN:  # (a long-lived connection)
                            w = 4
            q = p + w + 1  # (after the OPEN)
            if (
                w
                and buf[q + 1] == VOCAB
                and buf[q + 3] == STRING
                and (c := buf[q + 2]) < 0x80
                and c <= self._max_token
                and words.get(buf[q]) == b"unicode"
            ):
                q += 4
                e = q + c  # its CLOSE: the OPEN's digits, as the OPEN wrote them
                if buf[e + w] != CLOSE or buf[e] != c0:
                    raise _NotFastError
                if w > 1 and (buf[e + 1] != c1 or (w > 2 and buf[e + 2] != c2)):
                    raise _NotFastError
                if w > 3 and buf[e + 3] != c3:
                    raise _NotFastError
                try:
                    value: object = buf[q:e].decode("utf-8")
                except UnicodeDecodeError:
                    raise _NotFastError from None
                p = e + w + 1
                n = 1
            else:
                value, p, n = self._value(buf, p, room)
                if value is _CLOSED:
                    if n != number:
                        raise _NotFastError
                    break
            if len(items) >= left:
                raise _NotFastError  # more objects than the budget surely admits
            items.append(value)
            if n:
                opens += n
                if n > 1:  # a container holding sequences: its levels
                    deepest = max(deepest, self._levels)
                elif not deepest:
                    deepest = 1
        self._left -= len(items)
        self._levels = deepest + 1
        if kind == b"list":
            return items, p, opens
        if kind == b"tuple":
            return tuple(items), p, opens
        # a dict: as the general path builds it, or (a key unhashable or repeated, an
        # odd count) left to the general path, which says what was wrong
        it = iter(items)
        try:
            d = dict(zip(it, it, strict=False))
        except TypeError:
            raise _NotFastError from None
        if 2 * len(d) != len(items):
            raise _NotFastError
        return d, p, opens

    def _message(self, buf: bytes, p: int) -> _Read:
        """Read one message: (what takes it, its event, where it ends, its OPENs);
        nothing happens yet."""
        start = p
        # the OPEN: one to four digits inline (read_header's reading), else read_header
        if buf[p + 1] == OPEN and buf[p] < 0x80:
            p += 2
        elif buf[p + 2] == OPEN and buf[p] < 0x80 and buf[p + 1] < 0x80:
            p += 3
        elif buf[p + 3] == OPEN and buf[p] < 0x80 and buf[p + 1] < 0x80 and buf[p + 2] < 0x80:
            p += 4
        elif buf[p + 4] == OPEN and buf[p : p + 4].isascii():  # (a long-lived connection)
            p += 5
        else:
            typ, _, p = read_header(buf, p, len(buf), _MAX_FAST_HEADER)
            if typ != OPEN:
                raise _NotFastError
        # the message's CLOSE must carry these digits, as the OPEN wrote them (a peer
        # that writes them otherwise: the general path reads the message)
        digits = buf[start : p - 1]
        c = buf[p]
        if c < 0x80 and buf[p + 1] == VOCAB:  # a vocabulary word (the usual), inline
            kind = self._words.get(c)
            p += 2
        else:
            kind, p = self._word(buf, p)
        if kind not in (b"answer", b"call"):
            raise _NotFastError
        # both start with their reqID
        reqid = buf[p]
        if buf[p + 1] == INT and reqid < 0x80:  # one to four digits, inline
            p += 2
        elif buf[p + 2] == INT and reqid < 0x80 and buf[p + 1] < 0x80:
            reqid += buf[p + 1] * 128
            p += 3
        elif buf[p + 3] == INT and reqid < 0x80 and buf[p + 1] < 0x80 and buf[p + 2] < 0x80:
            reqid += buf[p + 1] * 128 + buf[p + 2] * 16384
            p += 4
        elif buf[p + 4] == INT and buf[p : p + 4].isascii():
            reqid += buf[p + 1] * 128 + buf[p + 2] * 16384 + buf[p + 3] * 2097152
            p += 5
        else:
            typ, reqid, p = read_header(buf, p, len(buf), _MAX_FAST_HEADER)
            if typ != INT:
                raise _NotFastError
        if kind == b"answer":
            return self._answer(buf, p, digits, reqid)
        return self._call(buf, p, digits, reqid)

    def _answer(self, buf: bytes, p: int, digits: bytes, reqid: int) -> _Read:
        self._left = self._max_objects
        m = _NONE.match(buf, p)
        if m is not None and self._words.get(m[2][0]) == b"none":  # the commonest result
            result: object = None
            p = m.end()
            opens = 1
        else:
            result, p, opens = self._value(buf, p)
            if result is _CLOSED:
                raise _NotFastError
        width = len(digits)
        if buf[p + width] != CLOSE or not buf.startswith(digits, p):
            raise _NotFastError
        p += width + 1
        # the answer, its reqID and its result are 3 objects, plus what containers hold;
        # a sequence is one level deeper than the answer
        levels = (self._levels if opens > 1 else 1) if opens else 0
        if self._max_depth < 1 + levels or self._left < 3:
            raise _NotFastError  # the general path refuses the nesting or the objects
        conn = self._conn
        try:
            req = Admission.admit_answer(conn.waiting, reqid)
        except Violation:
            raise _NotFastError from None
        if req.constraint is not None and not Admission.answer_taken_whole(req, result):
            raise _NotFastError  # a result to check: the general path does it
        return conn.answer_arrived, AnswerReceived(req, result), p, opens + 1

    def _call(self, buf: bytes, p: int, digits: bytes, reqid: int) -> _Read:
        clid = buf[p]
        if clid < 128 and buf[p + 1] == INT:  # a one-digit clid (the usual), inline
            p += 2
        else:
            typ, clid, p = read_header(buf, p, len(buf), _MAX_FAST_HEADER)
            if typ == NEG:
                clid = -clid
            elif typ != INT:
                raise _NotFastError
        c = buf[p]
        if c < 0x80 and buf[p + 1] == STRING and c <= self._max_token:  # (the usual)
            e = p + 2 + c
            if e > len(buf):
                raise _NotFastError
            raw_name = buf[p + 2 : e]
            p = e
        else:
            raw_name, p = self._word(buf, p)
        args_start = p
        args_number = buf[p]
        if buf[p + 1] == OPEN and args_number < 0x80:  # one to four digits, inline
            p += 2
        elif buf[p + 2] == OPEN and args_number < 0x80 and buf[p + 1] < 0x80:
            args_number += buf[p + 1] * 128
            p += 3
        elif buf[p + 3] == OPEN and args_number < 0x80 and buf[p + 1] < 0x80 and buf[p + 2] < 0x80:
            args_number += buf[p + 1] * 128 + buf[p + 2] * 16384
            p += 4
        elif buf[p + 4] == OPEN and buf[p : p + 4].isascii():
            args_number += buf[p + 1] * 128 + buf[p + 2] * 16384 + buf[p + 3] * 2097152
            p += 5
        else:
            typ, args_number, p = read_header(buf, p, len(buf), _MAX_FAST_HEADER)
            if typ != OPEN:
                raise _NotFastError
        aw = p - 1 - args_start
        args_digits = buf[args_start : p - 1]
        c = buf[p]
        if c < 0x80 and buf[p + 1] == VOCAB:  # a vocabulary word (the usual), inline
            kind = self._words.get(c)
            p += 2
        else:
            kind, p = self._word(buf, p)
        if kind != b"arguments":
            raise _NotFastError
        numargs = buf[p]
        if numargs == INT:  # no argument
            numargs = 0
            p += 1
        elif numargs < 128 and buf[p + 1] == INT:  # fewer than 128, inline
            p += 2
        else:
            typ, numargs, p = read_header(buf, p, len(buf), _MAX_FAST_HEADER)
            if typ != INT:
                raise _NotFastError
        # objects as the budget counts them: call, reqID, clid, method name, arguments,
        # the count, each argument, then each keyword's name and value
        if 6 + numargs > self._max_objects:
            raise _NotFastError
        self._left = self._max_objects  # less the objects in containers, as they close
        opens = 2
        levels = 0  # levels of sequences in the arguments (the deepest)
        args: list[Any] = []
        if numargs:  # (a call without arguments, the commonest, skips the loop's set-up)
            for _ in range(numargs):
                value, p, n = self._value(buf, p)
                if value is _CLOSED:
                    raise _NotFastError
                args.append(value)
                if n:
                    opens += n
                    levels = self._deepest(levels, n)
        kwargs: dict[str, Any] = {}
        try:
            while True:
                if buf[p + aw] == CLOSE and buf.startswith(args_digits, p):
                    p += aw + 1  # the arguments' CLOSE, as their OPEN wrote its digits
                    break
                typ, header, p = read_header(buf, p, len(buf), _MAX_FAST_HEADER)
                if typ == CLOSE:
                    if header != args_number:
                        raise _NotFastError
                    break
                if typ == STRING and header <= self._max_token:
                    e = p + header
                    if e > len(buf):
                        raise _NotFastError
                    raw = buf[p:e]
                    p = e
                elif typ == VOCAB:
                    w = self._words.get(header)
                    if w is None:
                        raise _NotFastError
                    raw = w
                else:
                    raise _NotFastError
                if 8 + numargs + 2 * len(kwargs) > self._left:
                    raise _NotFastError
                name = Admission.kwarg_name(raw, kwargs)  # Violation: the general path refuses it
                value, p, n = self._value(buf, p)
                if value is _CLOSED:
                    raise _NotFastError
                kwargs[name] = value
                if n:
                    opens += n
                    levels = self._deepest(levels, n)
            width = len(digits)
            if buf[p + width] != CLOSE or not buf.startswith(digits, p):
                raise _NotFastError
            p += width + 1
            # the arguments are two levels down (call, arguments); the objects: call,
            # reqID, clid, name, arguments, count, the arguments, each keyword's name
            # and value, and what containers hold (taken from self._left as they closed)
            if self._max_depth < 2 + levels or 6 + numargs + 2 * len(kwargs) > self._left:
                raise _NotFastError  # the general path refuses the nesting or the objects
            admitted = self._conn.admission.admit_call(reqid, clid, raw_name)
        except Violation:
            raise _NotFastError from None
        if admitted.argument_constraint is not None and not Admission.call_taken_whole(
            admitted, args, kwargs
        ):
            raise _NotFastError  # arguments to check: the general path does it
        # (the schema, if any, took the whole call: call_taken_whole)
        schema = admitted.schema
        event = CallReceived(
            reqid, admitted.target, admitted.methodname, args, kwargs, schema, schema is not None
        )
        return self._conn.inbound.arrived_whole, event, p, opens

    def _deepest(self, levels: int, opens: int) -> int:
        """``levels``, or those of the value just read with ``opens`` OPENs if deeper
        (one OPEN: a str, None, bool or a container of tokens; more: a container, whose
        levels ``_items`` left)."""
        return max(levels, self._levels if opens > 1 else 1)
