"""Wire proof: an Octavo Broker talks to a real Foolscap 24.9 Broker, in memory.

No TLS and no negotiation: the two protocols are joined by an in-memory pump, each
with the parameters Foolscap's negotiation would give it (decision version 3,
initial vocab table 1). Foolscap's eventual-send queue is pointed at the test's
Clock, so everything runs synchronously.
"""

from __future__ import annotations

import gc
from decimal import Decimal
from typing import Any

import pytest
from foolscap import broker as fbroker
from foolscap import eventual as feventual
from foolscap import ipb as fipb
from foolscap import referenceable as freferenceable
from foolscap.referenceable import TubRef as FTubRef
from twisted.internet.task import Clock
from twisted.python.failure import Failure
from zope.interface import implementer

from octavo.tub._broker._broker import Broker
from octavo.tub._broker._failure import CopiedFailure
from octavo.tub._errors import DeadReferenceError, RemoteException
from octavo.tub._referenceable import Referenceable, RemoteReference
from octavo.tub.testing import BrokerConnection, FakeTub

PARAMS = {"banana-decision-version": 3, "initial-vocab-table-index": 1}

INERT_VALUES: list[Any] = [
    0,
    1,
    -1,
    2**31,
    -(2**31) - 1,
    2**200,
    -(2**200),
    1.5,
    -0.25,
    b"",
    b"bytes\x00\xff",
    "",
    "unicode \u2603",
    None,
    True,
    False,
    [],
    [1, [2, [3]]],
    (),
    (1, "two", b"three"),
    {},
    {"a": 1, "b": [1, 2], "c": {"d": None}},
    {1, 2, 3},
    frozenset({"x", "y"}),
    Decimal("3.14159"),
    b"x" * 100_000,
]


@implementer(fipb.ITub)
class FoolscapFakeTub:
    """What a Foolscap Broker touches of its Tub."""

    unsafeTracebacks = True
    logLocalFailures = False
    logRemoteFailures = False
    debugBanana = False
    _expose_remote_exception_types = True
    accept_gifts = False

    def __init__(self, seed: str) -> None:
        self.inner = FakeTub(seed)
        self.tubID = self.inner.tubID
        self.detached: list[Failure] = []

    def getTubID(self) -> str:
        return self.tubID

    def getShortTubID(self) -> str:
        return self.tubID[:4]

    def getReferenceForName(self, name: str) -> Any:
        return self.inner.getReferenceForName(name)

    def getOrCreateURLForReference(self, ref: Any) -> str | None:
        return self.inner.getOrCreateURLForReference(ref)

    def brokerDetached(self, broker: Any, why: Failure) -> None:
        self.detached.append(why)


class _TargetMethods:
    """The remote methods both sides' test objects offer."""

    def __init__(self) -> None:
        self.calls: list[Any] = []

    def remote_echo(self, value: Any) -> Any:
        return value

    def remote_kw(self, a: Any, b: Any = 2, *, c: Any = 3) -> Any:
        return [a, b, c]

    def remote_make(self) -> Any:
        return type(self)()

    def remote_callback(self, rref: Any, value: Any) -> Any:
        return rref.callRemote("echo", value)

    def remote_is_me(self, obj: Any) -> bool:
        return obj is self

    def remote_note(self, value: Any) -> None:
        self.calls.append(value)

    def remote_call_function(self, fn: Any, **kwargs: Any) -> Any:
        return fn.callRemote(**kwargs)

    def remote_never(self) -> Any:
        from twisted.internet.defer import Deferred

        return Deferred()


class FTarget(_TargetMethods, freferenceable.Referenceable):
    """A Foolscap-side object."""

    def remote_fail(self) -> None:
        raise ValueError("foolscap says no")


class OTarget(_TargetMethods, Referenceable):
    """An Octavo-side object."""

    def remote_fail(self) -> None:
        raise KeyError("octavo says no")


class Pair:
    """An Octavo Broker (left) and a Foolscap Broker (right), pumped by a Clock."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, **broker_kwargs: Any) -> None:
        self.clock = Clock()
        monkeypatch.setattr(feventual, "reactor", self.clock)
        monkeypatch.setattr(feventual, "_theSimpleQueue", feventual._SimpleCallQueue())
        self.otub = FakeTub("octavo-side")
        self.ftub = FoolscapFakeTub("foolscap-side")
        self.ftarget = FTarget()
        self.otarget = OTarget()
        self.ftub.inner.names["target"] = self.ftarget
        self.otub.names["target"] = self.otarget
        self.obroker = Broker(
            self.otub, self.ftub.inner.tubref(), PARAMS, clock=self.clock, **broker_kwargs
        )
        self.fbroker = fbroker.Broker(FTubRef(self.otub.tubID), PARAMS)
        self.fbroker.setTub(self.ftub)
        self.conn = BrokerConnection(self.obroker, self.fbroker, self.clock)

    def pump(self) -> None:
        self.conn.pump()

    def result(self, d: Any) -> Any:
        out: list[Any] = []
        d.addBoth(out.append)
        self.pump()
        assert out, "the Deferred did not fire"
        return out[0]

    def o_to_f(self) -> RemoteReference:
        """Octavo's reference to the Foolscap target."""
        r = self.result(self.obroker.getYourReferenceByName("target"))
        assert isinstance(r, RemoteReference), r
        return r

    def f_to_o(self) -> Any:
        """Foolscap's reference to the Octavo target."""
        r = self.result(self.fbroker.getYourReferenceByName("target"))
        assert isinstance(r, freferenceable.RemoteReference), r
        return r


