"""Failures on the wire: the ``copyable twisted.python.failure.Failure`` sequence.

A failure travels as four attributes, all byte strings: ``type`` (the qualified
class name), ``value`` (``str(exception)``), ``traceback`` and ``parents`` (the
qualified names of the class's MRO), each with a size limit. What a failure is on
either side is the host's business: outbound, the host turns its failure object
into the attribute dict (``failure_state``); inbound, it makes one from the
received dict (``make_failure``). Nothing received is ever imported or run.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from octavo.banana import (
    OPEN,
    STRING,
    VOCAB,
    ByteStringConstraint,
    ListConstraint,
    SliceContext,
    Unslicer,
)
from octavo.tub._errors import BananaError, FailureStateError, Violation

if TYPE_CHECKING:
    from ._connection import PBConnection

__all__ = [
    "FAILURE_CLASSNAME",
    "PARENTS_MAX",
    "PARENT_LIMIT",
    "TRACEBACK_LIMIT",
    "TYPE_LIMIT",
    "VALUE_LIMIT",
    "FailureUnslicer",
    "slice_failure",
]

FAILURE_CLASSNAME = "twisted.python.failure.Failure"

#: byte limits of the attributes (Foolscap's)
TYPE_LIMIT = 200
VALUE_LIMIT = 1000
TRACEBACK_LIMIT = 2000
PARENT_LIMIT = 200
#: more parents than any sane class hierarchy has; bounds what a peer can make us keep
PARENTS_MAX = 100

_KEY_LIMITS = {b"type": TYPE_LIMIT, b"value": VALUE_LIMIT, b"traceback": TRACEBACK_LIMIT}
_KEYS = (b"type", b"value", b"traceback", b"parents")
_FAILURE_OT = ("copyable", FAILURE_CLASSNAME)


def slice_failure(f: object, ctx: SliceContext) -> tuple[tuple[str, ...], Iterable[object]]:
    """The attribute pairs of ``f``, as the connection's host describes it."""
    conn: PBConnection = ctx.context  # type: ignore[assignment]
    state = conn.failure_state(f)
    body: list[object] = []
    for k, v in state.items():
        body.append(k.encode("ascii"))
        body.append(v)
    return _FAILURE_OT, body


class FailureUnslicer(Unslicer):
    """The failure copyable: attribute pairs -> the host's failure object."""

    opentype = _FAILURE_OT

    def start(self, count: int) -> None:
        self.state: dict[str, Any] = {}
        self.key: bytes | None = None

    def checkToken(self, typebyte: int, size: int) -> None:
        if typebyte == OPEN and self.key == b"parents":
            return
        if typebyte not in (STRING, VOCAB):
            raise Violation("failure attributes are byte strings")
        if self.key is None:
            if typebyte == STRING and size > 20:
                raise Violation("failure attribute name too long")
            return
        limit = _KEY_LIMITS.get(self.key)
        if limit is None:
            raise Violation(f"unexpected plain value for failure attribute {self.key!r}")
        if typebyte == STRING and size > limit:
            raise Violation(f"failure attribute {self.key!r} too long ({size}>{limit})")

    def doOpen(self, opentype: tuple[str, ...]) -> Unslicer | None:
        if self.key != b"parents":
            raise Violation("only the 'parents' failure attribute is a sequence")
        if opentype != ("list",):
            raise Violation("failure 'parents' must be a list")
        child = self.open(opentype)
        if child is not None:
            child.setConstraint(ListConstraint(ByteStringConstraint(PARENT_LIMIT), PARENTS_MAX))
        return child

    def receiveChild(self, obj: object) -> None:
        if self.key is None:
            if not isinstance(obj, bytes):
                raise Violation("failure attribute names are byte strings")
            if obj not in _KEYS:
                raise Violation(f"unknown failure attribute {obj[:20]!r}")
            name = obj.decode("ascii")
            if name in self.state:
                raise Violation(f"duplicate failure attribute {name!r}")
            self.key = obj
            return
        self.state[self.key.decode("ascii")] = obj
        self.key = None

    def receiveClose(self) -> object:
        if self.key is not None:
            raise BananaError("failure sequence ended after an attribute name")
        conn: PBConnection = self.decoder.context
        try:
            return conn.make_failure(self.state)
        except FailureStateError as e:
            raise Violation(str(e)) from None

    def describe(self) -> str:
        return "<Failure>"
