"""Connections over real loopback sockets: TLS negotiation, failures, bad peers."""

from __future__ import annotations

from twisted.internet import defer, protocol, reactor
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.trial import unittest

from octavo.furl import TubRef
from octavo.tub._errors import NegotiationError, NoLocationHintsError
from octavo.tub._net._identity import TubIdentity, create_certificate

from .probe_broker import ProbeBroker, ProbeTub

CERTS = [create_certificate() for _ in range(3)]


def wait(seconds: float) -> defer.Deferred[None]:
    d: defer.Deferred[None] = defer.Deferred()
    reactor.callLater(seconds, d.callback, None)
    return d


async def until(predicate, tries: int = 200) -> None:
    """Spin the reactor until predicate() holds (bounded)."""
    for _ in range(tries):
        if predicate():
            return
        await wait(0.01)
    raise AssertionError("condition not reached")


class Connections(unittest.TestCase):
    def make_tub(self, cert: bytes, listen: bool = True) -> ProbeTub:
        t = ProbeTub(certData=cert)
        t.startService()
        self.addCleanup(t.stopService)
        if listen:
            port = t.listenOn("tcp:0:interface=127.0.0.1").getPortnum()
            t.setLocation(f"tcp:127.0.0.1:{port}")
        return t

    def tubref(self, t: ProbeTub) -> TubRef:
        return TubRef(t.getTubID(), tuple(t.locationHints))

    async def test_connect_hands_both_ends_to_brokers(self) -> None:
        """A connection negotiates TLS and gives each Tub a Broker for the other."""
        a, b = self.make_tub(CERTS[0]), self.make_tub(CERTS[1])
        broker = await a.getBrokerForTubRef(self.tubref(b))
        assert isinstance(broker, ProbeBroker)
        assert broker.params["banana-decision-version"] == 3
        await until(lambda: TubRef(a.getTubID()) in b.brokers)
        assert a.brokers[TubRef(b.getTubID())] is broker
        again = await a.getBrokerForTubRef(self.tubref(b))
        assert again is broker
        info = a.getConnectionInfoForFURL(b.buildURL("x"))
        assert info.connected and info.winningHint == b.locationHints[0]
        assert info.connectorStatuses[b.locationHints[0]] == "successful"

    async def test_ecdsa_and_rsa_tubs_connect_both_ways(self) -> None:
        """An ECDSA Tub (the default) and an RSA one (Foolscap's kind) connect whichever
        dials, and each sees the other's TubID."""
        rsa_tub = self.make_tub(create_certificate(key_type="rsa"))
        for dialer, listener in (
            (self.make_tub(CERTS[0]), rsa_tub),
            (rsa_tub, self.make_tub(CERTS[1])),
        ):
            broker = await dialer.getBrokerForTubRef(self.tubref(listener))
            assert dialer.brokers[TubRef(listener.getTubID())] is broker
            await until(lambda d=dialer, li=listener: TubRef(d.getTubID()) in li.brokers)

    async def test_certificate_mismatch_refused(self) -> None:
        """A listener presenting a certificate that is not the FURL's TubID is refused."""
        a, b = self.make_tub(CERTS[0]), self.make_tub(CERTS[1])
        impostor = TubIdentity.from_pem(CERTS[2])
        b._state.context_factory = impostor.context_factory  # type: ignore[method-assign]
        with self.assertRaises(NegotiationError) as e:
            await a.getBrokerForTubRef(self.tubref(b))
        assert "TubID mismatch" in str(e.exception)
        assert a.brokers == {}

    async def test_unknown_tubid_refused(self) -> None:
        """Asking a listener for a TubID it does not serve fails with its reason."""
        a, b = self.make_tub(CERTS[0]), self.make_tub(CERTS[1])
        wrong = TubRef(TubIdentity.from_pem(CERTS[2]).tubid, tuple(b.locationHints))
        with self.assertRaises(NegotiationError) as e:
            await a.getBrokerForTubRef(wrong)
        assert "unknown TubID" in str(e.exception)

    async def test_connection_refused(self) -> None:
        """A hint where nobody listens fails the attempt (no hang)."""
        a, b = self.make_tub(CERTS[0]), self.make_tub(CERTS[1])
        port = b.getListeners()[0].getPortnum()
        await b.stopListeningOn(b.getListeners()[0])
        ref = TubRef(b.getTubID(), (f"tcp:127.0.0.1:{port}",))
        with self.assertRaises(Exception) as e:
            await a.getBrokerForTubRef(ref)
        assert "refused" in str(e.exception).lower()

    async def test_no_usable_hints(self) -> None:
        """Only unknown hint types: NoLocationHintsError; the reasons are recorded."""
        a = self.make_tub(CERTS[0])
        ref = TubRef(TubIdentity.from_pem(CERTS[1]).tubid, ("tor:foo.onion:80", "zork:1:2"))
        d = a.getBrokerForTubRef(ref)
        with self.assertRaises(NoLocationHintsError):
            await d

    async def test_parallel_hints_one_good(self) -> None:
        """Several hints are tried in parallel; a bad one does not stop a good one."""
        a, b = self.make_tub(CERTS[0]), self.make_tub(CERTS[1])
        hints = ("zork:nothing", "tcp:127.0.0.1:1", *b.locationHints)
        broker = await a.getBrokerForTubRef(TubRef(b.getTubID(), hints))
        assert isinstance(broker, ProbeBroker)

    async def test_garbage_peer_does_not_disturb_others(self) -> None:
        """A peer sending garbage is answered and closed; other connections still work."""
        a, b = self.make_tub(CERTS[0]), self.make_tub(CERTS[1])
        port = b.getListeners()[0].getPortnum()

        class Garbage(protocol.Protocol):
            def __init__(self) -> None:
                self.got = b""
                self.closed: defer.Deferred[None] = defer.Deferred()

            def connectionMade(self) -> None:
                self.transport.write(b"\x00\xff" * 3000)

            def dataReceived(self, data: bytes) -> None:
                self.got += data

            def connectionLost(self, reason: object) -> None:
                self.closed.callback(None)

        g = Garbage()
        await connectProtocol(TCP4ClientEndpoint(reactor, "127.0.0.1", port), g)
        broker = await a.getBrokerForTubRef(self.tubref(b))
        await g.closed
        assert g.got.startswith(b"HTTP/1.1 500")
        assert isinstance(broker, ProbeBroker) and broker.lost is None

    async def test_peer_stopping_mid_negotiation(self) -> None:
        """A peer that stops mid-request is dropped quietly; the listener keeps working."""
        a, b = self.make_tub(CERTS[0]), self.make_tub(CERTS[1])
        port = b.getListeners()[0].getPortnum()
        half = protocol.Protocol()
        await connectProtocol(TCP4ClientEndpoint(reactor, "127.0.0.1", port), half)
        half.transport.write(b"GET /id/" + b.getTubID().encode())
        half.transport.loseConnection()
        broker = await a.getBrokerForTubRef(self.tubref(b))
        assert isinstance(broker, ProbeBroker)

    async def test_stop_service_closes_connections(self) -> None:
        """stopService closes every connection and fires when they are closed."""
        a, b = self.make_tub(CERTS[0]), self.make_tub(CERTS[1])
        broker = await a.getBrokerForTubRef(self.tubref(b))
        await until(lambda: len(b.brokers) == 1)
        theirs = next(iter(b.brokers.values()))
        await a.stopService()
        assert broker.lost is not None and a.brokers == {}
        await until(lambda: theirs.lost is not None)

    async def test_simultaneous_connections_resolve_to_one(self) -> None:
        """Both Tubs dialling each other at once end with one connection each way."""
        a, b = self.make_tub(CERTS[0]), self.make_tub(CERTS[1])
        d1 = a.getBrokerForTubRef(self.tubref(b))
        d2 = b.getBrokerForTubRef(self.tubref(a))
        r1, r2 = await defer.DeferredList([d1, d2])
        assert r1[0] and r2[0]
        await wait(0.2)
        assert len(a.brokers) == 1 and len(b.brokers) == 1
        ab = next(iter(a.brokers.values()))
        ba = next(iter(b.brokers.values()))
        assert ab.lost is None and ba.lost is None
        # the surviving brokers are the two ends of the same TCP connection
        assert ab.transport.getHost().port == ba.transport.getPeer().port

    async def test_stopping_drops_inbound_negotiations(self) -> None:
        """Stopping a Tub also drops inbound connections still negotiating."""
        b = self.make_tub(CERTS[1])
        port = b.getListeners()[0].getPortnum()

        class Stalled(protocol.Protocol):
            def __init__(self) -> None:
                self.closed: defer.Deferred[None] = defer.Deferred()

            def connectionLost(self, reason: object) -> None:
                self.closed.callback(None)

        stalled = Stalled()
        await connectProtocol(TCP4ClientEndpoint(reactor, "127.0.0.1", port), stalled)
        stalled.transport.write(b"GET /id/")
        await until(lambda: len(b.getListeners()[0]._negotiating) == 1)
        await b.stopService()
        await stalled.closed

    async def test_dns_name_hint(self) -> None:
        """A DNS-name hint (localhost) resolves and connects."""
        a, b = self.make_tub(CERTS[0]), self.make_tub(CERTS[1])
        port = b.getListeners()[0].getPortnum()
        broker = await a.getBrokerForTubRef(TubRef(b.getTubID(), (f"localhost:{port}",)))
        assert isinstance(broker, ProbeBroker)

    async def test_ipv6_hint(self) -> None:
        """A bracketed IPv6 hint connects to a Tub listening on ::1."""
        import socket

        try:
            probe = socket.socket(socket.AF_INET6)
            probe.bind(("::1", 0))
            probe.close()
        except OSError:
            raise unittest.SkipTest("no IPv6 loopback here") from None
        a = self.make_tub(CERTS[0])
        b = ProbeTub(certData=CERTS[1])
        b.startService()
        self.addCleanup(b.stopService)
        port = b.listenOn(r"tcp6:0:interface=\:\:1").getPortnum()
        b.setLocation(f"tcp:[::1]:{port}")
        broker = await a.getBrokerForTubRef(TubRef(b.getTubID(), tuple(b.locationHints)))
        assert isinstance(broker, ProbeBroker)
        listing = a.debug_listBrokers()
        assert listing == [(f"pb://{b.getTubID()}", [], [])]

    async def test_redirect_is_followed(self) -> None:
        """A listener's 303 redirect sends the connector to the Tub's real location."""
        a, b, c = self.make_tub(CERTS[0]), self.make_tub(CERTS[1]), self.make_tub(CERTS[2])
        b.getListeners()[0].addRedirect(c.getTubID(), c.locationHints[0])
        broker = await a.getBrokerForTubRef(TubRef(c.getTubID(), tuple(b.locationHints)))
        assert isinstance(broker, ProbeBroker)
        info = a.getConnectionInfoForFURL(c.buildURL("x"))
        assert info.winningHint == c.locationHints[0]