@pytest.fixture
def pair(monkeypatch: pytest.MonkeyPatch) -> Pair:
    return Pair(monkeypatch)


@pytest.mark.parametrize("value", INERT_VALUES, ids=repr)
def test_octavo_calls_foolscap_with_every_inert_type(pair: Pair, value: Any) -> None:
    """Octavo sends each inert value to Foolscap and gets the same value back."""
    r = pair.o_to_f()
    got = pair.result(r.callRemote("echo", value))
    assert got == value
    assert type(got) is type(value)


@pytest.mark.parametrize("value", INERT_VALUES, ids=repr)
def test_foolscap_calls_octavo_with_every_inert_type(pair: Pair, value: Any) -> None:
    """Foolscap sends each inert value to Octavo and gets the same value back."""
    r = pair.f_to_o()
    got = pair.result(r.callRemote("echo", value))
    assert got == value
    assert type(got) is type(value)


def test_keyword_arguments_both_ways(pair: Pair) -> None:
    """Positional and keyword arguments arrive where they belong, in both directions."""
    assert pair.result(pair.o_to_f().callRemote("kw", 1, c="see")) == [1, 2, "see"]
    assert pair.result(pair.f_to_o().callRemote("kw", a=5, b=6)) == [5, 6, 3]


def test_foolscap_exception_reaches_octavo_as_copied_failure(pair: Pair) -> None:
    """A ValueError raised in Foolscap arrives as a CopiedFailure that traps ValueError."""
    f = pair.result(pair.o_to_f().callRemote("fail"))
    assert isinstance(f, CopiedFailure)
    assert f.check(ValueError)
    assert f.value == "foolscap says no"
    assert "remote_fail" in f.traceback


def test_octavo_exception_reaches_foolscap_as_copied_failure(pair: Pair) -> None:
    """A KeyError raised in Octavo arrives in Foolscap as its own CopiedFailure."""
    from foolscap.call import CopiedFailure as FCopiedFailure

    f = pair.result(pair.f_to_o().callRemote("fail"))
    assert isinstance(f, FCopiedFailure)
    assert f.check(KeyError)
    assert "octavo says no" in f.value
    assert "remote_fail" in f.traceback


def test_unknown_method_is_an_error_answer_both_ways(pair: Pair) -> None:
    """Calling a missing method fails that call only; the connection keeps working."""
    f1 = pair.result(pair.o_to_f().callRemote("missing"))
    assert isinstance(f1, Failure) and f1.check(AttributeError)
    f2 = pair.result(pair.f_to_o().callRemote("missing"))
    assert isinstance(f2, Failure) and f2.check(AttributeError)
    assert pair.result(pair.o_to_f().callRemote("echo", 7)) == 7


def test_unexposed_exception_types_are_wrapped(pair: Pair) -> None:
    """With expose-remote-exception-types off, a remote failure is a RemoteException."""
    pair.obroker.expose_remote_exception_types = False
    f = pair.result(pair.o_to_f().callRemote("fail"))
    assert f.check(RemoteException)
    assert f.value.failure.check(ValueError)


def test_octavo_passes_referenceable_and_foolscap_calls_back(pair: Pair) -> None:
    """Octavo passes an object to Foolscap, which calls back through it."""
    mine = OTarget()
    assert pair.result(pair.o_to_f().callRemote("callback", mine, [1, "x"])) == [1, "x"]


def test_foolscap_passes_referenceable_and_octavo_calls_back(pair: Pair) -> None:
    """Foolscap passes an object to Octavo, which calls back through it."""
    theirs = FTarget()
    assert pair.result(pair.f_to_o().callRemote("callback", theirs, {"k": 1})) == {"k": 1}


def test_octavo_receives_new_foolscap_object_and_calls_it(pair: Pair) -> None:
    """A Referenceable returned by Foolscap becomes a working RemoteReference."""
    made = pair.result(pair.o_to_f().callRemote("make"))
    assert isinstance(made, RemoteReference)
    assert pair.result(made.callRemote("echo", "hi")) == "hi"


def test_foolscap_receives_new_octavo_object_and_calls_it(pair: Pair) -> None:
    """A Referenceable returned by Octavo becomes a working Foolscap RemoteReference."""
    made = pair.result(pair.f_to_o().callRemote("make"))
    assert pair.result(made.callRemote("echo", "hi")) == "hi"


