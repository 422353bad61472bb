"""The ConnectionManager on its own: fake Brokers and connectors, a Clock, no sockets."""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionDone
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure

from octavo.furl import SturdyRef, TubRef
from octavo.tub._connections import ConnectionManager, as_tubref
from octavo.tub._errors import DeadReferenceError, NegotiationError, PBError
from octavo.tub._info import ConnectionInfo
from octavo.tub._negotiation._machine import Established, ExistingConnection, ReplaceExisting
from octavo.tub.testing import make_tubid

ME = make_tubid("me")
PEER = make_tubid("peer")
OTHER = make_tubid("other")


class FakeBroker:
    """Provides ManagedBroker; ``lose()`` plays the transport going away."""

    def __init__(self, manager: Manager, tubref: TubRef, params: dict[str, object], info: Any):
        self._manager = manager
        self.tubref = tubref
        self.params = params
        self.info = info
        self.current_slave_IR = params.get("current-slave-IR")
        self.current_seqnum = params.get("current-seqnum")
        self.creation_timestamp = manager.clock.seconds()
        self.inboundDeliveryQueue: list[Any] = []
        self.waitingForAnswers: dict[int, Any] = {}
        self.transport: Any = None
        self.received = b""
        self.shutdowns: list[tuple[Failure, bool]] = []
        self.revoked: list[object] = []
        self._lost_watchers: list[Any] = []
        self.gone = False

    def makeConnection(self, transport: Any) -> None:
        self.transport = transport

    def dataReceived(self, data: bytes) -> None:
        self.received += data

    def connectionLost(self, reason: Failure) -> None:
        self.lose()

    def shutdown(self, why: Failure, fireDisconnectWatchers: bool = True) -> None:
        self.shutdowns.append((why, fireDisconnectWatchers))

    def _notifyOnConnectionLost(self, callback: Any) -> None:
        self._lost_watchers.append(callback)

    def getYourReferenceByName(self, name: str) -> Deferred[Any]:
        raise NotImplementedError

    def revokeReference(self, obj: Any) -> None:
        self.revoked.append(obj)

    def getConnectionInfo(self) -> object:
        return self.info

    def lose(self) -> None:
        """The transport is gone: tell the watchers, then detach (as a Broker does)."""
        self.gone = True
        for cb in self._lost_watchers:
            cb()
        self._manager.manager.brokerDetached(self, Failure(ConnectionDone()))


class FakeConnector:
    def __init__(self, tubref: TubRef) -> None:
        self.tubref = tubref
        self.connects = 0
        self.shutdowns = 0
        self.info = ConnectionInfo()

    def connect(self) -> None:
        self.connects += 1

    def shutdown(self) -> None:
        self.shutdowns += 1

    def getConnectionInfo(self) -> ConnectionInfo:
        return self.info


class Manager:
    """A ConnectionManager for TubID ME with recording factories."""

    def __init__(self) -> None:
        self.clock = Clock()
        self.brokers: list[FakeBroker] = []
        self.connectors: list[FakeConnector] = []
        self.loopbacks: list[tuple[FakeBroker, FakeBroker]] = []
        self.manager = ConnectionManager(
            local_tubid=lambda: ME,
            clock=self.clock,
            make_broker=self.make_broker,
            make_loopback=self.make_loopback,
            make_connector=self.make_connector,
        )

    def make_broker(self, tubref: TubRef, params: dict[str, object], info: Any) -> FakeBroker:
        b = FakeBroker(self, tubref, params, info)
        self.brokers.append(b)
        return b

    def make_loopback(self, tubref: TubRef, info: ConnectionInfo) -> tuple[FakeBroker, FakeBroker]:
        pair = (FakeBroker(self, tubref, {}, info), FakeBroker(self, tubref, {}, None))
        self.loopbacks.append(pair)
        return pair

    def make_connector(self, tubref: TubRef) -> FakeConnector:
        c = FakeConnector(tubref)
        self.connectors.append(c)
        return c

    def attach(
        self,
        tubid: str = PEER,
        params: dict[str, object] | None = None,
        *,
        leftover: bytes = b"",
        tubref: TubRef | None = None,
        is_client: bool = False,
    ) -> tuple[FakeBroker, StringTransport]:
        """A negotiated connection to ``tubid`` (inbound unless ``tubref`` is given)."""
        transport = StringTransport()
        event = Established(tubid, dict(params or {}), is_master=True, leftover=leftover)
        broker = self.manager.attach_negotiated(
            transport,
            event,
            is_client=is_client,
            connection_info=ConnectionInfo(),
            tubref=tubref,
        )
        assert isinstance(broker, FakeBroker)
        return broker, transport


