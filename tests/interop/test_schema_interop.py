# ruff: noqa: N805 - Foolscap's spelling of RemoteInterfaces: no self, constraints as defaults
"""RemoteInterfaces between Octavo and a real Foolscap 24.9 Broker, in memory.

- one declaration text (``storage_schema``, written for Foolscap) loads into Octavo
  with only its import line changed, and both libraries accept and refuse the same
  sample values;
- a typed interface (annotations on Octavo's side, Foolscap's spelling on the
  other, one ``__remote_name__``) refuses a wrong argument on the caller's side and,
  with ``_useSchema=False``, on the callee's, each side played by each library;
- a result that breaks its schema is refused; the interface name crosses the wire
  both ways; a storage service declared with ``storage_schema`` is called from
  both libraries.
"""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any

import pytest
from foolscap import api as fapi
from foolscap.call import CopiedFailure as FCopiedFailure
from foolscap.tokens import Violation as FViolation
from twisted.python.failure import Failure
from zope.interface import implementer

from octavo.tub import Referenceable, RemoteInterface, Violation

from . import storage_schema as foolscap_decl
from .test_broker_interop import Pair

# -- the same declaration text, loaded by Octavo ------------------------------------

SOURCE = Path(foolscap_decl.__file__).read_text("utf-8")
OCTAVO_SOURCE = SOURCE.replace("from foolscap.api import (", "from octavo.tub import (", 1)
octavo_decl = types.ModuleType("storage_schema_octavo")
exec(compile(OCTAVO_SOURCE, "storage_schema_octavo", "exec"), octavo_decl.__dict__)


def test_only_the_import_line_differs() -> None:
    """The Octavo copy differs from Foolscap's text in its import line alone."""
    diff = [
        (a, b)
        for a, b in zip(SOURCE.splitlines(), OCTAVO_SOURCE.splitlines(), strict=True)
        if a != b
    ]
    assert diff == [("from foolscap.api import (", "from octavo.tub import (")]
    assert sorted(octavo_decl.RIStorageServer.names()) == sorted(
        foolscap_decl.RIStorageServer.names()
    )


# -- the same decisions on sample values --------------------------------------------

# placeholders for references: each library gets objects of its own
PLAIN, WRITER, SUBSCRIBER = "<plain ref>", "<writer ref>", "<subscriber ref>"


def _side_objects(lib: Any, base: type) -> dict[str, Any]:
    @implementer(lib.RIBucketWriter)
    class Writer(base):  # type: ignore[misc, valid-type]
        pass

    @implementer(lib.RIIntroducerSubscriberClient)
    class Subscriber(base):  # type: ignore[misc, valid-type]
        pass

    return {PLAIN: base(), WRITER: Writer(), SUBSCRIBER: Subscriber()}


F_OBJECTS = _side_objects(foolscap_decl, fapi.Referenceable)
O_OBJECTS = _side_objects(octavo_decl, Referenceable)


def _resolve(value: Any, objects: dict[str, Any]) -> Any:
    if isinstance(value, str) and value in objects:
        return objects[value]
    if isinstance(value, tuple):
        return tuple(_resolve(v, objects) for v in value)
    if isinstance(value, list):
        return [_resolve(v, objects) for v in value]
    if isinstance(value, dict):
        return {k: _resolve(v, objects) for k, v in value.items()}
    return value


