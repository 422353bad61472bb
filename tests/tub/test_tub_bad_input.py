"""Bad input end to end: a real Tub over real loopback TLS against a raw Banana peer.

The attacker negotiates with octavo's own connection code (a Tub whose "broker" is
:class:`RawBroker`), then writes Banana bytes made with octavo.banana's Encoder or by
hand. Each case shows the bad message gets a clear error answer or a closed
connection, and that a well-behaved client of the same Tub keeps getting answers.
(tests/tub/test_broker_hostile.py covers the same cases on in-memory Brokers;
tests/tub/test_connection.py covers garbage and a closed connection mid-negotiation.)
"""

from __future__ import annotations

from twisted.internet import protocol, reactor
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.python.failure import Failure
from twisted.trial import unittest

from octavo.tub._tub import Tub

from ._raw_peer import (
    CERTS,
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_TOKEN_SIZE,
    Call,
    RawPeerCase,
    Target,
    b128_encode,
    raw_call,
    tclose,
    tint,
    topen,
    tstr,
    until,
)


class BadInput(RawPeerCase):
    """Tub S publishes a Target; a raw peer attacks it while Tub C keeps calling."""

    async def test_well_formed_calls_work(self) -> None:
        """The raw peer's own well-formed calls are answered (the harness is sound)."""
        self.raw.call(2, self.clid, "echo", {"k": [1, 2.5, b"x"]})
        assert await self.raw.reply(2) == ("answer", {"k": [1, 2.5, b"x"]})
        await self.assert_good_client_served()

    async def test_garbage_banana_closes_only_that_connection(self) -> None:
        """Bytes that are not Banana get an ERROR token and a close; C is still served."""
        self.raw.send(b"\x01\xff\xfe garbage")
        await self.assert_raw_closed_with_error()
        await self.assert_good_client_served()

    async def test_overlong_header_closes(self) -> None:
        """A token header longer than 64 bytes (an unbounded number) closes the connection."""
        self.raw.send(b"\x7f" * 100)
        await self.assert_raw_closed_with_error()
        await self.assert_good_client_served()

    async def test_oversized_token_gets_error_answer(self) -> None:
        """A string over max_token_size is refused (skipped, not buffered) with an error
        answer; the same connection then goes on working."""
        size = DEFAULT_MAX_TOKEN_SIZE + 1
        head = raw_call(3, self.clid, b"echo", b128_encode(size) + b"\x82")
        self.raw.send(head)
        chunk = b"x" * (1024 * 1024)
        for _ in range(size // len(chunk)):
            self.raw.send(chunk)
        self.raw.send(b"x" * (size % len(chunk)) + tclose(901) + tclose(900))
        await self.assert_good_client_served(1)
        text = await self.raw.error_text(3)
        assert "Violation" in text and str(size) in text, text
        await self.assert_raw_alive()
        await self.assert_good_client_served()

    async def test_deep_nesting_gets_error_answer(self) -> None:
        """Arguments nested deeper than max_depth get an error answer naming the limit."""
        depth = DEFAULT_MAX_DEPTH + 100
        nested = b"".join(topen(i, b"list") for i in range(depth))
        nested += b"".join(tclose(i) for i in reversed(range(depth)))
        self.raw.send(raw_call(4, self.clid, b"echo", nested))
        text = await self.raw.error_text(4)
        assert "max_depth" in text, text
        await self.assert_raw_alive()
        await self.assert_good_client_served()

    async def test_unknown_object_and_method_get_error_answers(self) -> None:
        """Calls to an unknown clid or an unknown (or private) method get error answers."""
        self.raw.call(5, 4242, "echo", 1)
        assert "unknown CLID 4242" in await self.raw.error_text(5)
        self.raw.call(6, self.clid, "no_such_method")
        assert "no_such_method" in await self.raw.error_text(6)
        self.raw.call(7, self.clid, "__class__")
        assert "UnknownMethodError" in await self.raw.error_text(7)  # an AttributeError
        self.raw.call(8, 0, "shutdown_everything")
        assert "shutdown_everything" in await self.raw.error_text(8)
        await self.assert_raw_alive()
        await self.assert_good_client_served()

    async def test_unknown_top_level_sequence_and_copyable(self) -> None:
        """An unknown top-level sequence is dropped; an unknown copyable argument gets an
        error answer; nothing named on the wire is imported or run."""
        self.raw.send(topen(902, b"launch-missiles") + tint(1) + tclose(902))
        bad = topen(903, b"copyable", b"os.system") + tstr(b"rm -rf /") + tclose(903)
        self.raw.send(raw_call(9, self.clid, b"echo", bad))
        assert "Violation" in await self.raw.error_text(9)
        await self.assert_raw_alive()
        await self.assert_good_client_served()

    async def test_call_flood_is_bounded(self) -> None:
        """Quick calls in a flood are all answered. Past the running-call limit
        (10 000) calls are not refused but not read either: the server stops reading
        from the flooder (backpressure), while C is served throughout."""
        self.raw.send(
            b"".join(
                self.raw.encoder.encode(Call(100 + i, self.clid, "echo", (i,))) for i in range(2000)
            )
        )
        await self.assert_good_client_served(1)
        await until(lambda: len(self.raw.replies) >= 2000, tries=6000)
        for i in range(2000):
            assert await self.raw.reply(100 + i) == ("answer", i)
        attacker = self.raw.tub.getTubID()
        (broker,) = [
            b for b in self.server.brokers.values() if b.remote_tubref.getTubID() == attacker
        ]
        limit = 10_000
        first = 10_000
        self.raw.send(
            b"".join(
                self.raw.encoder.encode(Call(first + i, self.clid, "never"))
                for i in range(limit + 2000)
            )
        )
        await until(lambda: broker.connection.admission.running >= limit, tries=6000)
        await until(lambda: broker.flow.reading_paused, tries=6000)
        await self.assert_good_client_served()
        assert broker.flow.reading_paused
        waiting = len(broker.inboundDeliveryQueue)
        assert waiting < 2000  # what was already read waits its turn; the rest is not read
        assert self.raw.replies == {}  # nothing refused
        await self.assert_good_client_served()
        # the flooder cannot flush what it still holds (we do not read it): it aborts.
        # A connection we do not read from learns of that when it next writes: the
        # keepalive PING (after keepaliveTimeout) does it; here we send it at once.
        self.raw.transport.abortConnection()  # type: ignore[union-attr]

        def pinged_and_gone() -> bool:
            broker.write(broker.connection.send_ping())
            return broker.disconnected

        await until(pinged_and_gone)


class StalledNegotiation(unittest.TestCase):
    """Peers that stop mid-negotiation but keep their connection open block nobody."""

    async def test_stalled_peers_do_not_block_others(self) -> None:
        """While one peer stalls mid-request and another stalls after the 101 answer
        (never starting TLS), new clients still connect and get calls answered."""
        server = Tub(certData=CERTS[0])
        server.startService()
        self.addCleanup(server.stopService)
        port = server.listenOn("tcp:0:interface=127.0.0.1").getPortnum()
        server.setLocation(f"127.0.0.1:{port}")
        furl = server.registerReference(Target(), "target")

        class Stall(protocol.Protocol):
            def __init__(self, request: bytes) -> None:
                self.request = request
                self.got = b""
                self.lost: Failure | None = None

            def connectionMade(self) -> None:
                self.transport.write(self.request)

            def dataReceived(self, data: bytes) -> None:
                self.got += data

            def connectionLost(self, reason: Failure = None) -> None:  # type: ignore[assignment]
                self.lost = reason

        tubid = server.getTubID().encode()
        half = Stall(b"GET /id/" + tubid[:10])
        full = Stall(
            b"GET /id/" + tubid + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Upgrade: TLS/1.0\r\nConnection: Upgrade\r\n\r\n"
        )
        stalls = [half, full]
        for s in stalls:
            await connectProtocol(TCP4ClientEndpoint(reactor, "127.0.0.1", port), s)
            self.addCleanup(lambda s=s: s.transport.loseConnection() if s.lost is None else None)
        await until(lambda: full.got.startswith(b"HTTP/1.1 101"))
        for i, cert in enumerate(CERTS[1:]):
            client = Tub(certData=cert)
            client.startService()
            self.addCleanup(client.stopService)
            rref = await client.getReference(furl)
            assert await rref.callRemote("echo", i) == i
        assert half.lost is None and full.lost is None  # still stalled, still open