def test_references_go_home_as_the_original_objects(pair: Pair) -> None:
    """A RemoteReference sent back to its owner arrives as the original object."""
    r = pair.o_to_f()
    assert pair.result(r.callRemote("is_me", r)) is True
    fr = pair.f_to_o()
    assert pair.result(fr.callRemote("is_me", fr)) is True


def test_octavo_decref_frees_foolscap_object(pair: Pair) -> None:
    """Dropping Octavo's last reference makes Foolscap forget the object (decref)."""
    r = pair.o_to_f()
    made = pair.result(r.callRemote("make"))
    assert len(pair.fbroker.myReferenceByCLID) == 2
    del made
    gc.collect()
    pair.pump()
    assert len(pair.fbroker.myReferenceByCLID) == 1


def test_foolscap_decref_frees_octavo_object(pair: Pair) -> None:
    """Dropping Foolscap's last reference makes Octavo forget the object (decref)."""
    r = pair.f_to_o()
    made = pair.result(r.callRemote("make"))
    assert len(pair.obroker.connection.my_references.by_clid) == 2
    del made
    gc.collect()
    pair.pump()
    assert len(pair.obroker.connection.my_references.by_clid) == 1


def test_call_remote_only_both_ways(pair: Pair) -> None:
    """callRemoteOnly delivers without an answer, in both directions."""
    pair.o_to_f().callRemoteOnly("note", 1)
    pair.f_to_o().callRemoteOnly("note", 2)
    pair.pump()
    assert pair.ftarget.calls == [1]
    assert pair.otarget.calls == [2]


def test_connection_loss_fails_outstanding_calls_on_both_sides(pair: Pair) -> None:
    """Losing the connection errbacks calls in flight with DeadReferenceError, both sides."""
    r = pair.o_to_f()
    fr = pair.f_to_o()
    ours: list[Any] = []
    theirs: list[Any] = []
    r.callRemote("echo", 1).addBoth(ours.append)
    fr.callRemote("echo", 2).addBoth(theirs.append)
    fired: list[str] = []
    r.notifyOnDisconnect(fired.append, "octavo")
    pair.conn.sever()
    pair.pump()
    assert isinstance(ours[0], Failure) and ours[0].check(DeadReferenceError)
    assert isinstance(theirs[0], Failure) and theirs[0].check(fipb.DeadReferenceError)
    assert fired == ["octavo"]
    assert pair.otub.detached and pair.ftub.detached


def test_many_calls_in_flight_are_answered_in_order(pair: Pair) -> None:
    """A hundred calls in flight each get their own answer."""
    r = pair.o_to_f()
    out: list[Any] = []
    for i in range(100):
        r.callRemote("echo", i).addCallback(out.append)
    pair.pump()
    assert out == list(range(100))


def test_functions_travel_both_ways(pair: Pair) -> None:
    """Bound methods passed as arguments are callable from the other side, both ways."""
    got: list[Any] = []

    def octavo_fn(**kwargs: Any) -> str:
        got.append(kwargs)
        return "octavo fn"

    assert pair.result(pair.o_to_f().callRemote("call_function", octavo_fn, x=1)) == "octavo fn"
    assert got == [{"x": 1}]
    theirs = FTarget()
    r = pair.f_to_o()
    assert pair.result(r.callRemote("call_function", theirs.remote_echo, value=[2])) == [2]


def test_ping_pong_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    """Octavo's keepalive PING is answered by Foolscap, and Foolscap's PING by Octavo."""
    pair = Pair(monkeypatch, keepalive_timeout=10)
    r = pair.o_to_f()
    pair.clock.advance(10.2)
    assert pair.conn.left_transport.buffer == [b"\x8e"]
    pair.pump()
    assert pair.obroker.getDataLastReceivedAt() == pair.clock.seconds()
    pair.fbroker.sendPING(7)
    assert pair.conn.right_transport.buffer[-1] == b"\x8e"
    pair.pump()
    assert pair.result(r.callRemote("echo", "still fine")) == "still fine"


def test_octavo_disconnect_timeout_against_a_silent_foolscap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """If Foolscap falls silent, Octavo's disconnect timeout fails the calls in flight."""
    pair = Pair(monkeypatch, disconnect_timeout=30)
    r = pair.o_to_f()
    out: list[Any] = []
    r.callRemote("never").addBoth(out.append)
    pair.pump()
    pair.conn.right_transport.connected = False  # Foolscap's bytes no longer arrive
    pair.clock.advance(30.2)
    pair.clock.advance(30.2)
    pair.pump()
    assert out and out[0].check(DeadReferenceError)


def test_foolscap_without_exposed_types_wraps_octavo_errors(pair: Pair) -> None:
    """A Foolscap Tub with expose-remote-exception-types off sees RemoteException."""
    from foolscap.tokens import RemoteException as FRemoteException

    pair.fbroker._expose_remote_exception_types = False
    f = pair.result(pair.f_to_o().callRemote("fail"))
    assert f.check(FRemoteException)
    assert f.value.failure.check(KeyError)
