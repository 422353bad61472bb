"""The Broker's writes go into TLS and onto the socket in the same reactor turn."""

from __future__ import annotations

import select
from typing import Any

from twisted.internet import defer, reactor
from twisted.internet.testing import StringTransport
from twisted.trial import unittest

from octavo.furl import TubRef
from octavo.tub._identity import create_certificate
from octavo.tub._referenceable import Referenceable
from octavo.tub._tls_write import direct_tls_writer
from octavo.tub._tub import Tub

CERTS = [create_certificate() for _ in range(2)]


class Echo(Referenceable):  # type: ignore[misc]
    def remote_echo(self, value: Any) -> Any:
        return value


def test_transports_without_tls_are_left_alone() -> None:
    """Plain, fake or unknown transports keep their own write()."""
    assert direct_tls_writer(StringTransport()) is None

    class OddTLS:
        TLS = True
        protocol = object()

    assert direct_tls_writer(OddTLS()) is None


def readable(sock: Any) -> bool:
    ready, _, _ = select.select([sock], [], [], 0)
    return bool(ready)


class SameTurn(unittest.TestCase):
    def make_tub(self, cert: bytes) -> Tub:
        t = Tub(certData=cert)
        t.startService()
        self.addCleanup(t.stopService)
        port = t.listenOn("tcp:0:interface=127.0.0.1").getPortnum()
        t.setLocation(f"127.0.0.1:{port}")
        return t

    async def test_call_reaches_the_peer_socket_before_the_reactor_runs(self) -> None:
        """Right after callRemote returns, with no reactor turn in between, the call's
        bytes are already readable on the far end's socket (both Tubs are in this
        process); and the answer comes back as usual."""
        a, b = self.make_tub(CERTS[0]), self.make_tub(CERTS[1])
        rref = await a.getReference(b.registerReference(Echo()))
        assert await rref.callRemote("echo", 1) == 1
        server_broker = b.brokers[TubRef(a.getTubID())]  # type: ignore[attr-defined]
        sock = server_broker.transport.fileno()
        d: defer.Deferred[Any] = defer.Deferred()
        reactor.callLater(0, d.callback, None)
        await d  # let the answer's turn finish: nothing is waiting on the socket
        assert not readable(sock)
        result = rref.callRemote("echo", "now")
        assert readable(sock)
        assert await result == "now"