H, SI = b"h" * 32, b"s" * 16
ANN = (b"pb://x", "storage", "RIStorageServer", "nick", "1.0", "1.0")
SAMPLE_CALLS: list[tuple[str, str, tuple[Any, ...], dict[str, Any]]] = [
    ("RIStorageServer", "allocate_buckets", (SI, H, H, {1, 2}, 100, PLAIN), {}),
    ("RIStorageServer", "allocate_buckets", (SI, H, H, {1, 2}, 100, WRITER), {}),
    ("RIStorageServer", "allocate_buckets", (b"s" * 17, H, H, {1}, 100, PLAIN), {}),
    ("RIStorageServer", "allocate_buckets", (SI, H[:31], H, {1}, 100, PLAIN), {}),
    ("RIStorageServer", "allocate_buckets", (SI, H, H, set(range(257)), 100, PLAIN), {}),
    ("RIStorageServer", "allocate_buckets", (SI, H, H, set(range(256)), 2**63, PLAIN), {}),
    ("RIStorageServer", "allocate_buckets", (SI, H, H, {1}, 2**64, PLAIN), {}),
    ("RIStorageServer", "allocate_buckets", (SI, H, H, [1], 100, PLAIN), {}),
    ("RIStorageServer", "allocate_buckets", (SI, H, H, {1}, 100, b"canary"), {}),
    ("RIStorageServer", "allocate_buckets", (SI, H, H, {1}, 100), {}),
    ("RIStorageServer", "allocate_buckets", (SI, H, H, {1}, 100, PLAIN), {"x": 1}),
    ("RIStorageServer", "allocate_buckets", (SI, H, H, {1}, 100, PLAIN, 7), {}),
    (
        "RIStorageServer",
        "add_lease",
        (),
        {"storage_index": SI, "renew_secret": H, "cancel_secret": H},
    ),
    ("RIStorageServer", "add_lease", (SI, H), {"renew_secret": H, "cancel_secret": H}),
    ("RIStorageServer", "slot_readv", (SI, [], [(0, 10)]), {}),
    ("RIStorageServer", "slot_readv", (SI, [1], [(0, 2**8192)]), {}),
    ("RIStorageServer", "slot_readv", (SI, [1], [(0, 2**8191)]), {}),
    ("RIStorageServer", "slot_readv", (SI, [1], [(0,)]), {}),
    (
        "RIStorageServer",
        "slot_testv_and_readv_and_writev",
        (SI, (H, H, H), {0: ([(0, 1, b"eq", b"")], [(0, b"data")], None)}, [(0, 10)]),
        {},
    ),
    (
        "RIStorageServer",
        "slot_testv_and_readv_and_writev",
        (SI, (H, H, H), {0: ([(0, 1, b"eq", b"")], [(0, b"data")], 5)}, []),
        {},
    ),
    (
        "RIStorageServer",
        "slot_testv_and_readv_and_writev",
        (SI, (H, H, H), {0: ([(0, 1, "eq", b"")], [(0, b"data")], None)}, []),
        {},
    ),
    (
        "RIStorageServer",
        "slot_testv_and_readv_and_writev",
        (SI, (H, H, H), {"0": ([], [], None)}, []),
        {},
    ),
    (
        "RIStorageServer",
        "slot_testv_and_readv_and_writev",
        (SI, (H, H, H), {0: ([], [], "x")}, []),
        {},
    ),
    ("RIStorageServer", "slot_testv_and_readv_and_writev", (SI, (H, H), {}, []), {}),
    ("RIStorageServer", "advise_corrupt_share", (b"mutable", SI, 3, b"bad hash"), {}),
    ("RIStorageServer", "advise_corrupt_share", ("mutable", SI, 3, b"bad hash"), {}),
    ("RIBucketWriter", "write", (0, b"x" * 100_000), {}),
    ("RIBucketWriter", "write", (-1, b""), {}),
    ("RIBucketWriter", "write", (1.5, b""), {}),
    ("RIBucketWriter", "close", (), {}),
    ("RIBucketWriter", "close", (1,), {}),
    ("RIBucketReader", "read", (0, 2**31), {}),
    ("RIBucketReader", "read", (0, True), {}),
    ("RIIntroducerSubscriberClient", "announce", ([ANN] * 100,), {}),
    ("RIIntroducerSubscriberClient", "announce", ([ANN] * 101,), {}),
    ("RIIntroducerSubscriberClient", "announce", ([(b"x" * 1001, *ANN[1:])],), {}),
    ("RIIntroducerSubscriberClient", "announce", ([ANN[:5]],), {}),
    ("RIIntroducerSubscriberClient", "set_encoding_parameters", ((3, 7, 10),), {}),
    ("RIIntroducerSubscriberClient", "set_encoding_parameters", ((3, 7),), {}),
    ("RIIntroducerSubscriberClient", "set_encoding_parameters", ([3, 7, 10],), {}),
    ("RIIntroducerPublisherAndSubscriberService", "subscribe", (SUBSCRIBER, "storage"), {}),
    ("RIIntroducerPublisherAndSubscriberService", "subscribe", (PLAIN, "storage"), {}),
    ("RIIntroducerPublisherAndSubscriberService", "subscribe", (SUBSCRIBER, b"storage"), {}),
    ("RIIntroducerPublisherAndSubscriberService", "publish", (ANN,), {}),
]

