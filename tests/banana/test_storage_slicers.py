"""serialize(obj, slicers=...): storage with extra encoders, read back with unslicers=."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from octavo.banana import (
    SliceContext,
    SlicerRegistry,
    Unslicer,
    Violation,
    default_unslicers,
    serialize,
    unserialize,
)


class Point:
    def __init__(self, x: int, y: int) -> None:
        self.x, self.y = x, y


def slice_point(p: Point, ctx: SliceContext) -> tuple[tuple[str, ...], Iterable[object]]:
    return ("point",), (p.x, p.y)


class PointUnslicer(Unslicer):
    def start(self, count: int) -> None:
        self.xy: list[object] = []

    def receiveChild(self, obj: object) -> None:
        self.xy.append(obj)

    def receiveClose(self) -> object:
        return tuple(self.xy)


def test_serialize_with_slicers_stores_a_new_type() -> None:
    """A registered type is stored with its slicer; inert values are unchanged."""
    reg = SlicerRegistry()
    reg.register(Point, slice_point)
    with pytest.raises(Violation):
        serialize([Point(1, 2)])
    data = serialize([Point(1, 2), "x"], slicers=reg)
    assert data == b"\x00\x88\x04\x82list\x01\x88\x05\x82point\x01\x81\x02\x81\x01\x89" + (
        b"\x02\x88\x07\x82unicode\x01\x82x\x02\x89\x00\x89"
    )
    assert serialize([1, "x"], slicers=reg) == serialize([1, "x"])
    unslicers = default_unslicers()
    unslicers.register(("point",), lambda ot: PointUnslicer())
    assert unserialize(data, unslicers=unslicers) == [(1, 2), "x"]
