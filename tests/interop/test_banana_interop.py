"""octavo.banana against real Foolscap 24.9: same bytes, and each reads the other.

For a broad Hypothesis corpus of inert values (every type, boundary and big ints,
Decimal specials, shared references, cycles, including cycles through tuples) Octavo's
``serialize`` must equal ``foolscap.storage.serialize`` byte for byte, and each side's
``unserialize`` must rebuild the other's output as an equal graph.
"""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO
from typing import Any

import pytest
from foolscap.storage import (
    SerializerTransport,
    StorageBanana,
    StorageRootSlicer,
    serialize,
    unserialize,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twisted.python.failure import Failure

from octavo import banana
from tests.banana.vectors.graph import assert_same_graph

MAX_EXAMPLES = 300
INTEROP = settings(
    max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def _wait(deferred: Any) -> Any:
    results: list[Any] = []
    deferred.addBoth(results.append)
    (result,) = results  # storage (un)serialization fires synchronously
    if isinstance(result, Failure):
        result.raiseException()
    return result


def foolscap_serialize(value: object) -> bytes:
    """foolscap.storage.serialize, waited for."""
    data = _wait(serialize(value))
    assert isinstance(data, bytes)
    return data


def foolscap_unserialize(data: bytes) -> object:
    """foolscap.storage.unserialize, waited for."""
    return _wait(unserialize(data))


# ---- strategies ---------------------------------------------------------------------

BOUNDARY_INTS = sorted(
    {
        sign * (base + delta)
        for base in (0, 127, 128, 2**14, 2**28, 2**31, 2**32, 2**63, 2**64, 2**128, 256**127)
        for delta in (-1, 0, 1)
        for sign in (1, -1)
    }
)
DECIMAL_SPECIALS = [
    "NaN",
    "-NaN",
    "sNaN",
    "NaN42",
    "Infinity",
    "-Infinity",
    "-0",
    "0E-7",
    "1E+10",
    "1.50",
    "-123.456E-89",
    "3141592653589793238462643383279.5",
]

ints = st.one_of(
    st.integers(min_value=-300, max_value=300),
    st.integers(),
    st.integers(min_value=-(2**300), max_value=2**300),
    st.sampled_from(BOUNDARY_INTS),
)
floats = st.floats(allow_nan=True, allow_infinity=True)
texts = st.text(max_size=24)
byte_strings = st.binary(max_size=48)
decimals = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False, places=None),
    st.sampled_from(DECIMAL_SPECIALS).map(Decimal),
)
hashable_decimals = decimals.filter(lambda d: not d.is_snan())
scalars = st.one_of(st.none(), st.booleans(), ints, floats, texts, byte_strings, decimals)

hashables = st.recursive(
    st.one_of(st.none(), st.booleans(), ints, floats, texts, byte_strings, hashable_decimals),
    lambda inner: st.one_of(
        st.tuples(inner, inner),
        st.lists(inner, max_size=3).map(tuple),
        st.frozensets(inner, max_size=3),
    ),
    max_leaves=6,
)

# Foolscap sends dict keys sorted, so the keys of one dict must be mutually comparable.
KEY_FAMILIES = [
    st.integers(),
    st.one_of(st.integers(), st.floats(allow_nan=False), st.booleans()),
    texts,
    byte_strings,
    st.tuples(st.integers(-5, 5), texts),
]


def _dicts(values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[Any, Any]]:
    return st.one_of(
        st.sampled_from(KEY_FAMILIES).flatmap(
            lambda keys: st.dictionaries(keys, values, max_size=5)
        ),
        st.dictionaries(hashables, values, max_size=1),  # one key never gets compared
    )


trees = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.lists(inner, max_size=5).map(tuple),
        _dicts(inner),
        st.sets(hashables, max_size=5),
        st.frozensets(hashables, max_size=5),
    ),
    max_leaves=25,
)


def _containers(value: object) -> list[Any]:
    """Every list, tuple, dict and set in the graph, once each, depth first."""
    found: list[Any] = []
    seen: set[int] = set()
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, (list, tuple, dict, set, frozenset)):
            if id(node) in seen:
                continue
            seen.add(id(node))
            found.append(node)
            stack.extend(node.values() if isinstance(node, dict) else node)
    return found