@pytest.fixture
def m():
    m = Manager()
    yield m
    assert m.clock.getDelayedCalls() == [], "the manager left a delayed call behind"


def results(d: Deferred[Any]) -> list[Any]:
    out: list[Any] = []
    d.addBoth(out.append)
    return out


# -- asking for a Broker ----------------------------------------------------------------


def test_waiters_share_one_connector_and_wake_on_a_later_turn(m):
    """Two requests for one TubRef start one connector; both get the Broker, not re-entrantly."""
    peer = TubRef(PEER)
    first = results(m.manager.getBrokerForTubRef(peer))
    second = results(m.manager.getBrokerForTubRef(TubRef(PEER, ("tcp:example.com:1",))))
    assert len(m.connectors) == 1 and m.connectors[0].connects == 1
    assert m.manager.tubConnectors == {peer: m.connectors[0]}
    broker, _ = m.attach(tubref=peer, is_client=True)
    assert first == [] and second == []
    m.clock.advance(0)
    assert first == [broker] and second == [broker]
    assert m.manager.tubConnectors == {} and m.manager.waitingForBrokers == {}
    assert m.connectors[0].shutdowns == 0  # our own connector won: it stops by itself


def test_connected_tubref_answers_at_once(m):
    """A TubRef we are connected to gets its Broker at once, without a connector."""
    broker, _ = m.attach()
    assert results(m.manager.getBrokerForTubRef(TubRef(PEER))) == [broker]
    assert m.connectors == []


def test_any_tubref_like_is_accepted(m):
    """getBrokerForTubRef takes anything with getTubID and getLocations (a SturdyRef's TubRef)."""
    m.manager.getBrokerForTubRef(SturdyRef(f"pb://{PEER}@tcp:127.0.0.1:1/x").getTubRef())
    assert m.connectors[0].tubref == TubRef(PEER, ("tcp:127.0.0.1:1",))

    class Ref:
        def getTubID(self) -> str:
            return OTHER

        def getLocations(self) -> list[str]:
            return ["tcp:example.com:5"]

    assert as_tubref(Ref()) == TubRef(OTHER) and as_tubref(Ref()).getLocations() == [
        "tcp:example.com:5"
    ]


def test_own_tubid_gets_a_loopback_pair(m):
    """Our own TubID is served by the first Broker of a loopback pair, at once."""
    got = results(m.manager.getBrokerForTubRef(TubRef(ME)))
    ours, _theirs = m.loopbacks[0]
    assert got == [ours] and m.connectors == []
    assert m.manager.brokers == {TubRef(ME): ours}
    info = ours.info
    assert info.connected and info.winningHint == "loopback"
    assert info.connectorStatuses == {"loopback": "connected"}
    assert results(m.manager.getBrokerForTubRef(TubRef(ME))) == [ours]
    assert len(m.loopbacks) == 1


