# ruff: noqa: N806  (hot-loop locals alias module constants)
"""The decoder's fast reader: plain values read in one pass, without unslicers.

The general path (``_stack.py``) costs an unslicer object per sequence and a few method
calls per token. Most of a stream is plain values in plain containers, so :func:`take`
reads those itself, from the top of the decoder's stack, in *rounds*, one per unslicer
that comes to the top:

- the top unslicer's own children go to its ``prim`` (or ``receiveChild``) if it takes
  them unchecked (``wants_check`` false; a root that only insists on OPEN tokens gets
  only OPENs) and, for sequences, only if its ``doOpen`` adds nothing (``plain_open``);
- a str, None, bool or reference sequence is read whole by :func:`_leaf` (OPEN, index
  token, at most one token, CLOSE), when it is all in the buffer;
- a list, tuple or dict is read by :func:`_container`, with everything in it, on a stack
  of *frames* (the container, its OPEN number, its object number), as deep as the limits
  allow; the strs in it, the commonest sequence, are read inline there;
- another registered opentype of one index token (a set, octavo-tub's ``call``...) is
  opened with ``Stack.open_registered``, and the top unslicer's CLOSE goes to
  ``Stack.close``: the general path's own operations. The next round carries on with
  the new top of the stack.

It decides nothing. At the first token it does not take (the end of the buffer, an
opentype it does not know, a body or nesting past the limits, a CLOSE whose number is
not written as its OPEN's, invalid UTF-8, an unknown VOCAB index, a reference to an
unfinished object, a dict with unhashable or repeated keys, a LONGINT, an ABORT...) it
stops, turns the frames it has open into the unslicers the general path would have
made (``Stack.adopt``), and returns that token to the general path, which gives it its
meaning, refusal included. A Violation from the top unslicer goes to
``Stack.violation``, as on the general path.

Token headers: :func:`take` and :func:`_leaf` read them with
:func:`~octavo.banana.read_header`. :func:`_container`, the hot loop, reads the headers of
up to three digits that most of its tokens have inline, as read_header's own unrolled
case does (a call per token there would cost about a quarter of the decoding time), and
calls read_header for the rest. The fast reader asks read_header for at most ten digits:
a longer header is a token it does not take, so the MAX_HEADER_BYTES refusal is the
general path's, with the general path's stack. tests/banana/test_fast_paths.py holds the
fast reader to the general path on headers of every length in every place.
"""

from __future__ import annotations

from struct import Struct
from typing import Any

from ._budget import MessageBudget
from ._errors import Violation
from ._objects import NOT_READY, OPEN_TUPLE
from ._stack import Frame, Stack
from ._tables import (
    KIND_BOOL,
    KIND_DICT,
    KIND_LIST,
    KIND_NONE,
    KIND_REF,
    KIND_TUPLE,
    KIND_UNICODE,
)
from ._tokens import int_run_end, read_header, read_int_run

__all__ = ["take"]

_unpack_double = Struct("!d").unpack_from
_MIN_RUN = 16  # bytes of INT tokens worth decoding as a run (read_int_run)
# the most header digits the fast reader reads: a longer header (and the refusal of one
# past MAX_HEADER_BYTES) is left to the general path, with the stack it has then
_SHORT = 10
_KINDS = (KIND_UNICODE, KIND_REF, KIND_LIST, KIND_TUPLE, KIND_DICT)
_ADOPTED = object()  # what _container returns when the general path takes over


