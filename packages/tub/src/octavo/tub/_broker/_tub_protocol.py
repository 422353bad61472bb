"""What a Broker needs from its Tub, and how a Broker is built.

This module is the contract between the broker side of octavo-tub (the Twisted
``Broker`` around a sans-IO ``_wire.PBConnection``, ``_referenceable.py``) and the Tub
side (``_tub.py``, ``_connections.py``). The Tub
implements :class:`BrokerTub`; after negotiation (``Tub._make_broker``, called by the
Tub's ConnectionManager) a Broker is built like this::

    from octavo.tub._broker._broker import Broker

    broker = Broker(
        tub,                      # a BrokerTub (the Tub itself)
        their_tubref,             # a TubRefLike: .getTubID(), .getShortTubID()
        params,                   # the negotiated decision parameters, see below
        connection_info=connection_info,           # opaque, returned by getConnectionInfo()
        clock=reactor,            # ClockLike (seconds, callLater); also runs eventual-sends
        # the Tub options with a broker_arg (TubOptions.broker_arguments()):
        keepalive_timeout=tub.keepaliveTimeout,    # float | None
        disconnect_timeout=tub.disconnectTimeout,  # float | None
        # optional bounds: max_inbound_calls=10_000, max_message_size=64 MiB,
        # codec_limits={"max_depth": 500, "max_token_size": 16 MiB} (octavo.banana.Decoder)
    )
    broker.makeConnection(transport)   # a plain Twisted IProtocol from here on
    broker.dataReceived(leftover_bytes_after_negotiation)
    manager.brokerAttached(their_tubref, broker, is_client)

``params`` (all optional), exactly the keys Foolscap's negotiation produces:

- ``"banana-decision-version"``: int or str, informational (3 enables PING/PONG,
  which we always understand).
- ``"initial-vocab-table-index"``: int or str (0 or 1): the initial VOCAB table
  both sides preload (Foolscap's ``vocab.INITIAL_VOCAB_TABLES``).
- ``"current-slave-IR"``, ``"current-seqnum"``: kept on the broker as
  ``current_slave_IR`` / ``current_seqnum`` for duplicate-connection handling.

A Broker may also be built before negotiation has decided, with the parameters it
almost always decides (``loopback_params()``), while negotiation waits for the peer;
``broker.take_params(params)`` then makes it the Broker of the decision (False, and a
new Broker is built, if the decision differs in the Banana version or vocabulary
table). A Broker without ``take_params`` is always built after the decision.

What the Tub uses of a Broker is :class:`ManagedBroker` below (the Tub's
ConnectionManager keeps its tables typed with it); a Broker must keep providing it.
``RemoteReference`` also uses ``notifyOnDisconnect(cb, *a, **kw) -> marker``,
``dontNotifyOnDisconnect(marker)``, ``getDataLastReceivedAt()`` and ``getPeer()``,
and the attributes ``remote_tubref`` and ``disconnected: bool``.

``octavo.tub._broker._loopback.make_loopback_brokers(tub, tubref, *, clock,
connection_info)`` returns ``(ours, theirs)``: two connected Brokers over an in-memory
transport for connections to our own TubID; the Tub keeps ``ours`` (and calls
brokerAttached).

The Broker calls back into the Tub only through :class:`BrokerTub` below, and calls
``tub.brokerDetached(broker, why)`` exactly once when the connection ends.

Public names for ``octavo.tub.__init__`` from the broker side: ``Referenceable``,
``OnlyReferenceable``, ``RemoteReference``, ``RemoteReferenceOnly``,
``RemoteMethodReference``, ``LocalReferenceable``, ``IReferenceable``,
``IRemoteReference`` (``_referenceable``); ``DeadReferenceError``, ``RemoteException``
(``_errors``); ``CopiedFailure`` (``_broker._failure``); ``eventually``, ``fireEventually``,
``flushEventualQueue`` (``_eventual``); ``SturdyRef``, ``TubRef`` (``octavo.furl``);
``BananaError``, ``Violation`` (``octavo.banana``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from twisted.internet.defer import Deferred
    from twisted.internet.interfaces import ITransport
    from twisted.python.failure import Failure

__all__ = ["BrokerTub", "ManagedBroker", "TubRefLike"]


@runtime_checkable
class TubRefLike(Protocol):
    """The identity of the far Tub, as a Broker sees it (Foolscap's ``TubRef``)."""

    def getTubID(self) -> str:
        """The full TubID (base32 text)."""
        ...

    def getShortTubID(self) -> str:
        """The first four characters of the TubID, for log messages."""
        ...


@runtime_checkable
class BrokerTub(Protocol):
    """Everything a Broker uses of its Tub.

    Flags are read when the Broker is built (``unsafeTracebacks``,
    ``expose_remote_exception_types``, ``debugBanana``) or each time they matter
    (``logLocalFailures``, ``logRemoteFailures``, ``accept_gifts``).
    """

    #: Send full tracebacks inside the failures we send back (Foolscap default True).
    unsafeTracebacks: bool
    #: Log failures of inbound calls that we executed.
    logLocalFailures: bool
    #: Log failures of outbound calls that failed on the far end.
    logRemoteFailures: bool
    #: Foolscap's ``debugBanana``: log every token (we only log message summaries).
    debugBanana: bool
    #: Foolscap's ``expose-remote-exception-types`` option (``_expose_remote_exception_types``):
    #: True (default) delivers a remote failure as a CopiedFailure whose
    #: ``check``/``trap`` match the remote exception's class names; False wraps it in
    #: ``RemoteException``.
    expose_remote_exception_types: bool
    #: Foolscap's ``accept-gifts`` option (``accept_gifts``): resolve inbound
    #: their-reference sequences with ``getReference``; when False they are refused
    #: with a Violation.
    accept_gifts: bool

    def getTubID(self) -> str:
        """Our own TubID."""
        ...

    def getShortTubID(self) -> str:
        """Our TubID's first four characters, for log messages."""
        ...

    def getReferenceForName(self, name: str) -> Any:
        """The Referenceable registered (or looked up) under ``name``.

        Raises ``KeyError`` if there is none (the far end gets an error answer).
        """
        ...

    def getOrCreateURLForReference(self, ref: Any) -> str | None:
        """The FURL under which ``ref`` is (or now becomes) reachable, or None.

        Foolscap sends this FURL with the first my-reference of every Referenceable
        so the receiver's ``getSturdyRef()`` / ``getLocationHints()`` work; return
        None when the Tub has no location set.
        """
        ...

    def getReference(self, sturdyOrURL: Any) -> Deferred[Any]:
        """Resolve a FURL to a RemoteReference (used only to accept gifts)."""
        ...

    def brokerDetached(self, broker: Any, why: Failure) -> None:
        """The Broker's connection has ended (called once per Broker)."""
        ...


class ManagedBroker(Protocol):
    """Everything the Tub side (Tub, ConnectionManager, negotiation) uses of a Broker."""

    # -- taking over a negotiated transport (NegotiationProtocol forwards to it) --------

    def makeConnection(self, transport: ITransport) -> None:
        """Start talking PB over ``transport`` (negotiation is over)."""
        ...

    def dataReceived(self, data: bytes) -> None:
        """Bytes from the far end (the first call carries negotiation's leftover)."""
        ...

    def connectionLost(self, reason: Failure) -> None:
        """The transport is gone."""
        ...

    # -- duplicate-connection handling reads what negotiation decided --------------------

    @property
    def current_slave_IR(self) -> object:
        """The far end's incarnation (params ``current-slave-IR``; None if we are not master)."""
        ...

    @property
    def current_seqnum(self) -> object:
        """Our connection number to the far end (params ``current-seqnum``, or None)."""
        ...

    @property
    def creation_timestamp(self) -> float:
        """When the Broker was built (its clock's seconds)."""
        ...

    # -- Tub.debug_listBrokers -----------------------------------------------------------

    @property
    def inboundDeliveryQueue(self) -> Sequence[object]:
        """Inbound calls waiting to run, oldest first."""
        ...

    @property
    def waitingForAnswers(self) -> Mapping[int, object]:
        """Our outbound calls still waiting for an answer, by request ID."""
        ...

    # -- what the Tub asks of it ---------------------------------------------------------

    def shutdown(self, why: Failure, fireDisconnectWatchers: bool = True) -> None:
        """Stop using the connection now and close the transport."""
        ...

    def _notifyOnConnectionLost(self, callback: Callable[[], object]) -> None:
        """Run ``callback()`` (eventually) once the transport is really gone."""
        ...

    def getYourReferenceByName(self, name: str) -> Deferred[Any]:
        """The far Tub's object registered under ``name`` (Tub.getReference)."""
        ...

    def revokeReference(self, obj: Any) -> None:
        """Forget our object ``obj``: the far end's calls to it fail (Tub.revokeReference)."""
        ...

    def getConnectionInfo(self) -> object:
        """The ConnectionInfo given at construction (Tub.getConnectionInfoForFURL)."""
        ...
