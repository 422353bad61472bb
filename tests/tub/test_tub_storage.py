"""Tub.serialize / Tub.unserialize over real Tubs on loopback (Foolscap's Tub storage)."""

from __future__ import annotations

from typing import Any

from twisted.trial import unittest

from octavo.banana import BananaError, Violation, serialize
from octavo.furl import SturdyRef
from octavo.tub._net._identity import create_certificate
from octavo.tub._referenceable import Referenceable, RemoteReference
from octavo.tub._tub import Tub

CERTS = [create_certificate() for _ in range(2)]


class Counter(Referenceable):  # type: ignore[misc]
    def __init__(self) -> None:
        self.n = 0

    def remote_inc(self) -> int:
        self.n += 1
        return self.n


class TubStorage(unittest.TestCase):
    def make_tub(self, cert: bytes | None = None, *, location: bool = True) -> Tub:
        t = Tub(certData=cert) if cert else Tub()
        t.startService()
        self.addCleanup(t.stopService)
        if location:
            port = t.listenOn("tcp:0:interface=127.0.0.1").getPortnum()
            t.setLocation(f"127.0.0.1:{port}")
        return t

    async def test_inert_values_match_banana_storage(self) -> None:
        """Without references, Tub.serialize equals octavo.banana.serialize and reads back."""
        t = self.make_tub(location=False)
        for value in [1, "x", b"y", [1, (2, 3)], {"k": {1, 2}}, None, 2**80]:
            data = await t.serialize(value)
            assert data == serialize(value)
            assert await t.unserialize(data) == value

    async def test_referenceable_round_trips_as_live_reference(self) -> None:
        """A Referenceable is stored as its FURL; another Tub unserializes a callable reference."""
        a, b = self.make_tub(CERTS[0]), self.make_tub(CERTS[1])
        counter = Counter()
        data = await a.serialize({"c": counter, "l": [counter, 5], "t": (counter,)})
        furl = a.getOrCreateURLForReference(counter)
        assert furl is not None and b"their-reference" in data and furl.encode() in data
        assert await a.serialize(counter) == await a.serialize(counter)  # the name is kept
        obj: Any = await b.unserialize(data)
        ref = obj["c"]
        assert isinstance(ref, RemoteReference)
        assert obj["l"] == [ref, 5] and obj["t"] == (ref,)
        assert ref.getSturdyRef() == SturdyRef(furl)
        assert await ref.callRemote("inc") == 1
        assert counter.n == 1

    async def test_top_level_reference_and_remote_reference(self) -> None:
        """A top-level reference unserializes to the RemoteReference itself; a
        RemoteReference is stored as its FURL too (read back here over loopback)."""
        a, b = self.make_tub(CERTS[0]), self.make_tub(CERTS[1])
        counter = Counter()
        rref = await b.getReference(a.registerReference(counter))
        data = await b.serialize(rref)
        assert data == await a.serialize(counter)
        again: Any = await a.unserialize(data)
        assert isinstance(again, RemoteReference)
        assert await again.callRemote("inc") == 1

    async def test_unstorable_values_are_violations(self) -> None:
        """Functions, and Referenceables of a Tub without location, cannot be stored."""
        t = self.make_tub()
        with self.assertRaises(Violation):
            await t.serialize([len])
        with self.assertRaises(Violation):
            await t.serialize(Counter().remote_inc)
        bare = self.make_tub(location=False)
        with self.assertRaises(Violation) as e:
            await bare.serialize({"c": Counter()})
        assert "location" in str(e.exception)

    async def test_bad_data_and_refused_gifts(self) -> None:
        """Garbage and truncated data fail with BananaError; with accept-gifts off,
        stored references are a Violation; an unknown name fails with the lookup error."""
        a, b = self.make_tub(CERTS[0]), self.make_tub(CERTS[1])
        data = await a.serialize([Counter()])
        with self.assertRaises(BananaError):
            await b.unserialize(b"\xff\xff\xff")
        with self.assertRaises(BananaError):
            await b.unserialize(data[:-3])
        furl = a.registerReference(Counter(), "gone")
        stale = await a.serialize([await b.getReference(furl)])
        a.unregisterURL(furl)
        with self.assertRaises(Exception) as e:
            await b.unserialize(stale)
        assert "unable to find reference" in str(e.exception)
        b.setOption("accept-gifts", False)
        with self.assertRaises(Violation) as e2:
            await b.unserialize(data)
        assert "gifts are prohibited" in str(e2.exception)
        assert await b.unserialize(b"\x01\x81") == 1
