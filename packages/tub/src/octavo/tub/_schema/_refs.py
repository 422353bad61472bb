"""Constraints on objects that travel by reference, and on local interfaces.

- :class:`RemoteInterfaceConstraint` (``RIFoo`` or ``Referenceable`` as an argument
  type): outbound, a Referenceable providing RIFoo or a RemoteReference to one;
  inbound, a RemoteReference whose far object announced RIFoo (by name, in its
  ``my-reference``). With no interface, any reference.
- :class:`LocalInterfaceConstraint` (``IFoo``, a plain zope Interface): an object
  here that provides IFoo. Nothing from the wire can be one, so inbound it refuses
  every token.
"""

from __future__ import annotations

from typing import Any

from zope.interface.interface import InterfaceClass  # type: ignore[import-untyped,unused-ignore]

from octavo.banana import Constraint, OpenerConstraint, Violation, register_constraint_maker

from ._ipb import IReferenceable, IRemoteReference

__all__ = ["LocalInterfaceConstraint", "RemoteInterfaceConstraint"]


def _iface_name(iface: Any) -> str:
    name = getattr(iface, "__remote_name__", None) or getattr(iface, "__name__", None)
    return name if isinstance(name, str) else repr(iface)


class RemoteInterfaceConstraint(OpenerConstraint):
    """A reference to an object providing ``interface`` (None: any reference)."""

    opentypes = [("my-reference",), ("their-reference",)]
    name = "RemoteInterfaceConstraint"

    def __init__(self, interface: Any) -> None:
        self.interface = interface

    def _check_proxy(self, obj: Any) -> None:
        if self.interface is None:
            return
        # (a LocalReferenceable has no tracker: its interface is its original's)
        tracker = getattr(obj, "tracker", None)
        if tracker is not None:
            got = getattr(tracker, "interface", None)
        else:
            original = getattr(obj, "original", None)
            got = self.interface if self.interface.providedBy(original) else None
        if got is None or got != self.interface:
            raise Violation(
                f"{obj!r} does not provide RemoteInterface {_iface_name(self.interface)}"
            )

    def checkObject(self, obj: object, inbound: bool) -> None:
        if IRemoteReference.providedBy(obj):
            self._check_proxy(obj)
            return
        if inbound:
            raise Violation(
                f"{type(obj).__name__} does not provide RemoteInterface "
                f"{_iface_name(self.interface) if self.interface else ''}, and is not a "
                "RemoteReference"
            )
        if not IReferenceable.providedBy(obj):
            raise Violation(f"{type(obj).__name__} is not a Referenceable")
        if self.interface is not None and not self.interface.providedBy(obj):
            want = _iface_name(self.interface)
            raise Violation(f"{type(obj).__name__} does not provide RemoteInterface {want}")

    def __repr__(self) -> str:
        return (
            f"<RemoteInterfaceConstraint {_iface_name(self.interface) if self.interface else '*'}>"
        )


class LocalInterfaceConstraint(Constraint):
    """A local object providing the zope Interface ``interface``."""

    taster: dict[int, int | None] = {}
    opentypes = []
    name = "LocalInterfaceConstraint"

    def __init__(self, interface: Any) -> None:
        self.interface = interface

    def checkObject(self, obj: object, inbound: bool) -> None:
        if not self.interface.providedBy(obj):
            raise Violation(
                f"{type(obj).__name__} does not provide interface {_iface_name(self.interface)}"
            )


# a plain Interface as a shorthand; RemoteInterfaces register their own maker first
register_constraint_maker(InterfaceClass, LocalInterfaceConstraint)
