"""Whole-message fast paths for the commonest PB messages.

Most calls and answers carry only simple values: ints, floats, byte strings, short
strs, None and booleans. For those, the codec's general machinery (a slicer or an
unslicer per sequence, a method call per token) costs more than the message itself.
This module writes and reads such messages in one pass, with exactly the bytes and the
effects of the general path:

- :class:`FastEncoder` writes ``call`` and ``answer`` messages whose values are all
  simple, numbering their OPENs through the encoder (``Encoder.take_opens``), so the
  bytes are those the general encoder writes (tests/tub/test_fastwire.py compares
  them). Anything else returns None and the caller uses the general encoder.
- :class:`FastDecoder` reads whole ``call`` and ``answer`` messages of that shape at a
  message boundary and hands them to the Broker as the ``call``/``answer``
  unslicers would. It only takes a message the general path would accept without a
  Violation (known clid, no argument constraints, a waiting request without a result
  constraint, strict UTF-8, no duplicate keyword, ...): for anything else it stops,
  and the general decoder reads that message, with its errors and its checks.
"""

from __future__ import annotations

from collections.abc import Callable
from struct import Struct
from typing import TYPE_CHECKING, Any

from octavo.banana import Decoder, Encoder, int_token, open_close_tokens

from ._call import InboundDelivery

if TYPE_CHECKING:
    from ._broker import Broker

__all__ = ["FastDecoder", "FastEncoder"]

_DOUBLE = Struct(">d")
_INT, _NEG, _STRING, _FLOAT, _VOCAB, _OPEN, _CLOSE = 0x81, 0x83, 0x82, 0x84, 0x87, 0x88, 0x89
#: ints the general encoder writes as one INT or NEG token
_SMALL_INT = 2**31
#: header bytes the fast decoder reads (numbers below 2**35); longer: the general path
_MAX_FAST_HEADER = 5
_FALSE, _TRUE = int_token(0), int_token(1)


class _NotFastError(Exception):
    """The message is not one the fast path takes: the general path reads it."""


# ================================================================ encoding


