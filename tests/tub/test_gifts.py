"""Gifts (third-party references) between three real Octavo Tubs over loopback.

Tub A holds a RemoteReference to an object of Tub C and passes it to Tub B: B gets a
working reference to C's object (``their-reference``, resolved by connecting to C),
A keeps its proxy (so C keeps the object) until B acknowledges with ``decgift``.
"""

from __future__ import annotations

import gc
import weakref
from typing import Any

import pytest
from twisted.internet import defer
from twisted.trial import unittest

from octavo.furl import TubRef
from octavo.tub import Referenceable, RemoteReference, Tub, makePromise, send, when
from octavo.tub._net._identity import create_certificate

from ._raw_peer import until

CERTS = [create_certificate() for _ in range(3)]


class Child(Referenceable):  # type: ignore[misc]
    def __init__(self, name: str) -> None:
        self.name = name

    def remote_name(self) -> str:
        return self.name


class Carol(Referenceable):  # type: ignore[misc]
    """Tub C's published object: hands out fresh children, counts additions."""

    def __init__(self) -> None:
        self.total = 0
        self.children: list[weakref.ref[Child]] = []

    def remote_add(self, x: int) -> int:
        self.total += x
        return self.total

    def remote_child(self, name: str) -> Child:
        c = Child(name)
        self.children.append(weakref.ref(c))
        return c


class Bob(Referenceable):  # type: ignore[misc]
    """Tub B's published object: takes gifts and uses them."""

    def __init__(self) -> None:
        self.kept: list[Any] = []
        self.held: list[defer.Deferred[Any]] = []

    def remote_use(self, ref: Any, x: int) -> Any:
        return ref.callRemote("add", x)

    def remote_name_of(self, ref: Any) -> Any:
        return ref.callRemote("name")

    def remote_keep(self, ref: Any) -> bool:
        self.kept.append(ref)
        return isinstance(ref, RemoteReference)

    def remote_keep_all(self, refs: list[Any]) -> int:
        self.kept.extend(refs)
        return len({id(r) for r in refs})

    def remote_ping(self) -> str:
        return "pong"

    def remote_both(self, first: Any, second: Any) -> Any:
        return defer.gatherResults([first.callRemote("name"), second.callRemote("add", 1)])


def start_tub(case: unittest.TestCase, cert: bytes) -> Tub:
    """A running Tub listening on 127.0.0.1, stopped when ``case`` ends."""
    t = Tub(certData=cert)
    t.startService()
    case.addCleanup(t.stopService)
    port = t.listenOn("tcp:0:interface=127.0.0.1").getPortnum()
    t.setLocation(f"127.0.0.1:{port}")
    return t


