"""octavo.api: Foolscap's one-stop import."""

from __future__ import annotations

import pytest
from twisted.internet.defer import Deferred

import octavo.api
from octavo.api import Copyable, RemoteCopy, Violation, serialize, unserialize

#: what ``foolscap.api`` 24.9 exports (tests/interop checks this list against it)
FOOLSCAP_API_NAMES = {
    "__version__",
    "Tub",
    "RemoteInterface",
    "Referenceable",
    "SturdyRef",
    "Copyable",
    "RemoteCopy",
    "registerRemoteCopy",
    "registerCopier",
    "registerRemoteCopyFactory",
    "DeadReferenceError",
    "IConnectionHintHandler",
    "BananaError",
    "StringConstraint",
    "IntegerConstraint",
    "ListOf",
    "TupleOf",
    "SetOf",
    "DictOf",
    "ChoiceOf",
    "Any",
    "serialize",
    "unserialize",
    "Violation",
    "RemoteException",
    "eventually",
    "fireEventually",
    "flushEventualQueue",
    "app_versions",
}


def test_every_foolscap_api_name_is_exported() -> None:
    """Each name of foolscap.api is in octavo.api.__all__ and importable."""
    assert set(octavo.api.__all__) >= FOOLSCAP_API_NAMES
    for name in FOOLSCAP_API_NAMES:
        assert getattr(octavo.api, name) is not None, name


def test_app_versions_is_foolscaps_module_shape() -> None:
    """app_versions.versions is a dict of names to version strings; add_version adds."""
    versions = octavo.api.app_versions.versions
    assert versions["octavo-tub"]
    octavo.api.app_versions.add_version("test-api-app", 3)
    try:
        assert octavo.api.app_versions.versions["test-api-app"] == "3"
    finally:
        del octavo.api.app_versions.versions["test-api-app"]


class Pair(Copyable, RemoteCopy):
    copytype = "test.api.Pair"

    def __init__(self, a: object = None, b: object = None) -> None:
        self.a = a
        self.b = b


def _result(d: Deferred[object]) -> object:
    out: list[object] = []
    d.addBoth(out.append)
    assert out, "the Deferred did not fire at once"
    return out[0]


def test_serialize_round_trips_values_and_copyables() -> None:
    """serialize/unserialize answer with Deferreds; Copyables come back by value."""
    value = [1, b"two", "three", (4.5, None, True), {"k": {1, 2}}, Pair(1, [2])]
    data = _result(serialize(value))
    assert isinstance(data, bytes)
    back = _result(unserialize(data))
    assert isinstance(back, list)
    assert back[:5] == value[:5]
    assert isinstance(back[5], Pair) and (back[5].a, back[5].b) == (1, [2])


def test_serialize_refuses_an_arbitrary_instance() -> None:
    """Unlike Foolscap, an instance of a plain class is not stored by class name."""

    class Plain:
        pass

    failure = _result(serialize(Plain()))
    with pytest.raises(Violation):
        failure.raiseException()  # type: ignore[attr-defined]


def test_unserialize_of_garbage_fails_with_a_typed_error() -> None:
    """Bad bytes fail the Deferred with BananaError (not an untyped exception)."""
    failure = _result(unserialize(b"\x00\x88\xff\xff\xff"))
    assert failure.check(octavo.api.BananaError, octavo.api.Violation)  # type: ignore[attr-defined]
