"""Two sans-IO PB connections joined by hand, with plain-Python hosts (no Twisted).

Everything here is ordinary Python: the objects sent by reference, the proxies and
the failures are small classes of this module, so a test of the wire layer shows
that it needs nothing of Twisted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from octavo.tub._wire._codec import PBCodec, pb_codec
from octavo.tub._wire._connection import PBConnection
from octavo.tub._wire._events import (
    AnswerReceived,
    AnswerRefused,
    CallReceived,
    CallRefused,
    ErrorReceived,
    PBEvent,
)
from octavo.tub._wire._references import RemoteReferenceTracker

A_TUBID = "a" * 32
B_TUBID = "b" * 32


class Obj:
    """One of our objects, callable from afar (``remote_*`` methods)."""

    def __init__(self, **methods: Callable[..., Any]) -> None:
        self.methods = methods

    def processUniqueID(self) -> int:
        return id(self)

    def getInterfaceName(self) -> str | None:
        return None

    def doRemoteCall(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return self.methods[name](*args, **kwargs)


class Proxy:
    """A proxy for an object of the far end."""

    def __init__(self, tracker: RemoteReferenceTracker) -> None:
        self.tracker = tracker


class Problem(Exception):  # noqa: N818 - a plain name for the tests
    """One of our failures."""


class CopiedProblem:
    """A failure of the far end, as received."""

    def __init__(self, state: dict[str, Any]) -> None:
        self.state = state

    def __repr__(self) -> str:
        return f"CopiedProblem({self.state.get('value')!r})"


CODEC: PBCodec = pb_codec(
    referenceable=Obj, remote_reference=Proxy, failure=Problem, copied_failure=CopiedProblem
)


class Host:
    """A ConnectionHost made of dicts and lists."""

    def __init__(self, tubid: str) -> None:
        self.tubid = tubid
        self.names: dict[str, Any] = {}
        self.lost: list[RemoteReferenceTracker] = []
        self.gifts = True

    def url_for(self, obj: Any) -> str | None:
        for name, o in self.names.items():
            if o is obj:
                return f"pb://{self.tubid}@tcp:127.0.0.1:1/{name}"
        return None

    def lookup_name(self, name: str) -> Any:
        return self.names[name]

    def make_proxy(self, tracker: RemoteReferenceTracker) -> Any:
        return Proxy(tracker)

    def proxy_lost(self, tracker: RemoteReferenceTracker) -> None:
        self.lost.append(tracker)

    def failure_state(self, failure: Any) -> dict[str, Any]:
        return {
            "type": b"tests.Problem",
            "value": str(failure).encode(),
            "traceback": b"",
            "parents": [b"tests.Problem", b"builtins.Exception"],
        }

    def make_failure(self, state: dict[str, Any]) -> Any:
        return CopiedProblem(state)

    def accepts_gifts(self) -> bool:
        return self.gifts


class Request:
    """What a caller keeps for one call: its reqID, a result constraint, the outcome."""

    def __init__(self, reqID: int, constraint: Any = None) -> None:
        self.reqID = reqID
        self.constraint = constraint


def connection(host: Host, remote_tubid: str, **kwargs: Any) -> PBConnection:
    """A PB connection for ``host`` with the vocabulary Foolscap negotiates (table 1)."""
    return PBConnection(host, CODEC, remote_tubid=remote_tubid, vocab_table_index=1, **kwargs)


class Pair:
    """Two connections, ``a`` and ``b``, and helpers that move bytes and run calls."""

    def __init__(self, **kwargs: Any) -> None:
        self.ha = Host(A_TUBID)
        self.hb = Host(B_TUBID)
        self.a = connection(self.ha, B_TUBID, **kwargs)
        self.b = connection(self.hb, A_TUBID, **kwargs)

    @staticmethod
    def joined(data: bytes | list[bytes]) -> bytes:
        return data if isinstance(data, bytes) else b"".join(data)

    def call(
        self,
        src: PBConnection,
        clid: int,
        method: str,
        *args: Any,
        answer: bool = True,
        **kwargs: Any,
    ) -> tuple[Request | None, bytes]:
        """The bytes of a call from ``src``; its Request (None without an answer)."""
        req = Request(src.allocate_reqid()) if answer else None
        return req, self.joined(src.send_call(req, clid, method, args, kwargs))

    def serve(self, conn: PBConnection, data: bytes) -> tuple[bytes, list[PBEvent]]:
        """Feed ``data`` to ``conn``, run the calls it carries on their targets, and
        return (the answers to send back, the other events)."""
        conn.receive_data(data)
        out: list[bytes] = []
        others: list[PBEvent] = []
        for ev in conn.events():
            if isinstance(ev, CallReceived):
                try:
                    if ev.methodname is None:
                        result = ev.obj(*ev.args, **ev.kwargs)
                    else:
                        result = ev.obj.doRemoteCall(ev.methodname, tuple(ev.args), ev.kwargs)
                except Exception as e:
                    if ev.reqID:
                        out.append(conn.send_error(ev.reqID, Problem(str(e))))
                    continue
                if ev.reqID:
                    out.append(self.joined(conn.send_answer(ev.reqID, result)))
            elif isinstance(ev, CallRefused):
                out.append(conn.send_refusal(ev.reqID, Problem(str(ev.reason))))
                others.append(ev)
            else:
                others.append(ev)
        return b"".join(out), others

    def round_trip(self, clid: int, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call ``method`` on b's object ``clid`` from a; the outcome as a's event."""
        req, data = self.call(self.a, clid, method, *args, **kwargs)
        answers, _ = self.serve(self.b, data)
        self.a.receive_data(answers)
        events = self.a.events()
        assert len(events) == 1, events
        ev = events[0]
        assert isinstance(ev, (AnswerReceived, ErrorReceived, AnswerRefused))
        assert ev.request is req
        return ev

    def publish(self, name: str, obj: Obj) -> Proxy:
        """b publishes ``obj``; a gets a proxy for it (a getReferenceByName call)."""
        self.hb.names[name] = obj
        ev = self.round_trip(0, "getReferenceByName", name=name.encode())
        assert isinstance(ev, AnswerReceived), ev
        proxy: Proxy = ev.result
        return proxy