def take(
    st: Stack, buf: bytes, pos: int, end: int, pause: bool = False
) -> tuple[int, int, int, int]:
    """Take tokens from ``buf[pos:]`` while the fast reader can (``end`` is
    ``len(buf)``); return ``(position, type byte, header, body position)`` of the first
    one it does not take, as :func:`read_header` reads it. ``pause``: stop once a
    top-level message has closed (the decoder's ``pause_at_boundary``)."""
    first = pos
    items = st.items
    root = st.root
    open_root = root if root.plain_open and root.wants_check else None
    max_depth = st.limits.max_depth
    max_tok = st.limits.max_token_size
    budget = st.budget
    base = budget.base
    while True:  # a round: the unslicer now on top of the stack, and its children
        top = items[-1]
        if (top.wants_check and top is not open_root) or st.discard or st.in_open:
            break
        if pause and top is root and pos != first:
            break  # a message closed: the caller may read the next ones its own way
        tables = st.tables  # (a sequence that closed may have changed the vocabulary)
        words = tables.words
        add = top.prim or top.receiveChild
        prims = not top.wants_check
        if top is root:
            kinds = tables.kinds_top
            customs = tables.custom_top
        else:
            kinds = tables.kinds_nested
            customs = tables.custom_nested
        # the message budget: objects left in the allowance; values at the top level
        # and in leaf sequences are not counted
        left = budget.left
        counted = top is not root and not top.is_leaf
        turn = False  # the top of the stack changed: the next round
        while True:
            start = pos
            typ, h, pos = read_header(buf, pos, end, _SHORT)
            obj: Any = h
            if typ == 0x81:  # INT
                if not prims:
                    break
            elif typ == 0x88:  # OPEN: the index token says what
                if len(items) > max_depth or not top.plain_open:
                    break
                t, c, kend = read_header(buf, pos, end, _SHORT)
                if t == 0x82:
                    kend += c
                elif t != 0x87:
                    break
                if top is root:  # a message starts: a fresh budget and allowance
                    left = budget.start_message(base + start, st.obj_count)
                    if not left:
                        break
                elif not left:
                    budget.sync(0)
                    left = budget.renew(st.obj_count, base + start)
                    if not left:
                        break
                k = kinds.get(buf[pos:kend], 0)
                if k > KIND_REF:  # a list, tuple or dict, with everything in it
                    budget.sync(left - 1)
                    obj, pos = _container(st, buf, kend, k, h)
                    left = budget.left
                    if obj is _ADOPTED:  # the general path takes over in it at pos
                        turn = True
                        break
                elif k:  # a str, None, bool or reference
                    obj, pos = _leaf(st, buf, start, pos, kend, k)
                    if pos < 0:
                        break
                    st.obj_count += 1
                    left -= 1
                else:  # a registered opentype of one index token?
                    found = customs.get(buf[pos:kend])
                    if found is None:
                        break
                    left -= 1
                    st.open_registered(found[0], found[1], h)
                    pos = kend
                    turn = True
                    break
            elif typ == 0x89:  # CLOSE: the general path's close
                if top is not root and h == top.openCount:
                    st.close(h)
                    turn = True
                break
            elif not prims:
                break
            elif typ == 0x82:  # STRING
                e = pos + h
                if h > max_tok or e > end:
                    break
                obj = buf[pos:e]
                pos = e
            elif typ == 0x83:  # NEG
                obj = -h
            elif typ == 0x84 and pos + 8 <= end:  # FLOAT
                obj = _unpack_double(buf, pos)[0]
                pos += 8
            elif typ == 0x87 and h in words:  # VOCAB: a word, as bytes
                obj = words[h]
            else:
                break
            if counted and typ != 0x88:  # a value
                if not left:
                    budget.sync(0)
                    left = budget.renew(st.obj_count, base + start)
                    if not left:
                        break
                left -= 1
            try:
                add(obj)
            except Violation as why:  # as on the general path: the token is taken
                budget.sync(left)
                st.violation(why)
                turn = True
                break
            if pause and top is root:
                turn = True  # a top-level object is done: pause at the next round
                break
        if left != budget.left:  # (budget.sync, inline)
            budget.objects += budget.left - left
            budget.left = left
        if not turn:
            pos = start  # stopped at this token
            break
    return (pos, *read_header(buf, pos, end))


