"""What a Broker needs from its Tub, and how a Broker is built.

This module is the contract between the broker side of octavo-tub (``_broker.py``,
``_referenceable.py``, ...) and the Tub / negotiation side (``_tub.py``). The Tub
implements :class:`BrokerTub`; after negotiation it builds a Broker like this::

    from octavo.tub._broker import Broker

    broker = Broker(
        tub,                      # a BrokerTub (the Tub itself)
        their_tubref,             # a TubRefLike: .getTubID(), .getShortTubID()
        params,                   # the negotiated decision parameters, see below
        keepalive_timeout=tub.keepaliveTimeout,    # float | None
        disconnect_timeout=tub.disconnectTimeout,  # float | None
        connection_info=connection_info,           # opaque, returned by getConnectionInfo()
        clock=reactor,            # ClockLike (seconds, callLater); also runs eventual-sends
        # optional bounds: max_inbound_calls=10_000, max_message_size=64 MiB,
        # codec_limits={"max_depth": 500, "max_token_size": 16 MiB} (octavo.banana.Decoder)
    )
    broker.makeConnection(transport)   # a plain Twisted IProtocol from here on
    broker.dataReceived(leftover_bytes_after_negotiation)
    tub.brokerAttached(their_tubref, broker, is_client)

``params`` (all optional), exactly the keys Foolscap's negotiation produces:

- ``"banana-decision-version"``: int or str, informational (3 enables PING/PONG,
  which we always understand).
- ``"initial-vocab-table-index"``: int or str (0 or 1): the initial VOCAB table
  both sides preload (Foolscap's ``vocab.INITIAL_VOCAB_TABLES``).
- ``"current-slave-IR"``, ``"current-seqnum"``: kept on the broker as
  ``current_slave_IR`` / ``current_seqnum`` for duplicate-connection handling.

Broker API the Tub uses (Foolscap's names):

- ``broker.getYourReferenceByName(name: str) -> Deferred[RemoteReference]``:
  the clid-0 ``getReferenceByName`` lookup used by ``Tub.getReference``.
- ``broker.shutdown(why: Failure, fireDisconnectWatchers: bool = True) -> None``.
- ``broker.notifyOnDisconnect(cb, *a, **kw) -> marker``,
  ``broker.dontNotifyOnDisconnect(marker)``, ``broker._notifyOnConnectionLost(cb)``
  (``cb()`` runs eventually once the transport is really gone; Tub.stopService
  waits on it).
- attributes ``remote_tubref``, ``disconnected: bool``, ``creation_timestamp: float``,
  ``current_slave_IR``, ``current_seqnum``, ``inboundDeliveryQueue`` (a deque of
  ``(InboundDelivery, ready Deferred | None)``, for debug_listBrokers),
  ``waitingForAnswers`` (dict reqID -> PendingRequest), ``getConnectionInfo()``,
  ``getDataLastReceivedAt()``, ``getPeer()``.
- ``octavo.tub._loopback.make_loopback_brokers(tub, tubref, *, clock, connection_info)``
  returns ``(ours, theirs)``: two connected Brokers over an in-memory transport for
  connections to our own TubID; the Tub keeps ``ours`` (and calls brokerAttached).

The Broker calls back into the Tub only through :class:`BrokerTub` below, and calls
``tub.brokerDetached(broker, why)`` exactly once when the connection ends.

Public names for ``octavo.tub.__init__`` from the broker side: ``Referenceable``,
``OnlyReferenceable``, ``RemoteReference``, ``RemoteReferenceOnly``,
``RemoteMethodReference``, ``LocalReferenceable``, ``IReferenceable``,
``IRemoteReference`` (``_referenceable``); ``DeadReferenceError``, ``RemoteException``
(``_errors``); ``CopiedFailure`` (``_failure``); ``eventually``, ``fireEventually``,
``flushEventualQueue`` (``_eventual``); ``SturdyRef``, ``TubRef`` (``octavo.furl``);
``BananaError``, ``Violation`` (``octavo.banana``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from twisted.internet.defer import Deferred
    from twisted.python.failure import Failure

__all__ = ["BrokerTub", "TubRefLike"]


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
