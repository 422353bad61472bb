"""Pure pieces of the broker side: trackers, SturdyRef/TubRef, failure state, keepalive."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.task import Clock
from twisted.python.failure import Failure

from octavo.banana import Violation
from octavo.tub._errors import DeadReferenceError, RemoteException
from octavo.tub._failure import (
    CopiedFailure,
    FailureStateError,
    failure_state,
    wrap_remote_failure,
)
from octavo.tub._keepalive import KeepaliveTimers
from octavo.tub._referenceable import PendingRequest, Referenceable, ReferenceableTracker
from octavo.tub._sturdyref import BadFURLError, SturdyRef, TubRef, decode_furl

TUBID = "abcdefghijklmnopqrstuvwxyz234567"


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
    t = ReferenceableTracker(None, object(), 1, 3)
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


def test_decode_furl_like_foolscap() -> None:
    """FURLs decode into (tubid, hints, name); bad ones raise BadFURLError."""
    assert decode_furl(f"pb://{TUBID}@tcp:h:1,tcp:g:2/name") == (
        TUBID,
        ["tcp:h:1", "tcp:g:2"],
        "name",
    )
    assert decode_furl(f"pb://{TUBID}@/n") == (TUBID, [], "n")
    for bad in ("http://x", f"pb://{TUBID}@a,,b/n", "pb://NOTBASE32!@h/n"):
        with pytest.raises(BadFURLError):
            decode_furl(bad)


def test_sturdyref_equality_ignores_hints() -> None:
    """Two SturdyRefs are equal when TubID and name match, whatever the hints."""
    a = SturdyRef(f"pb://{TUBID}@h:1/name")
    b = SturdyRef(f"pb://{TUBID}@other:2/name")
    c = SturdyRef(f"pb://{TUBID}@h:1/other")
    assert a == b and hash(a) == hash(b)
    assert a != c
    assert sorted([c, a])[0] is a
    assert a.getTubRef() == TubRef(TUBID)
    assert a.getTubRef().getLocations() == ["h:1"]
    assert a.getTubRef().getShortTubID() == "abcd"
    assert str(a) == a.getURL()
    with pytest.raises(ValueError):
        SturdyRef().getTubRef()


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


@given(
    type_name=st.text(min_size=1, max_size=150),
    value=st.text(max_size=300),
    tb=st.text(max_size=600),
    parents=st.lists(st.text(max_size=60), max_size=10),
)
def test_copied_failure_round_trip(type_name: str, value: str, tb: str, parents: list[str]) -> None:
    """A CopiedFailure's state rebuilds an equal CopiedFailure (relaying keeps it intact)."""
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