def _container(st: Stack, buf: bytes, pos: int, kind: int, header: int) -> tuple[object, int]:
    """Read the list, tuple or dict (``kind``) whose OPEN (number ``header``) and index
    token end at ``pos``, with the containers in it on a stack of frames: ``(it, the
    position after its CLOSE)``; else ``(_ADOPTED, position)``, the frames adopted."""
    UNICODE, REF, LIST, TUPLE, DICT = _KINDS  # (locals: the fastest to load)
    end, words, kinds, word_kinds, objects, max_tok, max_depth, budget = _context(st, buf)
    depth = len(st.items) + 1  # with this container on the stack
    count = st.obj_count
    frames: list[Frame] = []  # the frames around the innermost one, outermost first
    ccount = count  # the innermost frame: kind, header, ccount, coll, flat
    count += 1
    flat: Any = [] if kind == DICT else None
    coll: Any = {} if kind == DICT else []
    add = flat.append if kind == DICT else coll.append
    objects[ccount] = OPEN_TUPLE if kind == TUPLE else coll
    obj: Any = None
    left = budget.left  # the message budget's allowance: one decrement per object
    while True:
        start = pos
        if not left and not (left := _renew(budget, count, pos)):
            break
        try:  # (IndexError: the buffer ends inside this token)
            # the header: up to three digits here, as read_header's unrolled part
            # (OPEN numbers pass 16,383 after a few dozen messages on a connection)
            h = buf[pos]
            if h > 127:
                typ, h, pos = h, 0, pos + 1
            elif (typ := buf[pos + 1]) > 127:
                pos += 2
            elif (typ := buf[pos + 2]) > 127:
                h, pos = h + buf[pos + 1] * 128, pos + 3
            elif (typ := buf[pos + 3]) > 127:
                h, pos = h + buf[pos + 1] * 128 + buf[pos + 2] * 16384, pos + 4
            else:
                typ, h, pos = read_header(buf, pos, end, _SHORT)
            if typ == 0x88:  # OPEN (the commonest): the index token says what
                if depth > max_depth:
                    break
                c = buf[pos]
                t = buf[pos + 1]
                if c < 128 and t > 127:  # a one-digit header: the digit
                    if t == 0x87:  # VOCAB 0-127 (on a Tub, the commonest): by index
                        k, kend = word_kinds[c], pos + 2
                    else:
                        kend = pos + 2 + c if t == 0x82 else pos + 2
                        k = kinds.get(buf[pos:kend], 0)
                else:
                    t, c, kend = read_header(buf, pos, end, _SHORT)
                    kend += c if t == 0x82 else 0
                    k = kinds.get(buf[pos:kend], 0)
                if k == UNICODE:
                    # OPEN "unicode" STRING CLOSE, the commonest: as _leaf, inline
                    q = kend + 2
                    t = buf[kend + 1]
                    v = buf[kend]
                    if v > 127 or t < 128:
                        t, v, q = read_header(buf, kend, end, _SHORT)
                    if t == 0x82 and v <= max_tok:
                        obj = buf[q : q + v]
                        q += v
                    elif t == 0x87 and v in words:
                        obj = words[v]
                    else:
                        break
                    hl = pos - 1 - start  # its CLOSE: the number written as the OPEN's
                    if buf[q + hl] != 0x89:
                        break
                    if hl == 3:  # (OPEN numbers of a connection busy for a while)
                        if (
                            buf[q] != buf[start]
                            or buf[q + 1] != buf[start + 1]
                            or buf[q + 2] != buf[start + 2]
                        ):
                            break
                    elif hl == 2:
                        if buf[q] != buf[start] or buf[q + 1] != buf[start + 1]:
                            break
                    elif hl == 1:
                        if buf[q] != buf[start]:
                            break
                    elif hl and buf[q : q + hl] != buf[start : start + hl]:
                        break
                    obj = obj.decode()  # UTF-8
                    count += 1
                    pos = q + hl + 1
                elif k > REF:  # a frame of its own
                    frames.append((kind, header, ccount, coll, flat))
                    kind, header, ccount = k, h, count
                    count += 1
                    depth += 1
                    flat = [] if k == DICT else None
                    coll = {} if k == DICT else []
                    add = flat.append if k == DICT else coll.append
                    objects[ccount] = OPEN_TUPLE if k == TUPLE else coll
                    pos = kend
                    left -= 1
                    continue
                else:  # None, a bool, a reference: _leaf; unknown: stop
                    if not k:
                        break
                    obj, pos = _leaf(st, buf, start, pos, kend, k)
                    if pos < 0:
                        break
                    count += 1
            elif typ == 0x81:  # INT
                if (  # a list that starts with a run of INTs: read it in C
                    kind == LIST
                    and not coll
                    and start + _MIN_RUN < end
                    # an INT next (header of 0-2 digits: where the one after it starts)
                    and (
                        (q := pos + 1)
                        if buf[pos] == 0x81
                        else (q := pos + 2)
                        if buf[pos + 1] == 0x81
                        else (q := pos + 3)
                        if buf[pos + 2] == 0x81
                        else 0
                    )
                    and (buf[q] == 0x81 or buf[q + 1] == 0x81 or buf[q + 2] == 0x81)  # and one more
                    and buf[start + _MIN_RUN] <= 0x81  # (no byte of a run is past 0x81)
                    and int_run_end(buf, start, end) - start > _MIN_RUN
                ):
                    stop, left = _int_run(coll, buf, start, left, count, budget)
                    if stop:
                        pos = stop
                        continue
                obj = h
            elif typ == 0x82:  # STRING
                e = pos + h
                if h > max_tok or e > end:
                    break
                obj = buf[pos:e]
                pos = e
            elif typ == 0x89:  # CLOSE
                if h != header:
                    break
                if kind == LIST:
                    obj = coll
                elif kind == TUPLE:
                    obj = tuple(coll)
                    objects[ccount] = obj
                else:
                    obj = _dict(coll, flat)
                    if obj is None:
                        break
                if not frames:
                    _leave(st, count, left)
                    return obj, pos
                depth -= 1
                kind, header, ccount, coll, flat = frames.pop()
                add = flat.append if kind == DICT else coll.append
                add(obj)  # (a sequence: counted at its OPEN)
                continue
            elif typ == 0x83:  # NEG
                obj = -h
            elif typ == 0x84 and pos + 8 <= end:  # FLOAT
                obj = _unpack_double(buf, pos)[0]
                pos += 8
            elif typ == 0x87 and h in words:  # VOCAB: a word, as bytes
                obj = words[h]
            else:
                break
        except (IndexError, UnicodeDecodeError):  # the buffer ends in it; not UTF-8
            break
        add(obj)
        left -= 1
    # stopped at the token at start (or no allowance): the general path takes over
    frames.append((kind, header, ccount, coll, flat))
    _leave(st, count, left)
    st.adopt(frames)
    return _ADOPTED, start


