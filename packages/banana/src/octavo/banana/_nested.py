"""Reading a list, tuple or dict with everything in it in one recursive pass.

The decoder's main loop keeps one unslicer object per open sequence. For the
built-in containers that costs more than their contents (an object, its
attributes, a stack push and pop, a CLOSE that goes through it), so when a plain
container opens, :func:`read_container` reads it (and the plain containers inside
it) by recursion instead, building the objects directly.

It never refuses anything: at the first token it does not take (the end of the
buffer, a sequence type of an extension, a reference to a tuple still open, a
header of four bytes or more, a bad CLOSE, a dict with an unhashable or repeated
key, too deep a nesting) it raises :class:`Handover`, carrying each container it
has open (innermost first) exactly as the unslicers would hold them. The decoder
turns those into unslicers on its stack and carries on at that token, so the
result, and every error, is what the main loop alone would give.
"""

from __future__ import annotations

from struct import Struct
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._decoder import Decoder

__all__ = [
    "KIND_DICT",
    "KIND_LIST",
    "KIND_TUPLE",
    "MAX_RECURSION",
    "OPEN_TUPLE",
    "Frame",
    "Handover",
    "read_container",
]

# the decoder's fast-path kinds (see _decoder._FAST_KINDS)
_UNICODE, _NONE, _BOOL, _REF = 1, 2, 3, 4
KIND_LIST, KIND_TUPLE, KIND_DICT = 5, 6, 7

#: deepest recursion used; deeper containers are left to the main loop's stack
MAX_RECURSION = 64

_DOUBLE = Struct(">d")


class _OpenTuple:
    """Stands in the object table for a tuple being read (a reference to it hands over)."""

    __slots__ = ()


OPEN_TUPLE = _OpenTuple()

#: (kind, OPEN number, object number, list or dict, dict items or None)
Frame = tuple[int, int, int, "list[object] | dict[object, object]", "list[object] | None"]


class Handover(Exception):  # noqa: N818 - not an error: control goes back to the main loop
    """Stop here: the main loop takes over at ``pos`` with ``frames`` opened."""

    def __init__(self, pos: int) -> None:
        super().__init__(pos)
        self.pos = pos
        self.frames: list[Frame] = []  # innermost first while unwinding


