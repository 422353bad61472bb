"""octavo.api against foolscap.api 24.9: the same names, the same storage bytes."""

from __future__ import annotations

import foolscap.api

import octavo.api
from tests.octavo.test_api import FOOLSCAP_API_NAMES


def _public(module: object) -> set[str]:
    return {n for n in dir(module) if not n.startswith("_")} | {"__version__"}


def test_the_name_list_is_foolscaps() -> None:
    """The list tests/octavo checks is exactly foolscap.api's public names."""
    assert _public(foolscap.api) == FOOLSCAP_API_NAMES


def test_octavo_api_has_every_foolscap_api_name() -> None:
    assert _public(octavo.api) >= _public(foolscap.api)


def _fired(d: object) -> object:
    out: list[object] = []
    d.addBoth(out.append)  # type: ignore[attr-defined]
    assert out
    return out[0]


def test_serialize_writes_foolscaps_bytes_and_reads_them() -> None:
    """Inert values: the same bytes from both serialize functions, each read by both."""
    value = [1, -7, 2**40, b"bytes", "str \u2603", (1.5, None, True), {"k": [1, 2]}]
    ours = _fired(octavo.api.serialize(value))
    theirs = _fired(foolscap.api.serialize(value))
    assert ours == theirs
    assert _fired(octavo.api.unserialize(theirs)) == value
    assert _fired(foolscap.api.unserialize(ours)) == value
