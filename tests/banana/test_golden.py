"""Golden vectors: octavo.banana writes and reads exactly the bytes Foolscap 24.9 does.

The vectors (tests/banana/vectors/golden.json) were made by Foolscap with
tests/banana/vectors/make_vectors.py; these tests need no Foolscap.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from octavo.banana import Decoder, Encoder, ObjectReceived, serialize, unserialize
from tests.banana.vectors.graph import assert_same_graph, from_tagged, tags_used

GOLDEN = json.loads((Path(__file__).parent / "vectors" / "golden.json").read_text(encoding="utf-8"))
VECTORS: list[dict[str, Any]] = GOLDEN["vectors"]
IDS = [vector["name"] for vector in VECTORS]


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_serialize_matches_foolscap(vector: dict[str, Any]) -> None:
    """serialize() gives Foolscap's bytes for this value."""
    value = from_tagged(vector["value"])
    assert serialize(value).hex() == vector["hex"]


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_unserialize_reads_foolscap(vector: dict[str, Any]) -> None:
    """unserialize() of Foolscap's bytes rebuilds the value, sharing and cycles included."""
    got = unserialize(bytes.fromhex(vector["hex"]))
    assert_same_graph(got, from_tagged(vector["value"]))


def test_vectors_cover_every_inert_type() -> None:
    """The golden set holds every inert type, shared references and cycles."""
    used: set[str] = set()
    for vector in VECTORS:
        used |= tags_used(vector["value"])
    assert used >= {
        "none",
        "bool",
        "int",
        "float",
        "bytes",
        "str",
        "decimal",
        "list",
        "tuple",
        "dict",
        "set",
        "frozenset",
        "ref",
    }
    assert GOLDEN["foolscap"] == "24.9.0"
    assert any(name.startswith("cycle") for name in IDS)


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_decoder_byte_by_byte(vector: dict[str, Any]) -> None:
    """A Decoder fed Foolscap's bytes one at a time yields exactly the value."""
    decoder = Decoder()
    data = bytes.fromhex(vector["hex"])
    events = []
    for index in range(len(data)):
        decoder.receive_data(data[index : index + 1])
        events += decoder.events()
    assert [type(event) for event in events] == [ObjectReceived]
    assert_same_graph(events[0].obj, from_tagged(vector["value"]))


def test_all_values_on_one_connection() -> None:
    """One Encoder sends every golden value in turn; one Decoder reads them in 7-byte chunks."""
    values = [from_tagged(vector["value"]) for vector in VECTORS]
    encoder = Encoder()
    stream = b"".join(encoder.encode(value) for value in values)
    decoder = Decoder()
    events = []
    for offset in range(0, len(stream), 7):
        decoder.receive_data(stream[offset : offset + 7])
        events += decoder.events()
    assert all(isinstance(event, ObjectReceived) for event in events)
    assert len(events) == len(values)
    for event, value in zip(events, values, strict=True):
        assert_same_graph(event.obj, value)