SAMPLE_RESULTS: list[tuple[str, str, Any]] = [
    ("RIStorageServer", "get_version", {b"http://example/v1": {b"k": 1}}),
    ("RIStorageServer", "get_version", {"http://example/v1": 1}),
    ("RIStorageServer", "allocate_buckets", ({1}, {1: WRITER})),
    ("RIStorageServer", "allocate_buckets", ({1}, {1: PLAIN})),
    ("RIStorageServer", "allocate_buckets", ({1}, {1: b"w"})),
    ("RIStorageServer", "add_lease", object),
    ("RIStorageServer", "slot_testv_and_readv_and_writev", (True, {0: [b"x"]})),
    ("RIStorageServer", "slot_testv_and_readv_and_writev", (1, {0: [b"x"]})),
    ("RIStorageServer", "advise_corrupt_share", None),
    ("RIStorageServer", "advise_corrupt_share", 0),
    ("RIBucketReader", "read", b"data"),
    ("RIBucketReader", "read", "data"),
    ("RIIntroducerPublisherAndSubscriberService", "get_version", {"v": [1]}),
]


def _decision(check: Any, *args: Any) -> bool:
    try:
        check(*args)
    except (Violation, FViolation):
        return False
    return True


@pytest.mark.parametrize(("iface", "method", "args", "kwargs"), SAMPLE_CALLS)
def test_same_decision_on_arguments(
    iface: str, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    """Foolscap and Octavo accept or refuse the same arguments (checked outbound and
    inbound, as each side's caller and callee would)."""
    fs, os_ = getattr(foolscap_decl, iface)[method], getattr(octavo_decl, iface)[method]
    fa, fk = _resolve(args, F_OBJECTS), _resolve(kwargs, F_OBJECTS)
    oa, ok = _resolve(args, O_OBJECTS), _resolve(kwargs, O_OBJECTS)
    want = _decision(fs.checkAllArgs, fa, fk, False)
    assert _decision(os_.checkAllArgs, oa, ok, False) == want


@pytest.mark.parametrize(("iface", "method", "value"), SAMPLE_RESULTS)
def test_same_decision_on_results(iface: str, method: str, value: Any) -> None:
    """Foolscap and Octavo accept or refuse the same results."""
    fs, os_ = getattr(foolscap_decl, iface)[method], getattr(octavo_decl, iface)[method]
    want = _decision(fs.checkResults, _resolve(value, F_OBJECTS), False)
    assert _decision(os_.checkResults, _resolve(value, O_OBJECTS), False) == want


def test_the_samples_exercise_both_outcomes() -> None:
    """The samples are not all accepted nor all refused (the comparison means something)."""
    outcomes = {
        _decision(getattr(foolscap_decl, i)[m].checkAllArgs, _resolve(a, F_OBJECTS), k, False)
        for i, m, a, k in SAMPLE_CALLS
    }
    assert outcomes == {True, False}


# -- one typed interface, two spellings, one name -------------------------------------

NAME = "RICalc.octavo-interop.example"


class FRICalc(fapi.RemoteInterface):
    __remote_name__ = NAME

    def add(a=int, b=int):
        return int

    def lie():
        return int


class ORICalc(RemoteInterface):
    __remote_name__ = NAME

    def add(self, a: int, b: int) -> int: ...

    def lie(self) -> int: ...


class _CalcMethods:
    def __init__(self) -> None:
        self.calls = 0

    def remote_add(self, a: int, b: int) -> int:
        self.calls += 1
        return a + b

    def remote_lie(self) -> Any:
        self.calls += 1
        return "not an int"


@implementer(FRICalc)
class FCalc(_CalcMethods, fapi.Referenceable):
    pass


@implementer(ORICalc)
class OCalc(_CalcMethods, Referenceable):
    pass


@pytest.fixture
def pair(monkeypatch: pytest.MonkeyPatch) -> Pair:
    p = Pair(monkeypatch)
    p.fcalc, p.ocalc = FCalc(), OCalc()  # type: ignore[attr-defined]
    p.ftub.inner.names["calc"] = p.fcalc  # type: ignore[attr-defined]
    p.otub.names["calc"] = p.ocalc  # type: ignore[attr-defined]
    return p


def _o_ref(pair: Pair, name: str) -> Any:
    return pair.result(pair.obroker.getYourReferenceByName(name))


def _f_ref(pair: Pair, name: str) -> Any:
    return pair.result(pair.fbroker.getYourReferenceByName(name))


def _is_violation(f: Any) -> bool:
    """A local Violation of either library, or a remote one copied to us."""
    if not isinstance(f, Failure):
        return False
    if isinstance(f, FCopiedFailure):
        return any(p.endswith(".Violation") for p in f.parents)
    return bool(f.check(Violation, FViolation, "foolscap.tokens.Violation"))


def test_interface_name_crosses_both_ways(pair: Pair) -> None:
    """Octavo sees the name Foolscap announces, and Foolscap sees Octavo's; each side
    finds its own declaration by that name."""
    oref = _o_ref(pair, "calc")
    assert oref.getRemoteInterfaceName() == NAME and oref.tracker.interface is ORICalc
    fref = _f_ref(pair, "calc")
    assert fref.tracker.interfaceName == NAME and fref.tracker.interface is FRICalc


def test_octavo_caller_refuses_locally(pair: Pair) -> None:
    """Octavo calling Foolscap: a wrong argument fails here, nothing is sent."""
    f = pair.result(_o_ref(pair, "calc").callRemote("add", 1, b"two"))
    assert isinstance(f, Failure) and f.check(Violation) and not isinstance(f, FCopiedFailure)
    assert pair.fcalc.calls == 0  # type: ignore[attr-defined]


def test_foolscap_callee_refuses(pair: Pair) -> None:
    """Octavo calling Foolscap with _useSchema=False: Foolscap refuses the argument."""
    ref = _o_ref(pair, "calc")
    f = pair.result(ref.callRemote("add", 1, b"two", _useSchema=False))
    assert _is_violation(f) and f.check("foolscap.tokens.Violation"), f
    assert pair.fcalc.calls == 0  # type: ignore[attr-defined]
    assert pair.result(ref.callRemote("add", 1, 2)) == 3


def test_foolscap_caller_refuses_locally(pair: Pair) -> None:
    """Foolscap calling Octavo: Foolscap refuses the wrong argument itself."""
    f = pair.result(_f_ref(pair, "calc").callRemote("add", 1, b"two"))
    assert isinstance(f, Failure) and f.check(FViolation) and not isinstance(f, FCopiedFailure)
    assert pair.ocalc.calls == 0  # type: ignore[attr-defined]


def test_octavo_callee_refuses(pair: Pair) -> None:
    """Foolscap calling Octavo with _useSchema=False: Octavo refuses the argument, and
    Foolscap gets a Violation failure; the connection goes on."""
    ref = _f_ref(pair, "calc")
    f = pair.result(ref.callRemote("add", 1, b"two", _useSchema=False))
    assert isinstance(f, FCopiedFailure) and _is_violation(f), f
    f = pair.result(ref.callRemote("add", 1, 2, 3, _useSchema=False))
    assert isinstance(f, FCopiedFailure) and "too many positional" in str(f.value), f
    assert pair.ocalc.calls == 0  # type: ignore[attr-defined]
    assert pair.result(ref.callRemote("add", 1, 2)) == 3


def test_results_that_break_the_schema(pair: Pair) -> None:
    """Each callee refuses its own bad result; each caller refuses a bad answer."""
    f = pair.result(_o_ref(pair, "calc").callRemote("lie"))
    assert _is_violation(f) and "return value" in str(f.value), f
    assert f.check("foolscap.tokens.Violation"), f
    f = pair.result(_f_ref(pair, "calc").callRemote("lie"))
    assert isinstance(f, FCopiedFailure) and "return value" in str(f.value), f
    # the callers' own check of an answer: a plain echo that must answer an int
    f = pair.result(pair.o_to_f().callRemote("echo", b"x", _resultConstraint=int))
    assert isinstance(f, Failure) and f.check(Violation), f
    f = pair.result(pair.f_to_o().callRemote("echo", b"x", _resultConstraint=int))
    assert isinstance(f, Failure) and f.check(FViolation), f


# -- a storage service declared with storage_schema, called by both --------------------


def _storage_classes(lib: Any, base: type) -> type:
    @implementer(lib.RIBucketWriter)
    class BucketWriter(base):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            self.data = b""
            self.closed = False

        def remote_write(self, offset: int, data: bytes) -> None:
            self.data = self.data[:offset] + data

        def remote_close(self) -> None:
            self.closed = True

        def remote_abort(self) -> None:
            self.data = b""

    @implementer(lib.RIStorageServer)
    class StorageServer(base):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            self.writers: dict[int, Any] = {}
            self.slots: dict[int, bytes] = {}

        def remote_get_version(self) -> dict[bytes, Any]:
            return {b"http://allmydata.org/tahoe/protocols/storage/v1": {b"max": 2**40}}

        def remote_allocate_buckets(  # noqa: PLR0917 - the protocol's signature
            self,
            storage_index: bytes,
            renew_secret: bytes,
            cancel_secret: bytes,
            sharenums: set[int],
            allocated_size: int,
            canary: Any,
        ) -> tuple[set[int], dict[int, Any]]:
            for n in sharenums:
                self.writers[n] = BucketWriter()
            return set(), dict(self.writers)

        def remote_slot_testv_and_readv_and_writev(
            self, storage_index: bytes, secrets: Any, tw_vectors: Any, r_vector: Any
        ) -> tuple[bool, dict[int, list[bytes]]]:
            old = {
                n: [self.slots.get(n, b"")[o : o + ln] for o, ln in r_vector] for n in tw_vectors
            }
            for n, (_testv, datav, _new_length) in tw_vectors.items():
                for offset, data in datav:
                    self.slots[n] = self.slots.get(n, b"")[:offset] + data
            return True, old

    return StorageServer


FStorage = _storage_classes(foolscap_decl, fapi.Referenceable)
OStorage = _storage_classes(octavo_decl, Referenceable)


@pytest.mark.parametrize("server", ["octavo", "foolscap"])
def test_storage_service(monkeypatch: pytest.MonkeyPatch, server: str) -> None:
    """A storage service of one library answers the other's client: versions, buckets
    as references with their interface, mutable slots; a bad call fails alone."""
    pair = Pair(monkeypatch)
    if server == "foolscap":
        pair.ftub.inner.names["storage"] = FStorage()
        ref, canary = _o_ref(pair, "storage"), Referenceable()
        writer_iface = octavo_decl.RIBucketWriter
    else:
        pair.otub.names["storage"] = OStorage()
        ref, canary = _f_ref(pair, "storage"), fapi.Referenceable()
        writer_iface = foolscap_decl.RIBucketWriter
    version = pair.result(ref.callRemote("get_version"))
    assert version == {b"http://allmydata.org/tahoe/protocols/storage/v1": {b"max": 2**40}}
    got = pair.result(ref.callRemote("allocate_buckets", SI, H, H, {0, 1}, 1000, canary))
    already, writers = got
    assert already == set() and sorted(writers) == [0, 1]
    w = writers[0]
    assert w.tracker.interfaceName == "RIBucketWriter" and w.tracker.interface is writer_iface
    assert pair.result(w.callRemote("write", 0, b"share data")) is None
    assert pair.result(w.callRemote("close")) is None
    bad = pair.result(w.callRemote("write", 0, "not bytes"))
    assert _is_violation(bad), bad
    bad = pair.result(w.callRemote("write", 0, "not bytes", _useSchema=False))
    assert _is_violation(bad) and isinstance(bad, (FCopiedFailure, Failure)), bad
    tw = {0: ([(0, 1, b"eq", b"")], [(0, b"slot data")], None)}
    assert pair.result(
        ref.callRemote("slot_testv_and_readv_and_writev", SI, (H, H, H), tw, [(0, 4)])
    ) == (True, {0: [b""]})
    assert pair.result(
        ref.callRemote("slot_testv_and_readv_and_writev", SI, (H, H, H), tw, [(0, 4)])
    ) == (True, {0: [b"slot"]})
