# ruff: noqa: N805, B008 - Foolscap's spelling of RemoteInterfaces: no self, constraints as defaults
"""The caller's check of a typed call, and what a RemoteInterface keeps of it.

``check_outbound_call`` keeps, per method called through an interface, the schema's
quick check and its response constraint (``RIFoo._outbound_checks``) when every
argument has one; a later call whose arguments pass that quick check looks nothing
up, and any other goes the general way, which decides. With the fast paths off
nothing is kept.
"""

from __future__ import annotations

from typing import Any

import pytest

from octavo.banana import IntegerConstraint, fast_paths_default
from octavo.tub import ChoiceOf, ListOf, RemoteInterface, Violation
from octavo.tub._schema._method import RemoteMethodSchema
from octavo.tub._schema._outbound import NOT_GIVEN, check_outbound_call

fast_only = pytest.mark.skipif(
    not fast_paths_default(), reason="the kept checks are a fast path (OCTAVO_FAST_PATHS=0)"
)


class RIKept(RemoteInterface):
    __remote_name__ = "RIKept.octavo-tests.example"

    def put(n=int, items=ListOf(bytes, maxLength=3)):
        return int

    def ping():
        return None

    def pick(x=ChoiceOf(int, bytes)):  # (a choice has no quick check)
        return None


class CountingSchema(RemoteMethodSchema):  # type: ignore[misc]
    """A schema of a subclass: checks its calls its own way (here: counts them)."""

    calls = 0

    def checkAllArgs(self, args: Any, kwargs: Any, inbound: bool) -> None:
        type(self).calls += 1
        super().checkAllArgs(args, kwargs, inbound)


class RIOwnSchema(RemoteInterface):
    __remote_name__ = "RIOwnSchema.octavo-tests.example"

    put = CountingSchema(n=int)


@pytest.fixture(autouse=True)
def _fresh() -> None:
    RIKept._outbound_checks.clear()
    RIOwnSchema._outbound_checks.clear()


def check(iface: Any, name: str, *args: Any, **kwargs: Any) -> Any:
    return check_outbound_call(
        iface, None, name, args, kwargs, method_constraint=NOT_GIVEN, use_schema=True
    )


@fast_only
def test_a_checked_method_is_kept_with_its_response_constraint() -> None:
    response = check(RIKept, "put", 1, [b"a"])
    assert isinstance(response, IntegerConstraint)
    assert set(RIKept._outbound_checks) == {"put"}
    assert RIKept._outbound_checks["put"][1] is response
    assert check(RIKept, "put", 2, []) is response  # (from what was kept)


@fast_only
def test_a_kept_method_looks_nothing_up(monkeypatch: pytest.MonkeyPatch) -> None:
    check(RIKept, "put", 1, [b"a"])

    def no_lookup(name: str, default: Any = None) -> Any:
        raise AssertionError(f"looked up {name!r}")

    monkeypatch.setattr(RIKept, "get", no_lookup, raising=False)
    assert isinstance(check(RIKept, "put", 5, [b"b", b"c"]), IntegerConstraint)
    # arguments the quick check is not sure of go the general way, which looks up
    with pytest.raises(AssertionError, match="looked up 'put'"):
        check(RIKept, "put", 5, [b"b"] * 4)


@fast_only
def test_a_kept_method_still_refuses_bad_arguments() -> None:
    check(RIKept, "put", 1, [b"a"])
    with pytest.raises(Violation) as e:
        check(RIKept, "put", "one", [b"a"])
    assert "RIKept.octavo-tests.example.put(" in str(e.value)
    with pytest.raises(Violation):
        check(RIKept, "put", 1, [b"a", b"b", b"c", b"d"])  # (maxLength=3)
    with pytest.raises(Violation, match="missing required argument 'items'"):
        check(RIKept, "put", 1)
    with pytest.raises(Violation, match="multiple values"):
        check(RIKept, "put", 1, [b"a"], n=2)
    assert set(RIKept._outbound_checks) == {"put"}


def test_an_unknown_method_is_refused_and_not_kept() -> None:
    with pytest.raises(Violation, match="does not offer nope"):
        check(RIKept, "nope")
    assert "nope" not in RIKept._outbound_checks


def test_no_schema_or_another_schema_keeps_nothing() -> None:
    other = RemoteMethodSchema(n=int)
    assert (
        check_outbound_call(
            RIKept, None, "put", ("x",), {}, method_constraint=NOT_GIVEN, use_schema=False
        )
        is None
    )
    check_outbound_call(RIKept, None, "put", (1,), {}, method_constraint=other, use_schema=True)
    with pytest.raises(Violation):  # the given schema decides, not the interface's
        check_outbound_call(
            RIKept, None, "put", ("x",), {}, method_constraint=other, use_schema=True
        )
    assert RIKept._outbound_checks == {}


def test_a_method_with_an_argument_of_no_quick_check_is_not_kept() -> None:
    check(RIKept, "pick", 1)
    with pytest.raises(Violation):
        check(RIKept, "pick", 1.5)
    assert "pick" not in RIKept._outbound_checks


def test_a_schema_of_a_subclass_is_not_kept() -> None:
    before = CountingSchema.calls
    check(RIOwnSchema, "put", 1)
    check(RIOwnSchema, "put", 2)
    assert CountingSchema.calls == before + 2  # its own check ran each time
    assert RIOwnSchema._outbound_checks == {}


@pytest.mark.skipif(fast_paths_default(), reason="about OCTAVO_FAST_PATHS=0")
def test_nothing_is_kept_with_the_fast_paths_off() -> None:
    check(RIKept, "put", 1, [b"a"])
    check(RIKept, "ping")
    assert RIKept._outbound_checks == {}
