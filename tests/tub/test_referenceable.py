"""Pure pieces of the broker side: trackers, failure state, keepalive."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.task import Clock
from twisted.python.failure import Failure

from octavo.banana import Violation
from octavo.tub._broker._failure import CopiedFailure, failure_state, wrap_remote_failure
from octavo.tub._broker._keepalive import KeepaliveTimers
from octavo.tub._broker._requests import PendingRequest
from octavo.tub._errors import DeadReferenceError, FailureStateError, RemoteException
from octavo.tub._referenceable import Referenceable
from octavo.tub._wire._references import ReferenceableTracker


class CustomError(Exception):
    """An application exception."""


def make_failure(exc: BaseException) -> Failure:
    try:
        raise exc
    except BaseException:
        return Failure()


def test_referenceable_dispatches_remote_methods() -> None:
    """doRemoteCall runs remote_<name>; a missing one is an AttributeError naming it."""

    class R(Referenceable):
        def remote_add(self, a: int, b: int = 1) -> int:
            return a + b

    r = R()
    assert r.doRemoteCall("add", (1,), {"b": 5}) == 6
    with pytest.raises(AttributeError, match="'nope'"):
        r.doRemoteCall("nope", (), {})
    assert r.getInterface() is None
    assert r.getInterfaceName() is None
    assert r.getArgumentConstraint("add", 0) is None
    assert r.processUniqueID() == id(r)


def test_tracker_refcount() -> None:
    """send() counts transmissions (True on the first); decref retires at zero."""
    t = ReferenceableTracker(object(), 1, 3, lambda obj: None)
    assert t.send() is True
    assert t.send() is False
    assert t.decref(1) is False
    with pytest.raises(Violation):
        t.decref(2)
    with pytest.raises(Violation):
        t.decref(0)
    assert t.decref(1) is True
    assert t.getURL() is None


def test_pending_request_fires_once() -> None:
    """A PendingRequest fires its Deferred once; later completions are ignored."""
    req = PendingRequest(1, None, None, "m")
    got: list[Any] = []
    req.deferred.addBoth(got.append)
    req.complete(5)
    req.fail(Failure(ValueError()))
    assert got == [5]
    assert req.getMethodNameInfo() == (None, "m")


def test_dead_reference_error_text() -> None:
    """DeadReferenceError names why, the far Tub and the method."""
    req = PendingRequest(1, None, "RIFoo", "bar")
    e = DeadReferenceError("Connection was lost", "abcd", req)
    assert str(e) == "Connection was lost (to tubid=abcd) (during method=RIFoo:bar)"
    assert str(DeadReferenceError()) == ""


def test_failure_state_shape() -> None:
    """The state sent for a Failure has Foolscap's keys, order, types and limits."""
    f = make_failure(CustomError("x" * 5000))
    state = failure_state(f, unsafe_tracebacks=True)
    assert list(state) == ["value", "type", "traceback", "parents"]
    assert state["type"] == b"tests.tub.test_referenceable.CustomError"
    assert len(state["value"]) <= 1000
    assert b"make_failure" in state["traceback"]
    assert state["parents"][0] == b"tests.tub.test_referenceable.CustomError"
    assert b"builtins.Exception" in state["parents"]
    hidden = failure_state(f, unsafe_tracebacks=False)
    assert hidden["traceback"] == b"Traceback unavailable\n"


def test_long_violation_path_keeps_its_reason() -> None:
    """A Violation with a huge path (deep nesting) is sent with the path cut in the
    middle, so the reason is not lost to the 1000-character value limit."""
    v = Violation("max_depth 500 exceeded")
    v.setLocation("<RootUnslicer>" + ".[0]" * 600)
    value = failure_state(make_failure(v), unsafe_tracebacks=False)["value"]
    assert len(value) < 1000
    assert value.startswith(b"Violation (<RootUnslicer>.[0]")
    assert b"..." in value and value.endswith(b"('max_depth 500 exceeded',)")
    short = Violation("bad")
    short.setLocation("<RootUnslicer>.[1]")
    assert failure_state(make_failure(short), False)["value"] == str(short).encode()


def test_long_tracebacks_are_elided() -> None:
    """A traceback over 1900 characters keeps its head and tail."""

    def recurse(n: int) -> None:
        if n == 0:
            raise CustomError("deep")
        recurse(n - 1)

    f = make_failure(RecursionError())
    try:
        recurse(60)
    except CustomError:
        f = Failure()
    tb = failure_state(f, unsafe_tracebacks=True)["traceback"]
    assert b"-- TRACEBACK ELIDED --" in tb
    assert len(tb) <= 2000
    assert tb.rstrip().endswith(b"deep")


