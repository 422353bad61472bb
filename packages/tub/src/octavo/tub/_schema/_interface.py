"""RemoteInterface: a zope Interface whose methods are remote method schemas.

Declaring ``class RIFoo(RemoteInterface)`` turns every public function of the
class body (and every schema object assigned there) into a
:class:`~._method.RemoteMethodSchema`, names the interface (``__remote_name__``,
default: the class name) and registers it by that name (``_registry``). The
interface is still a zope Interface: ``@implementer(RIFoo)`` on a Referenceable
says which schema its calls obey, and the name travels in its ``my-reference``.
"""

from __future__ import annotations

import types
from typing import Any

from zope.interface import Interface, providedBy  # type: ignore[import-untyped,unused-ignore]
from zope.interface.interface import InterfaceClass  # type: ignore[import-untyped,unused-ignore]

from octavo.banana import register_constraint_maker

from ._method import RemoteMethodSchema, UnconstrainedMethod
from ._refs import RemoteInterfaceConstraint
from ._registry import registerRemoteInterface

__all__ = ["RemoteInterface", "RemoteInterfaceClass", "getRemoteInterface", "remote_method_name"]

_SCHEMAS = (RemoteMethodSchema, UnconstrainedMethod)


class RemoteInterfaceClass(InterfaceClass):  # type: ignore[misc]
    """The metaclass of RemoteInterfaces (Foolscap's RemoteInterfaceClass).

    ``RIFoo.names()`` lists the remote methods, ``RIFoo["bar"]`` / ``RIFoo.get("bar")``
    give the schema of one, and so does ``RIFoo.bar`` (for typed callers).
    """

    __remote_name__: str

    def __init__(
        self,
        name: str,
        bases: tuple[Any, ...] = (),
        attrs: dict[str, Any] | None = None,
        __doc__: str | None = None,
        __module__: str | None = None,
    ) -> None:
        if attrs is None:
            InterfaceClass.__init__(self, name, bases, attrs, __doc__, __module__)
            return
        attrs = dict(attrs)
        remote_name = attrs.pop("__remote_name__", name)
        for key, declared in list(attrs.items()):
            value = declared
            if isinstance(value, types.FunctionType) and not key.startswith("_"):
                value = RemoteMethodSchema(method=value)
            if isinstance(value, _SCHEMAS):
                value.name = key
                value.__name__ = key
                attrs[key] = value
        InterfaceClass.__init__(self, name, bases, attrs, __doc__, __module__)
        for value in attrs.values():
            if isinstance(value, _SCHEMAS):
                value.interface = self
        self.__remote_name__ = remote_name
        #: per method called through this interface: its quick check and its response
        #: constraint (``_outbound.check_outbound_call``)
        self._outbound_checks: dict[str, tuple[Any, Any]] = {}
        registerRemoteInterface(self, remote_name)

    def __getattr__(self, name: str) -> Any:
        if not name.startswith("_"):
            found = self.get(name)
            if isinstance(found, _SCHEMAS):
                return found
        raise AttributeError(name)


class RemoteInterface(Interface, metaclass=RemoteInterfaceClass):  # type: ignore[misc]
    """Base of remote interfaces: ``class RIFoo(RemoteInterface): ...``."""


def getRemoteInterface(obj: object) -> Any:
    """The (one) RemoteInterface ``obj`` provides, or None."""
    found = [i for i in providedBy(obj) if isinstance(i, RemoteInterfaceClass)]
    found = list(dict.fromkeys(found))
    if len(found) > 1:
        raise TypeError(f"don't use multiple RemoteInterfaces! {obj!r} uses {found}")
    return found[0] if found else None


def remote_method_name(method: object) -> str:
    """The remote name of ``RIFoo.bar`` (a method schema), or of a function or bound
    method ``remote_bar`` / ``bar`` (its name without the ``remote_`` prefix)."""
    if isinstance(method, _SCHEMAS) and method.name:
        return method.name
    name = getattr(method, "__name__", None)
    if not isinstance(name, str):
        raise TypeError(f"not a remote method: {method!r}")
    return name.removeprefix("remote_")


register_constraint_maker(RemoteInterfaceClass, RemoteInterfaceConstraint)
