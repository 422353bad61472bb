"""RemoteInterface schemas on real calls between two Tubs: both sides check.

The caller checks arguments before sending (nothing leaves on a Violation) and the
answer when it comes; the callee checks each argument as it arrives, the whole call
before the method runs, and the result before answering. The suite runs with the
fast paths on and off (OCTAVO_FAST_PATHS=0); both take the same decisions.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer
from twisted.python.failure import Failure
from twisted.trial import unittest

from octavo.tub import (
    IntegerConstraint,
    Referenceable,
    RemoteException,
    RemoteMethodSchema,
    Violation,
)
from octavo.tub._net._identity import create_certificate

from ._loopback import LoopbackTubs
from ._schema_ifaces import Adder, RIAdder, Typed

CERTS = [create_certificate() for _ in range(2)]


async def failure_of(d: defer.Deferred[Any]) -> Failure:
    """The Failure ``d`` fails with (the test fails if it succeeds)."""
    try:
        result = await d
    except RemoteException as e:
        return e.failure  # type: ignore[no-any-return]
    except BaseException:
        return Failure()
    raise AssertionError(f"expected a failure, got {result!r}")


class Plain(Referenceable):  # type: ignore[misc]
    def remote_echo(self, x: Any) -> Any:
        return x


class Greeter(Referenceable):  # type: ignore[misc]
    def remote_greet(self, name: bytes) -> bytes:
        return b"hello " + name

    def getMethodSchema(self, methodname: str) -> RemoteMethodSchema:
        return RemoteMethodSchema(_response=bytes, name=bytes, __ignoreUnknown__=True)


class SchemaCalls(LoopbackTubs, unittest.TestCase):
    async def setUp(self) -> None:  # type: ignore[override]
        self.a, self.b = self.make_tub(CERTS[0]), self.make_tub(CERTS[1])
        self.adder = Adder()
        self.rref = await self.a.getReference(self.b.registerReference(self.adder))

    async def test_good_calls(self) -> None:
        """Calls that fit the interface are answered, positionally or by keyword."""
        assert await self.rref.callRemote("add", 1, 2) == 3
        assert await self.rref.callRemote("add", a=1, b=2) == 3
        assert await self.rref.callRemote("join", [b"a", b"b"]) == b"ab"

    async def test_interface_name_announced(self) -> None:
        """The far object's RemoteInterface name arrives with its reference, and we
        know the interface by that name."""
        assert self.rref.getRemoteInterfaceName() == "RIAdder.octavo-tests.example"
        assert self.rref.tracker.interfaceName == "RIAdder.octavo-tests.example"
        assert self.rref.tracker.interface is RIAdder
        plain = await self.a.getReference(self.b.registerReference(Plain()))
        assert plain.getRemoteInterfaceName() is None

    async def test_caller_refuses_bad_argument_locally(self) -> None:
        """A wrong argument fails the call here; nothing reaches the far end."""
        for args, kwargs, why in [
            ((1, b"x"), {}, "not a number"),
            ((1, 2, 3), {}, "positional"),
            ((1,), {}, "missing required argument 'b'"),
            ((1, 2), {"c": 1}, "unknown argument"),
        ]:
            f = await failure_of(self.rref.callRemote("add", *args, **kwargs))
            assert f.check(Violation) and why in str(f.value), f
            assert "RIAdder.octavo-tests.example.add(" in f.value.getLocation()
        f = await failure_of(self.rref.callRemote("secret"))
        assert f.check(Violation) and "does not offer secret" in str(f.value)
        assert self.adder.calls == 0
        assert await self.rref.callRemote("add", 2, 2) == 4

    async def test_callee_refuses_when_caller_skips_schema(self) -> None:
        """_useSchema=False sends the bad call; the far end refuses it before the
        method runs, and the connection goes on."""
        for args, kwargs, why in [
            ((1, b"x"), {}, "STRING token rejected by IntegerConstraint"),
            ((1, 2, 3), {}, "too many positional"),
            ((1,), {}, "missing required argument"),
            ((1, 2), {"c": 1}, "unknown argument"),
        ]:
            f = await failure_of(self.rref.callRemote("add", *args, _useSchema=False, **kwargs))
            assert f.check(Violation), f
            assert why in str(f.value), (why, f.value)
        f = await failure_of(self.rref.callRemote("join", [b"x"] * 5, _useSchema=False))
        assert f.check(Violation) and "the list is full" in str(f.value)
        assert self.adder.calls == 0
        assert await self.rref.callRemote("add", 2, 2) == 4

    async def test_unknown_method_refused_by_callee(self) -> None:
        """A method the interface lacks is refused, even if the object has it."""
        self.rref.tracker.interface = None  # as a caller that does not know RIAdder
        f = await failure_of(self.rref.callRemote("secret"))
        assert f.check(Violation) and "not defined in RIAdder" in str(f.value)
        assert self.adder.calls == 0

    async def test_result_violation(self) -> None:
        """A result the schema refuses becomes an error answer (callee side); with the
        callee's check out of the way, the caller refuses it too."""
        f = await failure_of(self.rref.callRemote("lie"))
        assert f.check(Violation) and "return value" in str(f.value), f
        plain = await self.a.getReference(self.b.registerReference(Plain()))
        want_int = RemoteMethodSchema(_response=int, x=bytes)
        f = await failure_of(plain.callRemote("echo", b"x", _methodConstraint=want_int))
        assert f.check(Violation), f
        assert await plain.callRemote("echo", 5, _resultConstraint=IntegerConstraint()) == 5

    async def test_typed_interface(self) -> None:
        """An interface written with annotations checks the same way."""
        rref = await self.a.getReference(self.b.registerReference(Typed()))
        assert await rref.callRemote("add", 1, 2) == 3
        assert await rref.callRemote("pick", "fast", b"12345678") == b"12345678"
        assert await rref.callRemote("count", {"a": 1}) == (1, "tags")
        assert await rref.callRemote("watch", self.adder) == [b"watching"]
        for name, args in [
            ("pick", ("medium", b"x")),
            ("pick", ("fast", b"123456789")),
            ("count", ({"a": b"1"},)),
            ("watch", (Plain(),)),
        ]:
            f = await failure_of(rref.callRemote(name, *args))
            assert f.check(Violation), (name, f)
            f = await failure_of(rref.callRemote(name, *args, _useSchema=False))
            assert f.check(Violation), (name, f)

    async def test_plain_referenceable_dispatch(self) -> None:
        """Without a RemoteInterface, remote_* methods take anything (no schema)."""
        plain = await self.a.getReference(self.b.registerReference(Plain()))
        assert await plain.callRemote("echo", [1, b"x"]) == [1, b"x"]

    async def test_broken_schema_lookup_fails_that_call_only(self) -> None:
        """A schema lookup that raises fails that call with a Violation (the connection
        goes on); an object declaring two RemoteInterfaces cannot be sent at all."""
        from zope.interface import implementer

        from ._schema_ifaces import RITyped

        class Broken(Plain):
            def getMethodSchema(self, methodname: str) -> Any:
                raise RuntimeError("lookup broke")

        broken = await self.a.getReference(self.b.registerReference(Broken()))
        f = await failure_of(broken.callRemote("echo", 1))
        assert f.check(Violation) and "lookup broke" in str(f.value), f

        @implementer(RIAdder, RITyped)
        class Both(Referenceable):  # type: ignore[misc]
            pass

        f = await failure_of(self.a.getReference(self.b.registerReference(Both())))
        assert "multiple RemoteInterfaces" in str(f.value), f
        assert await self.rref.callRemote("add", 1, 2) == 3

    async def test_unknown_keywords_are_dropped(self) -> None:
        """``__ignoreUnknown__``: a keyword the schema does not name never reaches the
        method (fast path or not), the named ones are still checked."""
        rref = await self.a.getReference(self.b.registerReference(Greeter()))
        assert await rref.callRemote("greet", name=b"bob", extra=5, _useSchema=False) == (
            b"hello bob"
        )
        f = await failure_of(rref.callRemote("greet", name=5, extra=5, _useSchema=False))
        assert f.check(Violation), f
