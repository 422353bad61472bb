"""``Tub.serialize`` / ``Tub.unserialize``: Banana storage that carries references.

As Foolscap's Tub storage (a ``StorageBroker``): inert values are encoded exactly as
``octavo.banana.serialize`` does; a Referenceable (named in the Tub on demand) or a
RemoteReference becomes ``their-reference`` with gift id 0 and its FURL, so whoever
unserializes the data gets a live RemoteReference through ``tub.getReference(furl)``.
Nothing ties the bytes to a connection: references are only as durable as their FURLs.
Copyables are stored by value as on a connection, and read back through the Tub's
registry of copyables (``tub.copyables``, else the process-wide one).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from twisted.internet import defer
from twisted.python.failure import Failure

from octavo.banana import (
    Encoder,
    Pending,
    SliceContext,
    SlicerRegistry,
    UnslicerRegistry,
    Violation,
    default_unslicers,
)
from octavo.banana import unserialize as banana_unserialize

from ._copy_registry import PROCESS_COPYABLES
from ._copyable import install_copy_slicers
from ._referenceable import Referenceable, RemoteReferenceOnly
from ._wire._copyables import CopyableLookup, register_copyable_opener
from ._wire._reference_sequences import TheirReferenceUnslicer

__all__ = ["StorageTub", "serialize", "unserialize"]


class StorageTub(Protocol):
    """What storage needs from a Tub."""

    accept_gifts: bool

    def getOrCreateURLForReference(self, ref: Any) -> str | None:
        """The FURL naming ``ref`` (None without a location)."""
        ...

    def getReference(self, sturdyOrURL: Any) -> defer.Deferred[Any]:
        """A RemoteReference to the object a FURL names."""
        ...


def _their_reference(furl: str) -> tuple[tuple[str, ...], Iterable[object]]:
    # gift id 0: the reader has no connection to acknowledge the gift on
    return ("their-reference",), (0, furl.encode("utf-8"))


def _slice_referenceable(obj: Any, ctx: SliceContext) -> tuple[tuple[str, ...], Iterable[object]]:
    tub: StorageTub = ctx.context  # type: ignore[assignment]
    furl = tub.getOrCreateURLForReference(obj)
    if not furl:
        raise Violation(
            f"cannot serialize {type(obj).__name__}: the Tub has no location to name it"
            " (call setLocation first)"
        )
    return _their_reference(furl)


def _slice_remote_reference(
    rref: RemoteReferenceOnly, ctx: SliceContext
) -> tuple[tuple[str, ...], Iterable[object]]:
    furl = rref.tracker.getURL()
    if not furl:
        raise Violation("cannot serialize a RemoteReference that has no FURL")
    return _their_reference(furl)


def _slicers() -> SlicerRegistry:
    reg = SlicerRegistry()
    reg.register(Referenceable, _slice_referenceable)
    reg.register(RemoteReferenceOnly, _slice_remote_reference)
    install_copy_slicers(reg)
    return reg


def _unslicers(copyables: CopyableLookup) -> UnslicerRegistry:
    reg = default_unslicers()
    reg.register(("their-reference",), lambda ot: TheirReferenceUnslicer(), top_level=True)
    register_copyable_opener(reg, copyables, top_level=True)
    return reg


_SLICERS = _slicers()
_UNSLICERS = _unslicers(PROCESS_COPYABLES)


def _unslicers_for(tub: StorageTub) -> UnslicerRegistry:
    """The inbound registry reading copyables through ``tub.copyables`` (if any)."""
    copyables = getattr(tub, "copyables", None)
    if copyables is None or copyables is PROCESS_COPYABLES:
        return _UNSLICERS
    reg: UnslicerRegistry | None = copyables.derived.get("storage-unslicers")
    if reg is None:
        reg = copyables.derived["storage-unslicers"] = _unslicers(copyables)
    return reg


class _GiftResolver:
    """Decoder context: each ``their-reference`` is fetched with ``tub.getReference``."""

    def __init__(self, tub: StorageTub) -> None:
        self.tub = tub
        self.waiting: list[defer.Deferred[Any]] = []

    def accept_gift(self, giftID: int, url: str, where: TheirReferenceUnslicer) -> Pending:
        """A Pending that resolves to the RemoteReference for ``url``."""
        if not self.tub.accept_gifts:
            raise Violation("gifts are prohibited in this Tub")
        pending = Pending()

        def _resolved(rref: Any) -> Any:
            pending.resolve(rref)
            return rref

        d = defer.maybeDeferred(self.tub.getReference, url)
        d.addCallback(_resolved)
        self.waiting.append(d)
        return pending


def serialize(tub: StorageTub, obj: object) -> bytes:
    """Encode ``obj``; references become ``their-reference`` FURLs, Copyables their
    state (Violation if something cannot be stored, e.g. a function, or a
    Referenceable without location)."""
    return Encoder(slicers=_SLICERS, context=tub).encode(obj)


def unserialize(
    tub: StorageTub,
    data: bytes,
    *,
    max_depth: int = 500,
    max_token_size: int = 16 * 1024 * 1024,
) -> defer.Deferred[object]:
    """Decode ``data``; fires with the object once every reference in it is live.

    Fails with BananaError/Violation for bad data (as ``octavo.banana.unserialize``),
    or with the error of the first reference that could not be reached.
    """
    gifts = _GiftResolver(tub)
    try:
        obj = banana_unserialize(
            data,
            unslicers=_unslicers_for(tub),
            context=gifts,
            max_depth=max_depth,
            max_token_size=max_token_size,
        )
    except Exception as e:
        for d in gifts.waiting:
            d.addErrback(lambda f: None)
        return defer.fail(e)

    def _done(_: object) -> object:
        return obj.value if isinstance(obj, Pending) else obj

    def _first_error(f: Failure) -> Failure:
        err = f.value
        if isinstance(err, defer.FirstError):
            sub: Failure = err.subFailure
            return sub
        return f

    gathered = defer.gatherResults(gifts.waiting, consumeErrors=True)
    return gathered.addCallbacks(_done, _first_error)
