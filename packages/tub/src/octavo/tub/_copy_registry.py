"""Who reads which copytype: the process-wide registry, per-Tub ones, and copiers.

Inbound, a :class:`CopyableRegistry` maps a copytype to a factory of unslicers. There
is one for the process (:data:`PROCESS_COPYABLES`, what Foolscap's registration
functions fill) and one per Tub (``tub.copyables``), which looks in its own table
first and then in the process-wide one. Registering the same copytype twice in one
registry is an error.

Outbound, third-party classes become copyable with :func:`registerCopier`; the
encoders that send copyables (every Broker's, and Tub storage's) are attached with
:func:`attach_slicer_registry` and learn of copiers registered later.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from typing import Any

from octavo.banana import (
    SliceContext,
    SlicerRegistry,
    Unslicer,
    UnslicerRegistry,
    Violation,
    default_unslicers,
)

from ._wire._copyables import (
    COPYTYPE_LIMIT,
    RemoteCopyUnslicer,
    StateSchema,
    register_copyable_opener,
)

__all__ = [
    "PROCESS_COPYABLES",
    "CopyableRegistry",
    "attach_slicer_registry",
    "copy_body",
    "copyable_unslicers",
    "registerCopier",
    "registerRemoteCopyFactory",
    "registerRemoteCopyUnslicerFactory",
]

UnslicerFactory = Callable[[], Unslicer]
_Sliced = tuple[tuple[str, ...], Iterable[object]]


def _check_copytype(copytype: object) -> str:
    if not isinstance(copytype, str) or not copytype:
        raise TypeError(f"a copytype is a non-empty str, not {copytype!r}")
    if len(copytype.encode("utf-8")) > COPYTYPE_LIMIT:
        raise ValueError(f"copytype longer than {COPYTYPE_LIMIT} bytes")
    return copytype


class CopyableRegistry:
    """Unslicer factories by copytype; ``parent`` is consulted for names not here."""

    def __init__(self, parent: CopyableRegistry | None = None) -> None:
        self.parent = parent
        self._factories: dict[str, UnslicerFactory] = {}
        #: what readers built to read through this registry (a Tub's PB codec, its
        #: storage unslicers), made once and kept here so they live as long as it does
        self.derived: dict[str, Any] = {}

    def register(self, copytype: str, factory: UnslicerFactory) -> None:
        """Read ``copytype`` with ``factory()`` (ValueError if it is taken here)."""
        _check_copytype(copytype)
        if not callable(factory):
            raise TypeError("the unslicer factory must be callable")
        if copytype in self._factories:
            raise ValueError(f"copytype {copytype!r} is already registered")
        self._factories[copytype] = factory

    def unregister(self, copytype: str) -> None:
        """Forget ``copytype`` in this registry (KeyError if it is not registered here)."""
        del self._factories[copytype]

    def unslicer_factory(self, copytype: str) -> UnslicerFactory | None:
        """The factory for ``copytype``: this registry's, else its parent's."""
        factory = self._factories.get(copytype)
        if factory is None and self.parent is not None:
            return self.parent.unslicer_factory(copytype)
        return factory

    def __contains__(self, copytype: object) -> bool:
        return isinstance(copytype, str) and self.unslicer_factory(copytype) is not None

    def names(self) -> list[str]:
        """The copytypes registered here (not the parent's)."""
        return list(self._factories)


#: the process-wide registry (every Tub's registry falls back to it)
PROCESS_COPYABLES = CopyableRegistry()


def copyable_unslicers(registry: CopyableRegistry | None = None) -> UnslicerRegistry:
    """An unslicer registry for ``octavo.banana.unserialize(data, unslicers=...)`` that
    reads Copyables through ``registry`` (default: the process-wide one)."""
    reg = default_unslicers()
    register_copyable_opener(
        reg, PROCESS_COPYABLES if registry is None else registry, top_level=True
    )
    return reg


def registerRemoteCopyUnslicerFactory(
    typename: str, unslicerfactory: UnslicerFactory, registry: CopyableRegistry | None = None
) -> None:
    """Read Copyables of ``typename`` with ``unslicerfactory()`` (an octavo.banana
    Unslicer), in ``registry`` (default: the process-wide one)."""
    (PROCESS_COPYABLES if registry is None else registry).register(typename, unslicerfactory)


def registerRemoteCopyFactory(
    typename: str,
    factory: Callable[[dict[str, Any]], object],
    stateSchema: StateSchema | None = None,
    cyclic: bool = True,
    registry: CopyableRegistry | None = None,
) -> None:
    """Make Copyables of ``typename`` with ``factory(state_dict)``, each attribute
    checked against ``stateSchema`` as it arrives. ``cyclic=False`` for objects that
    state cannot refer back to (Foolscap's flag, for failures)."""
    if not callable(factory):
        raise TypeError("the factory must be callable")
    name = _check_copytype(typename)

    def make_unslicer() -> Unslicer:
        return RemoteCopyUnslicer(name, factory, stateSchema, cyclic=cyclic)

    registerRemoteCopyUnslicerFactory(name, make_unslicer, registry)


# -- outbound: copiers for classes that are not Copyable ---------------------------------

Copier = Callable[[Any], tuple[str | None, dict[str, Any]]]
_COPIERS: dict[type, Copier] = {}
_ATTACHED: weakref.WeakSet[SlicerRegistry] = weakref.WeakSet()


def copy_body(state: dict[str, Any]) -> Iterable[object]:
    """The children of a ``copyable`` sequence: each name (as bytes), then its value."""
    for k, v in state.items():
        if isinstance(k, str):
            yield k.encode("utf-8")
        elif isinstance(k, bytes):
            yield k
        else:
            raise Violation(f"copyable state keys must be strings, not {type(k).__name__}")
        yield v


def _copier_slicer(klass: type, copier: Copier) -> Callable[[Any, SliceContext], _Sliced]:
    default_name = f"{klass.__module__}.{klass.__qualname__}"

    def slice_copied(obj: Any, ctx: SliceContext) -> _Sliced:
        copytype, state = copier(obj)
        if copytype is None:
            copytype = default_name
        _check_copytype(copytype)
        return ("copyable", copytype), copy_body(state)

    return slice_copied


def registerCopier(klass: type, copier: Copier) -> None:
    """Send instances of ``klass`` (a class you cannot make Copyable) by value:
    ``copier(obj)`` returns ``(copytype, state_dict)``; a copytype of None means the
    class's qualified name."""
    if not isinstance(klass, type) or not callable(copier):
        raise TypeError("registerCopier needs a class and a callable")
    _COPIERS[klass] = copier
    for reg in list(_ATTACHED):
        reg.register(klass, _copier_slicer(klass, copier))


def attach_slicer_registry(reg: SlicerRegistry) -> None:
    """Let ``reg`` send the instances of every class given to :func:`registerCopier`,
    now and later."""
    for klass, copier in _COPIERS.items():
        reg.register(klass, _copier_slicer(klass, copier))
    _ATTACHED.add(reg)
