"""Gifts (third-party references) among three Tubs, each role played by Foolscap 24.9.

A (the giver) holds a RemoteReference to an object of C (the host) and passes it to
B (the receiver), which connects to C itself and acknowledges with ``decgift``. Each
test class plays one of the three roles with a real Foolscap process, the other two
with Octavo Tubs.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable
from typing import Any

import pytest
from twisted.internet import defer
from twisted.trial import unittest

from octavo.furl import TubRef
from octavo.tub import Referenceable, RemoteReference, Tub

from .foolscap_peer import literal
from .test_tub_interop import FoolscapPeer, RemoteCallError, settle


class Child(Referenceable):  # type: ignore[misc]
    def __init__(self, name: str) -> None:
        self.name = name

    def remote_name(self) -> str:
        return self.name


class Carol(Referenceable):  # type: ignore[misc]
    """An Octavo host (C): adds, and hands out children it holds only weakly."""

    def __init__(self) -> None:
        self.total = 0
        self.children: list[weakref.ref[Child]] = []

    def remote_add(self, a: int, b: int = 0) -> int:
        self.total += a + b
        return self.total

    def remote_child(self, name: str) -> Child:
        c = Child(name)
        self.children.append(weakref.ref(c))
        return c


class Bob(Referenceable):  # type: ignore[misc]
    """An Octavo receiver (B)."""

    def __init__(self) -> None:
        self.kept: list[Any] = []

    def remote_use(self, ref: Any, x: int) -> Any:
        return ref.callRemote("add", x)

    def remote_keep(self, ref: Any) -> bool:
        self.kept.append(ref)
        return isinstance(ref, RemoteReference)


async def until(predicate: Callable[[], Any], tries: int = 300) -> None:
    """Wait (at most ``tries`` * 20 ms) until ``predicate()`` is true."""
    for _ in range(tries):
        if await defer.maybeDeferred(predicate):
            return
        await settle(0.02)
    raise AssertionError("condition not reached")


def freed(ref: weakref.ref[Any]) -> Callable[[], bool]:
    def check() -> bool:
        gc.collect()
        return ref() is None

    return check


class GiftInterop(unittest.TestCase):
    timeout = 60

    def make_tub(self) -> Tub:
        t = Tub()
        t.startService()
        self.addCleanup(t.stopService)
        port = t.listenOn("tcp:0:interface=127.0.0.1").getPortnum()
        t.setLocation(f"127.0.0.1:{port}")
        return t

    async def foolscap(self) -> tuple[FoolscapPeer, str]:
        """A Foolscap Tub: its ``target`` FURL (the gift block's object is
        ``gift_target_furl``)."""
        p = FoolscapPeer.start()
        self.addCleanup(p.kill)
        furl = await p.furl
        return p, furl

    async def command(self, peer: FoolscapPeer, *cmd: Any) -> Any:
        kind, text = await peer.command(*cmd)
        if kind != "R":
            raise RemoteCallError(text)
        return literal(text)


def gift_target_furl(target_furl: str) -> str:
    return target_furl.rsplit("/", 1)[0] + "/gift-target"


class FoolscapGives(GiftInterop):
    """A is Foolscap; B and C are Octavo."""

    async def setUp(self) -> None:  # type: ignore[override]
        self.peer, self.target = await self.foolscap()
        self.b, self.c = self.make_tub(), self.make_tub()
        self.bob, self.carol = Bob(), Carol()
        self.b_furl = self.b.registerReference(self.bob)
        self.c_furl = self.c.registerReference(self.carol)

    def no_gifts_held(self) -> defer.Deferred[bool]:
        """Whether Foolscap has been sent decgift for every gift it gave."""
        d = defer.ensureDeferred(self.command(self.peer, "gift_count"))
        return d.addCallback(lambda n: n == 0)

    async def test_octavo_receiver_calls_octavo_host(self) -> None:
        """Foolscap passes B a reference to C's object: B calls it over its own
        connection to C, and acknowledges the gift to Foolscap with decgift."""
        assert await self.command(self.peer, "gift_give", self.b_furl, "use", [5], self.c_furl) == 5
        assert await self.command(self.peer, "gift_give", self.b_furl, "use", [2], self.c_furl) == 7
        assert TubRef(self.c.getTubID()) in self.b.brokers
        await until(self.no_gifts_held)

    async def test_gift_of_an_object_only_the_giver_holds(self) -> None:
        """Foolscap gives away a child C holds only for Foolscap, dropping its own
        proxy: the gift keeps it alive until B holds it; B's reference then does,
        and C frees the child once B drops it."""
        ok = await self.command(
            self.peer, "gift_give", self.b_furl, "keep", [], self.c_furl, "child", ["kid"]
        )
        assert ok is True
        kid = self.carol.children[0]
        await until(self.no_gifts_held)
        gc.collect()
        assert kid() is not None
        assert await self.bob.kept[0].callRemote("name") == "kid"
        self.bob.kept.clear()
        await until(freed(kid))

    async def test_foolscap_gives_its_own_object_through_loopback(self) -> None:
        """Foolscap passes B its loopback reference to its own object: a gift naming
        Foolscap itself, which B resolves over its connection to Foolscap."""
        assert await self.command(self.peer, "gift_give", self.b_furl, "use", [5], self.target) == 5
        await until(self.no_gifts_held)

    async def test_octavo_receiver_refusing_gifts(self) -> None:
        """With accept-gifts off, B refuses Foolscap's call carrying the gift."""
        self.b.setOption("accept-gifts", False)
        with pytest.raises(RemoteCallError, match="gifts are prohibited"):
            await self.command(self.peer, "gift_give", self.b_furl, "use", [1], self.c_furl)
        self.b.setOption("accept-gifts", True)
        assert await self.command(self.peer, "gift_give", self.b_furl, "use", [1], self.c_furl) == 1


