"""The writing half of the whole-message fast paths (see :mod:`._fast_decoder` for
what they are): :class:`FastEncoder` writes ``call`` and ``answer`` messages whose
values are simple (ints, floats, byte strings, strs, None, booleans, and lists,
tuples and dicts of them two levels deep), numbering their OPENs through the encoder
(``Encoder.take_opens``, ``take_nested_opens``), so the bytes are those the general encoder writes
(tests/tub/test_fastwire.py compares them). Anything else returns None and the
caller uses the general encoder.
"""

from __future__ import annotations

from struct import Struct
from typing import Any, NamedTuple

from octavo.banana import Encoder, int_token, open_close_tokens

__all__ = ["BIG_MESSAGE", "FastEncoder"]

_DOUBLE = Struct(">d")
_FALSE, _TRUE = int_token(0), int_token(1)
_NO_ARGUMENTS = int_token(0)  # (the count of arguments)


class _Tokens(NamedTuple):
    """The index tokens an encoder sends for the opentypes used here."""

    call: bytes
    arguments: bytes
    answer: bytes
    unicode: bytes
    none: bytes
    boolean: bytes
    list: bytes
    tuple: bytes
    dict: bytes


#: a message bigger than this is handed over as pieces (a big byte string is not copied)
BIG_MESSAGE = 64 * 1024

#: most method names a FastEncoder remembers the tokens of
_MAX_NAMES = 1000


