"""Copyables, SturdyRefs and failure names between Octavo and a real Foolscap 24.9 process.

The Foolscap side is ``foolscap_peer.py``'s ``CopyTarget`` (registered as
``copytarget``), with a Copyable ``interop.Card`` (rank: int, suit: str) and its
RemoteCopy, whose schema is the same as ours below.
"""

from __future__ import annotations

from typing import Any

from twisted.python.failure import Failure
from twisted.trial import unittest

from octavo.furl import SturdyRef
from octavo.tub import (
    AttributeDictConstraint,
    BananaError,
    Copyable,
    DeadReferenceError,
    RemoteCopy,
    RemoteException,
    Violation,
)
from octavo.tub._referenceable import Referenceable
from octavo.tub._tub import Tub

from .test_tub_interop import FoolscapPeer

SHARED = {
    "Violation": Violation,
    "BananaError": BananaError,
    "RemoteException": RemoteException,
    "DeadReferenceError": DeadReferenceError,
}


class Card(Copyable):
    typeToCopy = "interop.Card"

    def __init__(self, rank: Any, suit: Any) -> None:
        self.rank = rank
        self.suit = suit


class RemoteCard(RemoteCopy):
    copytype = "interop.Card"
    stateSchema = AttributeDictConstraint(("rank", int), ("suit", str))
    rank: int
    suit: str


class Stranger(Copyable):
    typeToCopy = "interop.OctavoOnly"


class Taker(Referenceable):  # type: ignore[misc]
    """What the Foolscap CopyTarget calls back on our side."""

    def remote_take(self, card: Any) -> Card:
        assert isinstance(card, RemoteCard), card
        return Card(card.rank + 1, card.suit.upper())

    def remote_raise(self, name: str) -> None:
        raise SHARED[name]("octavo raised " + name)

    def remote_stranger(self) -> Stranger:
        return Stranger()

    def remote_bad_card(self) -> Card:
        return Card("seven", 7)

    def remote_sturdy(self, furl: str) -> SturdyRef:
        return SturdyRef(furl)


def shared_matches(f: Failure) -> list[str]:
    return [name for name, cls in sorted(SHARED.items()) if f.check(cls)]


async def failure_of(d: Any) -> Failure:
    box: list[Any] = []
    await d.addBoth(box.append)
    assert isinstance(box[0], Failure), box
    return box[0]


class CopyableInterop(unittest.TestCase):
    timeout = 60

    async def connect(self, *, unsafe_tracebacks: bool = True) -> tuple[Any, str]:
        peer = FoolscapPeer.start()
        self.addCleanup(peer.kill)
        target_furl = await peer.furl
        tub = Tub()
        tub.unsafeTracebacks = unsafe_tracebacks
        tub.startService()
        self.addCleanup(tub.stopService)
        port = tub.listenOn("tcp:0:interface=127.0.0.1").getPortnum()
        tub.setLocation(f"127.0.0.1:{port}")
        rref = await tub.getReference(target_furl.rsplit("/", 1)[0] + "/copytarget")
        return rref, target_furl

    async def test_copyable_octavo_to_foolscap_as_argument(self) -> None:
        """Our Card arrives in Foolscap as its RemoteCard."""
        rref, _ = await self.connect()
        assert await rref.callRemote("describe", Card(5, "spades")) == ["RemoteCard", 5, "spades"]

    async def test_copyable_foolscap_to_octavo_as_result(self) -> None:
        """Foolscap's Card arrives here as our RemoteCard."""
        rref, _ = await self.connect()
        got = await rref.callRemote("deal", 9)
        assert isinstance(got, RemoteCard)
        assert (got.rank, got.suit) == (9, "clubs")

    async def test_copyable_foolscap_to_octavo_as_argument_and_back_as_result(self) -> None:
        """Foolscap calls us with a Card; our Card answer arrives there as its RemoteCard."""
        rref, _ = await self.connect()
        got = await rref.callRemote("exchange", Taker(), 3, "diamonds")
        assert got == ["RemoteCard", 4, "DIAMONDS"]

    async def test_sturdy_ref_each_way(self) -> None:
        """A SturdyRef goes by value both ways: Foolscap's own SturdyRef there, ours here."""
        rref, furl = await self.connect()
        got = await rref.callRemote("check_sturdy", SturdyRef(furl))
        assert got == ["SturdyRef", furl, furl[5:37]]
        back = await rref.callRemote("sturdy", furl)
        assert isinstance(back, SturdyRef) and str(back) == furl
        assert back == SturdyRef(furl)

    async def test_foolscap_errors_match_our_classes(self) -> None:
        """Violation, BananaError, RemoteException, DeadReferenceError raised in Foolscap
        match our classes of the same meaning (and only those)."""
        rref, _ = await self.connect()
        for name in sorted(SHARED):
            f = await failure_of(rref.callRemote("raise", name))
            assert shared_matches(f) == [name], (name, f)

    async def test_our_errors_match_foolscaps_classes(self) -> None:
        """The same errors raised here match Foolscap's classes in a Foolscap caller."""
        rref, _ = await self.connect()
        taker = Taker()
        for name in sorted(SHARED):
            got = await rref.callRemote("call_and_report", taker, "raise", name)
            assert got[0] == "failure" and got[3:] == [name], (name, got)
            # unsafeTracebacks is on, but a Violation is always sent without one
            assert got[2] == ("" if name == "Violation" else "Traceback (most recen"), got

    async def test_state_schema_violation_each_way(self) -> None:
        """A Card breaking the schema is refused by the receiver as a Violation, in
        Foolscap (our bad Card) and here (Foolscap's)."""
        rref, _ = await self.connect()
        f = await failure_of(rref.callRemote("describe", Card("seven", 7)))
        assert f.check(Violation) and "IntegerConstraint" in f.getErrorMessage()
        got = await rref.callRemote("call_and_report", Taker(), "bad_card")
        assert got[0] == "failure" and "Violation" in got[3:], got
        # the connection is fine afterwards
        assert await rref.callRemote("describe", Card(1, "hearts")) == ["RemoteCard", 1, "hearts"]

    async def test_unknown_copytype_each_way(self) -> None:
        """A copytype the receiver never registered is a Violation naming it, both ways."""
        rref, _ = await self.connect()
        f = await failure_of(rref.callRemote("stranger"))
        assert f.check(Violation) and "interop.NobodyKnowsMe" in str(f.value)
        f2 = await failure_of(rref.callRemote("describe", Stranger()))
        assert f2.check(Violation) and "interop.OctavoOnly" in f2.getErrorMessage()
        assert await rref.callRemote("deal", 2) is not None

    async def test_no_traceback_leaves_a_tub_that_hides_them(self) -> None:
        """With unsafeTracebacks off, Foolscap gets 'Traceback unavailable', not ours."""
        rref, _ = await self.connect(unsafe_tracebacks=False)
        got = await rref.callRemote("call_and_report", Taker(), "raise", "BananaError")
        assert got[0] == "failure" and got[2] == "Traceback unavailable", got
        assert got[3:] == ["BananaError"]
