"""What the decoder's fast paths know about one registry and one inbound vocabulary.

The fast reader (``_fast.py``) recognises an OPEN sequence by its index token, as it
arrives: ``STRING "list"`` or, with a vocabulary, ``VOCAB 4``. :class:`FastTables`
holds, per level (the top level, or nested), which complete index tokens open

- a built-in kind the reader builds itself (``KIND_*``: a str, None, bool or reference
  read whole; a list, tuple or dict read with everything in it), or
- another registered opentype of a single index token (sets, octavo-tub's ``call``...),
  whose unslicer the reader pushes without the general path's two steps.

A built-in opentype whose factory was replaced counts as registered, not built in; an
opentype of several index tokens is left to the general path. The tables are built
from the registry's entries and the vocabulary, never decide anything the registry
would not (an opentype is in the top-level table only if it is registered for the top
level), and are rebuilt when the registry changes. Decoders that share a registry and
an initial vocabulary share one FastTables (through the registry's ``cache``, which
holds at most one per shared vocabulary); a vocabulary changed by ``set-vocab`` gets
tables of its own, built from it; the first ``add-vocab`` copies shared tables once
(:meth:`FastTables.copy`) and each one updates them in O(1)
(:meth:`FastTables.set_word`). Tables of one decoder's own die with it.
"""

from __future__ import annotations

from ._registry import BUILTIN_FACTORIES, UnslicerEntry, UnslicerRegistry
from ._tokens import b128_encode
from ._unslicers import DictUnslicer, ListUnslicer, Opentype, TupleUnslicer, Unslicer

__all__ = [
    "CONTAINER_UNSLICERS",
    "KIND_BOOL",
    "KIND_DICT",
    "KIND_LIST",
    "KIND_NONE",
    "KIND_REF",
    "KIND_TUPLE",
    "KIND_UNICODE",
    "FastTables",
    "Registered",
    "fast_tables",
]

# The built-in kinds the fast reader reads itself. Leaves first: kinds up to KIND_REF
# are read whole (OPEN, index token, at most one token, CLOSE).
KIND_UNICODE = 1
KIND_NONE = 2
KIND_BOOL = 3
KIND_REF = 4
KIND_LIST = 5
KIND_TUPLE = 6
KIND_DICT = 7

_BUILTIN_KINDS: dict[str, int] = {
    "unicode": KIND_UNICODE,
    "none": KIND_NONE,
    "boolean": KIND_BOOL,
    "reference": KIND_REF,
    "list": KIND_LIST,
    "tuple": KIND_TUPLE,
    "dict": KIND_DICT,
}

#: the unslicer that stands for a container the fast reader had open (see Stack.adopt)
CONTAINER_UNSLICERS: dict[int, type[Unslicer]] = {
    KIND_LIST: ListUnslicer,
    KIND_TUPLE: TupleUnslicer,
    KIND_DICT: DictUnslicer,
}

#: VOCAB indexes below this have a one-byte header (see FastTables.word_kinds)
_SMALL_WORDS = 128

#: a registered opentype of one index token: its entry and the opentype
Registered = tuple[UnslicerEntry, Opentype]


