# ruff: noqa: N805, B008 - Foolscap's spelling of RemoteInterfaces: no self, constraints as defaults
"""RemoteInterfaces shared by the schema tests (names are global: declare each once)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from zope.interface import implementer

from octavo.tub import (
    ChoiceOf,
    DictOf,
    ListOf,
    MaxLength,
    Referenceable,
    RemoteInterface,
    SetOf,
    TupleOf,
)


class RIAdder(RemoteInterface):
    __remote_name__ = "RIAdder.octavo-tests.example"

    def add(a=int, b=int):
        return int

    def join(items=ListOf(bytes, maxLength=4)):
        return bytes

    def lie():
        return int

    def nested(x=ListOf(ListOf(ListOf(int)))):
        return None


class RITyped(RemoteInterface):
    """The same kind of interface written with annotations."""

    __remote_name__ = "RITyped.octavo-tests.example"

    def add(self, a: int, b: int) -> int: ...

    def pick(
        self, mode: Literal["fast", "slow"], data: Annotated[bytes, MaxLength(8)]
    ) -> bytes: ...

    def count(self, tags: dict[str, int], seen: set[int] | None = None) -> tuple[int, str]: ...

    def watch(self, adder: RIAdder) -> list[bytes]: ...


class RIKeeper(RemoteInterface):
    __remote_name__ = "RIKeeper.octavo-tests.example"

    def keep(
        canary=Referenceable,
        shares=SetOf(int, maxLength=3),
        table=DictOf(bytes, ChoiceOf(int, None)),
        pair=TupleOf(int, bytes),
    ):
        return ListOf(int)


@implementer(RIAdder)
class Adder(Referenceable):  # type: ignore[misc]
    def __init__(self) -> None:
        self.calls = 0

    def remote_add(self, a: int, b: int) -> int:
        self.calls += 1
        return a + b

    def remote_join(self, items: list[bytes]) -> bytes:
        self.calls += 1
        return b"".join(items)

    def remote_lie(self) -> Any:
        self.calls += 1
        return "not an int"

    def remote_nested(self, x: Any) -> None:
        self.calls += 1

    def remote_secret(self) -> int:  # not in RIAdder: never callable from afar
        self.calls += 1
        return 42


@implementer(RITyped)
class Typed(Referenceable):  # type: ignore[misc]
    def remote_add(self, a: int, b: int) -> int:
        return a + b

    def remote_pick(self, mode: str, data: bytes) -> bytes:
        return data

    def remote_count(self, tags: dict[str, int], seen: set[int] | None = None) -> tuple[int, str]:
        return (len(tags), "tags")

    def remote_watch(self, adder: Any) -> list[bytes]:
        return [b"watching"]
