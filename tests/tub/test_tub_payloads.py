# ruff: noqa: N805, B008 - Foolscap's spelling of RemoteInterfaces: no self, constraints as defaults
"""50 MB byte-string and 20 MiB str arguments between two Tubs over real loopback TLS:
allowed by the ``max-token-size`` option, allowed by a RemoteInterface constraint, and
refused by default with an error naming the limit while the connection and the Tub go
on."""

from __future__ import annotations

from typing import Any

from twisted.trial import unittest
from zope.interface import implementer

from octavo.tub import (
    ByteStringConstraint,
    ListOf,
    Optional,
    Referenceable,
    RemoteInterface,
    UnicodeConstraint,
)
from octavo.tub._net._identity import create_certificate
from octavo.tub._tub import Tub

CERTS = [create_certificate() for _ in range(2)]
SIZE = 50_000_000
#: a str past the default max-token-size (16 MiB): ASCII and 1,000 3-byte code points
STR = "a" * (20 * 2**20 - 3000) + "€" * 1000


class RIBigStore(RemoteInterface):
    __remote_name__ = "RIBigStore.octavo-tests.example"

    def put(data=ByteStringConstraint(maxLength=100_000_000)):
        return int

    def put_any(data=bytes):
        return int

    def put_str(text=UnicodeConstraint(maxLength=30_000_000)):
        return int

    def put_str_list(items=ListOf(UnicodeConstraint(maxLength=30_000_000), maxLength=2)):
        return int

    def put_str_optional(text=Optional(UnicodeConstraint(maxLength=30_000_000), "")):
        return int

    def put_str_any(text=str):
        return int


@implementer(RIBigStore)
class BigStore(Referenceable):  # type: ignore[misc]
    def remote_put(self, data: bytes) -> int:
        return len(data) + data.count(b"\xa5")

    def remote_put_any(self, data: bytes) -> int:
        return len(data) + data.count(b"\xa5")

    def remote_put_str(self, text: str) -> int:
        return len(text) + text.count("€")

    def remote_put_str_list(self, items: list[str]) -> int:
        return sum(len(t) + t.count("€") for t in items)

    def remote_put_str_optional(self, text: str = "") -> int:
        return len(text) + text.count("€")

    def remote_put_str_any(self, text: str) -> int:
        return len(text)


class Untyped(Referenceable):  # type: ignore[misc]
    def remote_take(self, data: Any) -> int:
        return len(data)


class BigPayloads(unittest.TestCase):
    timeout = 120

    async def refs(self, **options: object) -> tuple[Any, Any]:
        """(typed, untyped) references from a client Tub to a server Tub with ``options``."""
        server = Tub(certData=CERTS[0], options=dict(options))
        server.startService()
        self.addCleanup(server.stopService)
        port = server.listenOn("tcp:0:interface=127.0.0.1").getPortnum()
        server.setLocation(f"127.0.0.1:{port}")
        typed = server.registerReference(BigStore(), "store")
        untyped = server.registerReference(Untyped(), "untyped")
        client = Tub(certData=CERTS[1])
        client.startService()
        self.addCleanup(client.stopService)
        return await client.getReference(typed), await client.getReference(untyped)

    async def test_allowed_by_the_option(self) -> None:
        """With max-token-size at 64 MiB a 50 MB argument arrives whole."""
        _, untyped = await self.refs(**{"max-token-size": 64 * 1024 * 1024})
        self.assertEqual(await untyped.callRemote("take", b"\xa5" * SIZE), SIZE)

    async def test_allowed_by_the_constraint(self) -> None:
        """With the default limits, an argument declared maxLength=100,000,000 takes 50
        MB; the other arguments and methods keep the 16 MiB limit."""
        typed, untyped = await self.refs()
        self.assertEqual(await typed.callRemote("put", b"\xa5" * SIZE), 2 * SIZE)
        with self.assertRaises(Exception) as refused:
            await typed.callRemote("put_any", b"\xa5" * 20_000_000)
        self.assertIn("max_token_size", str(refused.exception))
        self.assertEqual(await untyped.callRemote("take", b"ok"), 2)

    async def test_refused_by_default(self) -> None:
        """By default a 50 MB argument is refused with a Violation naming the limit; the
        same connection and the Tub go on serving."""
        typed, untyped = await self.refs()
        with self.assertRaises(Exception) as refused:
            await untyped.callRemote("take", b"\xa5" * SIZE)
        text = str(refused.exception)
        self.assertIn("Violation", text)
        self.assertIn(f"{SIZE}>{16 * 1024 * 1024}", text)
        self.assertIn("max_token_size", text)
        self.assertEqual(await untyped.callRemote("take", b"ok"), 2)
        self.assertEqual(await typed.callRemote("put", b"\xa5" * 10), 20)

    async def test_a_str_allowed_by_the_constraint(self) -> None:
        """With the default limits, a str argument declared maxLength=30,000,000 (code
        points) takes 20 MiB, alone, in a ListOf and in an Optional; an undeclared str
        argument of the same method's interface keeps the 16 MiB limit."""
        typed, untyped = await self.refs()
        want = len(STR) + 1000
        self.assertEqual(await typed.callRemote("put_str", STR), want)
        self.assertEqual(await typed.callRemote("put_str_list", [STR, "x"]), want + 1)
        self.assertEqual(await typed.callRemote("put_str_optional", text=STR), want)
        with self.assertRaises(Exception) as refused:
            await typed.callRemote("put_str_any", STR)
        self.assertIn("max_token_size", str(refused.exception))
        self.assertEqual(await untyped.callRemote("take", "ok"), 2)

    async def test_a_str_refused_by_default(self) -> None:
        """By default a str whose UTF-8 body is past 16 MiB is refused with a Violation
        naming the limit; the same connection and the Tub go on serving."""
        typed, untyped = await self.refs()
        with self.assertRaises(Exception) as refused:
            await untyped.callRemote("take", STR)
        text = str(refused.exception)
        self.assertIn("Violation", text)
        self.assertIn(f"{len(STR.encode())}>{16 * 1024 * 1024}", text)
        self.assertIn("max_token_size", text)
        self.assertEqual(await untyped.callRemote("take", "ok"), 2)
        self.assertEqual(await typed.callRemote("put_str", "€"), 2)