def test_revoke_reaches_every_broker_and_loopback_half(m):
    """revoke_reference tells every Broker, including the far half of a loopback pair."""
    peer, _ = m.attach()
    m.manager.getBrokerForTubRef(TubRef(ME))
    ours, theirs = m.loopbacks[0]
    thing = object()
    m.manager.revoke_reference(thing)
    assert peer.revoked == ours.revoked == theirs.revoked == [thing]
    theirs.lose()  # the far half is forgotten once its connection ends
    m.manager.revoke_reference(thing)
    assert theirs.revoked == [thing] and ours.revoked == [thing, thing]


def test_connection_info_comes_from_broker_or_connector(m):
    """connection_info: the Broker's if connected, else the connector's, else None."""
    assert m.manager.connection_info(TubRef(PEER)) is None
    m.manager.getBrokerForTubRef(TubRef(PEER))
    assert m.manager.connection_info(TubRef(PEER)) is m.connectors[0].info
    broker, _ = m.attach(tubref=TubRef(PEER), is_client=True)
    m.clock.advance(0)
    assert m.manager.connection_info(TubRef(PEER)) is broker.info
    broker.info = "not a ConnectionInfo"
    assert m.manager.connection_info(TubRef(PEER)) is None


# -- connectors -------------------------------------------------------------------------


def test_connector_failure_fails_every_waiter(m):
    """When the connector gives up, every waiter gets its failure; the next request retries."""
    a = results(m.manager.getBrokerForTubRef(TubRef(PEER)))
    b = results(m.manager.getBrokerForTubRef(TubRef(PEER)))
    why = Failure(NegotiationError("no route"))
    m.manager.connectionFailed(TubRef(PEER), why)
    assert a == [why] and b == [why]
    assert m.manager.tubConnectors == {} and m.manager.waitingForBrokers == {}
    again = results(m.manager.getBrokerForTubRef(TubRef(PEER)))
    assert len(m.connectors) == 2
    m.manager.connectionFailed(TubRef(PEER), why)
    assert again == [why]


def test_inbound_connection_beats_our_connector(m):
    """An inbound connection stops our connector and wakes the waiters; its late failure is moot."""
    got = results(m.manager.getBrokerForTubRef(TubRef(PEER)))
    broker, _ = m.attach()  # inbound: is_client False
    assert m.connectors[0].shutdowns == 1
    m.clock.advance(0)
    assert got == [broker]
    m.manager.connectionFailed(TubRef(PEER), Failure(NegotiationError("abandoned")))
    assert m.manager.brokers == {TubRef(PEER): broker}


def test_active_connectors_are_tracked(m):
    """connectorStarted/connectorFinished keep the list of connectors at work."""
    c1, c2 = FakeConnector(TubRef(PEER)), FakeConnector(TubRef(OTHER))
    m.manager.connectorStarted(c1)
    m.manager.connectorStarted(c2)
    m.manager.connectorFinished(c1)
    m.manager.connectorFinished(c1)  # twice is harmless
    assert m.manager.active_connectors == [c2]


# -- Brokers ----------------------------------------------------------------------------


def test_second_broker_for_one_tubref_is_refused(m):
    """brokerAttached for a TubRef that already has a Broker is a PBError."""
    broker, _ = m.attach()
    with pytest.raises(PBError, match="duplicate connection"):
        m.manager.brokerAttached(TubRef(PEER), FakeBroker(m, TubRef(PEER), {}, None), True)
    assert m.manager.brokers[TubRef(PEER)] is broker


def test_detached_broker_is_forgotten(m):
    """brokerDetached removes that Broker only."""
    a, _ = m.attach(PEER)
    b, _ = m.attach(OTHER)
    a.lose()
    assert m.manager.brokers == {TubRef(OTHER): b}
    a.lose()  # a second detach changes nothing
    assert m.manager.brokers == {TubRef(OTHER): b}


