"""RemoteInterfaces between an Octavo Tub and a real Foolscap 24.9 Tub in its own
process (TLS and negotiation included): the interface name announced each way, and
refusals on each side."""

from __future__ import annotations

from typing import Any

from twisted.python.failure import Failure
from twisted.trial import unittest
from zope.interface import implementer

from octavo.tub import Referenceable, RemoteException, RemoteInterface, Violation
from octavo.tub._tub import Tub

from .test_tub_interop import FoolscapPeer

NAME = "RIPeerCalc.octavo-interop.example"


class RIPeerCalc(RemoteInterface):
    """Octavo's spelling of the peer's RIPeerCalc (annotations), under its name."""

    __remote_name__ = NAME

    def add(self, a: int, b: int) -> int:
        raise NotImplementedError

    def lie(self) -> int:
        raise NotImplementedError


@implementer(RIPeerCalc)
class Calc(Referenceable):
    def __init__(self) -> None:
        self.calls = 0

    def remote_add(self, a: int, b: int) -> int:
        self.calls += 1
        return a + b

    def remote_lie(self) -> Any:
        return "not an int"


async def failure_of(d: Any) -> Failure:
    try:
        result = await d
    except RemoteException as e:
        return e.failure  # type: ignore[no-any-return]
    except BaseException:
        return Failure()
    raise AssertionError(f"expected a failure, got {result!r}")


class SchemaTubInterop(unittest.TestCase):
    timeout = 60

    async def setUp(self) -> None:  # type: ignore[override]
        self.peer = FoolscapPeer.start()
        self.addCleanup(self.peer.kill)
        target = await self.peer.furl
        self.peer_calc = target.rsplit("/", 1)[0] + "/calc"
        self.tub = Tub()
        self.tub.startService()
        self.addCleanup(self.tub.stopService)
        port = self.tub.listenOn("tcp:0:interface=127.0.0.1").getPortnum()
        self.tub.setLocation(f"127.0.0.1:{port}")
        self.calc = Calc()
        self.our_calc = self.tub.registerReference(self.calc)

    async def test_octavo_sees_foolscaps_interface(self) -> None:
        """Foolscap's object announces RIPeerCalc; Octavo checks calls against its own
        declaration of that name, and Foolscap refuses what Octavo lets through."""
        rref = await self.tub.getReference(self.peer_calc)
        assert rref.getRemoteInterfaceName() == NAME
        assert rref.tracker.interface is RIPeerCalc
        assert await rref.call(RIPeerCalc.add, 1, 2) == 3
        f = await failure_of(rref.callRemote("add", 1, b"two"))
        assert f.check(Violation) and "not a number" in str(f.value)
        f = await failure_of(rref.callRemote("add", 1, b"two", _useSchema=False))
        assert f.check("foolscap.tokens.Violation"), f
        f = await failure_of(rref.callRemote("lie"))
        assert f.check("foolscap.tokens.Violation") and "return value" in str(f.value), f

    async def test_foolscap_sees_octavos_interface(self) -> None:
        """Octavo's object announces RIPeerCalc; Foolscap checks calls against its
        declaration, and Octavo refuses what Foolscap lets through."""
        kind, text = await self.peer.command("iface", self.our_calc)
        assert (kind, text) == ("R", repr(NAME))
        kind, text = await self.peer.command("call_schema", self.our_calc, "add", [1, 2], True)
        assert (kind, text) == ("R", "3")
        kind, text = await self.peer.command("call_schema", self.our_calc, "add", [1, b"x"], True)
        assert kind == "E" and "Violation" in text and "foolscap" in text, text
        kind, text = await self.peer.command("call_schema", self.our_calc, "add", [1, b"x"], False)
        # refused by Octavo (a failure copied from it), under Foolscap's Violation name
        assert kind == "E" and "CopiedFailure" in text and "Violation" in text, text
        assert "IntegerConstraint" in text, text
        kind, text = await self.peer.command("call_schema", self.our_calc, "lie", [], False)
        assert kind == "E" and "return value" in text, text
        assert self.calc.calls == 1
