"""RemoteInterfaces by name: how a name received in a ``my-reference`` finds its schema.

Names are global to the process, as in Foolscap: declaring two RemoteInterfaces
with one ``__remote_name__`` is an error (:class:`DuplicateRemoteInterfaceError`).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "DuplicateRemoteInterfaceError",
    "getRemoteInterfaceByName",
    "registerRemoteInterface",
]

#: every RemoteInterface declared in this process, by ``__remote_name__``
RemoteInterfaceRegistry: dict[str, Any] = {}


class DuplicateRemoteInterfaceError(Exception):
    """Two RemoteInterfaces were declared with the same name."""


def registerRemoteInterface(iface: Any, name: str | None = None) -> None:
    """Record ``iface`` under ``name`` (default: its ``__remote_name__``)."""
    if not name:
        name = iface.__remote_name__
    assert name is not None
    old = RemoteInterfaceRegistry.get(name)
    if old is not None:
        raise DuplicateRemoteInterfaceError(
            f"remote interface {old} was registered with the same name ({name}) as {iface}, "
            "please use __remote_name__ to provide a unique name"
        )
    RemoteInterfaceRegistry[name] = iface


def getRemoteInterfaceByName(name: str | None) -> Any:
    """The RemoteInterface declared as ``name``, or None."""
    if not name:
        return None
    return RemoteInterfaceRegistry.get(name)
