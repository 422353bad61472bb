# ruff: noqa: N806  (hot-loop locals alias module constants)
"""The encoder's emitters: Python objects to Banana tokens.

An emitter is a set of closures made once per Encoder and outbound vocabulary
(:func:`make_emitter`) and used for one message at a time: ``run(obj, count)`` encodes
``obj`` with OPENs numbered from ``count`` and returns the bytes and the next number.
The closures share the output list and the table of shared objects (a list, tuple, dict
or set met again becomes a ``reference`` sequence). The OPEN counter is a plain number
handed from call to call: each emitter takes the next OPEN number and returns the one
after what it wrote (no cell or list read and written per OPEN). They are made by three
factories:

- :func:`_leaf_emitters`: byte strings (VOCAB when the vocabulary has them), strs,
  references, None and Decimal (``enc_leaf``);
- :func:`_container_emitters`: ``enc``, the dispatch on the exact type, and lists,
  tuples, dicts;
- :func:`_other_emitters`: frozensets, custom slicers (the extension point) and
  subclasses of the built-in types, rarer, which the dispatch reaches through a
  holder filled once they exist.

The OPEN and CLOSE tokens of sequence ``k`` come from the precomputed tables of
``_encoder.py`` (k below 16384), or are built for their three bytes, or by
``open_close``. A list of more than 8 small ints is written in one C-level step (a
fast path: off with ``fast_paths=False``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from struct import Struct
from typing import Any

from ._errors import Violation, short_repr
from ._slicers import SliceContext, SlicerEntry, SlicerRegistry
from ._tokens import b128_encode

__all__ = ["Emitter", "make_emitter"]

#: ``run(obj, count) -> (bytes, next count)``
Emitter = Callable[[object, int], tuple[bytes, int]]

_pack_double = Struct("!d").pack
_SUBCLASS_HANDLERS: dict[type, str] = {
    str: "str",
    list: "list",
    tuple: "tuple",
    dict: "dict",
    set: "set",
    frozenset: "frozenset",
    Decimal: "decimal",
}


class Tables:
    """The precomputed tokens of ``_encoder.py``, handed to the factories."""

    def __init__(  # noqa: PLR0917
        self,
        open_t: Sequence[bytes],
        close_t: Sequence[bytes],
        int_t: Sequence[bytes],
        str_t: Sequence[bytes],
        vocab_t: Sequence[bytes],
        pair: Sequence[bytes],
        third_open: Sequence[bytes],
        third_close: Sequence[bytes],
        int_token: Callable[[int], bytes],
        open_close: Callable[[int], tuple[bytes, bytes]],
    ) -> None:
        self.open_t = open_t
        self.close_t = close_t
        self.int_t = int_t
        self.str_t = str_t
        self.vocab_t = vocab_t
        self.pair = pair
        self.third_open = third_open
        self.third_close = third_close
        self.int_token = int_token
        self.open_close = open_close


def make_emitter(  # noqa: PLR0917
    tables: Tables,
    vocab: dict[bytes, int],
    max_vocab_len: int,
    ot: dict[str, bytes],
    slicers: SlicerRegistry,
    ctx: SliceContext,
    int_runs: bool,
) -> Emitter:
    """Build the encoding closures for one vocabulary (``vocab``: string to index;
    ``ot``: opentype name to index token), once. ``int_runs``: the fast path for
    lists of small ints."""
    out: list[bytes] = []
    refs: dict[int, int] = {}
    keep: list[object] = []  # keeps slicer-made objects alive so their ids stay unique
    leaves = _leaf_emitters(tables, out, vocab, max_vocab_len, ot)
    later: dict[str, Callable[..., int]] = {}  # frozensets, customs, subclasses
    containers = _container_emitters(tables, out, refs, ot, leaves, later, int_runs)
    later.update(_other_emitters(tables, out, refs, keep, ot, slicers, ctx, leaves, containers))
    enc = containers[0]

    def run(root: object, count: int) -> tuple[bytes, int]:
        try:
            after = enc(root, count)
            return b"".join(out), after
        finally:
            refs.clear()
            keep.clear()
            out.clear()

    return run


#: enc (the dispatch), enc_list, enc_tuple, enc_dict: (object[, opentype], next OPEN
#: number) -> the next OPEN number after it
_Containers = tuple[
    Callable[[object, int], int],
    Callable[[Any, bytes, int], int],
    Callable[[Any, int], int],
    Callable[[Any, int], int],
]

#: emit_bytes, enc_str, emit_ref, enc_leaf
_Leaves = tuple[
    Callable[[bytes], None],
    Callable[[str, int], int],
    Callable[[int, int], int],
    Callable[[bytes, "bytes | None", int], int],
]


def _leaf_emitters(
    tables: Tables,
    out: list[bytes],
    vocab: dict[bytes, int],
    max_vocab_len: int,
    ot: dict[str, bytes],
) -> _Leaves:
    """``emit_bytes``, ``enc_str``, ``emit_ref`` and ``enc_leaf``."""
    append = out.append
    extend = out.extend
    OPEN_T = tables.open_t
    CLOSE_T = tables.close_t
    STR_T = tables.str_t
    VOCAB_T = tables.vocab_t
    PAIR = tables.pair
    THIRD_OPEN = tables.third_open
    THIRD_CLOSE = tables.third_close
    open_close = tables.open_close
    int_token = tables.int_token
    TABLE = len(STR_T)
    OPEN_TABLE = len(OPEN_T)
    OPEN3_LIMIT = 1 << 21
    OT_UNI = ot["unicode"]
    OT_REF = ot["reference"]

    def emit_bytes(data: bytes) -> None:
        if vocab and len(data) <= max_vocab_len:
            idx = vocab.get(data)
            if idx is not None:
                append(VOCAB_T[idx] if idx < TABLE else b128_encode(idx) + b"\x87")
                return
        L = len(data)
        append(STR_T[L] if L < TABLE else b128_encode(L) + b"\x82")
        append(data)

    def emit_ref(refid: int, k: int) -> int:
        o_h, c_h = open_close(k)
        extend((o_h, OT_REF, int_token(refid), c_h))
        return k + 1

    def enc_str(o: str, k: int) -> int:
        data = o.encode("utf-8")
        if k < OPEN_TABLE:
            o_h = OPEN_T[k]
            c_h = CLOSE_T[k]
        elif k < OPEN3_LIMIT:
            lo = PAIR[k & 0x3FFF]
            o_h = lo + THIRD_OPEN[k >> 14]
            c_h = lo + THIRD_CLOSE[k >> 14]
        else:
            o_h, c_h = open_close(k)
        if vocab and len(data) <= max_vocab_len and data in vocab:
            extend((o_h, OT_UNI))
            emit_bytes(data)
            append(c_h)
            return k + 1
        L = len(data)
        extend((o_h, OT_UNI, STR_T[L] if L < TABLE else b128_encode(L) + b"\x82", data, c_h))
        return k + 1

    def enc_leaf(opentype: bytes, body: bytes | None, k: int) -> int:
        o_h, c_h = (OPEN_T[k], CLOSE_T[k]) if k < OPEN_TABLE else open_close(k)
        append(o_h)
        append(opentype)
        if body is not None:
            emit_bytes(body)
        append(c_h)
        return k + 1

    return emit_bytes, enc_str, emit_ref, enc_leaf


def _container_emitters(  # noqa: PLR0917
    tables: Tables,
    out: list[bytes],
    refs: dict[int, int],
    ot: dict[str, bytes],
    leaves: _Leaves,
    later: dict[str, Callable[..., int]],
    int_runs: bool,
) -> _Containers:
    """``enc`` (the dispatch), ``enc_list`` (lists and sets), ``enc_tuple``, ``enc_dict``."""
    append = out.append
    extend = out.extend
    emit_bytes, enc_str, emit_ref, enc_leaf = leaves
    OPEN_T = tables.open_t
    CLOSE_T = tables.close_t
    INT_T = tables.int_t
    PAIR = tables.pair
    THIRD_OPEN = tables.third_open
    THIRD_CLOSE = tables.third_close
    open_close = tables.open_close
    int_token = tables.int_token
    INT_TABLE = len(INT_T)
    OPEN_TABLE = len(OPEN_T)
    OPEN3_LIMIT = 1 << 21
    INT_ONLY = frozenset((int,))
    OT_LIST = ot["list"]
    OT_TUPLE = ot["tuple"]
    OT_DICT = ot["dict"]
    OT_SET = ot["set"]
    OT_NONE = ot["none"]
    OT_BOOL = ot["boolean"]
    OT_DEC = ot["decimal"]

    def enc_list(o: list[Any], opentype: bytes, k: int) -> int:
        if k < OPEN_TABLE:
            o_h = OPEN_T[k]
            c_h = CLOSE_T[k]
        elif k < OPEN3_LIMIT:
            lo = PAIR[k & 0x3FFF]
            o_h = lo + THIRD_OPEN[k >> 14]
            c_h = lo + THIRD_CLOSE[k >> 14]
        else:
            o_h, c_h = open_close(k)
        refs[id(o)] = k
        append(o_h)
        append(opentype)
        if (
            int_runs
            and len(o) > 8
            and set(map(type, o)) == INT_ONLY
            and min(o) >= 0
            and max(o) < INT_TABLE
        ):
            extend(map(INT_T.__getitem__, o))  # a run of small ints: all in C
            append(c_h)
            return k + 1
        n = k + 1
        for x in o:
            t = type(x)
            if t is int:
                append(INT_T[x] if 0 <= x < INT_TABLE else int_token(x))
            elif t is str:
                n = enc_str(x, n)
            elif t is tuple:
                n = enc_tuple(x, n)
            else:
                n = enc(x, n)
        append(c_h)
        return n

    def enc_tuple(o: tuple[Any, ...], k: int) -> int:
        r = refs.get(id(o))
        if r is not None:
            return emit_ref(r, k)
        return enc_list(o, OT_TUPLE, k)  # type: ignore[arg-type]

    def enc_dict(o: dict[Any, Any], k: int) -> int:
        r = refs.get(id(o))
        if r is not None:
            return emit_ref(r, k)
        try:
            keys = sorted(o)
        except TypeError as e:
            raise Violation(f"cannot sort the keys of a dict: {e}") from None
        if k < OPEN_TABLE:
            o_h = OPEN_T[k]
            c_h = CLOSE_T[k]
        elif k < OPEN3_LIMIT:
            lo = PAIR[k & 0x3FFF]
            o_h = lo + THIRD_OPEN[k >> 14]
            c_h = lo + THIRD_CLOSE[k >> 14]
        else:
            o_h, c_h = open_close(k)
        refs[id(o)] = k
        append(o_h)
        append(OT_DICT)
        n = k + 1
        for key in keys:
            value = o[key]
            n = enc_str(key, n) if type(key) is str else enc(key, n)
            t = type(value)
            if t is int:
                append(INT_T[value] if 0 <= value < INT_TABLE else int_token(value))
            elif t is str:
                n = enc_str(value, n)
            else:
                n = enc(value, n)
        append(c_h)
        return n

    def enc(o: object, k: int) -> int:
        t = type(o)
        if t is int:
            append(int_token(o))  # type: ignore[arg-type]
        elif t is str:
            return enc_str(o, k)  # type: ignore[arg-type]
        elif t is bytes:
            emit_bytes(o)  # type: ignore[arg-type]
        elif t is list or t is set:
            r = refs.get(id(o))
            if r is not None:
                return emit_ref(r, k)
            return enc_list(o, OT_LIST if t is list else OT_SET, k)  # type: ignore[arg-type]
        elif t is dict:
            return enc_dict(o, k)  # type: ignore[arg-type]
        elif t is tuple:
            return enc_tuple(o, k)  # type: ignore[arg-type]
        elif t is float:
            append(b"\x84" + _pack_double(o))
        elif o is None:
            return enc_leaf(OT_NONE, None, k)
        elif t is bool:
            o_h, c_h = open_close(k)
            extend((o_h, OT_BOOL, INT_T[1] if o else INT_T[0], c_h))
            return k + 1
        elif t is frozenset:
            return later["frozenset"](o, k)
        elif t is Decimal:
            return enc_leaf(OT_DEC, str(o).encode(), k)
        else:
            return later["generic"](o, k)
        return k  # an int, bytes or float: no OPEN

    return enc, enc_list, enc_tuple, enc_dict


def _other_emitters(  # noqa: PLR0917
    tables: Tables,
    out: list[bytes],
    refs: dict[int, int],
    keep: list[object],
    ot: dict[str, bytes],
    slicers: SlicerRegistry,
    ctx: SliceContext,
    leaves: _Leaves,
    containers: _Containers,
) -> dict[str, Callable[..., int]]:
    """``frozenset``, ``generic`` (custom slicers, subclasses of built-ins)."""
    append = out.append
    emit_bytes, enc_str, emit_ref, enc_leaf = leaves
    enc, enc_list, enc_tuple, enc_dict = containers
    open_close = tables.open_close
    OT_LIST = ot["list"]
    OT_SET = ot["set"]
    OT_FSET = ot["immutable-set"]
    OT_DEC = ot["decimal"]

    def enc_frozenset(o: frozenset[Any], k: int) -> int:
        o_h, c_h = open_close(k)
        append(o_h)
        append(OT_FSET)
        n = k + 1
        for x in o:
            n = enc(x, n)
        append(c_h)
        return n

    def enc_custom(o: object, entry: SlicerEntry, k: int) -> int:
        if entry.track_references:
            r = refs.get(id(o))
            if r is not None:
                return emit_ref(r, k)
        opentype, children = entry.slicer(o, ctx)
        o_h, c_h = open_close(k)
        if entry.track_references:
            refs[id(o)] = k
            keep.append(o)
        append(o_h)
        for name in opentype:
            tok = ot.get(name)
            if tok is None:
                emit_bytes(name.encode())
            else:
                append(tok)
        n = k + 1
        for child in children:
            # a slicer may make its children on the fly (a fresh state dict): keep them
            # alive until the message is done, so their ids cannot be reused
            keep.append(child)
            n = enc(child, n)
        append(c_h)
        return n

    def enc_generic(o: object, k: int) -> int:
        """Objects whose exact type is not a built-in of the dispatch."""
        t = type(o)
        entry = slicers.lookup(t)
        if entry is not None:
            return enc_custom(o, entry, k)
        # subclasses of built-ins get the built-in behaviour (Foolscap adapts by MRO)
        for klass in t.__mro__:
            handler = _SUBCLASS_HANDLERS.get(klass)
            if handler is not None:
                break
        else:
            raise Violation(f"cannot serialize {short_repr(o)} ({t})")
        if handler == "str":
            return enc_str(o, k)  # type: ignore[arg-type]
        if handler in ("list", "set"):
            r = refs.get(id(o))
            if r is not None:
                return emit_ref(r, k)
            return enc_list(o, OT_LIST if handler == "list" else OT_SET, k)
        if handler == "frozenset":
            return enc_frozenset(o, k)  # type: ignore[arg-type]
        if handler == "decimal":
            return enc_leaf(OT_DEC, str(o).encode(), k)
        if handler == "tuple":
            return enc_tuple(o, k)
        return enc_dict(o, k)  # "dict"

    return {"frozenset": enc_frozenset, "generic": enc_generic}