def read_container(  # noqa: PLR0917 - one tight loop, on purpose
    dec: Decoder,
    buf: bytes,
    pos: int,
    end: int,
    kind: int,
    header: int,
    count: int,
    depth: int,
    limit: int,
) -> tuple[object, int]:
    """Read the container ``kind`` whose OPEN (number ``header``, object ``count``)
    and index token end at ``pos``; return it and the position after its CLOSE.

    ``depth`` is the decoder stack's depth with this container on it; containers
    inside it are read here while ``depth`` is at most ``limit``. ``end`` must be
    ``len(buf)``. Raises Handover.
    """
    objects = dec._objects
    fast = dec._fast_nested
    vocab_kinds = dec._vocab_kinds
    max_tok = dec.max_token_size
    # an OPEN inside this container would sit at depth + 1: past max_depth the main
    # loop refuses it (a Violation), so nothing may be opened here then
    too_deep = depth > dec.max_depth
    opens = 0  # OPENs of leaf sequences read since dec._obj_count was last updated
    items: list[object] | None = None
    d: dict[object, object] | None = None
    coll: list[object]
    if kind == KIND_DICT:
        d = {}
        coll = items = []
        objects[count] = d
    else:
        coll = []
        objects[count] = coll if kind == KIND_LIST else OPEN_TUPLE
    add = coll.append
    start = pos
    try:
        while True:
            start = pos
            try:
                c = buf[pos]
                if c & 0x80:
                    h = 0
                    typ = c
                    pos += 1
                else:
                    c1 = buf[pos + 1]
                    if c1 & 0x80:
                        h = c
                        typ = c1
                        pos += 2
                    else:
                        c2 = buf[pos + 2]
                        if c2 & 0x80:
                            h = c | (c1 << 7)
                            typ = c2
                            pos += 3
                        else:
                            c3 = buf[pos + 3]
                            if not c3 & 0x80:
                                raise Handover(start)
                            h = c | (c1 << 7) | (c2 << 14)
                            typ = c3
                            pos += 4

                if typ == 0x81:  # INT
                    add(h)
                elif typ == 0x88:  # OPEN: an index token with a one-byte header
                    if too_deep:
                        raise Handover(start)
                    q = buf[pos]
                    t2 = buf[pos + 1]
                    if q & 0x80:
                        raise Handover(start)
                    if t2 == 0x87:
                        kend = pos + 2
                        k = vocab_kinds[q]
                    elif t2 == 0x82:
                        kend = pos + 2 + q
                        k = fast.get(buf[pos:kend], 0)
                    else:
                        raise Handover(start)
                    if k == _UNICODE:
                        # a STRING with a header of at most one byte, then a CLOSE whose
                        # number is written as the OPEN's (else: the main loop)
                        n = buf[kend]
                        if n == 0x82:
                            s = kend + 1
                            n = 0
                        elif n < 0x80 and buf[kend + 1] == 0x82:
                            s = kend + 2
                        else:
                            raise Handover(start)
                        e = s + n
                        if n > max_tok:
                            raise Handover(start)
                        hl = pos - 1 - start
                        if hl == 3:
                            ok = (
                                buf[e + 3] == 0x89
                                and buf[e] == buf[start]
                                and buf[e + 1] == buf[start + 1]
                                and buf[e + 2] == buf[start + 2]
                            )
                        elif hl == 2:
                            ok = (
                                buf[e + 2] == 0x89
                                and buf[e] == buf[start]
                                and buf[e + 1] == buf[start + 1]
                            )
                        elif hl == 1:
                            ok = buf[e + 1] == 0x89 and buf[e] == buf[start]
                        else:
                            ok = buf[e] == 0x89
                        if not ok:
                            raise Handover(start)
                        try:
                            add(buf[s:e].decode("utf-8"))
                        except UnicodeDecodeError:
                            raise Handover(start) from None
                        pos = e + hl + 1
                        opens += 1
                    elif KIND_LIST <= k <= KIND_DICT:
                        if depth > limit:
                            raise Handover(start)
                        n = dec._obj_count + opens
                        dec._obj_count = n + 1
                        opens = 0
                        obj, pos = read_container(dec, buf, kend, end, k, h, n, depth + 1, limit)
                        add(obj)
                    elif k == _NONE:
                        pos = _close(buf, kend, h, start)
                        add(None)
                        opens += 1
                    elif k == _BOOL:
                        v = buf[kend]
                        if v == 0x81:
                            v = 0
                            b = kend + 1
                        elif v < 0x80 and buf[kend + 1] == 0x81:
                            b = kend + 2
                        else:
                            raise Handover(start)
                        pos = _close(buf, b, h, start)
                        add(bool(v))
                        opens += 1
                    else:  # references, sets, extensions: the main loop
                        raise Handover(start)
                elif typ == 0x82:  # STRING
                    e = pos + h
                    if e > end or h > max_tok:
                        raise Handover(start)
                    add(buf[pos:e])
                    pos = e
                elif typ == 0x89:  # CLOSE
                    if h != header:
                        raise Handover(start)
                    break
                elif typ == 0x83:  # NEG
                    add(-h)
                elif typ == 0x84:  # FLOAT
                    e = pos + 8
                    if e > end:
                        raise Handover(start)
                    add(_DOUBLE.unpack_from(buf, pos)[0])
                    pos = e
                elif typ == 0x87:  # VOCAB: a byte string of the vocabulary
                    w = dec._vocab.get(h)
                    if w is None:
                        raise Handover(start)
                    add(w)
                else:
                    raise Handover(start)
            except IndexError:  # the buffer ends inside this token
                raise Handover(start) from None
        # the CLOSE is read
        dec._obj_count += opens
        opens = 0
        if kind == KIND_LIST:
            return coll, pos
        if kind == KIND_TUPLE:
            t = tuple(coll)
            objects[count] = t
            return t, pos
        assert d is not None
        assert items is not None
        if len(items) % 2:
            raise Handover(start)
        it = iter(items)
        try:
            d.update(zip(it, it, strict=False))
        except TypeError:
            d.clear()
            raise Handover(start) from None
        if 2 * len(d) != len(items):
            d.clear()
            raise Handover(start)
        return d, pos
    except Handover as ho:
        dec._obj_count += opens
        ho.frames.append((kind, header, count, d if d is not None else coll, items))
        raise


def _close(buf: bytes, p: int, number: int, start: int) -> int:
    """Where the CLOSE(number) at ``p`` ends (IndexError past the end of ``buf``)."""
    c = buf[p]
    if c & 0x80:
        if c == 0x89 and number == 0:
            return p + 1
        raise Handover(start)
    c1 = buf[p + 1]
    if c1 & 0x80:
        if c1 == 0x89 and c == number:
            return p + 2
        raise Handover(start)
    c2 = buf[p + 2]
    if c2 & 0x80:
        if c2 == 0x89 and c | (c1 << 7) == number:
            return p + 3
        raise Handover(start)
    if buf[p + 3] == 0x89 and c | (c1 << 7) | (c2 << 14) == number:
        return p + 4
    raise Handover(start)
