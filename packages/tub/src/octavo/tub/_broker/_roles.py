"""What the Broker's helpers use of it, as Protocols the Broker provides.

``_host`` (the connection's host), ``_delivery`` (running inbound calls), ``_requests``
(our calls waiting for answers) and the facade's ``RemoteReference`` (``_referenceable``)
each hold a Broker;
they are typed against these Protocols so that none of them imports ``_broker`` (which
imports them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from twisted.internet.defer import Deferred
    from twisted.internet.interfaces import IAddress
    from twisted.python.failure import Failure

    from octavo.tub._wire._connection import PBConnection
    from octavo.tub._wire._references import RemoteReferenceTracker

    from ._flow import FlowControl
    from ._tub_protocol import TubRefLike
    from ._writer import CorkedWriter

__all__ = ["DeliveryBroker", "HostBroker", "ProxyBroker", "RequestBroker"]


class HostBroker(Protocol):
    """What ``BrokerHost`` uses."""

    tub: Any
    unsafeTracebacks: bool

    def eventually(self, cb: Callable[..., object], /, *args: Any, **kwargs: Any) -> None: ...

    def release_reference(self, tracker: RemoteReferenceTracker) -> None: ...


class DeliveryBroker(Protocol):
    """What ``Delivery`` uses."""

    tub: Any
    connection: PBConnection
    writer: CorkedWriter
    flow: FlowControl
    disconnected: bool

    def answered(self) -> None: ...

    def short_tubid(self) -> str: ...


class RequestBroker(Protocol):
    """What ``PendingRequest`` uses."""

    def logRemoteFailure(self, req: Any, why: Failure) -> None: ...


class ProxyBroker(Protocol):
    """What a ``RemoteReference`` uses of the Broker its object lives behind."""

    remote_tubref: TubRefLike | None
    disconnected: bool
    flow: FlowControl

    def getPeer(self) -> IAddress: ...

    def getConnectionInfo(self) -> object: ...

    def getDataLastReceivedAt(self) -> float | None: ...

    def notifyOnDisconnect(
        self, callback: Callable[..., object], *args: Any, **kwargs: Any
    ) -> Any: ...

    def dontNotifyOnDisconnect(self, marker: Any) -> None: ...

    def callRemote(
        self,
        rref: Any,  # (a RemoteReference: _referenceable imports this module)
        name: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        call_only: bool,
    ) -> Deferred[Any] | None: ...