class FastEncoder:
    """Writes simple ``call`` and ``answer`` messages through ``encoder``'s tables."""

    def __init__(self, encoder: Encoder) -> None:
        self._encoder = encoder

    def call(
        self,
        reqid: int,
        clid: int,
        methodname: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> bytes | None:
        """The bytes of a call whose arguments are all simple, or None."""
        enc = self._encoder
        k = enc.open_count
        out: list[bytes] = [b"", enc.index_token("call"), int_token(reqid), int_token(clid)]
        out.append(enc.bytes_token(methodname.encode("utf-8")))
        out.append(b"")
        out.append(enc.index_token("arguments"))
        out.append(int_token(len(args)))
        n = k + 2
        for value in args:
            n = self._value(value, n, out)
            if n < 0:
                return None
        if kwargs:
            for name in sorted(kwargs):
                if type(name) is not str:
                    return None
                out.append(enc.bytes_token(name.encode("utf-8")))
                n = self._value(kwargs[name], n, out)
                if n < 0:
                    return None
        call_open, call_close = open_close_tokens(k)
        args_open, args_close = open_close_tokens(k + 1)
        out[0] = call_open
        out[5] = args_open
        out.append(args_close)
        out.append(call_close)
        enc.take_opens(n - k)
        return b"".join(out)

    def answer(self, reqid: int, result: object) -> bytes | None:
        """The bytes of an answer whose result is simple, or None."""
        enc = self._encoder
        k = enc.open_count
        out: list[bytes] = [b"", enc.index_token("answer"), int_token(reqid)]
        n = self._value(result, k + 1, out)
        if n < 0:
            return None
        opening, closing = open_close_tokens(k)
        out[0] = opening
        out.append(closing)
        enc.take_opens(n - k)
        return b"".join(out)

    def _value(self, value: Any, n: int, out: list[bytes]) -> int:
        """Append the tokens of a simple ``value`` whose first OPEN would be number
        ``n``; return the next OPEN number, or -1 if ``value`` is not simple."""
        t = type(value)
        if t is int:
            out.append(int_token(value))
            return n
        if t is bytes:
            out.append(self._encoder.bytes_token(value))
            return n
        if t is str:
            try:
                data = value.encode("utf-8")
            except UnicodeEncodeError:
                return -1  # the general encoder says why
            opening, closing = open_close_tokens(n)
            out.append(opening)
            out.append(self._encoder.index_token("unicode"))
            out.append(self._encoder.bytes_token(data))
            out.append(closing)
            return n + 1
        if value is None:
            opening, closing = open_close_tokens(n)
            out.append(opening)
            out.append(self._encoder.index_token("none"))
            out.append(closing)
            return n + 1
        if t is bool:
            opening, closing = open_close_tokens(n)
            out.append(opening)
            out.append(self._encoder.index_token("boolean"))
            out.append(_TRUE if value else _FALSE)
            out.append(closing)
            return n + 1
        if t is float:
            out.append(b"\x84" + _DOUBLE.pack(value))
            return n
        return -1


# ================================================================ decoding


class _Reader:
    """Reads tokens from ``buf`` starting at ``pos``; raises _NotFastError at anything
    the fast path does not take (including the end of the buffer)."""

    __slots__ = ("buf", "end", "max_string", "opens", "pos", "vocab_word")

    def __init__(
        self, buf: bytes, pos: int, max_string: int, vocab_word: Callable[[int], bytes | None]
    ) -> None:
        self.buf = buf
        self.pos = pos
        self.end = len(buf)
        self.max_string = max_string
        self.vocab_word = vocab_word
        self.opens = 0

    def token(self) -> tuple[int, int]:
        """(type byte, header) of the next token; for STRING the body is not read."""
        buf = self.buf
        pos = self.pos
        end = self.end
        header = 0
        shift = 0
        p = pos
        while p < end:
            c = buf[p]
            p += 1
            if c & 0x80:
                self.pos = p
                return c, header
            if p - pos > _MAX_FAST_HEADER:
                break
            header |= c << shift
            shift += 7
        raise _NotFastError

    def string_body(self, size: int) -> bytes:
        if size > self.max_string:
            raise _NotFastError
        p = self.pos
        e = p + size
        if e > self.end:
            raise _NotFastError
        self.pos = e
        return self.buf[p:e]

    def vocab(self, index: int) -> bytes:
        """The inbound vocabulary's string at ``index``."""
        w = self.vocab_word(index)
        if w is None:
            raise _NotFastError
        return w

    def word(self) -> bytes:
        """A STRING or VOCAB token's bytes."""
        typ, header = self.token()
        if typ == _STRING:
            return self.string_body(header)
        if typ == _VOCAB:
            return self.vocab(header)
        raise _NotFastError

    def close(self, number: int) -> None:
        typ, header = self.token()
        if typ != _CLOSE or header != number:
            raise _NotFastError

    def value(self) -> object:
        """One simple value."""
        typ, header = self.token()
        if typ == _INT:
            return header
        if typ == _STRING:
            return self.string_body(header)
        if typ == _NEG:
            return -header
        if typ == _VOCAB:  # a byte string of the vocabulary
            return self.vocab(header)
        if typ == _FLOAT:
            p = self.pos
            if p + 8 > self.end:
                raise _NotFastError
            self.pos = p + 8
            return _DOUBLE.unpack_from(self.buf, p)[0]
        if typ != _OPEN:
            raise _NotFastError
        self.opens += 1
        kind = self.word()
        obj: object
        if kind == b"unicode":
            try:
                obj = self.word().decode("utf-8")
            except UnicodeDecodeError:
                raise _NotFastError from None
        elif kind == b"none":
            obj = None
        elif kind == b"boolean":
            t, v = self.token()
            if t != _INT or v > 1:
                raise _NotFastError
            obj = v == 1
        else:
            raise _NotFastError
        self.close(header)
        return obj


class FastDecoder:
    """Reads simple ``call`` and ``answer`` messages for ``broker`` at a boundary."""

    def __init__(
        self,
        broker: Broker,
        decoder: Decoder,
        *,
        max_method_name: int,
        max_kwarg_name: int,
        default_get_constraint: object,
    ) -> None:
        self._broker = broker
        self._decoder = decoder
        self._max_method_name = max_method_name
        self._max_kwarg_name = max_kwarg_name
        self._default_get_constraint = default_get_constraint

    def consume(self, data: bytes) -> tuple[int, int]:
        """Read the whole fast messages at the start of ``data``: (bytes used, messages)."""
        broker = self._broker
        decoder = self._decoder
        pos = 0
        done = 0
        end = len(data)
        while pos < end and not broker.disconnected:
            r = _Reader(data, pos, decoder.max_token_size, decoder.vocab_word)
            try:
                act = self._message(r)
            except _NotFastError:
                break
            decoder.count_opens(r.opens)
            pos = r.pos
            done += 1
            act()
        return pos, done

    def _message(self, r: _Reader) -> Callable[[], object]:
        """Read one message; return what it does (nothing has happened yet)."""
        typ, number = r.token()
        if typ != _OPEN:
            raise _NotFastError
        r.opens += 1
        kind = r.word()
        if kind == b"answer":
            return self._answer(r, number)
        if kind == b"call":
            return self._call(r, number)
        raise _NotFastError

    def _answer(self, r: _Reader, number: int) -> Callable[[], object]:
        typ, reqid = r.token()
        if typ != _INT:
            raise _NotFastError
        result = r.value()
        r.close(number)
        broker = self._broker
        req = broker.waitingForAnswers.get(reqid)
        if req is None or req.constraint is not None:
            raise _NotFastError  # unknown request (a Violation), or a result to check
        return lambda: broker.answerReceived(req, result)

    def _call(self, r: _Reader, number: int) -> Callable[[], object]:
        broker = self._broker
        typ, reqid = r.token()
        if typ != _INT:
            raise _NotFastError
        typ, clid = r.token()
        if typ == _NEG:
            clid = -clid
        elif typ != _INT:
            raise _NotFastError
        raw_name = r.word()
        typ, args_number = r.token()
        if typ != _OPEN:
            raise _NotFastError
        r.opens += 1
        if r.word() != b"arguments":
            raise _NotFastError
        typ, numargs = r.token()
        if typ != _INT:
            raise _NotFastError
        args = [r.value() for _ in range(numargs)]
        kwargs: dict[str, Any] = {}
        while True:
            typ, header = r.token()
            if typ == _CLOSE:
                if header != args_number:
                    raise _NotFastError
                break
            if typ == _STRING and header <= self._max_kwarg_name:
                raw = r.string_body(header)
            elif typ == _VOCAB:
                raw = r.vocab(header)
            else:
                raise _NotFastError
            try:
                name = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise _NotFastError from None
            if name in kwargs:
                raise _NotFastError
            kwargs[name] = r.value()
        r.close(number)
        # what the general path would refuse (with a Violation) it reads itself
        if reqid:
            if (
                reqid in broker.activeLocalCalls
                or len(broker.activeLocalCalls) >= broker.max_inbound_calls
            ):
                raise _NotFastError
        elif len(broker.inboundDeliveryQueue) >= broker.max_inbound_calls:
            raise _NotFastError
        if len(raw_name) > self._max_method_name:
            raise _NotFastError
        obj = broker.myReferenceByCLID.get(clid) if clid else None
        if clid:
            if obj is None:
                raise _NotFastError
            target = obj.obj
        else:
            target = broker
        methodname: str | None
        if clid < 0:
            methodname = None
        else:
            try:
                methodname = raw_name.decode("utf-8")
            except UnicodeDecodeError:
                raise _NotFastError from None
        if target is not broker:
            get = getattr(target, "getArgumentConstraint", None)
            if (
                get is not None
                and getattr(get, "__func__", None) is not self._default_get_constraint
            ):
                raise _NotFastError  # a schema checks the arguments: the general path
        delivery = InboundDelivery(reqid, target, methodname, args, kwargs)

        def act() -> None:
            broker.callStarted(reqid)
            broker.scheduleCall(delivery, None)

        return act
