"""Arguments that violate a RemoteInterface, sent raw (no caller-side check): each
gets a Violation error answer for that call alone; the connection, other calls on
it and other clients go on."""

from __future__ import annotations

from ._raw_peer import RawPeerCase, b128_encode, raw_call
from ._schema_ifaces import Adder


class SchemaBadInput(RawPeerCase):
    """The server also publishes an Adder (RIAdder); the raw peer holds it as ``aclid``."""

    async def setUp(self) -> None:  # type: ignore[override]
        await super().setUp()
        self.adder = Adder()
        self.server.registerReference(self.adder, "adder")
        self.raw.call(2, 0, "getReferenceByName", name="adder")
        kind, ref = await self.raw.reply(2)
        assert kind == "answer" and ref[0] == ("my-reference",)
        assert ref[1][1] == b"RIAdder.octavo-tests.example"  # the name, on its first trip
        self.aclid: int = ref[1][0]

    async def assert_adder_alive(self, reqid: int) -> None:
        self.raw.call(reqid, self.aclid, "add", 20, 22)
        assert await self.raw.reply(reqid) == ("answer", 42)
        await self.assert_good_client_served()

    async def test_wrong_type(self) -> None:
        """A bytes where an int is due: refused at its token."""
        self.raw.call(10, self.aclid, "add", 1, b"x")
        assert "rejected by IntegerConstraint" in await self.raw.error_text(10)
        await self.assert_adder_alive(11)
        assert self.adder.calls == 1

    async def test_too_many_and_unknown_and_missing(self) -> None:
        """Too many positional arguments, an unknown keyword, a missing argument and an
        unknown method: each refused before the method runs."""
        self.raw.call(10, self.aclid, "add", 1, 2, 3)
        assert "too many positional arguments" in await self.raw.error_text(10)
        self.raw.call(11, self.aclid, "add", 1, 2, c=3)
        assert "unknown argument" in await self.raw.error_text(11)
        self.raw.call(12, self.aclid, "add", 1)
        assert "missing required argument" in await self.raw.error_text(12)
        self.raw.call(13, self.aclid, "secret")
        assert "not defined in RIAdder" in await self.raw.error_text(13)
        assert self.adder.calls == 0
        await self.assert_adder_alive(14)

    async def test_too_deep_and_too_long(self) -> None:
        """Nesting deeper than the schema's, a list longer than its maxLength."""
        self.raw.call(10, self.aclid, "nested", [[[[1]]]])
        assert "Violation" in await self.raw.error_text(10)
        self.raw.call(11, self.aclid, "join", [b"x"] * 5)
        assert "the list is full" in await self.raw.error_text(11)
        assert self.adder.calls == 0
        await self.assert_adder_alive(12)

    async def test_huge_argument_refused_before_it_is_buffered(self) -> None:
        """An 8 MiB string (under the connection's token limit) where an int is due is
        refused at its header: the error answer comes back while only 1000 bytes of its
        body have been sent; the rest is skipped as it arrives, and the connection
        goes on."""
        size = 8 * 1024 * 1024
        header = b128_encode(size) + b"\x82"
        call = raw_call(10, self.aclid, b"add", header)
        cut = call.index(header) + len(header)
        self.raw.send(call[:cut] + b"x" * 1000)
        assert "rejected by IntegerConstraint" in await self.raw.error_text(10)
        left = size - 1000
        chunk = b"x" * (1024 * 1024)
        while left:
            self.raw.send(chunk[: min(left, len(chunk))])
            left -= min(left, len(chunk))
        self.raw.send(call[cut:])  # the closing tokens of 'arguments' and 'call'
        await self.assert_adder_alive(11)
        assert self.adder.calls == 1
