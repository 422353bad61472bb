"""Tub.serialize bytes match Foolscap 24.9's Tub.serialize, and Foolscap's are read back live."""

from __future__ import annotations

from typing import Any

from foolscap.api import Referenceable as FReferenceable
from foolscap.api import Tub as FTub
from twisted.trial import unittest

from octavo.tub._net._identity import create_certificate
from octavo.tub._referenceable import Referenceable, RemoteReference
from octavo.tub._tub import Tub

CERT = create_certificate()


class Counter(Referenceable):  # type: ignore[misc]
    def __init__(self) -> None:
        self.n = 0

    def remote_inc(self) -> int:
        self.n += 1
        return self.n


class FCounter(FReferenceable):  # type: ignore[misc]
    pass


def shape(ref: Any) -> Any:
    """The same value with ``ref`` in several places (shared containers included)."""
    shared = [ref, 2]
    return {"one": ref, "list": [ref, shared, shared], "t": (ref, "x", b"y"), "n": None}


class TubStorageInterop(unittest.TestCase):
    def setUp(self) -> None:
        self.tub = Tub(certData=CERT)
        self.tub.startService()
        self.addCleanup(self.tub.stopService)
        self.port = self.tub.listenOn("tcp:0:interface=127.0.0.1").getPortnum()
        self.tub.setLocation(f"127.0.0.1:{self.port}")
        # a Foolscap Tub with the same identity and location: its FURLs name our objects
        self.ftub = FTub(certData=CERT)
        self.ftub.setLocation(f"127.0.0.1:{self.port}")

    async def test_same_bytes_as_foolscap(self) -> None:
        """For values holding Referenceables, our bytes equal Foolscap's byte for byte."""
        counter, fcounter = Counter(), FCounter()
        furl = self.tub.registerReference(counter, "svc")
        assert self.ftub.registerReference(fcounter, "svc") == furl
        for ours, theirs in [
            (counter, fcounter),
            (shape(counter), shape(fcounter)),
            ([1, "two", {3}], [1, "two", {3}]),
        ]:
            assert await self.tub.serialize(ours) == await self.ftub.serialize(theirs)

    async def test_foolscap_bytes_read_back_live(self) -> None:
        """Data from Foolscap's Tub.serialize unserializes here into live references."""
        counter = Counter()
        self.tub.registerReference(counter, "svc")
        fcounter = FCounter()
        self.ftub.registerReference(fcounter, "svc")
        data = await self.ftub.serialize(shape(fcounter))
        assert b"their-reference" in data
        reader = Tub()
        reader.startService()
        self.addCleanup(reader.stopService)
        value: Any = await reader.unserialize(data)
        ref = value["one"]
        assert isinstance(ref, RemoteReference)
        assert value["list"][0] is ref and value["list"][1] is value["list"][2]
        assert value["t"] == (ref, "x", b"y")
        assert await ref.callRemote("inc") == 1
        assert counter.n == 1
