"""The opentype registry: which unslicer reads a sequence, and where it may appear."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ._leaves import (
    AddVocabUnslicer,
    BooleanUnslicer,
    DecimalUnslicer,
    NoneUnslicer,
    ReferenceUnslicer,
    ReplaceVocabUnslicer,
    UnicodeUnslicer,
)
from ._unslicers import (
    DictUnslicer,
    FrozenSetUnslicer,
    ListUnslicer,
    Opentype,
    SetUnslicer,
    TupleUnslicer,
    Unslicer,
)

__all__ = [
    "BUILTIN_FACTORIES",
    "UnslicerEntry",
    "UnslicerRegistry",
    "default_unslicers",
    "shared_default_unslicers",
]

UnslicerFactory = Callable[[Opentype], Unslicer]


@dataclass(frozen=True)
class UnslicerEntry:
    """How to build the unslicer for one opentype, and where it is allowed."""

    factory: UnslicerFactory
    top_level: bool
    nested: bool
    extra_index_tokens: int
    max_index_length: int


class UnslicerRegistry:
    """Unslicers by opentype (a tuple of strings), per connection.

    ``register(("call",), factory, top_level=True, nested=False)``: the factory
    is called with the full opentype and returns a fresh Unslicer. With
    ``extra_index_tokens=k`` the opentype is the registered prefix plus k more
    index tokens (each at most ``max_index_length`` bytes), e.g.
    ``("copyable", classname)``; the factory may raise Violation for unknown
    names.
    """

    def __init__(self) -> None:
        self._table: dict[Opentype, UnslicerEntry] = {}
        self._prefixes: set[Opentype] = set()
        self._max_index_length = 0
        #: bumped on every change; decoders use it to refresh their caches
        self.version = 0
        #: decoder-side caches keyed by vocabulary, valid for one version
        self.cache: dict[object, object] = {}

    def register(
        self,
        opentype: Opentype | str,
        factory: UnslicerFactory,
        *,
        top_level: bool = True,
        nested: bool = True,
        extra_index_tokens: int = 0,
        max_index_length: int = 200,
    ) -> None:
        """Use ``factory(opentype)`` for sequences of ``opentype`` (replacing any)."""
        ot = (opentype,) if isinstance(opentype, str) else tuple(opentype)
        if not ot or not all(isinstance(x, str) for x in ot):
            raise TypeError("opentype must be a non-empty tuple of str")
        entry = UnslicerEntry(factory, top_level, nested, extra_index_tokens, max_index_length)
        old = self._table.get(ot)
        self._table[ot] = entry
        self._rebuild(_in_fast_tables(ot, entry) or _in_fast_tables(ot, old))

    def unregister(self, opentype: Opentype | str) -> None:
        """Forget the unslicer for ``opentype``."""
        ot = (opentype,) if isinstance(opentype, str) else tuple(opentype)
        old = self._table.pop(ot)
        self._rebuild(_in_fast_tables(ot, old))

    def _rebuild(self, tables_change: bool = True) -> None:
        self._prefixes = set()
        for ot in self._table:
            for i in range(1, len(ot)):
                self._prefixes.add(ot[:i])
        lengths = [len(x.encode()) for ot in self._table for x in ot]
        self._max_index_length = max(lengths, default=0)
        if tables_change:
            # The decoders' fast tables hold the opentypes of one index token (see
            # _tables.py): only a change to those makes them stale.
            self.version += 1
            self.cache = {}

    def get(self, opentype: Opentype) -> UnslicerEntry | None:
        """The entry registered for exactly ``opentype``."""
        return self._table.get(opentype)

    def lookup(self, opentype: Opentype) -> tuple[UnslicerEntry | None, int]:
        """Find the entry for a (maybe partial) opentype.

        Returns (entry, 0) for a complete match, (None, n>0) if more index
        tokens may follow (n is the longest allowed next token), (None, 0) if
        nothing matches.
        """
        for i in range(len(opentype), 0, -1):
            base = self._table.get(opentype[:i])
            if base is None:
                continue
            extra = len(opentype) - i
            if extra == base.extra_index_tokens:
                return base, 0
            if extra < base.extra_index_tokens:
                return None, base.max_index_length
        if opentype in self._prefixes:
            return None, self._max_index_length
        return None, 0

    def entries(self) -> list[tuple[Opentype, UnslicerEntry]]:
        """Every registered (opentype, entry) pair."""
        return list(self._table.items())

    def max_index_length(self) -> int:
        """The longest index token any registered opentype starts with."""
        return self._max_index_length

    def copy(self) -> UnslicerRegistry:
        """An independent registry with the same entries (for per-connection scope).

        Until one of the two changes an opentype of one index token, they share their
        decoders' fast tables (the same ``version`` and ``cache``): a Tub's registry,
        a copy of the process one with its own ``("copyable", NAME)`` opener, builds
        none of its own."""
        new = UnslicerRegistry()
        new._table = dict(self._table)
        new._prefixes = set(self._prefixes)
        new._max_index_length = self._max_index_length
        new.version = self.version
        new.cache = self.cache
        return new


def _in_fast_tables(ot: Opentype, entry: UnslicerEntry | None) -> bool:
    """Whether the decoders' fast tables list this entry (an opentype of one index
    token, with no extra index tokens: see ``FastTables``)."""
    return entry is not None and len(ot) == 1 and not entry.extra_index_tokens


BUILTIN_UNSLICERS: dict[Opentype, type[Unslicer]] = {
    ("unicode",): UnicodeUnslicer,
    ("list",): ListUnslicer,
    ("tuple",): TupleUnslicer,
    ("dict",): DictUnslicer,
    ("set",): SetUnslicer,
    ("immutable-set",): FrozenSetUnslicer,
    ("none",): NoneUnslicer,
    ("boolean",): BooleanUnslicer,
    ("reference",): ReferenceUnslicer,
    ("decimal",): DecimalUnslicer,
}


def _factory(cls: type[Unslicer]) -> UnslicerFactory:
    def make(opentype: Opentype) -> Unslicer:
        return cls()

    make.unslicer_class = cls  # type: ignore[attr-defined]
    return make


BUILTIN_FACTORIES: dict[Opentype, UnslicerFactory] = {
    ot: _factory(cls) for ot, cls in BUILTIN_UNSLICERS.items()
}
SET_VOCAB_FACTORY = _factory(ReplaceVocabUnslicer)
ADD_VOCAB_FACTORY = _factory(AddVocabUnslicer)


def _make_default() -> UnslicerRegistry:
    reg = UnslicerRegistry()
    for ot, factory in BUILTIN_FACTORIES.items():
        reg.register(ot, factory)
    reg.register(("set-vocab",), SET_VOCAB_FACTORY, nested=False)
    reg.register(("add-vocab",), ADD_VOCAB_FACTORY, nested=False)
    return reg


_DEFAULT = _make_default()


def default_unslicers() -> UnslicerRegistry:
    """A fresh registry with Foolscap's inert types (anywhere) and the vocabulary
    sequences (top level only)."""
    return _DEFAULT.copy()


def shared_default_unslicers() -> UnslicerRegistry:
    """The one default registry shared by decoders that do not register anything
    (do not modify it)."""
    return _DEFAULT