class FastTables:
    """Index tokens the fast reader can open, for one registry version and vocabulary.

    Keys are complete index tokens as they arrive (header, type byte, and for STRING
    the name). ``kinds_top``/``kinds_nested`` map them to a built-in ``KIND_*``;
    ``custom_top``/``custom_nested`` to a registered opentype. ``word_kinds`` is
    ``kinds_nested`` for the index tokens ``VOCAB 0`` to ``VOCAB 127`` (one-byte
    headers) by index, for the reader's commonest lookup without slicing the token.
    """

    __slots__ = (
        "custom_nested",
        "custom_top",
        "kinds_nested",
        "kinds_top",
        "names",
        "version",
        "word_kinds",
        "words",
    )

    def __init__(self, registry: UnslicerRegistry, words: dict[int, bytes]) -> None:
        #: the registry version these tables were built for
        self.version = registry.version
        #: the inbound vocabulary (index to string), shared with the decoder
        self.words = words
        self.kinds_top: dict[bytes, int] = {}
        self.kinds_nested: dict[bytes, int] = {}
        self.custom_top: dict[bytes, Registered] = {}
        self.custom_nested: dict[bytes, Registered] = {}
        self.word_kinds: list[int] = [0] * _SMALL_WORDS
        #: the registered opentypes of one index token, by name: (kind or 0, entry, it)
        self.names: dict[bytes, tuple[int, UnslicerEntry, Opentype]] = {}
        for ot, entry in registry.entries():
            if len(ot) != 1 or entry.extra_index_tokens:
                continue  # opentypes of several index tokens take the general path
            name = ot[0].encode()
            kind = _BUILTIN_KINDS.get(ot[0], 0)
            if kind and entry.factory is not BUILTIN_FACTORIES[ot]:
                kind = 0  # a replaced built-in behaves as a registered opentype
            self.names[name] = found = (kind, entry, ot)
            self._put(b128_encode(len(name)) + b"\x82" + name, found)
        for i, w in words.items():
            named = self.names.get(w)
            if named is not None:
                self._put(b128_encode(i) + b"\x87", named, i)

    def _put(self, key: bytes, found: tuple[int, UnslicerEntry, Opentype], index: int = -1) -> None:
        kind, entry, ot = found
        if kind:
            if entry.top_level:
                self.kinds_top[key] = kind
            if entry.nested:
                self.kinds_nested[key] = kind
                if 0 <= index < _SMALL_WORDS:
                    self.word_kinds[index] = kind
        else:
            if entry.top_level:
                self.custom_top[key] = (entry, ot)
            if entry.nested:
                self.custom_nested[key] = (entry, ot)

    def set_word(self, index: int, word: bytes) -> None:
        """``words[index] = word`` (an ``add-vocab``), the tables kept current in O(1):
        the keys of the index's previous word go, a key for the new word comes if it
        names a registered opentype. Only for tables of one decoder's own vocabulary
        (see :meth:`copy`)."""
        key = b128_encode(index) + b"\x87"
        if index in self.words:
            self.kinds_top.pop(key, None)
            self.kinds_nested.pop(key, None)
            self.custom_top.pop(key, None)
            self.custom_nested.pop(key, None)
            if index < _SMALL_WORDS:
                self.word_kinds[index] = 0
        self.words[index] = word
        found = self.names.get(word)
        if found is not None:
            self._put(key, found, index)

    def copy(self) -> FastTables:
        """Tables of the same registry version over a copy of the vocabulary, to change
        on their own (copy on write of shared tables; ``names`` stays shared)."""
        new = FastTables.__new__(FastTables)
        new.version = self.version
        new.words = dict(self.words)
        new.kinds_top = dict(self.kinds_top)
        new.kinds_nested = dict(self.kinds_nested)
        new.custom_top = dict(self.custom_top)
        new.custom_nested = dict(self.custom_nested)
        new.word_kinds = list(self.word_kinds)
        new.names = self.names
        return new


def fast_tables(
    registry: UnslicerRegistry, words: dict[int, bytes], key: tuple[bytes, ...] | None
) -> FastTables:
    """The tables for ``registry`` as it is now and the vocabulary ``words``.

    ``key`` names a vocabulary that decoders share (the initial table, ``()`` for none):
    its tables are kept in ``registry.cache`` (emptied whenever an opentype of one
    index token changes; shared with the registry's copies until then) and shared.
    With ``key`` None (a vocabulary of one decoder) they are built afresh.
    """
    if key is None:
        return FastTables(registry, words)
    cache = registry.cache
    tables = cache.get(key)
    if not isinstance(tables, FastTables) or tables.words is not words:
        tables = cache[key] = FastTables(registry, words)
    return tables
