"""Typed calls: one annotated RemoteInterface is both the schema and the static type.

``RICalculator`` below is checked at run time on both ends of a call (as any
RemoteInterface), and ``rref.call(RICalculator.add, 1, 2)`` is a ``Deferred[int]``
whose arguments mypy checks against the same declaration (``tox -e typecheck``
covers this file). Run it: ``python examples/typed_calls.py``.
"""

from __future__ import annotations

from abc import abstractmethod

from twisted.internet import defer, task
from twisted.internet.interfaces import IReactorCore
from zope.interface import implementer  # type: ignore[import-untyped,unused-ignore]

from octavo.tub import Referenceable, RemoteInterface, RemoteReference, Tub, Violation


class RICalculator(RemoteInterface):
    __remote_name__ = "RICalculator.examples.octavo"

    @abstractmethod
    def add(self, a: int, b: int) -> int:
        """The sum of a and b."""

    @abstractmethod
    def describe(self, numbers: list[int], label: str | None = None) -> dict[str, int]:
        """How many numbers, and their total."""


@implementer(RICalculator)
class Calculator(Referenceable):
    def remote_add(self, a: int, b: int) -> int:
        return a + b

    def remote_describe(self, numbers: list[int], label: str | None = None) -> dict[str, int]:
        return {"count": len(numbers), "total": sum(numbers)}


async def use(rref: RemoteReference) -> int:
    """Typed calls through a reference to a Calculator."""
    total: int = await rref.call(RICalculator.add, 1, 2)
    summary: dict[str, int] = await rref.call(RICalculator.describe, [1, 2, 3], label="x")
    try:
        # mypy refuses this call (a str where an int is due); at run time the
        # schema refuses it before anything is sent
        await rref.call(RICalculator.add, 1, "two")  # type: ignore[arg-type]
    except Violation as e:
        print("refused before sending:", e)
    return total + summary["total"]


async def run(reactor: IReactorCore) -> None:
    server, client = Tub(), Tub()
    for t in (server, client):
        t.startService()
    port = server.listenOn("tcp:0:interface=127.0.0.1").getPortnum()
    server.setLocation(f"127.0.0.1:{port}")
    try:
        rref = await client.getReference(server.registerReference(Calculator()))
        print("result:", await use(rref))
    finally:
        await defer.gatherResults([server.stopService(), client.stopService()])


if __name__ == "__main__":
    task.react(lambda reactor: defer.ensureDeferred(run(reactor)))
