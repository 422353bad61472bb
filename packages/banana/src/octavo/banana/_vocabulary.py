"""A decoder's inbound vocabulary (what VOCAB tokens name), its limits and fast tables.

The table starts as negotiated (Foolscap offers 25 words of at most 100 bytes, then
never sends ``set-vocab`` or ``add-vocab``). A peer may replace it (``set-vocab``, a
new table read entry by entry) or add one entry (``add-vocab``), so a hostile peer
could grow it without end: :class:`InboundVocabulary` bounds it to ``max_entries``
entries and ``max_bytes`` bytes of words in all. A change past a limit is a
BananaError, not a Violation: the peer's encoder has already changed its table, so
refusing the change leaves the two ends disagreeing on what every later VOCAB token
means, and the connection cannot go on. A ``set-vocab`` is refused as its entries
arrive (:meth:`~InboundVocabulary.check_replace`), never collected first.

Decoders given the same initial table share its dictionary and its
:class:`~._tables.FastTables` (``_SHARED_VOCABS`` and the registry's ``cache``). A
``set-vocab`` gets a dictionary and tables of its own (built once, in time linear in
the entries the peer sent); the first ``add-vocab`` on shared tables copies them once,
and each one then updates them in O(1) (:meth:`~._tables.FastTables.set_word`). A
decoder's own vocabulary and tables are referred to from nowhere else: they die with it.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._errors import BananaError
from ._registry import UnslicerRegistry
from ._tables import FastTables, fast_tables

__all__ = ["InboundVocabulary"]

#: inbound vocabularies shared between decoders given the same initial table (the empty
#: one and 16 more)
_SHARED_VOCABS: dict[tuple[bytes, ...], dict[int, bytes]] = {(): {}}
_MAX_SHARED_VOCABS = 17


class InboundVocabulary:
    """One decoder's inbound vocabulary: ``tables.words`` (index to word) and the fast
    tables over it, kept within ``max_entries`` entries and ``max_bytes`` bytes."""

    __slots__ = ("key", "max_bytes", "max_entries", "nbytes", "registry", "tables")

    def __init__(
        self,
        registry: UnslicerRegistry,
        max_entries: int,
        max_bytes: int,
        initial: Sequence[bytes | str] | None = None,
    ) -> None:
        if max_entries < 0:
            raise ValueError("max_vocab_entries must be >= 0")
        if max_bytes < 0:
            raise ValueError("max_vocab_bytes must be >= 0")
        self.registry = registry
        #: the most entries the table may hold
        self.max_entries = max_entries
        #: the most bytes its words may hold in all
        self.max_bytes = max_bytes
        #: the bytes its words hold now
        self.nbytes = 0
        #: the initial table this one is shared as (None: this decoder's own)
        self.key: tuple[bytes, ...] | None = ()
        self.tables: FastTables
        if initial:
            self.populate(initial)  # no tables built for the empty table first
        else:
            self.tables = fast_tables(registry, _SHARED_VOCABS[()], ())

    def refresh(self) -> FastTables:
        """The tables for the registry as it is now (rebuilt if it changed)."""
        return self._build(self.tables.words)

    def _build(self, words: dict[int, bytes]) -> FastTables:
        if self.key is None:
            self.tables = FastTables(self.registry, words)
        else:
            self.tables = fast_tables(self.registry, words, self.key)
        return self.tables

    def populate(self, strings: Sequence[bytes | str]) -> FastTables:
        """Install a negotiated initial table (ours: counted, never refused)."""
        table = tuple(s.encode() if isinstance(s, str) else bytes(s) for s in strings)
        words = _SHARED_VOCABS.get(table)
        if words is None:
            words = dict(enumerate(table))
            if len(_SHARED_VOCABS) < _MAX_SHARED_VOCABS:
                _SHARED_VOCABS[table] = words
        self.key = table if _SHARED_VOCABS.get(table) is words else None
        self.nbytes = sum(map(len, table))
        return self._build(words)

    def check_replace(self, entries: int, nbytes: int) -> None:
        """Refuse a ``set-vocab`` that has reached ``entries`` entries and ``nbytes``
        bytes of words (called as each entry arrives, before its word is read)."""
        if entries > self.max_entries:
            raise BananaError(
                f"set-vocab of more than {self.max_entries} entries (max_vocab_entries)"
            )
        if nbytes > self.max_bytes:
            raise BananaError(
                f"set-vocab of more than {self.max_bytes} bytes of words (max_vocab_bytes)"
            )

    def replace(self, words: dict[int, bytes]) -> FastTables:
        """A ``set-vocab`` arrived (checked entry by entry): ``words`` is the table."""
        words = dict(words)
        nbytes = sum(map(len, words.values()))
        self.check_replace(len(words), nbytes)
        self.key = None
        self.nbytes = nbytes
        return self._build(words)

    def add(self, index: int, word: bytes) -> FastTables:
        """An ``add-vocab`` arrived: ``words[index] = word`` in O(1), unless that takes
        the table past a limit (BananaError)."""
        words = self.tables.words
        old = words.get(index)
        entries = len(words) + (old is None)
        nbytes = self.nbytes + len(word) - (0 if old is None else len(old))
        if entries > self.max_entries:
            raise BananaError(f"add-vocab past {self.max_entries} entries (max_vocab_entries)")
        if nbytes > self.max_bytes:
            raise BananaError(f"add-vocab past {self.max_bytes} bytes of words (max_vocab_bytes)")
        if self.key is not None:  # shared: copy on write, once
            self.tables = self.tables.copy()
            self.key = None
        self.tables.set_word(index, word)
        self.nbytes = nbytes
        return self.tables