# A character encodes to at most 4 UTF-8 bytes: these sizes keep every field within its
# byte limit (type 200, value 1000, traceback 2000, parent 200), where relaying is lossless.
@given(
    type_name=st.text(min_size=1, max_size=50),
    value=st.text(max_size=250),
    tb=st.text(max_size=500),
    parents=st.lists(st.text(max_size=50), max_size=10),
)
def test_copied_failure_round_trip(type_name: str, value: str, tb: str, parents: list[str]) -> None:
    """A CopiedFailure within the size limits rebuilds intact from its state (relaying)."""
    cf = CopiedFailure(type_name, value, tb, parents)
    again = CopiedFailure.from_state(failure_state(cf, unsafe_tracebacks=True))
    assert (again.type_name, again.value, again.traceback, again.parents) == (
        type_name,
        value,
        tb,
        parents,
    )


def test_copied_failure_checks_by_name() -> None:
    """check/trap match the remote class and its bases, by class or by qualified name."""
    f = make_failure(KeyError("k"))
    cf = CopiedFailure.from_state(failure_state(f, unsafe_tracebacks=True))
    assert cf.check(KeyError) is KeyError
    assert cf.check(LookupError) is LookupError
    assert cf.check("builtins.KeyError") == "builtins.KeyError"
    assert cf.check(ValueError) is None
    assert cf.trap(KeyError) is KeyError
    with pytest.raises(RemoteException):
        cf.trap(ValueError)
    assert "KeyError" in cf.getTraceback()
    assert cf.getBriefTraceback()
    assert pickle.loads(pickle.dumps(cf)).check(KeyError)
    wrapped = wrap_remote_failure(cf)
    assert wrapped.check(RemoteException)
    assert "RemoteException around" in str(wrapped.value)


@pytest.mark.parametrize(
    "state",
    [
        {"type": b"x" * 201, "value": b"", "parents": []},
        {"type": b"t", "value": 5, "parents": []},
        {"type": b"t", "value": b"v", "parents": [b"p"] * 101},
        {"type": b"t", "value": b"v", "parents": [5]},
        {"type": b"t", "value": b"v", "parents": [], "extra": b""},
        {"value": b"v", "parents": []},
    ],
)
def test_bad_failure_state_is_refused(state: dict[str, Any]) -> None:
    """Malformed or oversized failure state raises FailureStateError."""
    with pytest.raises(FailureStateError):
        CopiedFailure.from_state(state)


def test_keepalive_timers_without_timeouts_do_nothing() -> None:
    """With both timeouts None no timer is started and no time is recorded."""
    clock = Clock()
    t = KeepaliveTimers(clock, None, None, lambda: None, lambda idle: None)
    t.start()
    t.data_received()
    assert clock.getDelayedCalls() == []
    assert t.last_received is None


def test_keepalive_pings_only_when_idle() -> None:
    """A PING goes out after an idle keepalive period, and the timer keeps running."""
    clock = Clock()
    pings: list[float] = []
    t = KeepaliveTimers(clock, 10, None, lambda: pings.append(clock.seconds()), lambda i: None)
    t.start()
    clock.advance(10.1)
    assert pings == [pytest.approx(10.1)]
    clock.advance(4.9)
    t.data_received()  # at 15: the check at 20.2 sees only 5.2 idle seconds
    clock.advance(5.2)
    assert len(pings) == 1
    clock.advance(10.1)  # at 30.3: 15.3 idle seconds
    assert len(pings) == 2
    t.stop()
    assert clock.getDelayedCalls() == []


def test_disconnect_timer_reports_idle_time() -> None:
    """The disconnect timer reports how long the connection was idle, once."""
    clock = Clock()
    idle: list[float] = []
    t = KeepaliveTimers(clock, None, 20, lambda: None, idle.append)
    t.start()
    clock.advance(15)
    t.data_received()
    clock.advance(5.1)
    assert idle == []
    clock.advance(20.1)  # at 40.2, nothing since 15
    assert idle == [pytest.approx(25.2)]
    assert clock.getDelayedCalls() == []


def test_local_referenceable_calls_eventually() -> None:
    """LocalReferenceable gives a local object callRemote, run on a later turn."""
    from octavo.tub._referenceable import LocalReferenceable

    class R(Referenceable):
        def remote_double(self, x: int) -> int:
            return 2 * x

    clock = Clock()
    local = LocalReferenceable(R(), clock=clock)
    got: list[Any] = []
    local.callRemote("double", 4).addBoth(got.append)
    local.callRemoteOnly("missing")
    assert got == []
    clock.advance(0)
    assert got == [8]
    assert local.notifyOnDisconnect(got.append) is None
    local.dontNotifyOnDisconnect(None)


@given(type_name=st.text(min_size=51, max_size=400))
def test_copied_failure_type_over_limit_is_truncated(type_name: str) -> None:
    """A type name over 200 encoded bytes is cut to at most 200 bytes when relayed."""
    cf = CopiedFailure(type_name, "", "", [])
    state = failure_state(cf, unsafe_tracebacks=True)
    assert len(state["type"]) <= 200
    if len(type_name.encode("utf-8")) <= 200:
        assert state["type"] == type_name.encode("utf-8")
