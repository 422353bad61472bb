# ruff: noqa: N805 - Foolscap's spelling of RemoteInterfaces: no self, constraints as defaults
"""RemoteInterface declarations, the registry, and the constraints of their methods."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pytest
from zope.interface import Interface, implementer

from octavo.tub import (
    ByteStringConstraint,
    DuplicateRemoteInterfaceError,
    IntegerConstraint,
    InvalidRemoteInterface,
    ListOf,
    LocalInterfaceConstraint,
    LocalReferenceable,
    MaxLength,
    Nothing,
    Optional,
    Referenceable,
    RemoteInterface,
    RemoteInterfaceConstraint,
    RemoteMethodSchema,
    UnconstrainedMethod,
    Violation,
    constraint_from_annotation,
    getRemoteInterface,
    getRemoteInterfaceByName,
)

from ._schema_ifaces import Adder, RIAdder, RIKeeper, RITyped, Typed


def test_names_get_and_item() -> None:
    """names(), get(name) and [name] give the remote methods' schemas, tagged with
    their name and interface."""
    assert sorted(RIAdder.names()) == ["add", "join", "lie", "nested"]
    schema = RIAdder["add"]
    assert isinstance(schema, RemoteMethodSchema)
    assert RIAdder.get("add") is schema and RIAdder.add is schema
    assert schema.name == "add" and schema.interface is RIAdder
    assert RIAdder.get("nope") is None


def test_registry_by_name_and_duplicate() -> None:
    """A RemoteInterface is registered by __remote_name__; a second one with the same
    name is refused; the default name is the class name."""
    assert getRemoteInterfaceByName("RIAdder.octavo-tests.example") is RIAdder
    assert getRemoteInterfaceByName("no such name") is None
    with pytest.raises(DuplicateRemoteInterfaceError):

        class RIAgain(RemoteInterface):
            __remote_name__ = "RIAdder.octavo-tests.example"

    class RIDefaultName(RemoteInterface):
        def ping():
            return None

    assert RIDefaultName.__remote_name__ == "RIDefaultName"
    assert getRemoteInterfaceByName("RIDefaultName") is RIDefaultName


def test_get_remote_interface() -> None:
    """getRemoteInterface finds the one RemoteInterface an object provides (None for a
    plain Referenceable); a Referenceable reports it and its name."""
    assert getRemoteInterface(Adder()) is RIAdder
    assert getRemoteInterface(Referenceable()) is None
    assert Adder().getInterfaceName() == "RIAdder.octavo-tests.example"
    assert Referenceable().getInterfaceName() is None


def test_inheritance() -> None:
    """A RemoteInterface extending another offers the base's methods too."""

    class RIMore(RIAdder):
        __remote_name__ = "RIMore.octavo-tests.example"

        def sub(a=int, b=int):
            return int

    assert sorted(RIMore.names(all=True)) == ["add", "join", "lie", "nested", "sub"]
    assert RIMore.get("add") is RIAdder["add"]


def test_bad_declarations() -> None:
    """self without annotations, or an argument without a default, is refused."""
    with pytest.raises(InvalidRemoteInterface):

        class RISelf(RemoteInterface):
            def m(self, a=int):
                return None

    with pytest.raises(InvalidRemoteInterface):

        class RINoDefault(RemoteInterface):
            def m(a, b=int):
                return None


def test_check_all_args() -> None:
    """The whole-call check: types, too many, unknown, repeated, missing arguments."""
    s = RIAdder["add"]
    s.checkAllArgs((1, 2), {}, True)
    s.checkAllArgs((1,), {"b": 2}, True)
    for args, kwargs, why in [
        ((1, b"x"), {}, "not a number"),
        ((1, 2, 3), {}, "positional arguments"),
        ((1, 2), {"c": 3}, "unknown argument 'c'"),
        ((1, 2), {"a": 3}, "multiple values"),
        ((1,), {}, "missing required argument 'b'"),
        ((1, 2**8192), {}, "number too large"),
    ]:
        with pytest.raises(Violation, match=why):
            s.checkAllArgs(args, kwargs, True)
    with pytest.raises(Violation, match="list too long"):
        RIAdder["join"].checkAllArgs(([b"a"] * 5,), {}, True)
    with pytest.raises(Violation, match="not a number"):
        RIAdder["add"].checkResults("x", False)


def test_per_argument_hook() -> None:
    """What the call decoder asks as each argument arrives."""
    s = RIAdder["add"]
    assert isinstance(s.argument_constraint("add", 0), IntegerConstraint)
    assert isinstance(s.argument_constraint("add", "b"), IntegerConstraint)
    with pytest.raises(Violation, match="too many positional"):
        s.argument_constraint("add", 2)
    with pytest.raises(Violation, match="unknown argument"):
        s.argument_constraint("add", "zz")


