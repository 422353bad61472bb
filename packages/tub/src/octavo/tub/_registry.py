"""The Tub's name table: names (swissnums) <-> local Referenceables.

Names map to objects weakly (as in Foolscap) and registered objects are also
held strongly until unregistered. Revoked objects are remembered (weakly) so
that the Broker can refuse calls to them even through references already
handed out.
"""

from __future__ import annotations

import base64
import os
import weakref
from collections.abc import Callable
from typing import Any

from ._errors import RevokedReferenceError

__all__ = ["NameRegistry", "generateSwissnumber"]


def generateSwissnumber(bits: int, urandom: Callable[[int], bytes] = os.urandom) -> str:
    """Return an unguessable name of ``bits`` random bits (base32, lower case)."""
    if bits <= 0 or bits % 8:
        raise ValueError(f"swissnumber bits must be a positive multiple of 8, not {bits}")
    return base64.b32encode(urandom(bits // 8)).decode("ascii").lower().rstrip("=")


class NameRegistry:
    """Names for local objects, lookup handlers, and the set of revoked objects."""

    def __init__(self) -> None:
        self.nameToReference: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()
        self.referenceToName: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
        self.strongReferences: list[Any] = []
        self.nameLookupHandlers: list[Callable[[str], Any]] = []
        self._revoked: weakref.WeakSet[Any] = weakref.WeakSet()

    def assign(self, ref: Any, name: str) -> str:
        """Give ``ref`` the name ``name`` unless it already has one; return its name."""
        existing = self.referenceToName.get(ref)
        if existing is not None:
            return existing
        self._revoked.discard(ref)
        self.referenceToName[ref] = name
        self.nameToReference[name] = ref
        return name

    def keep(self, ref: Any) -> None:
        """Hold ``ref`` strongly until it is unregistered."""
        if not any(r is ref for r in self.strongReferences):
            self.strongReferences.append(ref)

    def name_for(self, ref: Any) -> str | None:
        """The name of ``ref``, or None."""
        return self.referenceToName.get(ref)

    def lookup(self, name: str) -> Any:
        """The object named ``name`` (asking the lookup handlers if needed).

        Raises KeyError (never revealing more than two characters of the name).
        """
        ref = self.nameToReference.get(name)
        if ref is not None:
            return ref
        for handler in list(self.nameLookupHandlers):
            found = handler(name)
            if found is not None and found is not False:
                if found in self._revoked:
                    raise RevokedReferenceError(
                        f"the object named '{name[:2]}...' has been revoked"
                    )
                if found not in self.referenceToName:
                    self.referenceToName[found] = name
                return found
        raise KeyError(f"unable to find reference for name starting with '{name[:2]}'")

    def remove_name(self, name: str) -> Any:
        """Forget ``name``; return the object it named (KeyError if none)."""
        ref = self.nameToReference[name]
        del self.nameToReference[name]
        self.referenceToName.pop(ref, None)
        return ref

    def remove_ref(self, ref: Any) -> str:
        """Forget ``ref``'s name and strong hold; return the name (KeyError if none)."""
        name = self.referenceToName[ref]
        self.nameToReference.pop(name, None)
        del self.referenceToName[ref]
        self.strongReferences = [r for r in self.strongReferences if r is not ref]
        return name

    def revoke(self, ref: Any) -> None:
        """Make ``ref`` unreachable: drop its name and remember it as revoked."""
        name = self.referenceToName.pop(ref, None)
        if name is not None:
            self.nameToReference.pop(name, None)
        self.strongReferences = [r for r in self.strongReferences if r is not ref]
        self._revoked.add(ref)

    def is_revoked(self, ref: Any) -> bool:
        """True if ``ref`` was revoked (and not registered again since)."""
        try:
            return ref in self._revoked
        except TypeError:
            return False
