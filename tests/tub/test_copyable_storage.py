"""Copyables in storage: Tub.serialize/unserialize and octavo.banana's storage."""

from __future__ import annotations

from typing import Any

from twisted.trial import unittest

from octavo.banana import Any as Any_
from octavo.banana import Violation, serialize, unserialize
from octavo.furl import SturdyRef
from octavo.tub import (
    AttributeDictConstraint,
    Copyable,
    RemoteCopy,
    copyable_slicers,
    copyable_unslicers,
    registerRemoteCopyFactory,
)
from octavo.tub._referenceable import Referenceable
from octavo.tub._tub import Tub

FURL = "pb://ddnrbbsvpezkdp6ydwqrakddwlclfu6f@tcp:127.0.0.1:1234/swiss"


class Box(Copyable):
    typeToCopy = "test.storage.Box"

    def __init__(self, content: Any) -> None:
        self.content = content


class RemoteBox(RemoteCopy):
    copytype = "test.storage.Box"
    stateSchema = AttributeDictConstraint(("content", Any_()))


class Loose(RemoteCopy):
    copytype = "test.storage.Loose"


class Unknown(Copyable):
    typeToCopy = "test.storage.Unknown"


class Counter(Referenceable):  # type: ignore[misc]
    def remote_ping(self) -> str:
        return "pong"


def test_banana_storage_with_copyable_registries_round_trips() -> None:
    """octavo.banana.serialize(slicers=copyable_slicers()) and unserialize(unslicers=
    copyable_unslicers()) store and read Copyables and SturdyRefs."""
    value = [Box(None), {"s": SturdyRef(FURL)}]
    data = serialize(value, slicers=copyable_slicers())
    back: Any = unserialize(data, unslicers=copyable_unslicers())
    assert isinstance(back[0], RemoteBox) and back[0].content is None
    assert back[1]["s"] == SturdyRef(FURL)


def test_banana_storage_refuses_an_unknown_copytype() -> None:
    """Reading a copytype nobody registered is a Violation naming it."""
    data = serialize([Unknown()], slicers=copyable_slicers())
    try:
        unserialize(data, unslicers=copyable_unslicers())
    except Violation as e:
        assert "test.storage.Unknown" in str(e)
    else:
        raise AssertionError("no Violation")


class CopyableStorage(unittest.TestCase):
    def make_tub(self) -> Tub:
        t = Tub()
        t.startService()
        self.addCleanup(t.stopService)
        port = t.listenOn("tcp:0:interface=127.0.0.1").getPortnum()
        t.setLocation(f"127.0.0.1:{port}")
        return t

    async def test_tub_storage_matches_banana_storage_for_copyables(self) -> None:
        """Without references, Tub.serialize of Copyables equals octavo.banana's bytes."""
        t = self.make_tub()
        value = {"box": Box([1, 2]), "ref": SturdyRef(FURL)}
        data = await t.serialize(value)
        assert data == serialize(value, slicers=copyable_slicers())
        back: Any = await t.unserialize(data)
        assert isinstance(back["box"], RemoteBox) and back["box"].content == [1, 2]
        assert back["ref"] == SturdyRef(FURL)

    async def test_a_copyable_holding_a_stored_reference_is_refused(self) -> None:
        """A stored reference is resolved later (a gift): as in Foolscap, a copy's state
        cannot wait for one, so reading it is a Violation saying so."""
        t = self.make_tub()
        data = await t.serialize(Box(Counter()))
        f = await t.unserialize(data).addErrback(lambda f: f.value)
        assert isinstance(f, Violation) and "unfinished object" in str(f)

    async def test_unserialize_uses_the_tubs_registry(self) -> None:
        """tub.copyables is consulted by Tub.unserialize before the process-wide one."""
        t = self.make_tub()
        registerRemoteCopyFactory(
            "test.storage.Unknown", lambda st: "known here", registry=t.copyables
        )
        data = await t.serialize([Unknown()])
        assert await t.unserialize(data) == ["known here"]
        other = self.make_tub()
        f = await other.unserialize(data).addErrback(lambda f: f.value)
        assert isinstance(f, Violation) and "test.storage.Unknown" in str(f)