def test_debug_list_brokers(m):
    """debug_listBrokers: per Broker, its inbound queue and its outbound requests by reqID."""
    broker, _ = m.attach()
    broker.inboundDeliveryQueue = ["call-1", "call-2"]
    broker.waitingForAnswers = {7: "req-7", 3: "req-3"}
    assert m.manager.debug_listBrokers() == [
        (f"pb://{PEER}", ["call-1", "call-2"], ["req-3", "req-7"])
    ]


# -- negotiated connections -------------------------------------------------------------


def test_attach_negotiated_hands_over_the_transport_and_leftover(m):
    """The new Broker gets the transport, then the bytes negotiation read past its end."""
    params = {"banana-decision-version": 3}
    broker, transport = m.attach(params=params, leftover=b"\x01\x82")
    assert broker.transport is transport and broker.received == b"\x01\x82"
    assert broker.params == params and broker.tubref == TubRef(PEER)
    assert m.manager.brokers == {TubRef(PEER): broker}


def test_outbound_attach_uses_the_connectors_tubref(m):
    """An outbound connection is filed under the connector's TubRef (with its hints)."""
    target = TubRef(PEER, ("tcp:example.com:1",))
    broker, _ = m.attach(tubref=target, is_client=True)
    assert broker.tubref.hints == target.hints


def test_racing_connection_replaces_the_old_one(m):
    """A negotiated connection to a TubRef we already serve replaces the old Broker."""
    old, _ = m.attach()
    new, _ = m.attach()
    assert m.manager.brokers == {TubRef(PEER): new}
    ((why, fire),) = old.shutdowns
    assert why.check(DeadReferenceError) and fire is True
    old.lose()  # the old Broker's detach does not remove the new one
    assert m.manager.brokers == {TubRef(PEER): new}


def test_existing_connection_reads_what_was_negotiated(m):
    """existing_connection reports the Broker's slave incarnation, seqnum and birth time."""
    assert m.manager.existing_connection(PEER) is None
    m.clock.advance(12.5)
    m.attach(params={"current-slave-IR": "abcd", "current-seqnum": 4})
    assert m.manager.existing_connection(PEER) == ExistingConnection("abcd", 4, 12.5)
    m.attach(OTHER, params={"current-slave-IR": b"junk", "current-seqnum": "4"})
    assert m.manager.existing_connection(OTHER) == ExistingConnection(None, None, 12.5)


def test_replace_existing_drops_the_old_broker(m):
    """replace_existing shuts the Broker down with a DeadReferenceError and forgets it."""
    broker, _ = m.attach()
    m.manager.replace_existing(ReplaceExisting(OTHER, "nothing there"))  # no-op
    m.manager.replace_existing(ReplaceExisting(PEER, "replaced by a new connection"))
    assert m.manager.brokers == {}
    ((why, _fire),) = broker.shutdowns
    assert why.check(DeadReferenceError) and "replaced" in str(why.value)


# -- shutting down ----------------------------------------------------------------------


def test_shutdown_waits_for_every_transport(m):
    """shutdown stops connectors and Brokers and fires once every transport is gone."""
    waiting = results(m.manager.getBrokerForTubRef(TubRef(OTHER)))
    connector = m.connectors[0]
    m.manager.connectorStarted(connector)
    a, _ = m.attach(PEER)
    b, _ = m.attach(make_tubid("third"))
    done = results(m.manager.shutdown())
    assert m.manager.stopped
    assert connector.shutdowns == 1  # once, though it is both active and by TubRef
    for broker in (a, b):
        ((why, fire),) = broker.shutdowns
        assert why.check(ConnectionDone) and fire is False
    a.lose()
    assert done == []
    b.lose()
    assert done == [None]
    assert m.manager.brokers == {}
    m.manager.connectionFailed(TubRef(OTHER), Failure(NegotiationError("abandoned")))
    assert waiting[0].check(NegotiationError)  # the stopped connector reports its failure


def test_shutdown_without_connections_fires_at_once(m):
    """With nothing connected, shutdown's Deferred has already fired."""
    assert results(m.manager.shutdown()) == [None]


