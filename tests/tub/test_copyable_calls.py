"""Copyables through real Tubs: arguments and answers by value, per-Tub registries,
SturdyRefs, and refused copies that fail their call alone."""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure
from twisted.trial import unittest

from octavo.furl import SturdyRef
from octavo.tub import (
    AttributeDictConstraint,
    Copyable,
    RemoteCopy,
    Violation,
    registerRemoteCopyFactory,
)
from octavo.tub._net._identity import create_certificate
from octavo.tub._referenceable import Referenceable
from octavo.tub._tub import Tub

from ._loopback import LoopbackTubs

CERTS = [create_certificate() for _ in range(2)]


class Card(Copyable):
    typeToCopy = "test.calls.Card"

    def __init__(self, rank: int, suit: str) -> None:
        self.rank = rank
        self.suit = suit


class RemoteCard(RemoteCopy):
    copytype = "test.calls.Card"
    stateSchema = AttributeDictConstraint(("rank", int), ("suit", str))


class Unknown(Copyable):
    typeToCopy = "test.calls.NobodyKnowsMe"


class Private(Copyable):
    typeToCopy = "test.calls.Private"

    def __init__(self) -> None:
        self.v = 1


class Echo(Referenceable):  # type: ignore[misc]
    def remote_echo(self, x: Any) -> Any:
        return x

    def remote_describe(self, card: Any) -> list[Any]:
        return [type(card).__name__, card.rank, card.suit]

    def remote_deal(self, rank: int) -> Card:
        return Card(rank, "hearts")

    def remote_unknown(self) -> Unknown:
        return Unknown()

    def remote_send_private(self, ref: Any) -> Any:
        return ref.callRemote("echo", Private())


async def failure_of(d: Deferred[Any]) -> Failure:
    """The Failure ``d`` fails with (an AssertionError if it succeeds)."""
    box: list[Any] = []
    await d.addBoth(box.append)
    assert isinstance(box[0], Failure), box
    return box[0]


class CopyableCalls(LoopbackTubs, unittest.TestCase):
    async def connect(self) -> tuple[Tub, Tub, Any]:
        a, b = self.make_tub(CERTS[0]), self.make_tub(CERTS[1])
        rref = await a.getReference(b.registerReference(Echo()))
        return a, b, rref

    async def test_copyable_argument_and_answer(self) -> None:
        """A Copyable argument arrives as its RemoteCopy; a Copyable answer too."""
        _, _, rref = await self.connect()
        assert await rref.callRemote("describe", Card(12, "spades")) == [
            "RemoteCard",
            12,
            "spades",
        ]
        got = await rref.callRemote("deal", 3)
        assert isinstance(got, RemoteCard)
        assert (got.rank, got.suit) == (3, "hearts")

    async def test_sturdy_ref_goes_by_value(self) -> None:
        """A SturdyRef argument comes back as an equal SturdyRef (not a reference)."""
        a, _, rref = await self.connect()
        sturdy = SturdyRef(a.registerReference(Echo()))
        got = await rref.callRemote("echo", {"ref": sturdy})
        assert isinstance(got["ref"], SturdyRef)
        assert got["ref"] == sturdy and str(got["ref"]) == str(sturdy)

    async def test_unknown_copytype_fails_that_call_only(self) -> None:
        """A copytype the receiver never registered fails the call with a Violation
        naming it; the connection and other calls are untouched."""
        _, _, rref = await self.connect()
        f = await failure_of(rref.callRemote("echo", Unknown()))
        assert isinstance(f, Failure) and f.check(Violation)
        assert "test.calls.NobodyKnowsMe" in str(f.value)
        f2 = await failure_of(rref.callRemote("unknown"))
        assert isinstance(f2, Failure) and f2.check(Violation)
        assert await rref.callRemote("echo", 5) == 5

    async def test_schema_violation_fails_that_call_only(self) -> None:
        """State that breaks the RemoteCopy's schema is refused as it arrives."""
        _, _, rref = await self.connect()
        f = await failure_of(rref.callRemote("describe", Card("twelve", "spades")))  # type: ignore[arg-type]
        assert isinstance(f, Failure) and f.check(Violation)
        assert "rank" in str(f.value)
        assert await rref.callRemote("echo", [1]) == [1]

    async def test_per_tub_registry(self) -> None:
        """A copytype registered in one Tub's registry is read by that Tub only."""
        a, b, rref = await self.connect()

        def made_by_b(state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
            return ("b's", state)

        registerRemoteCopyFactory("test.calls.Private", made_by_b, registry=b.copyables)
        assert await rref.callRemote("echo", Private()) == ("b's", {"v": 1})
        assert "test.calls.Private" in b.copyables
        assert "test.calls.Private" not in a.copyables
        # b calls a with one: a does not know the copytype and refuses that call
        f = await failure_of(rref.callRemote("send_private", Echo()))
        assert isinstance(f, Failure) and f.check(Violation)
        assert "test.calls.Private" in f.getErrorMessage()
