# ruff: noqa: N805, B008 - Foolscap's spelling of RemoteInterfaces: no self, constraints as defaults
"""50 MB byte-string arguments between two Tubs over real loopback TLS: allowed by the
``max-token-size`` option, allowed by a RemoteInterface constraint, and refused by
default with an error naming the limit while the connection and the Tub go on."""

from __future__ import annotations

from typing import Any

from twisted.trial import unittest
from zope.interface import implementer

from octavo.tub import ByteStringConstraint, Referenceable, RemoteInterface
from octavo.tub._net._identity import create_certificate
from octavo.tub._tub import Tub

CERTS = [create_certificate() for _ in range(2)]
SIZE = 50_000_000


class RIBigStore(RemoteInterface):
    __remote_name__ = "RIBigStore.octavo-tests.example"

    def put(data=ByteStringConstraint(maxLength=100_000_000)):
        return int

    def put_any(data=bytes):
        return int


@implementer(RIBigStore)
class BigStore(Referenceable):  # type: ignore[misc]
    def remote_put(self, data: bytes) -> int:
        return len(data) + data.count(b"\xa5")

    def remote_put_any(self, data: bytes) -> int:
        return len(data) + data.count(b"\xa5")


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