class FastEncoder:
    """Writes simple ``call`` and ``answer`` messages through ``encoder``'s tables."""

    def __init__(self, encoder: Encoder) -> None:
        self._encoder = encoder
        self._generation = -1
        self._tokens = self._refresh()
        self._names: dict[str, bytes] = {}
        #: ids of the lists and tuples written in the message being written
        self._containers: list[int] = []

    def _refresh(self) -> _Tokens:
        enc = self._encoder
        if self._generation != enc.vocab_generation:
            self._generation = enc.vocab_generation
            tok = enc.index_token
            self._tokens = _Tokens(
                tok("call"), tok("arguments"), tok("answer"), tok("unicode"), tok("none"),
                tok("boolean"), tok("list"), tok("tuple"), tok("dict"),
            )  # fmt: skip
            self._names = {}
        return self._tokens

    def call(
        self,
        reqid: int,
        clid: int,
        methodname: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> bytes | list[bytes] | None:
        """The bytes of a call whose arguments are all simple, or None. Past
        BIG_MESSAGE bytes, the pieces (a big byte string goes out as it is, without a
        copy joined around it)."""
        enc = self._encoder
        tokens = self._tokens
        if self._generation != enc.vocab_generation:
            tokens = self._refresh()
        name = self._names.get(methodname)
        if name is None:
            name = enc.bytes_token(methodname.encode("utf-8"))
            if len(self._names) < _MAX_NAMES:
                self._names[methodname] = name
        if not args and not kwargs:  # a call without arguments, in one join
            call_open, args_open, args_close, call_close = enc.take_nested_opens()
            return b"".join((
                call_open, tokens.call, int_token(reqid), int_token(clid), name,
                args_open, tokens.arguments, _NO_ARGUMENTS, args_close, call_close,
            ))  # fmt: skip
        k = enc.open_count
        out: list[bytes] = [b"", tokens.call, int_token(reqid), int_token(clid), name, b""]
        out.append(tokens.arguments)
        out.append(int_token(len(args)))
        n = k + 2
        for value in args:
            n = self._value(value, n, out, tokens)
            if n < 0:
                self._containers.clear()
                return None
        if kwargs:
            for key in sorted(kwargs):
                if type(key) is not str:
                    self._containers.clear()
                    return None
                out.append(enc.bytes_token(key.encode("utf-8")))
                n = self._value(kwargs[key], n, out, tokens)
                if n < 0:
                    self._containers.clear()
                    return None
        if self._containers and self._shared():
            return None  # one container twice: the general encoder sends a reference
        call_open, call_close = open_close_tokens(k)
        args_open, args_close = open_close_tokens(k + 1)
        out[0] = call_open
        out[5] = args_open
        out.append(args_close)
        out.append(call_close)
        enc.take_opens(n - k)
        return out if sum(map(len, out)) > BIG_MESSAGE else b"".join(out)

    def answer(self, reqid: int, result: object) -> bytes | list[bytes] | None:
        """The bytes of an answer whose result is simple, or None (pieces past
        BIG_MESSAGE bytes, as for :meth:`call`)."""
        enc = self._encoder
        tokens = self._tokens
        if self._generation != enc.vocab_generation:
            tokens = self._refresh()
        if result is None:  # the commonest answer, in one join
            opening, none_open, none_close, closing = enc.take_nested_opens()
            return b"".join((
                opening, tokens.answer, int_token(reqid),
                none_open, tokens.none, none_close, closing,
            ))  # fmt: skip
        k = enc.open_count
        out: list[bytes] = [b"", tokens.answer, int_token(reqid)]
        n = self._value(result, k + 1, out, tokens)
        if self._containers and self._shared():
            return None  # one container twice: the general encoder sends a reference
        if n < 0:
            return None
        opening, closing = open_close_tokens(k)
        out[0] = opening
        out.append(closing)
        enc.take_opens(n - k)
        return out if sum(map(len, out)) > BIG_MESSAGE else b"".join(out)

    def _shared(self) -> bool:
        """Whether a container was written twice in this message; forgets them all."""
        containers = self._containers
        shared = len(containers) > 1 and len(set(containers)) < len(containers)
        containers.clear()
        return shared

    def _value(self, value: Any, n: int, out: list[bytes], tokens: _Tokens, room: int = 2) -> int:
        """Append the tokens of a simple ``value`` (or, ``room`` levels deep at most, a
        list, tuple or dict of them) whose first OPEN would be number ``n``; return the
        next OPEN number, or -1 if ``value`` is not of that shape."""
        t = type(value)
        if t is int:
            out.append(int_token(value))
            return n
        if t is bytes:
            if len(value) > BIG_MESSAGE:
                out.extend(self._encoder.bytes_tokens(value))  # the value itself, no copy
            else:
                out.append(self._encoder.bytes_token(value))
            return n
        body: tuple[bytes, ...] | None
        if t is str:
            try:
                body = (self._encoder.bytes_token(value.encode("utf-8")),)
            except UnicodeEncodeError:
                return -1  # the general encoder says why
            kind = tokens.unicode
        elif value is None:
            body = ()
            kind = tokens.none
        elif t is bool:
            body = (_TRUE if value else _FALSE,)
            kind = tokens.boolean
        else:
            body = None
        if body is not None:  # a one-token sequence: OPEN, index token, body, CLOSE
            opening, closing = open_close_tokens(n)
            out.append(opening)
            out.append(kind)
            out.extend(body)
            out.append(closing)
            return n + 1
        if t is float:
            out.append(b"\x84" + _DOUBLE.pack(value))
            return n
        if room and (t is list or t is tuple or t is dict):
            return self._items(value, n, out, tokens, room - 1)
        return -1

    def _items(
        self, value: list[Any] | tuple[Any, ...] | dict[Any, Any], n: int, out: list[bytes],
        tokens: _Tokens, room: int,
    ) -> int:  # fmt: skip
        """:meth:`_value` for a list, tuple or dict (its keys sorted, each key before its
        value, as the general encoder writes it) of values ``room`` levels deep."""
        self._containers.append(id(value))
        opening, closing = open_close_tokens(n)
        out.append(opening)
        m = n + 1
        t = type(value)
        if t is dict:
            out.append(tokens.dict)
            if len(value) > _SCAN_AT and _too_deep(value, room):  # type: ignore[arg-type]
                return -1  # (found before paying for the sort)
            try:
                keys = sorted(value)
            except TypeError:
                return -1  # the general encoder says why
            bytes_token = self._encoder.bytes_token
            for key in keys:
                if type(key) is str:  # (the usual key: _value's str, inline)
                    try:
                        body = bytes_token(key.encode("utf-8"))
                    except UnicodeEncodeError:
                        return -1  # the general encoder says why
                    key_open, key_close = open_close_tokens(m)
                    out.extend((key_open, tokens.unicode, body, key_close))
                    m += 1
                else:
                    m = self._value(key, m, out, tokens, room)
                    if m < 0:
                        return -1
                m = self._value(value[key], m, out, tokens, room)
                if m < 0:
                    return -1
        else:
            out.append(tokens.list if t is list else tokens.tuple)
            for x in value:
                m = self._value(x, m, out, tokens, room)
                if m < 0:
                    return -1
        out.append(closing)
        return m


#: a dict of more items than this is looked through for too deep a value before its
#: keys are sorted (a big dict the general encoder will write anyway costs a scan, not a
#: sort)
_SCAN_AT = 16
_CONTAINERS = (list, tuple, dict)


def _too_deep(d: dict[Any, Any], room: int) -> bool:
    """Whether a value of ``d`` (whose items may be containers ``room`` levels deep) is
    a container nested deeper than that (the whole-message path takes two levels)."""
    if room == 0:
        return any(type(v) in _CONTAINERS for v in d.values())
    return any(
        type(v) in _CONTAINERS
        and any(type(x) in _CONTAINERS for x in (v.values() if type(v) is dict else v))
        for v in d.values()
    )
