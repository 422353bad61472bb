"""Exact bytes: what Foolscap 24.9's storage.serialize produced for these values."""

from __future__ import annotations

import decimal

import pytest

from octavo.banana import Encoder, Violation, serialize, unserialize

from ._strategies import same


def _cycle() -> list[object]:
    x: list[object] = []
    x.append(x)
    return x


# (value, hex) pairs recorded from foolscap.storage.serialize (Foolscap 24.9.0)
VECTORS: list[tuple[object, str]] = [
    (0, "0081"),
    (127, "7f81"),
    (128, "000181"),
    (2**31 - 1, "7f7f7f7f0781"),
    (2**31, "048580000000"),
    (-1, "0183"),
    (-(2**31), "000000000883"),
    (-(2**31) - 1, "048680000001"),
    (1.5, "843ff8000000000000"),
    (b"abc", "0382616263"),
    ("h\u00e9", "00880782756e69636f6465038268c3a90089"),
    (True, "00880782626f6f6c65616e01810089"),
    (None, "008804826e6f6e650089"),
    ([1, "a"], "008804826c697374018101880782756e69636f646501826101890089"),
    ((1, 2), "008805827475706c65018102810089"),
    (
        {"b": 1, "a": 2},
        "008804826469637401880782756e69636f64650182610189028102880782756e69636f6465018262028901810089",
    ),
    ({3}, "0088038273657403810089"),
    (frozenset([1]), "00880d82696d6d757461626c652d73657401810089"),
    (decimal.Decimal("1.25"), "00880782646563696d616c0482312e32350089"),
]


@pytest.mark.parametrize(("value", "hexdata"), VECTORS, ids=[repr(v) for v, _ in VECTORS])
def test_foolscap_bytes(value: object, hexdata: str) -> None:
    """serialize matches Foolscap byte for byte, and unserialize reads it back."""
    assert serialize(value).hex() == hexdata
    assert same(unserialize(bytes.fromhex(hexdata)), value)


def test_cycle_bytes_and_identity() -> None:
    """x = []; x.append(x) is a list holding a reference to OPEN 0, and round-trips."""
    data = serialize(_cycle())
    assert data.hex() == "008804826c697374018809827265666572656e6365008101890089"
    y = unserialize(data)
    assert isinstance(y, list)
    assert y[0] is y


def test_shared_objects_keep_identity() -> None:
    """A list that appears twice is sent once and comes back as one object."""
    inner = [1]
    y = unserialize(serialize([inner, inner, (inner,), {"k": inner}]))
    assert isinstance(y, list)
    assert y[0] is y[1] is y[2][0] is y[3]["k"]


def test_tuple_cycle_through_a_list() -> None:
    """A tuple reached again from inside itself (through a list) is rebuilt with identity."""
    t: tuple[list[object]] = ([],)
    t[0].append(t)
    y = unserialize(serialize(t))
    assert isinstance(y, tuple)
    assert y[0][0] is y


def test_dict_cycle() -> None:
    """A dict containing itself round-trips."""
    d: dict[str, object] = {}
    d["me"] = d
    y = unserialize(serialize(d))
    assert isinstance(y, dict)
    assert y["me"] is y


def test_dict_keys_sorted() -> None:
    """Dict keys are sent in sorted order, whatever the insertion order."""
    assert serialize({"b": 1, "a": 2}) == serialize({"a": 2, "b": 1})


def test_unsortable_dict_keys_refused() -> None:
    """A dict whose keys cannot be sorted cannot be sent (Foolscap fails too)."""
    with pytest.raises(Violation):
        serialize({1: 1, "a": 2})


def test_unserializable_object() -> None:
    """An object of an unknown type raises Violation and emits nothing."""
    enc = Encoder()
    with pytest.raises(Violation, match="cannot serialize"):
        enc.encode([1, object()])
    assert enc.open_count == 0
    assert enc.encode([]) == serialize([])


def test_int_subclass_refused_bool_is_boolean() -> None:
    """Only exact ints are INT tokens: bool is a boolean sequence, other int subclasses fail."""
    import enum

    class Color(enum.IntEnum):
        RED = 1

    assert serialize(True) != serialize(1)
    with pytest.raises(Violation):
        serialize(Color.RED)


def test_builtin_subclasses_use_base_behaviour() -> None:
    """A dict/list/str subclass is sent like its base (Foolscap adapts along the MRO)."""
    from collections import OrderedDict

    class MyList(list[int]):
        pass

    class MyStr(str):
        __slots__ = ()

    assert serialize(OrderedDict([("b", 1), ("a", 2)])) == serialize({"a": 2, "b": 1})
    assert serialize(MyList([1, 2])) == serialize([1, 2])
    assert serialize(MyStr("x")) == serialize("x")


def test_lone_surrogate_refused() -> None:
    """A str that is not valid Unicode cannot be sent."""
    with pytest.raises(Violation):
        serialize("\ud800")


def test_deep_nesting_refused_cleanly() -> None:
    """An absurdly deep object raises Violation instead of crashing."""
    v: list[object] = []
    for _ in range(100_000):
        v = [v]
    with pytest.raises(Violation):
        serialize(v)


def test_big_ints() -> None:
    """LONGINT/LONGNEG bodies are minimal big-endian bytes."""
    assert serialize(2**64) == b"\x09\x85\x01" + b"\x00" * 8
    assert serialize(-(2**64)) == b"\x09\x86\x01" + b"\x00" * 8
    assert unserialize(serialize(-(2**700))) == -(2**700)


def test_float_specials() -> None:
    """Infinities and NaN travel as IEEE doubles."""
    import math

    assert unserialize(serialize(float("inf"))) == float("inf")
    nan = unserialize(serialize(float("nan")))
    assert isinstance(nan, float)
    assert math.isnan(nan)


def test_tuple_holding_itself_is_refused() -> None:
    """A tuple whose own reference arrives inside it (through tuples only) cannot exist."""
    direct = b"\x00\x88\x05\x82tuple\x01\x88\x09\x82reference\x00\x81\x01\x89\x00\x89"
    with pytest.raises(Violation, match="itself"):
        unserialize(direct)
    mutual = (
        b"\x00\x88\x05\x82tuple\x01\x88\x05\x82tuple"
        b"\x02\x88\x09\x82reference\x00\x81\x02\x89\x01\x89\x00\x89"
    )
    with pytest.raises(Violation):
        unserialize(mutual)


def test_tuple_through_list_through_tuple() -> None:
    """t = ([(t,)],) is a real object: the inner tuple waits for t and is then filled in."""
    t: tuple[list[object]] = ([],)
    t[0].append((t,))
    y = unserialize(serialize(t))
    assert isinstance(y, tuple)
    assert y[0][0][0] is y
