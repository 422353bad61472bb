"""Hostile Copyables end to end: a raw Banana peer sends copies a server Tub must refuse.

Each bad copy fails the call carrying it with a Violation (an error answer naming what
was wrong, the method never runs), the attacker's connection goes on and a
well-behaved client of the same Tub is still served.
"""

from __future__ import annotations

from typing import Any

from octavo.tub import (
    AttributeDictConstraint,
    RemoteCopy,
    registerRemoteCopy,
    registerRemoteCopyFactory,
)

from ._raw_peer import RawPeerCase, raw_call, tclose, tint, topen, tstr

COPY_OPEN = 5


class RemoteGauge(RemoteCopy):
    copytype = None  # registered in the server Tub's own registry by the tests

    stateSchema = AttributeDictConstraint(("level", int), ("label", str))


def copy(copytype: bytes, body: bytes) -> bytes:
    """A ``copyable`` sequence of ``copytype`` with raw attribute tokens."""
    return topen(COPY_OPEN, b"copyable", copytype) + body + tclose(COPY_OPEN)


def text(body: bytes, n: int = 6) -> bytes:
    return topen(n, b"unicode") + tstr(body) + tclose(n)


class CopyableAttacks(RawPeerCase):
    async def setUp(self) -> None:  # type: ignore[override]
        await super().setUp()
        registerRemoteCopy("hostile.Gauge", RemoteGauge, registry=self.server.copyables)
        # no schema: only the limits every value has apply
        registerRemoteCopyFactory("hostile.Loose", dict, registry=self.server.copyables)

    async def refused(self, reqid: int, argument: bytes, *reasons: str) -> str:
        """Send ``argument`` to ``take``; assert a Violation naming each reason."""
        self.raw.send(raw_call(reqid, self.clid, b"take", argument))
        answer = await self.raw.error_text(reqid)
        assert "foolscap.tokens.Violation" in answer, answer
        for reason in reasons:
            assert reason in answer, (reason, answer)
        assert self.target.calls == 0
        await self.assert_raw_alive()
        await self.assert_good_client_served()
        return answer

    async def test_a_good_copy_is_taken(self) -> None:
        """The control: a copy that fits its schema reaches the method."""
        body = tstr(b"level") + tint(3) + tstr(b"label") + text(b"ok")
        self.raw.send(raw_call(2, self.clid, b"echo", copy(b"hostile.Gauge", body)))
        kind, value = await self.raw.reply(2)
        assert kind == "error"  # the server cannot send a RemoteGauge back...
        assert "cannot serialize" in repr(value)
        self.raw.send(raw_call(3, self.clid, b"take", copy(b"hostile.Gauge", body)))
        assert await self.raw.reply(3) == ("answer", None)
        assert self.target.calls == 1

    async def test_unregistered_copytype(self) -> None:
        """A copytype nobody registered is refused by name; nothing is imported."""
        await self.refused(2, copy(b"os.system", tstr(b"a") + tint(1)), "os.system", "RemoteCopy")

    async def test_overlong_copytype(self) -> None:
        """A copytype index token over 1000 bytes is refused before it is read."""
        await self.refused(2, copy(b"x" * 5000, b""), "too long")

    async def test_state_breaking_its_schema(self) -> None:
        """Wrong types, unknown and missing attributes are each a Violation."""
        await self.refused(2, copy(b"hostile.Gauge", tstr(b"level") + text(b"high")), "level")
        await self.refused(
            3, copy(b"hostile.Gauge", tstr(b"level") + tint(1) + tstr(b"evil") + tint(2)), "evil"
        )
        await self.refused(4, copy(b"hostile.Gauge", tstr(b"level") + tint(1)), "label")
        await self.refused(5, copy(b"hostile.Gauge", tint(7) + tint(1)), "must be strings")
        await self.refused(
            6, copy(b"hostile.Gauge", tstr(b"level") + tint(1) + tstr(b"level") + tint(2)), "dup"
        )

    async def test_overlong_attribute_name(self) -> None:
        """An attribute name over 1000 bytes is refused before its body is kept."""
        await self.refused(2, copy(b"foolscap.SturdyRef", tstr(b"u" * 100_000)), "too long")

    async def test_huge_state(self) -> None:
        """300,000 attributes in a copy without a schema: refused by the message's
        object budget."""
        body = b"".join(tstr(b"a%06d" % i) + tint(i) for i in range(300_000))
        await self.refused(2, copy(b"hostile.Loose", body), "max_message_objects")

    async def test_deep_state(self) -> None:
        """State (without a schema) nested 2,000 lists deep: refused at the depth limit."""
        deep = b"".join(topen(10 + i, b"list") for i in range(2000))
        deep += b"".join(tclose(10 + i) for i in reversed(range(2000)))
        await self.refused(2, copy(b"hostile.Loose", tstr(b"x") + deep), "max_depth")

    async def test_bad_sturdy_ref(self) -> None:
        """A foolscap.SturdyRef whose url is not a FURL is refused."""
        await self.refused(2, copy(b"foolscap.SturdyRef", tstr(b"url") + text(b"nope")), "url")

    async def test_copies_nested_in_copies(self) -> None:
        """A copy whose state holds a copy of an unknown type is refused as a whole."""
        inner = topen(7, b"copyable", b"evil.Inner") + tclose(7)
        await self.refused(2, copy(b"hostile.Loose", tstr(b"x") + inner), "evil.Inner")

    async def test_a_gift_inside_a_copy(self) -> None:
        """A copy cannot wait for a gift (a their-reference) in its state: refused."""
        gift = topen(7, b"their-reference") + tint(1) + tstr(self.furl.encode()) + tclose(7)
        await self.refused(2, copy(b"hostile.Loose", tstr(b"x") + gift), "unfinished object")

    def test_gauge_is_only_in_the_servers_registry(self) -> None:
        """The test copytype is not process-wide (setUp put it in the server's)."""
        reg: Any = self.server.copyables
        assert "hostile.Gauge" in reg and "hostile.Gauge" not in reg.parent
