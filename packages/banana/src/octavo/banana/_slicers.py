"""The encoder's registry: how each Python type becomes a Banana sequence.

A slicer is a callable ``slicer(obj, ctx) -> (opentype, children)``: the
opentype tuple (its strings are sent as the index tokens) and an iterable of
child objects. Children of exact type int, float and bytes are sent as
primitive tokens; every other child is encoded through the registry again, so
shared references and cycles work inside custom sequences too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["SliceContext", "Slicer", "SlicerEntry", "SlicerRegistry"]


class SliceContext:
    """What a slicer can see: the encoder's per-connection ``context`` object."""

    __slots__ = ("context",)

    def __init__(self, context: object) -> None:
        self.context = context


Slicer = Callable[[Any, SliceContext], tuple[tuple[str, ...], Iterable[object]]]


@dataclass(frozen=True)
class SlicerEntry:
    """A registered slicer and whether objects it handles may be shared (cycles)."""

    slicer: Slicer
    track_references: bool = False


class SlicerRegistry:
    """Encoders by Python type, looked up along the type's MRO.

    Built-in inert types are handled by the encoder itself and cannot be
    overridden for their exact type; a subclass (say of ``dict``) gets the
    built-in behaviour unless a slicer is registered for it or a closer base.
    """

    def __init__(self) -> None:
        self._table: dict[type, SlicerEntry] = {}
        self._cache: dict[type, SlicerEntry | None] = {}
        self._fallback: Callable[[type], SlicerEntry | None] | None = None

    def set_fallback(self, fallback: Callable[[type], SlicerEntry | None] | None) -> None:
        """Ask ``fallback(cls)`` about a type that no registered class of its MRO
        covers (octavo-tub: zope adapters to ICopyable). An entry it gives is kept like
        a registered one; a None is asked again next time, so adapters registered later
        count."""
        self._fallback = fallback
        self._cache.clear()

    def register(self, cls: type, slicer: Slicer, *, track_references: bool = False) -> None:
        """Use ``slicer`` for instances of ``cls`` (and subclasses without their own)."""
        self._table[cls] = SlicerEntry(slicer, track_references)
        self._cache.clear()

    def unregister(self, cls: type) -> None:
        """Forget the slicer registered for exactly ``cls``."""
        del self._table[cls]
        self._cache.clear()

    def lookup(self, cls: type) -> SlicerEntry | None:
        """The entry for ``cls``: its own, or that of the nearest base in the MRO."""
        try:
            return self._cache[cls]
        except KeyError:
            pass
        found = None
        for klass in cls.__mro__:
            entry = self._table.get(klass)
            if entry is not None:
                found = entry
                break
        if found is None and self._fallback is not None:
            found = self._fallback(cls)
            if found is None:
                return None
        self._cache[cls] = found
        return found

    def copy(self) -> SlicerRegistry:
        """An independent registry with the same entries (for per-connection scope)."""
        new = SlicerRegistry()
        new._table = dict(self._table)
        new._fallback = self._fallback
        return new
