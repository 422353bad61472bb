"""A typed calculator: one annotated RemoteInterface is schema and static type at once.

``RICalculator`` declares its methods with annotations. At run time they are the
schema both ends check (arguments as they arrive, answers before they are sent); for
mypy, ``rref.call(RICalculator.add, 2, 3)`` is a ``Deferred[int]`` whose arguments
are checked against the same declaration. Shown: int/float/list/Literal/optional
arguments, a remote exception, and calls the schema refuses before anything is sent.
All on 127.0.0.1; it stops by itself. Run it: ``python examples/calculator.py``.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, Literal

from twisted.internet import defer, task
from zope.interface import implementer  # type: ignore[import-untyped,unused-ignore]

from octavo.tub import (
    Referenceable,
    RemoteException,
    RemoteInterface,
    RemoteReference,
    Tub,
    Violation,
)

Op = Literal["+", "-", "*", "/"]


# Declarations only: each method is @abstractmethod with a docstring for a body, which
# mypy accepts for an annotated method that returns nothing; the Tub reads the
# signatures, and Calculator (below) implements them as remote_* methods.
class RICalculator(RemoteInterface):
    """A calculator with a memory."""

    __remote_name__ = "RICalculator.calculator.examples.octavo"

    @abstractmethod
    def add(self, a: int, b: int) -> int:
        """a + b."""

    @abstractmethod
    def apply(self, op: Op, a: float, b: float) -> float:
        """a op b, for op one of + - * /."""

    @abstractmethod
    def total(self, numbers: list[int], start: int = 0) -> int:
        """start + the sum of numbers."""

    @abstractmethod
    def remember(self, key: str, value: float | None) -> dict[str, float]:
        """Store value under key (None: forget it); the whole memory."""


@implementer(RICalculator)
class Calculator(Referenceable):
    """The server's implementation."""

    def __init__(self) -> None:
        self.memory: dict[str, float] = {}

    def remote_add(self, a: int, b: int) -> int:
        return a + b

    def remote_apply(self, op: Op, a: float, b: float) -> float:
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        return a / b  # ZeroDivisionError travels back to the caller

    def remote_total(self, numbers: list[int], start: int = 0) -> int:
        return start + sum(numbers)

    def remote_remember(self, key: str, value: float | None) -> dict[str, float]:
        if value is None:
            self.memory.pop(key, None)
        else:
            self.memory[key] = value
        return dict(self.memory)


async def use(calc: RemoteReference) -> None:
    """Typed calls: mypy knows each argument's type and each answer's."""
    s: int = await calc.call(RICalculator.add, 2, 3)
    print("add(2, 3) =", s)
    print("apply('*', 1.5, 4) =", await calc.call(RICalculator.apply, "*", 1.5, 4))
    print("total([1, 2, 3]) =", await calc.call(RICalculator.total, [1, 2, 3]))
    print("total([1, 2, 3], start=10) =", await calc.call(RICalculator.total, [1, 2, 3], start=10))
    await calc.call(RICalculator.remember, "pi", 3.14)
    print("remember('e', 2.72) =", await calc.call(RICalculator.remember, "e", 2.72))
    print("remember('pi', None) =", await calc.call(RICalculator.remember, "pi", None))
    try:
        await calc.call(RICalculator.apply, "/", 1, 0)
    except RemoteException as e:  # the far end's exception, as a CopiedFailure
        f = e.failure
        print(f"apply('/', 1, 0) failed remotely: {f.type_name}: {f.getErrorMessage()}")
        print("  is it a ZeroDivisionError?", f.check(ZeroDivisionError) is not None)
    # Calls mypy refuses (hence the ignores); the schema refuses them too, locally
    bad: list[tuple[str, Any]] = [
        ("add(1, 'two')", calc.call(RICalculator.add, 1, "two")),  # type: ignore[arg-type]
        ("apply('%', 1, 2)", calc.call(RICalculator.apply, "%", 1, 2)),  # type: ignore[arg-type]
        ("total(['x'])", calc.call(RICalculator.total, ["x"])),  # type: ignore[list-item]
    ]
    for text, d in bad:
        try:
            await d
        except Violation:
            print(f"{text} refused before sending: Violation")


async def run(reactor: object) -> None:
    server, client = Tub(), Tub()
    for t in (server, client):
        t.startService()
    try:
        port = server.listenOn("tcp:0:interface=127.0.0.1").getPortnum()
        server.setLocation(f"127.0.0.1:{port}")
        furl = server.registerReference(Calculator(), "calculator")
        await use(await client.getReference(furl))
    finally:
        await defer.gatherResults([client.stopService(), server.stopService()])


if __name__ == "__main__":
    # the whole demo takes a few seconds; a bound in case something hangs
    task.react(lambda reactor: defer.ensureDeferred(run(reactor)).addTimeout(60, reactor))