def test_connection_negotiated_after_shutdown_is_closed(m):
    """A connection that finishes negotiating after shutdown is shut down, not attached."""
    m.manager.shutdown()
    broker, transport = m.attach()
    assert broker.transport is transport
    ((why, _fire),) = broker.shutdowns
    assert why.check(ConnectionDone)
    assert m.manager.brokers == {}


# -- Brokers built ahead ------------------------------------------------------------------


class AheadBroker(FakeBroker):
    """A FakeBroker that can be built ahead (``take_params`` answers ``agrees``)."""

    agrees = True

    @property
    def remote_tubref(self) -> TubRef:
        return self.tubref

    def take_params(self, params: dict[str, object]) -> bool:
        if self.agrees:
            self.params = dict(params)
        return self.agrees


def ahead(m: Manager, tubid: str, *, agrees: bool = True) -> AheadBroker:
    """prepare_broker through a manager whose make_broker builds AheadBrokers."""

    def make(tubref: TubRef, params: dict[str, object], info: Any) -> AheadBroker:
        b = AheadBroker(m, tubref, params, info)
        b.agrees = agrees
        m.brokers.append(b)
        return b

    m.manager._make_broker = make  # type: ignore[method-assign]
    prepared = m.manager.prepare_broker(TubRef(tubid), ConnectionInfo())
    assert isinstance(prepared, AheadBroker)
    return prepared


def attach_prepared(m: Manager, prepared: Any, tubid: str = PEER) -> Any:
    event = Established(tubid, {"current-seqnum": 2}, is_master=True, leftover=b"")
    return m.manager.attach_negotiated(
        StringTransport(),
        event,
        is_client=False,
        connection_info=ConnectionInfo(),
        tubref=None,
        prepared=prepared,
    )


def test_a_broker_built_ahead_is_used_when_the_decision_agrees(m):
    """prepare_broker builds with the likely parameters; attach_negotiated takes that
    Broker (it takes the decided params) and builds no other."""
    from octavo.tub._negotiation._machine import loopback_params

    prepared = ahead(m, PEER)
    assert prepared.params == loopback_params() and m.manager.brokers == {}
    assert attach_prepared(m, prepared) is prepared
    assert prepared.params == {"current-seqnum": 2} and len(m.brokers) == 1
    assert m.manager.brokers == {TubRef(PEER): prepared}


def test_a_broker_built_ahead_that_disagrees_is_not_used(m):
    """A decision the prepared Broker refuses (another table), or another peer, gets a
    Broker built for it."""
    prepared = ahead(m, PEER, agrees=False)
    broker = attach_prepared(m, prepared)
    assert broker is not prepared and broker.params == {"current-seqnum": 2}
    other = ahead(m, OTHER)
    assert attach_prepared(m, other, tubid=make_tubid("third")) is not other


def test_a_broker_built_before_the_peer_was_known_takes_it(m):
    """A Broker built ahead for no peer yet (a server before the client's certificate)
    is given the peer with the decision."""
    taken: list[Any] = []

    class Unknown(AheadBroker):
        remote_tubref = None  # type: ignore[assignment]

        def take_params(self, params: dict[str, object], peer: Any = None) -> bool:
            taken.append(peer)
            return True

    def make(tubref: Any, params: dict[str, object], info: Any) -> Unknown:
        return Unknown(m, tubref, params, info)

    m.manager._make_broker = make  # type: ignore[method-assign]
    prepared = m.manager.prepare_broker(None, ConnectionInfo())
    assert isinstance(prepared, Unknown) and prepared.tubref is None
    assert attach_prepared(m, prepared) is prepared and taken == [TubRef(PEER)]


def test_nothing_is_built_ahead_once_stopped(m):
    """A stopped manager prepares no Broker."""
    m.manager.shutdown()
    assert m.manager.prepare_broker(TubRef(PEER), ConnectionInfo()) is None
