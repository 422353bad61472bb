"""``tor:`` hints through txtorcon, end to end, with a SOCKS5 server standing in for Tor.

A real Tor needs the Tor network, which tests cannot reach; what the Tub does is talk
SOCKS5 to Tor's SOCKS port through txtorcon, and that is what runs here for real: a
minimal SOCKS5 server on loopback (no authentication, CONNECT by domain name only)
plays Tor's part and relays the connection to a real Tub listening on loopback under
an ``.onion`` name.
"""

from __future__ import annotations

import struct
from typing import Any

from twisted.internet import protocol, reactor
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.trial import unittest

from octavo.tub._net._identity import create_certificate
from octavo.tub._referenceable import Referenceable
from octavo.tub._tub import Tub

try:
    import txtorcon
    import txtorcon.socks
except ImportError:  # the tor extra is not installed: nothing to run
    txtorcon = None

CERTS = [create_certificate() for _ in range(2)]
ONION = "octavotestxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.onion"


class Echo(Referenceable):  # type: ignore[misc]
    def remote_echo(self, value: Any) -> Any:
        return value


class _Relay(protocol.Protocol):
    """The far half of a relayed connection: bytes go back to the SOCKS client."""

    def __init__(self, client: protocol.Protocol) -> None:
        self.client = client

    def dataReceived(self, data: bytes) -> None:
        self.client.transport.write(data)  # type: ignore[union-attr]

    def connectionLost(self, reason: Any = None) -> None:
        self.client.transport.loseConnection()  # type: ignore[union-attr]


class FakeTorSocks(protocol.Protocol):
    """SOCKS5 (RFC 1928): no authentication, CONNECT to a domain name from ``names``."""

    def __init__(self, names: dict[str, int], seen: list[tuple[str, int]]) -> None:
        self.names = names
        self.seen = seen
        self.buf = b""
        self.stage = "greeting"
        self.relay: _Relay | None = None

    def dataReceived(self, data: bytes) -> None:
        if self.stage == "relay":
            assert self.relay is not None
            self.relay.transport.write(data)  # type: ignore[union-attr]
            return
        self.buf += data
        if self.stage == "greeting" and len(self.buf) >= 2:
            n = self.buf[1]
            if len(self.buf) < 2 + n:
                return
            assert self.buf[0] == 5 and 0 in self.buf[2 : 2 + n]
            self.buf = self.buf[2 + n :]
            self.transport.write(b"\x05\x00")  # type: ignore[union-attr]
            self.stage = "request"
        if self.stage == "request" and len(self.buf) >= 5:
            ver, cmd, _, atyp, length = self.buf[:5]
            if len(self.buf) < 7 + length:
                return
            assert (ver, cmd, atyp) == (5, 1, 3), "CONNECT to a domain name"
            host = self.buf[5 : 5 + length].decode("ascii")
            (port,) = struct.unpack(">H", self.buf[5 + length : 7 + length])
            rest = self.buf[7 + length :]
            self.buf = b""
            self.seen.append((host, port))
            self.stage = "connecting"
            local = self.names.get(host)
            if local is None:
                self.transport.write(b"\x05\x04\x00\x01" + bytes(6))  # type: ignore[union-attr]
                self.transport.loseConnection()  # type: ignore[union-attr]
                return
            self._connect(local, rest)

    def _connect(self, port: int, early: bytes) -> None:
        relay = _Relay(self)
        d = protocol.ClientCreator(reactor, lambda: relay).connectTCP("127.0.0.1", port)

        def connected(_: object) -> None:
            self.relay = relay
            self.stage = "relay"
            self.transport.write(b"\x05\x00\x00\x01" + bytes(6))  # type: ignore[union-attr]
            if early:
                relay.transport.write(early)  # type: ignore[union-attr]

        d.addCallback(connected)

    def connectionLost(self, reason: Any = None) -> None:
        if self.relay is not None and self.relay.transport is not None:
            self.relay.transport.loseConnection()


class TorHints(unittest.TestCase):
    def setUp(self) -> None:
        if txtorcon is None:
            raise unittest.SkipTest("txtorcon (octavo-tub[tor]) is not installed")

    def make_tub(self, cert: bytes) -> Tub:
        t = Tub(certData=cert)
        t.startService()
        self.addCleanup(t.stopService)
        return t

    async def test_get_reference_and_call_through_socks(self) -> None:
        """A FURL with only a tor: hint is reached through the SOCKS port, by name,
        and calls work; the TLS and TubID checks still apply end to end."""
        server = self.make_tub(CERTS[0])
        port = server.listenOn("tcp:0:interface=127.0.0.1").getPortnum()
        server.setLocation(f"tor:{ONION}:{port}")
        furl = server.registerReference(Echo())
        assert f"@tor:{ONION}:{port}/" in furl

        seen: list[tuple[str, int]] = []
        factory = protocol.Factory.forProtocol(lambda: FakeTorSocks({ONION: port}, seen))
        socks_port = reactor.listenTCP(0, factory, interface="127.0.0.1")  # type: ignore[attr-defined]
        self.addCleanup(socks_port.stopListening)

        from octavo.tub import tor_handler

        client = self.make_tub(CERTS[1])
        client.removeAllConnectionHintHandlers()  # nothing but Tor
        socks = TCP4ClientEndpoint(reactor, "127.0.0.1", socks_port.getHost().port)
        client.addConnectionHintHandler("tor", tor_handler(socks))
        rref = await client.getReference(furl)
        assert await rref.callRemote("echo", "through tor") == "through tor"
        assert seen == [(ONION, port)]
        info = client.getConnectionInfoForFURL(furl)
        assert info is not None and info.connected
        assert info.winningHint == f"tor:{ONION}:{port}"

    async def test_unknown_onion_fails_cleanly(self) -> None:
        """A name the SOCKS server cannot reach fails the getReference with txtorcon's
        SOCKS error (host unreachable)."""
        seen: list[tuple[str, int]] = []
        factory = protocol.Factory.forProtocol(lambda: FakeTorSocks({}, seen))
        socks_port = reactor.listenTCP(0, factory, interface="127.0.0.1")  # type: ignore[attr-defined]
        self.addCleanup(socks_port.stopListening)
        from octavo.tub import tor_handler

        client = self.make_tub(CERTS[1])
        client.removeAllConnectionHintHandlers()
        socks = TCP4ClientEndpoint(reactor, "127.0.0.1", socks_port.getHost().port)
        client.addConnectionHintHandler("tor", tor_handler(socks))
        furl = f"pb://{'a' * 32}@tor:{ONION}:1234/x"
        with self.assertRaises(txtorcon.socks.HostUnreachableError):
            await client.getReference(furl)
        assert seen == [(ONION, 1234)]
