"""clid 0: what the far end may ask of a PB connection itself (Foolscap's RIBroker):
``getReferenceByName``, ``decref`` and ``decgift``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from octavo.tub._errors import Violation

__all__ = ["OwnMethods"]


class OwnMethods:
    """clid 0: what the far end may ask of the connection itself (Foolscap's RIBroker)."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def __repr__(self) -> str:
        return "<the connection's own methods>"

    def doRemoteCall(self, methodname: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """getReferenceByName, decref or decgift."""
        meth: Callable[..., Any]
        if methodname == "getReferenceByName":
            meth = self.getReferenceByName
        elif methodname == "decref":
            meth = self._conn.my_references.decref
        elif methodname == "decgift":
            meth = self._conn.gifts.decgift
        else:
            raise Violation(f"the Broker has no method {methodname!r}")
        try:
            return meth(*args, **kwargs)
        except TypeError:  # arguments that do not fit: say so, not where
            raise Violation(f"bad arguments for the Broker's {methodname!r}") from None

    def getReferenceByName(self, name: str | bytes) -> Any:
        """One of our published objects (KeyError if there is none of that name)."""
        if isinstance(name, bytes):
            try:
                name = name.decode("utf-8")
            except UnicodeDecodeError:
                raise Violation("getReferenceByName needs a UTF-8 name") from None
        if not isinstance(name, str):
            raise Violation("getReferenceByName needs a string name")
        return self._conn.host.lookup_name(name)
