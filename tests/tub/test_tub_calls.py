"""Tub-level behaviour over the real Broker: loopback, revocation, connectTo, stop."""

from __future__ import annotations

import select
from typing import Any

from twisted.internet import defer, reactor
from twisted.trial import unittest

from octavo.furl import FURL, SturdyRef, TubRef
from octavo.tub._errors import DeadReferenceError, RemoteException
from octavo.tub._net._identity import create_certificate
from octavo.tub._referenceable import Referenceable
from octavo.tub._tub import Tub

from ._loopback import LoopbackTubs

CERTS = [create_certificate() for _ in range(2)]


class Counter(Referenceable):  # type: ignore[misc]
    def __init__(self) -> None:
        self.n = 0

    def remote_fail(self) -> None:
        raise IndexError("no such slot")

    def remote_inc(self, by: int = 1) -> int:
        self.n += by
        return self.n


async def settle(seconds: float = 0.05) -> None:
    d: defer.Deferred[None] = defer.Deferred()
    reactor.callLater(seconds, d.callback, None)
    await d


class TubCalls(LoopbackTubs, unittest.TestCase):
    async def test_call_reaches_the_peer_socket_before_the_reactor_runs(self) -> None:
        """Right after callRemote returns, with no reactor turn in between, the call's
        bytes are already readable on the far end's socket (both Tubs are in this
        process): the Broker writes into TLS and onto the socket at once."""
        a, b = self.make_tub(CERTS[0]), self.make_tub(CERTS[1])
        rref = await a.getReference(b.registerReference(Counter()))
        assert await rref.callRemote("inc") == 1
        far = b.brokers[TubRef(a.getTubID())].transport.fileno()
        await settle(0)  # let the answer's turn finish: nothing is waiting on the socket
        assert not select.select([far], [], [], 0)[0]
        result = rref.callRemote("inc", 2)
        assert select.select([far], [], [], 0)[0]
        assert await result == 3

    async def test_each_side_builds_one_broker_ahead_or_after(self) -> None:
        """Over a real connection each Tub builds exactly one Broker, ahead, and uses
        it: the client's while it waits for the server's hello, the server's while the
        client checks its TLS flight (before it knows the peer, which the Broker then
        takes); both carry the decision. The same two certificates in both roles: once
        each side is the master."""
        await self.check_brokers_built(CERTS[0], CERTS[1])

    async def test_each_side_builds_one_broker_the_other_master(self) -> None:
        """The same, the roles of the two certificates swapped."""
        await self.check_brokers_built(CERTS[1], CERTS[0])

    async def check_brokers_built(self, client_cert: bytes, server_cert: bytes) -> None:
        built: dict[str, list[tuple[dict[str, object], object]]] = {"a": [], "b": []}
        ahead: dict[str, int] = {"a": 0, "b": 0}
        a, b = self.make_tub(client_cert), self.make_tub(server_cert)
        for name, tub in (("a", a), ("b", b)):

            def make(tubref: Any, params: Any, info: Any, tub: Tub = tub, name: str = name) -> Any:
                broker = Tub._make_broker(tub, tubref, params, info)
                built[name].append((dict(params), broker))
                return broker

            def prepare(tubref: Any, info: Any, tub: Tub = tub, name: str = name) -> Any:
                ahead[name] += 1
                return Tub._prepare_broker(tub, tubref, info)

            tub._connections._make_broker = make  # type: ignore[method-assign]
            tub._prepare_broker = prepare  # type: ignore[method-assign]
        rref = await a.getReference(b.registerReference(Counter()))
        assert await rref.callRemote("inc") == 1
        client_master = a.getTubID() > b.getTubID()
        assert ahead == {"a": 1, "b": 1}
        assert len(built["a"]) == len(built["b"]) == 1
        assert built["a"][0][1] is a.brokers[TubRef(b.getTubID())]
        server_side = b.brokers[TubRef(a.getTubID())]
        assert built["b"][0][1] is server_side
        assert server_side.remote_tubref == TubRef(a.getTubID())
        assert server_side.connection.their_references.remote_tubid == a.getTubID()
        master = a if client_master else b
        seqnum = master.brokers[TubRef((b if client_master else a).getTubID())].current_seqnum
        assert seqnum == 1

    async def test_loopback_reference(self) -> None:
        """getReference of our own FURL uses a loopback broker and calls work."""
        t = self.make_tub(CERTS[0])
        furl = t.registerReference(Counter())
        rref = await t.getReference(furl)
        assert await rref.callRemote("inc", 2) == 2
        info = t.getConnectionInfoForFURL(furl)
        assert info is not None and info.winningHint == "loopback"
        again = await t.getReference(furl)
        assert await again.callRemote("inc") == 3

    async def test_get_sturdy_ref_is_octavo_furl(self) -> None:
        """getSturdyRef() is octavo.furl's SturdyRef equal to the registered FURL, and
        its TubRef keys the Tub's broker table."""
        a, b = self.make_tub(CERTS[0]), self.make_tub(CERTS[1])
        furl = a.registerReference(Counter(), "counter")
        rref = await b.getReference(furl)
        sturdy = rref.getSturdyRef()
        assert type(sturdy) is SturdyRef and isinstance(sturdy, FURL)
        assert sturdy == SturdyRef(furl) == FURL.from_string(furl)
        assert sturdy.getURL() == furl and sturdy.name == "counter"
        assert rref.getLocationHints() == a.locationHints
        assert isinstance(sturdy.getTubRef(), TubRef)
        assert b.brokers[sturdy.getTubRef()] is rref.tracker.broker
        loopback = await a.getReference(furl)
        assert loopback.getSturdyRef() == sturdy and loopback.getSturdyRef().getURL() == furl

    async def test_revoke_really_revokes(self) -> None:
        """After revokeReference, the FURL and references already held both fail."""
        a, b = self.make_tub(CERTS[0]), self.make_tub(CERTS[1])
        counter = Counter()
        furl = a.registerReference(counter)
        rref = await b.getReference(furl)
        assert await rref.callRemote("inc") == 1
        a.revokeReference(counter)
        with self.assertRaises(Exception) as e:
            await rref.callRemote("inc")
        assert "revoked" in str(e.exception)
        with self.assertRaises(Exception) as e2:
            await b.getReference(furl)
        assert "unable to find reference" in str(e2.exception)
        assert counter.n == 1

    async def test_revoke_loopback_reference(self) -> None:
        """Revocation also cuts references held through the loopback broker."""
        t = self.make_tub(CERTS[0])
        counter = Counter()
        rref = await t.getReference(t.registerReference(counter))
        assert await rref.callRemote("inc") == 1
        t.unregisterReference(counter)
        with self.assertRaises(Exception) as e:
            await rref.callRemote("inc")
        assert "revoked" in str(e.exception)
        assert counter.n == 1

    async def test_connect_to_reconnects_after_restart(self) -> None:
        """connectTo calls back again when the server Tub comes back on the same port."""
        server = Tub(certData=CERTS[1])
        server.startService()
        listener = server.listenOn("tcp:0:interface=127.0.0.1")
        port = listener.getPortnum()
        server.setLocation(f"127.0.0.1:{port}")
        furl = server.registerReference(Counter(), "counter")
        client = self.make_tub(CERTS[0])
        got: list[Any] = []
        waiting: list[defer.Deferred[None]] = []

        def connected(rref: Any, tag: str) -> None:
            got.append((rref, tag))
            while waiting:
                waiting.pop().callback(None)

        first: defer.Deferred[None] = defer.Deferred()
        waiting.append(first)
        rc = client.connectTo(furl, connected, "tag")
        await first
        assert got[0][1] == "tag" and await got[0][0].callRemote("inc") == 1
        second: defer.Deferred[None] = defer.Deferred()
        waiting.append(second)
        await server.stopService()
        server2 = Tub(certData=CERTS[1])
        server2.startService()
        self.addCleanup(server2.stopService)
        server2.listenOn(f"tcp:{port}:interface=127.0.0.1")
        server2.setLocation(f"127.0.0.1:{port}")
        assert server2.registerReference(Counter(), "counter") == furl
        await second
        assert await got[1][0].callRemote("inc") == 1
        rc.stopConnecting()

    async def test_stop_service_stops_reconnectors(self) -> None:
        """stopService stops every Reconnector and closes connections."""
        a, b = self.make_tub(CERTS[0]), self.make_tub(CERTS[1])
        furl = b.registerReference(Counter())
        done: defer.Deferred[Any] = defer.Deferred()
        rc = a.connectTo(furl, done.callback)
        rref = await done
        await a.stopService()
        assert a.reconnectors == [] and a.brokers == {}
        assert rc._stop_requested and rc.getDelayUntilNextAttempt() is None
        with self.assertRaises(DeadReferenceError):
            await rref.callRemote("inc")

    async def test_exception_types_exposed_or_wrapped(self) -> None:
        """expose-remote-exception-types decides between CopiedFailure and RemoteException."""
        a, b = self.make_tub(CERTS[0]), self.make_tub(CERTS[1])
        rref = await b.getReference(a.registerReference(Counter()))
        [failure] = await rref.callRemote("fail").addErrback(lambda f: [f])
        assert failure.check(IndexError) or failure.check("builtins.IndexError")
        b2 = Tub(certData=create_certificate())
        b2.setOption("expose-remote-exception-types", False)
        b2.startService()
        self.addCleanup(b2.stopService)
        rref2 = await b2.getReference(a.registerReference(Counter()))
        [failure2] = await rref2.callRemote("fail").addErrback(lambda f: [f])
        assert failure2.check(RemoteException)
        assert "no such slot" in str(failure2.value)
