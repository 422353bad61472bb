"""The marker interfaces of what crosses a connection by reference (Foolscap's ``ipb``).

They live apart from the classes that provide them so that constraints can ask
"is this a Referenceable / a RemoteReference?" without importing those classes.
"""

from __future__ import annotations

from zope.interface import Interface  # type: ignore[import-untyped,unused-ignore]

__all__ = ["IReferenceable", "IRemoteReference"]


class IReferenceable(Interface):  # type: ignore[misc]
    """Sent by reference: the far end gets a RemoteReference."""


class IRemoteReference(Interface):  # type: ignore[misc]
    """A proxy for an object living in another Tub."""
