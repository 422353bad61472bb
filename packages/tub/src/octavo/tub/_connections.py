"""ConnectionManager: which Broker serves which Tub, and the connections on their way.

Theory of operation. A Tub has at most one Broker per remote TubRef (``brokers``).
``getBrokerForTubRef`` returns that Broker; for our own TubID it builds a loopback
pair (two Brokers over an in-memory transport) instead; otherwise the caller waits
(``waitingForBrokers``) while one connector per TubRef (``tubConnectors``) tries the
TubRef's hints. Connectors register themselves while they have work in progress
(``connectorStarted`` / ``connectorFinished``, kept in ``active_connectors``).

A connection that finishes negotiating, ours (a connector's) or theirs (a
listener's), ends in :meth:`ConnectionManager.attach_negotiated`: it builds the
Broker, hands it the transport and calls ``brokerAttached``, which records the
Broker, stops a connector that an inbound connection beat, and wakes the waiters
on a later turn. A connector that gives up calls ``connectionFailed`` and the
waiters get its failure. A Broker whose connection ends calls ``brokerDetached``
(through its Tub) and is forgotten.

Negotiation asks :meth:`~ConnectionManager.existing_connection` whether a peer
already has a connection (and what it negotiated, read from the Broker), and
:meth:`~ConnectionManager.replace_existing` drops one that a new connection
replaces.

:meth:`~ConnectionManager.shutdown` (``Tub.stopService``) stops every connector and
Broker and fires once every transport is gone; a connection that finishes
negotiating afterwards is shut down at once.

The manager does no I/O itself: the Tub gives it factories for Brokers, loopback
pairs and connectors, and a clock. Methods that back a Foolscap ``Tub`` method keep
its name (``getBrokerForTubRef``, ``brokerAttached``, ...); the rest are new names.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, Protocol

from twisted.internet import defer
from twisted.internet.error import ConnectionDone
from twisted.internet.interfaces import ITransport
from twisted.python.failure import Failure

from octavo.furl import TubRef
from octavo.reconnector import ClockLike

from ._broker._tub_protocol import ManagedBroker
from ._errors import DeadReferenceError, PBError
from ._info import ConnectionInfo
from ._negotiation._machine import (
    Established,
    ExistingConnection,
    ReplaceExisting,
    loopback_params,
)
from ._typing import failure_of

__all__ = [
    "BrokerFactory",
    "ConnectionManager",
    "Connector",
    "ConnectorFactory",
    "LoopbackFactory",
    "as_tubref",
]


class Connector(Protocol):
    """An outbound connection attempt to one TubRef (a ``TubConnector``)."""

    def connect(self) -> None:
        """Start trying (called once, right after the connector is made)."""
        ...

    def shutdown(self) -> None:
        """Abandon whatever is still in progress."""
        ...

    def getConnectionInfo(self) -> ConnectionInfo:
        """What the attempt has done so far."""
        ...


#: ``make_broker(tubref, negotiated params, connection_info)``: the Broker for a
#: negotiated connection (``Tub._make_broker``); tubref None: a peer not known yet.
BrokerFactory = Callable[[TubRef | None, dict[str, object], ConnectionInfo], ManagedBroker]
#: ``make_loopback(tubref, connection_info) -> (ours, theirs)``: two connected Brokers.
LoopbackFactory = Callable[[TubRef, ConnectionInfo], tuple[ManagedBroker, ManagedBroker]]
#: ``make_connector(tubref)``: a new, not yet started connector to ``tubref``.
ConnectorFactory = Callable[[TubRef], Connector]


def as_tubref(tubref: Any) -> TubRef:
    """``tubref`` as a TubRef (anything with ``getTubID`` and ``getLocations``)."""
    if isinstance(tubref, TubRef):
        return tubref
    tubid = tubref.getTubID()
    hints: Any = tuple(getattr(tubref, "getLocations", list)())
    return TubRef(tubid, hints)


def _stopping() -> Failure:
    return failure_of(ConnectionDone("Tub.stopService was called"))


class ConnectionManager:
    """All of one Tub's connections: Brokers by TubRef, connectors, and who waits."""

    def __init__(
        self,
        *,
        local_tubid: Callable[[], str],
        clock: ClockLike,
        make_broker: BrokerFactory,
        make_loopback: LoopbackFactory,
        make_connector: ConnectorFactory,
    ) -> None:
        self._local_tubid = local_tubid
        self._clock = clock
        self._make_broker = make_broker
        self._make_loopback = make_loopback
        self._make_connector = make_connector
        #: The Broker serving each connected TubRef (``Tub.brokers``).
        self.brokers: dict[TubRef, ManagedBroker] = {}
        #: The connector trying each TubRef we are not connected to (``Tub.tubConnectors``).
        self.tubConnectors: dict[TubRef, Connector] = {}
        #: Deferreds waiting for a Broker to each TubRef (``Tub.waitingForBrokers``).
        self.waitingForBrokers: dict[TubRef, list[defer.Deferred[ManagedBroker]]] = {}
        #: Connectors with work in progress (between connectorStarted and connectorFinished).
        self.active_connectors: list[Connector] = []
        # the far halves of loopback pairs (they serve our own calls to ourselves)
        self._loopback_peers: list[ManagedBroker] = []
        self._stopped = False

    @property
    def stopped(self) -> bool:
        """True once :meth:`shutdown` was called."""
        return self._stopped

    # -- finding a Broker ---------------------------------------------------------------

    def getBrokerForTubRef(self, tubref: Any) -> defer.Deferred[ManagedBroker]:
        """A Deferred firing with the Broker connected to ``tubref``'s Tub."""
        key = as_tubref(tubref)
        if key in self.brokers:
            return defer.succeed(self.brokers[key])
        if key.getTubID() == self._local_tubid():
            return defer.succeed(self._attach_loopback(key))
        d: defer.Deferred[ManagedBroker] = defer.Deferred()
        self.waitingForBrokers.setdefault(key, []).append(d)
        if key not in self.tubConnectors:
            connector = self._make_connector(key)
            self.tubConnectors[key] = connector
            connector.connect()
        return d

    def _attach_loopback(self, tubref: TubRef) -> ManagedBroker:
        info = ConnectionInfo()
        info._set_connected(True)
        info._set_winning_hint("loopback")
        info._set_connection_status("loopback", "connected")
        info._set_established_at(self._clock.seconds())
        ours, theirs = self._make_loopback(tubref, info)
        self._loopback_peers.append(theirs)
        self.brokerAttached(tubref, ours, False)
        return ours

    def connection_info(self, tubref: TubRef) -> ConnectionInfo | None:
        """The ConnectionInfo of our connection (or attempt) to ``tubref``, or None."""
        if tubref in self.brokers:
            info = self.brokers[tubref].getConnectionInfo()
            return info if isinstance(info, ConnectionInfo) else None
        if tubref in self.tubConnectors:
            return self.tubConnectors[tubref].getConnectionInfo()
        return None

    # -- connectors ---------------------------------------------------------------------

    def connectorStarted(self, c: Connector) -> None:
        """A connector began."""
        self.active_connectors.append(c)

    def connectorFinished(self, c: Connector) -> None:
        """A connector has nothing left in progress."""
        if c in self.active_connectors:
            self.active_connectors.remove(c)

    def connectionFailed(self, tubref: Any, why: Failure) -> None:
        """The connector to ``tubref`` gave up: fail whoever waits for it."""
        key = as_tubref(tubref)
        self.tubConnectors.pop(key, None)
        if key in self.brokers:
            return  # an inbound connection won meanwhile
        for d in self.waitingForBrokers.pop(key, []):
            d.errback(why)

    # -- Brokers ------------------------------------------------------------------------

    def brokerAttached(self, tubref: Any, broker: ManagedBroker, isClient: bool) -> None:
        """``broker`` now serves ``tubref``: wake everyone waiting for it."""
        key = as_tubref(tubref)
        connector = self.tubConnectors.pop(key, None)
        if connector is not None and not isClient:
            connector.shutdown()
        if key in self.brokers:
            raise PBError(f"unexpected duplicate connection to {key.getShortTubID()}")
        self.brokers[key] = broker
        for d in self.waitingForBrokers.pop(key, []):
            self._clock.callLater(0, d.callback, broker)

    def brokerDetached(self, broker: ManagedBroker, why: Failure) -> None:
        """``broker``'s connection ended: forget it."""
        for key in [k for k, b in self.brokers.items() if b is broker]:
            del self.brokers[key]
        self._loopback_peers = [b for b in self._loopback_peers if b is not broker]

    def revoke_reference(self, ref: object) -> None:
        """Make every Broker (loopback halves too) forget our object ``ref``."""
        for broker in [*self.brokers.values(), *self._loopback_peers]:
            broker.revokeReference(ref)

    def debug_listBrokers(self) -> list[tuple[str, list[object], list[object]]]:
        """``(tubref, inbound deliveries, outbound requests)`` for each Broker."""
        out = []
        for tubref, b in list(self.brokers.items()):
            waiting = b.waitingForAnswers
            outbound = [waiting[k] for k in sorted(waiting)]
            out.append((str(tubref), list(b.inboundDeliveryQueue), outbound))
        return out

    # -- negotiation --------------------------------------------------------------------

    def existing_connection(self, tubid: str) -> ExistingConnection | None:
        """What negotiation needs to know about our connection to ``tubid``, if any."""
        broker = self.brokers.get(TubRef(tubid))
        if broker is None:
            return None
        slave_ir, seqnum = broker.current_slave_IR, broker.current_seqnum
        return ExistingConnection(
            slave_ir if isinstance(slave_ir, str) else None,
            seqnum if isinstance(seqnum, int) else None,
            broker.creation_timestamp,
        )

    def replace_existing(self, event: ReplaceExisting) -> None:
        """Drop our connection to ``event.tubid``: a new one replaces it."""
        broker = self.brokers.pop(TubRef(event.tubid), None)
        if broker is not None:
            broker.shutdown(failure_of(DeadReferenceError(event.reason)))

    def prepare_broker(self, tubref: Any, connection_info: ConnectionInfo) -> ManagedBroker | None:
        """A Broker for a connection to ``tubref`` (None: a peer not known yet) still
        negotiating, built with the parameters negotiation almost always decides
        (:func:`loopback_params`), while it waits for the peer: :meth:`attach_negotiated`
        uses it if the decision agrees (``take_params``). Building one has no effect
        elsewhere; None once stopped."""
        if self._stopped:
            return None
        key = as_tubref(tubref) if tubref is not None else None
        return self._make_broker(key, loopback_params(), connection_info)

    def attach_negotiated(
        self,
        transport: ITransport | None,
        event: Established,
        *,
        is_client: bool,
        connection_info: ConnectionInfo,
        tubref: Any,
        prepared: ManagedBroker | None = None,
    ) -> ManagedBroker:
        """Give a negotiated ``transport`` to a new Broker and attach it.

        ``tubref`` is the connector's target (None for an inbound connection: the
        peer's TubID comes from negotiation). ``prepared`` is a Broker built ahead
        (:meth:`prepare_broker`), used if it suits the decision.
        """
        key = TubRef(event.their_tubid) if tubref is None else as_tubref(tubref)
        if key in self.brokers:
            # Negotiation drops an existing connection before deciding, so this
            # only happens in a race; the newest decision wins.
            self.replace_existing(ReplaceExisting(key.getTubID(), "replaced by a new connection"))
        if prepared is not None and _takes_decision(prepared, key, event.params):
            broker = prepared
        else:
            broker = self._make_broker(key, event.params, connection_info)
        assert transport is not None, "negotiation succeeded without a transport"
        broker.makeConnection(transport)
        if event.leftover:
            broker.dataReceived(event.leftover)
        if self._stopped:
            broker.shutdown(_stopping())
        else:
            self.brokerAttached(key, broker, is_client)
        return broker

    # -- the end ------------------------------------------------------------------------

    def shutdown(self) -> defer.Deferred[None]:
        """Stop every connector and Broker; fires once every Broker's transport is gone."""
        self._stopped = True
        for c in dict.fromkeys([*self.active_connectors, *self.tubConnectors.values()]):
            c.shutdown()
        why = _stopping()
        waits: list[defer.Deferred[None]] = []
        for b in list(self.brokers.values()):
            gone: defer.Deferred[None] = defer.Deferred()
            waits.append(gone)
            b._notifyOnConnectionLost(partial(gone.callback, None))
            b.shutdown(why, fireDisconnectWatchers=False)
        done: defer.Deferred[Any] = defer.DeferredList(waits)
        result: defer.Deferred[None] = done.addCallback(lambda _: None)
        return result


def _takes_decision(broker: ManagedBroker, key: TubRef, params: dict[str, object]) -> bool:
    """Whether ``broker``, built ahead for the Tub ``key`` names (or for a peer not known
    then: it takes ``key``), becomes the Broker of the decision ``params``
    (``take_params``; a Broker without it never does)."""
    take = getattr(broker, "take_params", None)
    if take is None:
        return False
    remote = getattr(broker, "remote_tubref", None)
    if remote is None:
        return bool(take(params, key))
    return as_tubref(remote) == key and bool(take(params))