class ThreeTubs(unittest.TestCase):
    async def setUp(self) -> None:  # type: ignore[override]
        self.a, self.b, self.c = (self.make_tub(cert) for cert in CERTS)
        self.bob, self.carol = Bob(), Carol()
        self.a_to_b = await self.a.getReference(self.b.registerReference(self.bob))
        self.a_to_c = await self.a.getReference(self.c.registerReference(self.carol))

    def make_tub(self, cert: bytes) -> Tub:
        return start_tub(self, cert)

    def gifts_of_a_to_b(self) -> dict[Any, Any]:
        broker = self.a.brokers[TubRef(self.b.getTubID())]
        gifts: dict[Any, Any] = broker.connection.gifts.gifts
        return gifts

    async def test_b_calls_c_through_a_gift_from_a(self) -> None:
        """B receives a working RemoteReference to C's object, over its own connection
        to C, and A's gift entry is gone once B acknowledged it."""
        assert await self.a_to_b.callRemote("use", self.a_to_c, 5) == 5
        assert await self.a_to_b.callRemote("use", self.a_to_c, 2) == 7
        assert TubRef(self.c.getTubID()) in self.b.brokers
        await until(lambda: not self.gifts_of_a_to_b())

    async def test_gift_is_the_same_reference_b_already_has(self) -> None:
        """A gift of an object B already holds resolves to B's existing proxy."""
        b_to_c = await self.b.getReference(self.c.registerReference(self.carol, "carol"))
        assert await self.a_to_b.callRemote("keep", self.a_to_c)
        assert self.bob.kept[0].getSturdyRef() == b_to_c.getSturdyRef()
        assert await self.bob.kept[0].callRemote("add", 3) == 3

    async def test_giver_keeps_the_object_alive_until_b_connected(self) -> None:
        """A passes on a reference to an object C holds only for A, and drops its own
        proxy at once: the gift keeps it alive until B has its own reference; after
        that B's reference keeps it, and once B drops it too C frees it."""
        child_ref = await self.a_to_c.callRemote("child", "kid")
        d = self.a_to_b.callRemote("keep", child_ref)
        del child_ref
        gc.collect()
        assert await d is True
        kid = self.carol.children[0]
        await until(lambda: not self.gifts_of_a_to_b())
        for _ in range(3):
            gc.collect()
            await defer.succeed(None)
        assert kid() is not None
        assert await self.bob.kept[0].callRemote("name") == "kid"
        self.bob.kept.clear()

        def freed() -> bool:
            gc.collect()
            return kid() is None

        await until(freed)

    async def test_two_gifts_in_one_call_and_calls_behind_them_keep_order(self) -> None:
        """A call carrying two gifts runs with both resolved; calls sent after it on
        the same connection are answered after it."""
        child_ref = await self.a_to_c.callRemote("child", "two")
        first = self.a_to_b.callRemote("both", child_ref, self.a_to_c)
        order: list[str] = []
        first.addCallback(lambda r: order.append("both") or r)
        second = self.a_to_b.callRemote("use", self.a_to_c, 10)
        second.addCallback(lambda r: order.append("use") or r)
        assert await first == ["two", 1]
        assert await second == 11
        assert order == ["both", "use"]

    async def test_gift_refused_when_b_does_not_accept_gifts(self) -> None:
        """With accept-gifts off, B refuses the call carrying the gift with a Violation;
        other calls on the connection still work."""
        self.b.setOption("accept-gifts", False)
        with pytest.raises(Exception, match="gifts are prohibited"):
            await self.a_to_b.callRemote("keep", self.a_to_c)
        assert self.bob.kept == []
        assert await self.a_to_b.callRemote("ping") == "pong"
        self.b.setOption("accept-gifts", True)
        assert await self.a_to_b.callRemote("use", self.a_to_c, 4) == 4

    async def test_reference_to_bs_own_object_goes_home_not_as_a_gift(self) -> None:
        """A reference A holds to an object of B goes back to B as a your-reference
        (no gift): B gets its own object."""
        b_child = Child("home")
        a_to_b_child = await self.a.getReference(self.b.registerReference(b_child))
        assert await self.a_to_b.callRemote("keep", a_to_b_child) is False
        assert self.bob.kept == [b_child]
        assert not self.gifts_of_a_to_b()

    async def test_same_reference_twice_in_one_call(self) -> None:
        """Two copies of one gift in a call arrive as one proxy; both are acknowledged."""
        assert await self.a_to_b.callRemote("keep_all", [self.a_to_c, self.a_to_c]) == 1
        await until(lambda: not self.gifts_of_a_to_b())
        assert await self.bob.kept[1].callRemote("add", 2) == 2

    async def test_gift_in_a_call_without_an_answer(self) -> None:
        """callRemoteOnly can carry a gift: B gets it and acknowledges it."""
        self.a_to_b.callRemoteOnly("keep", self.a_to_c)
        await until(lambda: self.bob.kept)
        assert await self.bob.kept[0].callRemote("add", 1) == 1
        await until(lambda: not self.gifts_of_a_to_b())

    async def test_gift_of_the_givers_own_object_through_loopback(self) -> None:
        """A reference A holds to its own object (through its loopback connection)
        reaches B as a gift naming A: B resolves it over its connection to A."""
        mine = Child("a's own")
        loop = await self.a.getReference(self.a.registerReference(mine))
        assert await self.a_to_b.callRemote("name_of", loop) == "a's own"
        await until(lambda: not self.gifts_of_a_to_b())

    async def test_gift_through_a_promise(self) -> None:
        """send() through a promise of B's reference can carry a gift of C's object."""
        p, resolve = makePromise()
        result = when(send(p).use(self.a_to_c, 9))
        resolve(self.a_to_b)
        assert await result == 9

    async def test_answer_carrying_a_gift(self) -> None:
        """B's answer can carry a gift too: B returns to A a reference to C's object."""

        class Relay(Referenceable):  # type: ignore[misc]
            def __init__(self, ref: Any) -> None:
                self.ref = ref

            def remote_get(self) -> Any:
                return self.ref

        b_to_c = await self.b.getReference(self.c.registerReference(self.carol))
        relay = await self.a.getReference(self.b.registerReference(Relay(b_to_c)))
        got = await relay.callRemote("get")
        assert isinstance(got, RemoteReference)
        assert await got.callRemote("add", 6) == 6
        assert got.getSturdyRef() == self.a_to_c.getSturdyRef()


class Maker(Referenceable):  # type: ignore[misc]
    def __init__(self) -> None:
        self.made: list[weakref.ref[Child]] = []

    def remote_make(self, n: int) -> list[Child]:
        children = [Child(str(i)) for i in range(n)]
        self.made.extend(weakref.ref(c) for c in children)
        return children


class FurlsDoNotKeepObjectsAlive(unittest.TestCase):
    async def test_sent_referenceables_are_freed_after_decref(self) -> None:
        """Referenceables sent by reference get a FURL (so they can be gifted), but
        once the receiver drops its proxies (decref) the sender frees them: the name
        tables hold them weakly, as Foolscap's do (benchmarks/bench_gift_furls.py
        measures 100,000)."""
        server, client = start_tub(self, CERTS[0]), start_tub(self, CERTS[1])
        maker = Maker()
        rref = await client.getReference(server.registerReference(maker))
        for _ in range(5):
            got = await rref.callRemote("make", 100)
            assert all(r.getSturdyRef().tubID == server.getTubID() for r in got)
            del got
        assert len(maker.made) == 500
        assert len(server.referenceToName) >= 1

        def all_freed() -> bool:
            gc.collect()
            return all(r() is None for r in maker.made)

        await until(all_freed)
        assert list(server.nameToReference.values()) == [maker]
        assert server.strongReferences == [maker]
        (broker,) = server.brokers.values()
        (held,) = broker.connection.my_references.by_clid.values()
        assert held.obj is maker