class FoolscapReceives(GiftInterop):
    """B is Foolscap; A and C are Octavo."""

    async def setUp(self) -> None:  # type: ignore[override]
        self.peer, target = await self.foolscap()
        self.a, self.c = self.make_tub(), self.make_tub()
        self.carol = Carol()
        self.a_to_b = await self.a.getReference(gift_target_furl(target))
        self.a_to_c = await self.a.getReference(self.c.registerReference(self.carol))

    def gifts_held(self) -> bool:
        (broker,) = [
            b for t, b in self.a.brokers.items() if t.getTubID() == self.a_to_b.getRemoteTubID()
        ]
        return bool(broker.connection.gifts.gifts)

    async def test_foolscap_receiver_calls_octavo_host(self) -> None:
        """A passes Foolscap a reference to C's object: Foolscap calls it and sends
        A decgift, so A's gift entry goes away."""
        assert await self.a_to_b.callRemote("use", self.a_to_c, "add", [5]) == 5
        assert await self.a_to_b.callRemote("use", self.a_to_c, "add", [1, 1]) == 7
        assert self.carol.total == 7
        await until(lambda: not self.gifts_held())

    async def test_same_gift_twice_in_one_call(self) -> None:
        """Two copies of one gift in a call: Foolscap acknowledges both."""
        assert await self.a_to_b.callRemote("keep", [self.a_to_c, self.a_to_c]) == "list"
        await until(lambda: not self.gifts_held())

    async def test_gift_of_an_object_only_the_giver_holds(self) -> None:
        """A gives Foolscap a child C holds only for A and drops its own proxy: the
        child lives while Foolscap holds it and is freed once Foolscap drops it."""
        child = await self.a_to_c.callRemote("child", "kid")
        d = self.a_to_b.callRemote("keep", child)
        del child
        gc.collect()
        assert await d == "RemoteReference"
        kid = self.carol.children[0]
        await until(lambda: not self.gifts_held())
        gc.collect()
        assert kid() is not None
        assert await self.a_to_b.callRemote("call_kept", 0, "name", []) == "kid"
        assert await self.a_to_b.callRemote("drop_kept")
        await until(freed(kid))

    async def test_foolscap_receiver_and_a_bad_gift(self) -> None:
        """A reference whose host is gone fails only the call that carries it."""
        other = self.make_tub()
        doomed = await self.a.getReference(other.registerReference(Carol()))
        listener = other.getListeners()[0]
        await other.stopListeningOn(listener)
        gone = other.getTubID()
        # keep A's connection to the doomed Tub: the gift is sent, B cannot reach it
        with pytest.raises(Exception, match="ConnectionRefusedError"):
            # Foolscap fails the call itself with the failure of resolving the gift
            await self.a_to_b.callRemote("use", doomed, "add", [1])
        assert TubRef(gone) in self.a.brokers
        assert await self.a_to_b.callRemote("use", self.a_to_c, "add", [1]) == 1


class FoolscapHosts(GiftInterop):
    """C is Foolscap; A and B are Octavo."""

    async def setUp(self) -> None:  # type: ignore[override]
        self.peer, self.target = await self.foolscap()
        self.a, self.b = self.make_tub(), self.make_tub()
        self.bob = Bob()
        self.a_to_b = await self.a.getReference(self.b.registerReference(self.bob))
        self.a_to_c = await self.a.getReference(self.target)

    def gifts_held(self) -> bool:
        broker = self.a.brokers[TubRef(self.b.getTubID())]
        return bool(broker.connection.gifts.gifts)

    async def test_octavo_receiver_calls_foolscap_host(self) -> None:
        """A passes B a reference to Foolscap's object: B connects to Foolscap and
        calls it; A's gift entry is gone after B's decgift."""
        assert await self.a_to_b.callRemote("use", self.a_to_c, 5) == 5
        assert TubRef(self.a_to_c.getRemoteTubID()) in self.b.brokers
        await until(lambda: not self.gifts_held())

    async def test_gift_of_a_foolscap_child_only_the_giver_holds(self) -> None:
        """A passes on a fresh child of Foolscap's, dropping its own proxy: B's
        reference works after A's is gone."""
        child = await self.a.getReference(gift_target_furl(self.target))
        kid = await child.callRemote("child", "kid")
        d = self.a_to_b.callRemote("keep", kid)
        del kid
        gc.collect()
        assert await d is True
        await until(lambda: not self.gifts_held())
        gc.collect()
        await settle(0.1)  # A's decref of its proxy reaches Foolscap
        assert await self.bob.kept[0].callRemote("name") == "kid"
