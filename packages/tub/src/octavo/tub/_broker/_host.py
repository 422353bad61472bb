# mypy: disable-error-code="no-untyped-call"
# (Twisted's Failure is not annotated.)
"""What a Broker's PB connection needs from outside, and the codec all Brokers share.

The sans-IO connection (``_wire``) knows nothing of Tubs, Twisted failures or
RemoteReference classes; :class:`BrokerHost` answers its questions for one Broker
(our FURLs and names through the Tub, proxies, failures, whether gifts are taken),
and :data:`CODEC` tells its encoder which of our classes go by reference, as a
proxy or as a failure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twisted.python.failure import Failure

from octavo.tub._copy_registry import PROCESS_COPYABLES
from octavo.tub._copyable import install_copy_slicers
from octavo.tub._referenceable import (
    Referenceable,
    RemoteMethodReference,
    RemoteReference,
    RemoteReferenceOnly,
)
from octavo.tub._schema._registry import getRemoteInterfaceByName
from octavo.tub._wire._codec import PBCodec, pb_codec
from octavo.tub._wire._references import RemoteReferenceTracker

from ._failure import CopiedFailure, failure_state

if TYPE_CHECKING:
    from ._roles import HostBroker

__all__ = ["CODEC", "BrokerHost", "codec_for"]

#: the PB codec of every Broker: our Referenceables, proxies, failures and Copyables
#: (a Tub's Brokers read copyables through its registry: :func:`codec_for`)
CODEC = pb_codec(
    referenceable=Referenceable,
    remote_reference=RemoteReferenceOnly,
    failure=Failure,
    copied_failure=CopiedFailure,
    copyables=PROCESS_COPYABLES,
)
install_copy_slicers(CODEC.slicers)


def codec_for(tub: object) -> PBCodec:
    """The codec of a Broker of ``tub``: copytypes found in ``tub.copyables`` (its
    registry, which falls back to the process-wide one) if it has one."""
    copyables = getattr(tub, "copyables", None)
    if copyables is None or copyables is PROCESS_COPYABLES:
        return CODEC
    codec: PBCodec | None = copyables.derived.get("pb-codec")
    if codec is None:
        codec = copyables.derived["pb-codec"] = CODEC.with_copyables(copyables)
    return codec


class BrokerHost:
    """The ``ConnectionHost`` of one Broker's connection."""

    def __init__(self, broker: HostBroker) -> None:
        self._broker = broker

    def url_for(self, obj: Any) -> str | None:
        """Our object's FURL, through the Tub (named on demand)."""
        tub = self._broker.tub
        return tub.getOrCreateURLForReference(obj) if tub is not None else None

    def lookup_name(self, name: str) -> Any:
        """The Tub's object of that name (KeyError if none)."""
        tub = self._broker.tub
        if tub is None:
            raise KeyError("no Tub to look names up in")
        return tub.getReferenceForName(name)

    def make_proxy(self, tracker: RemoteReferenceTracker) -> Any:
        """A RemoteReference (a RemoteMethodReference for a bare callable); the
        tracker learns the RemoteInterface its name stands for here, if we know it."""
        if tracker.interfaceName:
            tracker.interface = getRemoteInterfaceByName(tracker.interfaceName)
        if tracker.clid < 0:
            return RemoteMethodReference(tracker)
        return RemoteReference(tracker)

    def proxy_lost(self, tracker: RemoteReferenceTracker) -> None:
        """A weakref callback, at an awkward moment: release on a later turn."""
        self._broker.eventually(self._broker.release_reference, tracker)

    def failure_state(self, failure: Any) -> dict[str, Any]:
        """What Foolscap sends for a Failure (tracebacks as the Tub allows)."""
        return failure_state(failure, self._broker.unsafeTracebacks)

    def make_failure(self, state: dict[str, Any]) -> Any:
        """A CopiedFailure (FailureStateError if the attributes are malformed)."""
        return CopiedFailure.from_state(state)

    def accepts_gifts(self) -> bool:
        """The Tub's ``accept-gifts`` option."""
        tub = self._broker.tub
        return tub is not None and tub.accept_gifts