def _context(
    st: Stack, buf: bytes
) -> tuple[int, Any, Any, list[int], Any, int, int, MessageBudget]:
    """What :func:`_container` reads from the decoder's state, once per call."""
    tables = st.tables
    limits = st.limits
    return (
        len(buf),
        tables.words,
        tables.kinds_nested,
        tables.word_kinds,
        st.objects.by_number,
        limits.max_token_size,
        limits.max_depth,
        st.budget,
    )


def _leave(st: Stack, count: int, left: int) -> None:
    """Hand the next object number and what is left of the allowance back."""
    st.obj_count = count
    st.budget.sync(left)


def _renew(budget: MessageBudget, count: int, pos: int) -> int:
    """A new allowance of the message budget (0: the general path decides), the fast
    reader having used the last one up, at ``pos`` in the buffer, with ``count`` the
    next object number."""
    budget.sync(0)
    return budget.renew(count, budget.base + pos)


def _leaf(st: Stack, buf: bytes, start: int, p: int, q: int, kind: int) -> tuple[object, int]:  # noqa: PLR0917
    """Read a str, None, bool or reference sequence whole: its OPEN starts at
    ``start`` and ends at ``p``, its index token at ``q``. Returns its value and the
    position after its CLOSE, or position -1 for a form left to the general path."""
    obj: Any = None
    try:  # (IndexError: the buffer ends inside the sequence)
        if kind != KIND_NONE:
            typ, v, q = read_header(buf, q, len(buf), _SHORT)
            if kind == KIND_UNICODE:
                if typ == 0x82 and v <= st.limits.max_token_size:
                    obj = buf[q : q + v]
                    q += v
                else:
                    obj = st.tables.words.get(v) if typ == 0x87 else None
                    if obj is None:
                        return None, -1
            elif typ != 0x81:
                return None, -1
            elif kind == KIND_BOOL:
                obj = v != 0
            else:
                obj = st.objects.ready(v)  # KIND_REF
                if obj is NOT_READY:
                    return None, -1
        hl = p - 1 - start  # the CLOSE: its number written as the OPEN's
        if buf[q + hl] != 0x89 or (hl and buf[q : q + hl] != buf[start : start + hl]):
            return None, -1
        if kind == KIND_UNICODE:
            obj = obj.decode()  # UTF-8
    except (IndexError, UnicodeDecodeError):
        return None, -1
    return obj, q + hl + 1


def _int_run(  # noqa: PLR0917
    coll: list[object], buf: bytes, pos: int, left: int, count: int, budget: MessageBudget
) -> tuple[int, int]:
    """Append the run of INT tokens at ``pos`` to ``coll`` if it is worth it and within
    the allowance, ``left`` or a larger one from the message budget (``count``: the next
    object number): (the position after it, the allowance left), else (0, left)."""
    end = len(buf)
    if left < end - pos:  # the allowance may end the run early: the largest one
        budget.sync(left)  # (never less than ``left``, which the rules admitted already)
        left = budget.renew(count, budget.base + pos, end - pos)
    run, stop = read_int_run(buf, pos, min(end, pos + left))  # (no more ints than bytes)
    if stop - pos <= _MIN_RUN:
        return 0, left
    n = len(coll)
    coll.extend(run)
    return stop, left - (len(coll) - n)


def _dict(d: dict[object, object], flat: list[object]) -> dict[object, object] | None:
    """Fill ``d`` from its flat keys and values; None (``d`` left empty) if they do not
    make a dict: an odd count, an unhashable or a repeated key (the general path says
    which)."""
    if len(flat) % 2:
        return None
    it = iter(flat)
    try:
        d.update(zip(it, it, strict=False))
    except TypeError:
        d.clear()
        return None
    if 2 * len(d) != len(flat):
        d.clear()
        return None
    return d
