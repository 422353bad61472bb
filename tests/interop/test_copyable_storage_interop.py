"""Copyables in storage: our bytes equal foolscap.storage's, and each side reads the other's."""

from __future__ import annotations

from typing import Any

from foolscap import storage as fstorage
from foolscap.api import Copyable as FCopyable
from foolscap.api import RemoteCopy as FRemoteCopy
from foolscap.api import Tub as FTub
from foolscap.referenceable import SturdyRef as FSturdyRef
from twisted.trial import unittest

from octavo.banana import serialize, unserialize
from octavo.furl import SturdyRef
from octavo.tub import Copyable, RemoteCopy, copyable_slicers, copyable_unslicers
from octavo.tub._net._identity import create_certificate
from octavo.tub._referenceable import Referenceable
from octavo.tub._tub import Tub

FURL = "pb://ddnrbbsvpezkdp6ydwqrakddwlclfu6f@tcp:127.0.0.1:1234,tcp:example.org:99/swiss"
#: short: foolscap.storage's reader refuses index tokens longer than its longest
#: registered opentype name (about 15 bytes), and then never fires its Deferred
COPYTYPE = "interop.Note"


def note_state() -> dict[str, Any]:
    return {"title": "t", "n": 2**70, "raw": b"\x00\xff", "tags": ["a", ("b", None)], "ok": True}


class Note(Copyable):
    typeToCopy = COPYTYPE

    def __init__(self, **state: Any) -> None:
        self.__dict__.update(state)


class RemoteNote(RemoteCopy):
    copytype = COPYTYPE


class FNote(FCopyable):  # type: ignore[misc]
    typeToCopy = COPYTYPE

    def __init__(self, **state: Any) -> None:
        self.__dict__.update(state)


class FRemoteNote(FRemoteCopy):  # type: ignore[misc]
    copytype = COPYTYPE


def ours(data: bytes) -> Any:
    return unserialize(data, unslicers=copyable_unslicers())


STATES: list[dict[str, Any]] = [{}, {"x": 1}, note_state()]


class StorageCopyables(unittest.TestCase):
    timeout = 20

    async def test_copyable_bytes_equal_foolscap_storage(self) -> None:
        """octavo.banana.serialize(Copyable) is foolscap.storage.serialize's bytes."""
        for state in STATES:
            mine = serialize([Note(**state)], slicers=copyable_slicers())
            assert mine == await fstorage.serialize([FNote(**state)])
            top = serialize(Note(**state), slicers=copyable_slicers())
            assert top == await fstorage.serialize(FNote(**state))

    async def test_each_side_reads_the_others_copyable(self) -> None:
        """Foolscap reads our Note as its FRemoteNote; we read Foolscap's as RemoteNote."""
        got = await fstorage.unserialize(
            serialize([Note(**note_state())], slicers=copyable_slicers())
        )
        assert isinstance(got[0], FRemoteNote)
        assert got[0].__dict__ == note_state()
        back = ours(await fstorage.serialize([FNote(**note_state())]))
        assert isinstance(back[0], RemoteNote)
        assert back[0].__dict__ == note_state()

    async def test_sturdy_ref_bytes_equal_foolscap_storage(self) -> None:
        """A SturdyRef is stored as Foolscap stores its own, and we read Foolscap's.
        (foolscap.storage.unserialize never finishes on a SturdyRef, its own bytes
        included: "foolscap.SturdyRef" is longer than the index tokens its reader
        takes. Foolscap reading ours is shown over a connection instead.)"""
        mine = serialize([SturdyRef(FURL)], slicers=copyable_slicers())
        assert mine == await fstorage.serialize([FSturdyRef(FURL)])
        (back,) = ours(await fstorage.serialize([FSturdyRef(FURL)]))
        assert isinstance(back, SturdyRef) and str(back) == FURL


class Counter(Referenceable):  # type: ignore[misc]
    pass


class FCounter(FCopyable):  # type: ignore[misc]
    pass


class TubStorageCopyables(unittest.TestCase):
    timeout = 20

    async def test_tub_serialize_of_copyables_equals_foolscaps(self) -> None:
        """Tub.serialize of Copyables and SturdyRefs equals Foolscap's Tub.serialize."""
        cert = create_certificate()
        tub = Tub(certData=cert)
        tub.startService()
        self.addCleanup(tub.stopService)
        ftub = FTub(certData=cert)
        value = {"note": Note(**note_state()), "ref": SturdyRef(FURL)}
        fvalue = {"note": FNote(**note_state()), "ref": FSturdyRef(FURL)}
        data = await tub.serialize(value)
        assert data == await ftub.serialize(fvalue)
        back: Any = await tub.unserialize(await ftub.serialize(fvalue))
        assert isinstance(back["note"], RemoteNote) and back["ref"] == SturdyRef(FURL)
