"""Objects sent by value: ``Copyable`` (the sender's side) and ``RemoteCopy`` (the receiver's).

A :class:`Copyable` crosses a connection as its copytype and a dict of attributes
(``getStateToCopy()``). The receiving end looks the copytype up in its registries
(``_copy_registry``) and makes a new object from the attributes: for a
:class:`RemoteCopy` subclass, an instance made without arguments and given the state
with ``setCopyableState``. Defining a RemoteCopy subclass registers it, as in
Foolscap. The two ends need not share code, only the copytype and the attribute names.

As in Foolscap, a class need not inherit from Copyable: one declared
``@implementer(ICopyable)`` (with both methods), or one with an adapter to
:class:`ICopyable` (``twisted.python.components.registerAdapter(Adapter, cls,
ICopyable)``), is sent the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from twisted.python.components import getAdapterFactory
from zope.interface import Interface, implementer  # type: ignore[import-untyped,unused-ignore]

from octavo.banana import SliceContext, SlicerEntry, SlicerRegistry, Violation

from ._copy_registry import (
    CopyableRegistry,
    attach_slicer_registry,
    copy_body,
    registerRemoteCopyFactory,
)
from ._sturdy_copy import STURDYREF_COPYTYPE
from ._wire._copyables import StateSchema

__all__ = [
    "STURDYREF_COPYTYPE",
    "Copyable",
    "ICopyable",
    "RemoteCopy",
    "copyable_slicers",
    "install_copy_slicers",
    "registerRemoteCopy",
]


class ICopyable(Interface):  # type: ignore[misc,unused-ignore]
    """Sent by value (Foolscap's ``ICopyable``): provided by Copyable, declarable by any
    class, or given to one by an adapter."""

    def getTypeToCopy() -> str:  # type: ignore[misc,empty-body,unused-ignore]
        """The copytype sent."""

    def getStateToCopy() -> dict[str, Any]:  # type: ignore[misc,empty-body,unused-ignore]
        """The attributes sent: a dict with str keys."""


@implementer(ICopyable)
class Copyable:
    """Sent by value: set ``typeToCopy`` (a name in a namespace you control).

    ``getStateToCopy`` returns ``self.__dict__`` unless overridden; its keys must be
    strings and its values serializable (inert values, Referenceables, other
    Copyables...). ``copytype`` is used when ``typeToCopy`` is not set, so a class
    that is both Copyable and RemoteCopy names its type once.
    """

    typeToCopy: ClassVar[str]

    def getTypeToCopy(self) -> str:
        """The copytype sent (``typeToCopy``, else ``copytype``)."""
        copytype = getattr(self, "typeToCopy", None) or getattr(self, "copytype", None)
        if not isinstance(copytype, str):
            raise Violation(f"{type(self).__name__} is Copyable but sets no 'typeToCopy'")
        return copytype

    def getStateToCopy(self) -> dict[str, Any]:
        """The attributes sent (default: ``self.__dict__``)."""
        return self.__dict__


def slice_copyable(obj: Copyable, ctx: SliceContext) -> tuple[tuple[str, ...], Iterable[object]]:
    """``("copyable", copytype)`` and the attribute pairs, as Foolscap sends them."""
    copytype = obj.getTypeToCopy()
    state = obj.getStateToCopy()
    if not isinstance(state, dict):
        raise Violation(f"getStateToCopy of {copytype!r} returned a {type(state).__name__}")
    return ("copyable", copytype), copy_body(state)


def slice_adapted(obj: object, ctx: SliceContext) -> tuple[tuple[str, ...], Iterable[object]]:
    """An object with an adapter to ICopyable: the adapter's copytype and state."""
    return slice_copyable(ICopyable(obj), ctx)


_DECLARED = SlicerEntry(slice_copyable)
_ADAPTED = SlicerEntry(slice_adapted)


def copyable_by_interface(cls: type) -> SlicerEntry | None:
    """How a class that is not a Copyable subclass is sent by value, if it is: it
    declares ICopyable, or an adapter to ICopyable is registered for it."""
    if ICopyable.implementedBy(cls):
        return _DECLARED
    if getAdapterFactory(cls, ICopyable, None) is not None:  # type: ignore[no-untyped-call]
        return _ADAPTED
    return None


def install_copy_slicers(reg: SlicerRegistry) -> None:
    """Let an encoder with ``reg`` send Copyables (subclasses, classes declaring
    ICopyable, classes with an adapter to it) and registered copiers' classes."""
    reg.register(Copyable, slice_copyable)
    reg.set_fallback(copyable_by_interface)
    attach_slicer_registry(reg)


def registerRemoteCopy(
    typename: str, remote_copy_class: type, registry: CopyableRegistry | None = None
) -> None:
    """Make Copyables of ``typename`` as ``remote_copy_class()`` given their state with
    ``setCopyableState``, checked against the class's ``stateSchema``."""
    set_state = getattr(remote_copy_class, "setCopyableState", None)
    if not callable(set_state):
        raise TypeError(f"{remote_copy_class!r} has no setCopyableState method")

    def make(state: dict[str, Any]) -> object:
        obj = remote_copy_class()
        obj.setCopyableState(state)
        return obj

    registerRemoteCopyFactory(
        typename,
        make,
        getattr(remote_copy_class, "stateSchema", None),
        not getattr(remote_copy_class, "nonCyclic", False),
        registry,
    )


class RemoteCopy:
    """The receiving side of a Copyable; subclasses register themselves.

    A subclass must set ``copytype`` (None: do not register it) and may set
    ``stateSchema`` (an ``AttributeDictConstraint``) and ``copyableRegistry`` (a
    ``CopyableRegistry``, e.g. ``tub.copyables``; default: the process-wide one).
    It is made without arguments, then given its state by :meth:`setCopyableState`.
    """

    copytype: ClassVar[str | None] = None
    stateSchema: ClassVar[StateSchema | None] = None
    nonCyclic: ClassVar[bool] = False
    copyableRegistry: ClassVar[CopyableRegistry | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "copytype" not in cls.__dict__:
            raise RuntimeError(f"RemoteCopy subclass {cls.__name__} must specify 'copytype'")
        copytype = cls.__dict__["copytype"]
        if copytype:
            registerRemoteCopy(copytype, cls, cls.__dict__.get("copyableRegistry"))

    def setCopyableState(self, state: dict[str, Any]) -> None:
        """Take the received attributes (default: they become ``self.__dict__``)."""
        self.__dict__ = state


def copyable_slicers() -> SlicerRegistry:
    """A slicer registry for ``octavo.banana.serialize(obj, slicers=...)`` that stores
    Copyables (and copiers' classes) as ``foolscap.storage`` does."""
    reg = SlicerRegistry()
    install_copy_slicers(reg)
    return reg