def test_reference_constraints() -> None:
    """Referenceable / RIFoo as argument types: outbound, a Referenceable (providing
    RIFoo); inbound only a RemoteReference; a plain Interface is a local check."""
    any_ref = RIKeeper["keep"].argConstraints["canary"]
    assert isinstance(any_ref, RemoteInterfaceConstraint) and any_ref.interface is None
    any_ref.checkObject(Referenceable(), False)
    with pytest.raises(Violation):
        any_ref.checkObject(Referenceable(), True)
    with pytest.raises(Violation):
        any_ref.checkObject(b"not a ref", False)
    adder_ref = RITyped["watch"].argConstraints["adder"]
    adder_ref.checkObject(Adder(), False)
    adder_ref.checkObject(LocalReferenceable(Adder()), True)
    with pytest.raises(Violation, match="does not provide"):
        adder_ref.checkObject(LocalReferenceable(Typed()), True)
    with pytest.raises(Violation, match="does not provide"):
        adder_ref.checkObject(Typed(), False)

    class ILocal(Interface):
        pass

    @implementer(ILocal)
    class Local:
        pass

    class RIWithLocal(RemoteInterface):
        __remote_name__ = "RIWithLocal.octavo-tests.example"

        def m(x=ILocal):
            return None

    c = RIWithLocal["m"].argConstraints["x"]
    assert isinstance(c, LocalInterfaceConstraint)
    c.checkObject(Local(), True)
    with pytest.raises(Violation):
        c.checkObject(object(), True)


def test_unconstrained_method() -> None:
    """UnconstrainedMethod takes and answers anything."""

    class RILoose(RemoteInterface):
        __remote_name__ = "RILoose.octavo-tests.example"
        anything = UnconstrainedMethod()

    s = RILoose["anything"]
    s.checkAllArgs((1, b"x"), {"k": object()}, True)
    assert s.argument_constraint("anything", 5) is None


def test_keyword_schema() -> None:
    """RemoteMethodSchema(**constraints) with _response, and __acceptUnknown__."""
    s = RemoteMethodSchema(_response=int, a=int, b=Optional(bytes, b""), __acceptUnknown__=True)
    assert s.required == ["a"]
    s.checkAllArgs((), {"a": 1, "other": object()}, False)
    with pytest.raises(Violation):
        s.checkResults(b"x", True)


@pytest.mark.parametrize(
    ("annotation", "good", "bad"),
    [
        (int, [0, -5, 2**8000], [2**8192, b"1", 1.5]),
        (bytes, [b"", b"x" * 1000], ["x", 1]),
        (str, ["", "x"], [b"x"]),
        (bool, [True], [1]),
        (float, [1.5, 2], ["1"]),
        (None, [None], [0]),
        (list[bytes], [[], [b"a"]], [[1], (b"a",), b"a"]),
        (dict[str, int], [{"a": 1}], [{b"a": 1}, {"a": "1"}]),
        (tuple[int, str], [(1, "a")], [(1,), [1, "a"], (1, b"a")]),
        (set[int], [{1}, frozenset({2})], [[1], {"1"}]),
        (frozenset[int], [frozenset({2})], [{1}]),
        (int | None, [1, None], ["1"]),
        (Literal["fast", "slow"], ["fast"], ["medium", b"fast"]),
        (Annotated[bytes, MaxLength(3)], [b"abc"], [b"abcd"]),
        (Annotated[list[int], MaxLength(2)], [[1, 2]], [[1, 2, 3]]),
        (Any, [1, b"x", None], []),
    ],
)
def test_annotations(annotation: Any, good: list[Any], bad: list[Any]) -> None:
    """Each annotation becomes the constraint of the README's table."""
    c = constraint_from_annotation(annotation)
    for v in good:
        c.checkObject(v, True)
    for v in bad:
        with pytest.raises(Violation):
            c.checkObject(v, True)


def test_annotations_token_limits() -> None:
    """Annotated limits are enforced on tokens too (refused before being read)."""
    c = constraint_from_annotation(Annotated[bytes, MaxLength(3)])
    assert isinstance(c, ByteStringConstraint)
    with pytest.raises(Violation, match="too large"):
        c.checkToken(0x82, 4)
    assert isinstance(constraint_from_annotation(None), Nothing)
    with pytest.raises(TypeError):
        constraint_from_annotation(tuple[int, ...])


def test_annotated_interface() -> None:
    """A RemoteInterface with annotations checks the same as one in Foolscap's spelling;
    an argument with a default is optional."""
    s = RITyped["count"]
    assert s.argumentNames == ["tags", "seen"] and s.required == ["tags"]
    s.checkAllArgs(({"a": 1},), {}, True)
    s.checkAllArgs(({"a": 1}, {1, 2}), {}, True)
    with pytest.raises(Violation):
        s.checkAllArgs(({"a": "x"},), {}, True)
    s.checkResults((1, "x"), True)
    with pytest.raises(Violation):
        s.checkResults([1, "x"], True)
    assert isinstance(RITyped["add"].argConstraints["a"], IntegerConstraint)
    assert isinstance(ListOf(int), type(RITyped["watch"].responseConstraint))