@st.composite
def graphs(draw: st.DrawFn) -> object:
    """A tree, then up to 4 extra links from lists/dicts to any container in it.

    A link to an ancestor makes a cycle (through tuples too), any other link shares.
    """
    root = draw(st.one_of(trees, st.lists(trees, min_size=1, max_size=4)))
    for _ in range(draw(st.integers(0, 4))):
        nodes = _containers(root)
        holders = [n for n in nodes if isinstance(n, list) or (isinstance(n, dict) and n)]
        if not holders:
            break
        holder = draw(st.sampled_from(holders))
        target = draw(st.sampled_from(nodes))
        if isinstance(holder, list):
            holder.insert(draw(st.integers(0, len(holder))), target)
        else:
            holder[draw(st.sampled_from(sorted(holder, key=repr)))] = target
    return root


# ---- properties ---------------------------------------------------------------------


@INTEROP
@given(graphs())
def test_same_bytes_as_foolscap(value: object) -> None:
    """Octavo's serialize() equals Foolscap's byte for byte."""
    assert banana.serialize(value).hex() == foolscap_serialize(value).hex()


@INTEROP
@given(graphs())
def test_octavo_reads_foolscap(value: object) -> None:
    """Octavo's unserialize() rebuilds what Foolscap serialized, sharing and cycles kept."""
    assert_same_graph(banana.unserialize(foolscap_serialize(value)), value)


@INTEROP
@given(graphs())
def test_foolscap_reads_octavo(value: object) -> None:
    """Foolscap's unserialize() rebuilds what Octavo serialized, sharing and cycles kept."""
    assert_same_graph(foolscap_unserialize(banana.serialize(value)), value)


@pytest.mark.parametrize("number", BOUNDARY_INTS)
def test_boundary_ints(number: int) -> None:
    """Every INT/NEG/LONGINT/LONGNEG and header-length boundary matches and reads back."""
    data = foolscap_serialize(number)
    assert banana.serialize(number) == data
    assert_same_graph(banana.unserialize(data), number)


def test_cycle_forms() -> None:
    """Self-containing list/dict, and cycles through a tuple, match Foolscap both ways."""
    me: list[object] = []
    me.append(me)
    d: dict[str, object] = {}
    d["d"] = d
    inner: list[object] = []
    outer = (inner, "t")
    inner.append(outer)
    for value in (me, d, outer, inner, [outer, inner, me, d]):
        data = foolscap_serialize(value)
        assert banana.serialize(value) == data
        assert_same_graph(banana.unserialize(data), value)
        assert_same_graph(foolscap_unserialize(banana.serialize(value)), value)


# ---- one connection: open counts continue across messages ---------------------------


class _CollectingBanana(StorageBanana):
    """A storage Banana that keeps every top-level object it receives."""

    def __init__(self) -> None:
        super().__init__()
        self.received: list[object] = []

    def receiveChild(self, obj: object, ready_deferred: object = None) -> None:
        self.received.append(obj)


class _PerObjectScopeRoot(StorageRootSlicer):
    """Foolscap's storage root slicer with references scoped to one top-level object.

    StorageBanana alone would keep references across sends on one connection; on a
    Tub connection every top-level sequence (call, answer...) is its own scope, which
    is what Octavo's Encoder models, so the scope is reset before each object.
    """

    def send(self, obj: object) -> Any:
        self.references = {}
        return super().send(obj)


def foolscap_stream(values: list[object]) -> bytes:
    """What one Foolscap Banana connection sends for these objects in turn."""
    sink = BytesIO()
    sender = StorageBanana()
    sender.slicerClass = _PerObjectScopeRoot
    sender.transport = SerializerTransport(sink)
    sender.connectionMade()
    for value in values:
        _wait(sender.send(value))
    return sink.getvalue()


def foolscap_read_stream(data: bytes) -> list[object]:
    """Every top-level object one Foolscap Banana connection decodes from ``data``."""
    receiver = _CollectingBanana()
    receiver.connectionMade()
    receiver.dataReceived(data)
    return receiver.received


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(graphs(), min_size=1, max_size=4))
def test_connection_stream_matches_foolscap(values: list[object]) -> None:
    """One Encoder's messages equal one Foolscap connection's bytes, and both read them."""
    encoder = banana.Encoder()
    ours = b"".join(encoder.encode(value) for value in values)
    assert ours.hex() == foolscap_stream(values).hex()
    theirs = foolscap_read_stream(ours)
    assert len(theirs) == len(values)
    for got, want in zip(theirs, values, strict=True):
        assert_same_graph(got, want)
    decoder = banana.Decoder()
    decoder.receive_data(ours)
    events = decoder.events()
    objects = [event.obj for event in events if isinstance(event, banana.ObjectReceived)]
    assert len(objects) == len(values)
    for got, want in zip(objects, values, strict=True):
        assert_same_graph(got, want)
