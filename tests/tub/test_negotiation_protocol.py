"""The Twisted glue around the Negotiator, with fake transports and a fake clock."""

from __future__ import annotations

from typing import Any

from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.protocols.tls import TLSMemoryBIOProtocol
from twisted.trial.unittest import SynchronousTestCase

from octavo.furl import TubRef
from octavo.tub._errors import NegotiationError
from octavo.tub._negotiation._machine import Established, Negotiator, SendData
from octavo.tub._negotiation._protocol import SERVER_TIMEOUT, NegotiationProtocol
from octavo.tub._net._connectors import TubConnector
from octavo.tub._net._identity import create_certificate
from octavo.tub._tub import Tub

from .test_negotiation import BIG, SMALL, FakeState
from .test_tls_write import Socket


class Recorder:
    """A NegotiationHandler that records what happened."""

    def __init__(self) -> None:
        self.failed: list[NegotiationError] = []
        self.succeeded: list[Any] = []

    def negotiation_replace_existing(self, state: Any, event: Any) -> None:
        raise AssertionError("unexpected")

    def negotiation_succeeded(self, proto: Any, state: Any, event: Any) -> Any:
        self.succeeded.append(event)
        return None

    def negotiation_failed(self, proto: Any, error: NegotiationError) -> None:
        self.failed.append(error)

    def negotiation_redirected(self, proto: Any, location: str) -> None:
        raise AssertionError("unexpected")


def server_protocol(clock: MemoryReactorClock, handler: Recorder) -> NegotiationProtocol:
    state = FakeState(BIG)

    def make(cert: Any) -> Negotiator:
        return Negotiator.server(
            lambda t: (state, None) if t == BIG else (None, None),
            now=clock.seconds,
            peer_certificate_tubid=cert,
        )

    return NegotiationProtocol(make, handler, clock=clock, timeout=SERVER_TIMEOUT)


class GlueTests(SynchronousTestCase):
    def test_server_times_out_silent_peer(self) -> None:
        """A peer that never finishes negotiating is dropped after 120 s."""
        clock, handler = MemoryReactorClock(), Recorder()
        proto = server_protocol(clock, handler)
        transport = StringTransport()
        proto.makeConnection(transport)
        proto.dataReceived(b"GET /id/")
        clock.advance(SERVER_TIMEOUT - 1)
        assert not transport.disconnecting
        clock.advance(1)
        assert transport.disconnecting
        assert transport.value().startswith(b"HTTP/1.1 500 Internal Server Error: negotiation")
        proto.connectionLost()
        assert len(handler.failed) == 1 and "timeout" in str(handler.failed[0])

    def test_garbage_closes_and_reports_once(self) -> None:
        """Garbage gets an HTTP 500 and a close; the failure is reported once, on close."""
        clock, handler = MemoryReactorClock(), Recorder()
        proto = server_protocol(clock, handler)
        transport = StringTransport()
        proto.makeConnection(transport)
        proto.dataReceived(b"\x00garbage\r\n\r\n")
        assert transport.disconnecting and transport.value().startswith(b"HTTP/1.1 500")
        assert handler.failed == []
        proto.dataReceived(b"more garbage is ignored")
        proto.connectionLost()
        assert len(handler.failed) == 1
        assert clock.getDelayedCalls() == []

    def test_unknown_tubid_gets_500(self) -> None:
        """A request for another TubID is answered with a 500 naming it."""
        clock, handler = MemoryReactorClock(), Recorder()
        proto = server_protocol(clock, handler)
        transport = StringTransport()
        proto.makeConnection(transport)
        proto.dataReceived(b"GET /id/" + SMALL.encode() + b" HTTP/1.1\r\n\r\n")
        assert b"unknown TubID " + SMALL.encode() in transport.value()

    def test_request_is_answered_with_101_and_tls(self) -> None:
        """A request for our TubID gets 101 and TLS is started on the transport."""
        clock, handler = MemoryReactorClock(), Recorder()
        proto = server_protocol(clock, handler)
        started: list[Any] = []

        class TLSString(StringTransport):
            def startTLS(self, ctx: Any) -> None:
                started.append(ctx)

        transport = TLSString()
        state = proto.negotiator

        def ctx_state(t: str) -> Any:
            s = FakeState(BIG)
            s.context_factory = lambda: "CTX"  # type: ignore[attr-defined]
            return s, None

        state.lookup = ctx_state
        proto.makeConnection(transport)
        proto.dataReceived(b"GET /id/" + BIG.encode() + b" HTTP/1.1\r\n\r\n")
        assert transport.value().startswith(b"HTTP/1.1 101 Switching Protocols")
        assert started == ["CTX"]
        assert b"my-tub-id: " + BIG.encode() in transport.value()

    def test_101_leaves_before_tls_starts(self) -> None:
        """On a socket of the reactor the 101 is sent before TLS is set up (the
        client sets up its own meanwhile), not on the reactor's next turn."""
        clock, handler = MemoryReactorClock(), Recorder()
        proto = server_protocol(clock, handler)
        sent_at_start: list[list[bytes]] = []

        class TLSSocket(Socket):
            def startTLS(self, ctx: Any) -> None:
                sent_at_start.append(list(self.sent))

        sock = TLSSocket(room=65536)

        def ctx_state(t: str) -> Any:
            s = FakeState(BIG)
            s.context_factory = lambda: "CTX"  # type: ignore[attr-defined]
            return s, None

        proto.negotiator.lookup = ctx_state
        proto.makeConnection(sock)
        proto.dataReceived(b"GET /id/" + BIG.encode() + b" HTTP/1.1\r\n\r\n")
        (before_tls,) = sent_at_start
        assert len(before_tls) == 1 and before_tls[0].startswith(b"HTTP/1.1 101 Switching")

    def test_decision_leaves_before_the_broker_is_built(self) -> None:
        """The master's decision block is on the socket before its Broker is built
        (the peer builds its own meanwhile)."""
        clock = MemoryReactorClock()
        sent_at_success: list[list[bytes]] = []

        class Handler(Recorder):
            def negotiation_succeeded(self, proto: Any, state: Any, event: Any) -> Any:
                sent_at_success.append(list(sock.sent))
                return super().negotiation_succeeded(proto, state, event)

        proto = server_protocol(clock, Handler())
        sock = Socket(room=65536)
        proto.makeConnection(sock)
        proto.negotiator.state = FakeState(BIG)
        proto._run([SendData(b"decision\r\n\r\n"), Established(SMALL, {}, True, b"")])
        assert sent_at_success == [[b"decision\r\n\r\n"]]


