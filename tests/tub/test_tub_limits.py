"""A Tub's admission limits over real loopback sockets: each refusal is clear to the
refused peer, and the Tub goes on serving the others."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet import protocol, reactor, task
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.python.failure import Failure
from twisted.trial import unittest

from octavo.tub._net._identity import create_certificate
from octavo.tub._referenceable import Referenceable
from octavo.tub._tub import Tub

CERTS = [create_certificate() for _ in range(4)]


def wait(seconds: float) -> Any:
    return task.deferLater(reactor, seconds, lambda: None)


async def until(predicate: Callable[[], object], tries: int = 500) -> None:
    """Spin the reactor until predicate() holds (bounded: at most ``tries`` * 10 ms)."""
    for _ in range(tries):
        if predicate():
            return
        await wait(0.01)
    raise AssertionError("condition not reached")


async def refusal(d: Any) -> str:
    """The text of the error ``d`` fails with (it must fail)."""
    try:
        got = await d
    except Exception as e:
        return str(e)
    raise AssertionError(f"not refused: {got!r}")


class Target(Referenceable):  # type: ignore[misc]
    def remote_echo(self, value: Any) -> Any:
        return value


class Silent(protocol.Protocol):
    """A TCP peer that connects and never says anything."""

    lost: Failure | None = None

    def connectionLost(self, reason: Failure = None) -> None:  # type: ignore[assignment]
        self.lost = reason


class Limits(unittest.TestCase):
    def server(self, **options: object) -> tuple[Tub, str]:
        server = Tub(certData=CERTS[0], options=dict(options))
        server.startService()
        self.addCleanup(server.stopService)
        port = server.listenOn("tcp:0:interface=127.0.0.1").getPortnum()
        server.setLocation(f"127.0.0.1:{port}")
        self.port = port
        return server, server.registerReference(Target(), "target")

    def client(self, cert: bytes) -> Tub:
        client = Tub(certData=cert)
        client.startService()
        self.addCleanup(client.stopService)
        return client

    async def test_connections_past_max_connections_are_refused(self) -> None:
        """With two connections up, a third peer is told 'too many connections'; once
        one goes, a new peer gets in. The two are served throughout."""
        server, furl = self.server(**{"max-connections": 2})
        first = await self.client(CERTS[1]).getReference(furl)
        second_tub = self.client(CERTS[2])
        second = await second_tub.getReference(furl)
        third = self.client(CERTS[3])
        refused = await refusal(third.getReference(furl))
        assert "too many connections (limit 2)" in refused
        assert await first.callRemote("echo", 1) == 1
        assert await second.callRemote("echo", 2) == 2
        await second_tub.stopService()
        await until(lambda: len(server.brokers) == 1)
        rref = await third.getReference(furl)
        assert await rref.callRemote("echo", 3) == 3

    async def test_stalled_negotiations_past_the_limit_refuse_newcomers_then_time_out(
        self,
    ) -> None:
        """With max-negotiating-connections stalled peers, a newcomer is told so; the
        stalled ones are dropped after negotiation-timeout and newcomers get in."""
        _, furl = self.server(**{"max-negotiating-connections": 1, "negotiation-timeout": 0.5})
        silent = Silent()
        await connectProtocol(TCP4ClientEndpoint(reactor, "127.0.0.1", self.port), silent)
        newcomer = self.client(CERTS[1])
        refused = await refusal(newcomer.getReference(furl))
        assert "too many connections negotiating (limit 1)" in refused
        await until(lambda: silent.lost is not None, tries=300)
        rref = await newcomer.getReference(furl)
        assert await rref.callRemote("echo", "in") == "in"