def client_protocol(clock: MemoryReactorClock, handler: Recorder) -> NegotiationProtocol:
    state = FakeState(SMALL)
    state.context_factory = lambda: "CTX"  # type: ignore[attr-defined]

    def make(cert: Any) -> Negotiator:
        return Negotiator.client(
            state, BIG, "127.0.0.1", now=clock.seconds, peer_certificate_tubid=cert
        )

    return NegotiationProtocol(make, handler, clock=clock)


class TLSSocket(Socket):
    """A socket of the reactor whose ``startTLS`` puts a TLS layer (Twisted's class,
    not connected) over ``under``: the protocol, or another one (a SOCKS relay's)."""

    under: Any = None

    def startTLS(self, ctx: Any) -> None:
        self.TLS = True
        self.protocol = TLSMemoryBIOProtocol(None, self.under)  # type: ignore[arg-type]


class EarlySendTests(SynchronousTestCase):
    """Each negotiation block leaves at once, not on the reactor's next turn."""

    def started(self, under: Any = None) -> tuple[NegotiationProtocol, TLSSocket]:
        proto = client_protocol(MemoryReactorClock(), Recorder())
        sock = TLSSocket(room=65536)
        sock.under = under if under is not None else proto
        proto.makeConnection(sock)
        return proto, sock

    def test_get_leaves_when_the_connection_is_made(self) -> None:
        """The GET is on the socket when connectionMade returns."""
        _, sock = self.started()
        assert len(sock.sent) == 1 and sock.sent[0].startswith(b"GET /id/" + BIG.encode())
        assert sock.reactor.writers == set()  # type: ignore[attr-defined]

    def test_hello_leaves_with_the_handshake(self) -> None:
        """Under Twisted's TLS layer the hello block waits for the handshake (nothing
        of it is written before), then is written and sent when it completes."""
        proto, sock = self.started()
        proto.dataReceived(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: TLS/1.0\r\n\r\n")
        assert len(sock.sent) == 1 and not sock.dataBuffer and not sock._tempDataLen
        proto.handshakeCompleted()
        assert len(sock.sent) == 2
        assert b"my-tub-id: " + SMALL.encode() in sock.sent[1]
        assert b"last-connection: none 0" in sock.sent[1]
        proto.handshakeCompleted()  # a second call sends nothing more
        assert len(sock.sent) == 2

    def test_hello_under_another_protocol_is_written_at_once(self) -> None:
        """A TLS layer over another protocol (a SOCKS relay's) would never tell us of
        its handshake: the hello is written to it straight away, as before."""
        proto, sock = self.started(under=object())
        proto.dataReceived(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: TLS/1.0\r\n\r\n")
        written = b"".join(sock.sent) + sock.dataBuffer + b"".join(sock._tempDataBuffer)
        assert b"my-tub-id: " + SMALL.encode() in written

    def test_a_failure_during_the_handshake_writes_what_was_held(self) -> None:
        """Giving up before the handshake is done writes the held hello and the error
        block to the TLS layer (as Twisted's layer would have held them), then closes."""
        proto, sock = self.started()
        proto.dataReceived(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: TLS/1.0\r\n\r\n")
        writes: list[bytes] = []
        sock.write = writes.append  # type: ignore[method-assign]
        proto.abandon("negotiation timeout")
        assert b"my-tub-id: " + SMALL.encode() in writes[0]
        assert b"error: negotiation timeout" in writes[1]
        assert sock.disconnecting


class Preparer(Recorder):
    """A handler that builds a Broker ahead when asked: records when (how many sends
    the socket had made by then) and hands back a token."""

    def __init__(self, sock: Any = None) -> None:
        super().__init__()
        self.sock = sock
        self.asked: list[int] = []

    def negotiation_prepare(self, proto: Any) -> Any:
        self.asked.append(len(self.sock.sent) if self.sock is not None else -1)
        return f"broker {len(self.asked)}"


class BuildAheadTests(SynchronousTestCase):
    """While negotiation waits for the peer, the handler builds the Broker ahead."""

    def test_the_client_builds_ahead_once_its_hello_has_left(self) -> None:
        """The client asks once, at the end of its handshake, after its hello block
        is on the socket; the Broker built is kept for the handler."""
        sock = TLSSocket(room=65536)
        handler = Preparer(sock)
        proto = client_protocol(MemoryReactorClock(), handler)
        sock.under = proto
        proto.makeConnection(sock)
        proto.dataReceived(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: TLS/1.0\r\n\r\n")
        assert handler.asked == []
        proto.handshakeCompleted()
        assert handler.asked == [2] and proto.prepared == "broker 1"
        proto.handshakeCompleted()
        assert handler.asked == [2]

    def test_a_client_endpoints_wrapper_passes_the_handshake_on(self) -> None:
        """Under the wrapper of a client endpoint (which passes handshakeCompleted on)
        the hello still waits for the handshake and leaves with it."""
        from twisted.internet.defer import Deferred
        from twisted.internet.endpoints import _WrappingProtocol

        proto = client_protocol(MemoryReactorClock(), Recorder())
        sock = TLSSocket(room=65536)
        sock.under = _WrappingProtocol(Deferred(), proto)
        proto.makeConnection(sock)
        proto.dataReceived(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: TLS/1.0\r\n\r\n")
        assert len(sock.sent) == 1
        sock.under.handshakeCompleted()
        assert len(sock.sent) == 2 and b"my-tub-id: " + SMALL.encode() in sock.sent[1]

    def test_a_server_that_is_not_master_builds_ahead_for_the_decision(self) -> None:
        """A server whose TubID is the smaller asks (once) after reading the client's
        hello, while it waits for the decision; the master server does not ask."""
        for ours, theirs, asks in ((SMALL, BIG, 1), (BIG, SMALL, 0)):
            clock, handler = MemoryReactorClock(), Preparer()
            state = FakeState(ours)
            state.context_factory = lambda: "CTX"  # type: ignore[attr-defined]

            def make(
                cert: Any, state: Any = state, clock: Any = clock, theirs: str = theirs
            ) -> Negotiator:
                return Negotiator.server(
                    lambda t: (state, None),
                    now=clock.seconds,
                    peer_certificate_tubid=lambda: theirs,
                )

            proto = NegotiationProtocol(make, handler, clock=clock)
            sock = TLSSocket(room=65536)
            sock.under = object()
            proto.makeConnection(sock)
            proto.dataReceived(b"GET /id/" + ours.encode() + b" HTTP/1.1\r\n\r\n")
            hello = (
                f"banana-negotiation-range: 3 3\r\ninitial-vocab-table-range: 0 1\r\n"
                f"my-tub-id: {theirs}\r\nmy-incarnation: 0123\r\n"
                "last-connection: none 0\r\n\r\n"
            )
            proto.dataReceived(hello.encode())
            proto.dataReceived(b"")  # more waiting: no second Broker built ahead
            assert len(handler.asked) == asks, (ours, handler.asked)
            assert len(handler.succeeded) == 1 - asks  # the master decided at once

    def test_a_server_sends_its_flight_at_once_and_builds_ahead_meanwhile(self) -> None:
        """Under Twisted's TLS layer a server follows the layer's reads until the
        handshake is done: the handshake flight a read made leaves at once, then the
        Broker is built ahead (once, the peer not known yet); at the end of the
        handshake the layer reads on its own again."""
        sock = TLSSocket(room=65536)

        class HandshakingTLS(TLSMemoryBIOProtocol):
            def dataReceived(self, data: bytes) -> None:
                sock.write(b"server flight for " + data)

        def start_tls(ctx: Any) -> None:
            sock.TLS = True
            sock.protocol = HandshakingTLS(None, proto)  # type: ignore[arg-type]

        sock.startTLS = start_tls  # type: ignore[method-assign]
        handler = Preparer(sock)
        state = FakeState(BIG)
        state.context_factory = lambda: "CTX"  # type: ignore[attr-defined]
        clock = MemoryReactorClock()

        def make(cert: Any) -> Negotiator:
            return Negotiator.server(
                lambda t: (state, None), now=clock.seconds, peer_certificate_tubid=cert
            )

        proto = NegotiationProtocol(make, handler, clock=clock)
        proto.makeConnection(sock)
        proto.dataReceived(b"GET /id/" + BIG.encode() + b" HTTP/1.1\r\n\r\n")
        tls = sock.protocol
        assert "dataReceived" in tls.__dict__ and handler.asked == []
        tls.dataReceived(b"ClientHello")
        assert sock.sent[-1] == b"server flight for ClientHello"
        assert handler.asked == [len(sock.sent)] and proto.prepared == "broker 1"
        tls.dataReceived(b"more")
        assert sock.sent[-1] == b"server flight for more" and len(handler.asked) == 1
        proto.handshakeCompleted()
        assert "dataReceived" not in tls.__dict__

    def test_a_failed_negotiation_lets_the_broker_built_ahead_go(self) -> None:
        """What was built ahead is dropped when negotiation fails."""
        sock = TLSSocket(room=65536)
        proto = client_protocol(MemoryReactorClock(), Preparer(sock))
        sock.under = proto
        proto.makeConnection(sock)
        proto.dataReceived(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: TLS/1.0\r\n\r\n")
        proto.handshakeCompleted()
        assert proto.prepared == "broker 1"
        proto.abandon("negotiation timeout")
        assert proto.prepared is None


class ConnectorTests(SynchronousTestCase):
    def test_connector_times_out(self) -> None:
        """An attempt that never connects fails after the client timeout, clearly."""
        reactor = MemoryReactorClock()
        tub = Tub(certData=create_certificate(), reactor=reactor)
        tub.startService()
        target = TubRef(SMALL, ("tcp:127.0.0.1:9",))
        d = tub.getBrokerForTubRef(target)
        assert len(reactor.tcpClients) == 1 or reactor.getDelayedCalls()
        failures: list[Any] = []
        d.addErrback(failures.append)
        reactor.advance(TubConnector.CONNECTION_TIMEOUT)
        assert failures and "within client timeout" in str(failures[0].value)
        assert tub._connections.active_connectors == [] and tub.tubConnectors == {}

    def test_unknown_hint_types_are_skipped_with_reason(self) -> None:
        """Hints with no handler are skipped and the reason is kept in ConnectionInfo."""
        reactor = MemoryReactorClock()
        tub = Tub(certData=create_certificate(), reactor=reactor)
        tub.startService()
        target = TubRef(SMALL, ("zork:abc", "tcp:127.0.0.1:9"))
        tub.getBrokerForTubRef(target)
        info = tub.getConnectionInfoForFURL(f"pb://{SMALL}@zork:abc,tcp:127.0.0.1:9/x")
        assert info is not None
        assert "no handler registered" in info.connectorStatuses["zork:abc"]
        assert info.connectionHandlers["tcp:127.0.0.1:9"] == "tcp"
        tub.stopService()
