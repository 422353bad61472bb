"""Atheris fuzz target: a mutated PB call stream, in any chunking, fast paths on and off.

Run (as ``tox -e fuzz`` does)::

    python fuzz/fuzz_pb.py -max_total_time=60 -rss_limit_mb=2048

The receiving end is octavo-tub's sans-IO ``PBConnection``, run by a plain-Python
owner (no Twisted) as the Tub's broker runs one. Before the stream, it is where a
connection is after the far end asked for its object "obj" (``getReferenceByName``):
the far end holds "obj" as clid 1, and eight calls of ours wait for their answers
(two with a result constraint). The objects take any arguments: "echo" (or any name
but "fail") answers with what it was given, "fail" raises; but "typed" obeys a
RemoteInterface method schema (an int, a list of at most three byte strings, an
optional str), checked token by token or, for sure scalar calls, by the admission.
Copyables of two copytypes are known to the receiving end: "fuzz.Point" with a
``stateSchema`` (two ints, checked as its tokens arrive) and "fuzz.Bag" with none;
any other copytype is a Violation of its message.

Each input is three bytes, then the stream (what the far end sends next):

- a chunking byte: 0 the whole stream at once, 1 byte by byte, else random lengths;
- a limits byte: ``max_inbound_calls``, ``max_message_size`` and the decoder's
  ``max_depth`` and ``max_token_size``, each the default or a small value;
- an owner byte: when the owner answers calls and resolves gifts (at once; after each
  chunk, oldest or newest first; only while the connection blocks input; or once the
  stream has ended), whether gifts resolve or fail, and whether the host takes gifts.

The stream goes to fresh receivers with the fast paths on and off, whole and in the
chunks chosen. Checks:

- only BananaError escapes ``receive_data`` (then the connection is dead), and not one
  that wraps an unexpected exception (the decoder turns those into BananaError);
- running the events as an owner does (``send_answer``/``send_error``,
  ``send_refusal``, ``send_pong``, ``gift_resolved``/``gift_failed``, at the end
  ``release_reference`` for lost proxies) raises nothing but a Violation from
  ``send_answer`` (a result that cannot be sent: the owner sends an error instead);
- arguments and results reaching the owner are values, our objects or proxies (no
  placeholder left); each of our requests is settled at most once, and ``close``
  hands back exactly those that were not;
- the admission counters stay consistent (never negative, no more calls running than
  ``max_inbound_calls``, at most as many again held, every active reqID running or
  queued), and once the owner has answered everything none runs and none is held;
- fast paths on and off give the same events (normalised: values described, reasons
  as text) and the same outcome (the same BananaError text, or none), whole or
  chunked;
- when nothing can make the chunking matter (the default limits, an owner that acts
  once the stream has ended), whole and chunked give the same events (in the same
  order, but for PINGs and refused messages, which are reported after the calls and
  answers of the same data) and both or neither end in a BananaError. (Two bugs
  once broke this: an OPEN refused only once finished when it arrived with its
  opentype, and PINGs decoded before a protocol error not reported; their inputs are
  kept as regressions.)

Unless a corpus directory is given, the fuzzer starts from seeds that are real streams
of the far end (calls with assorted arguments, references, Copyables, a gift from a third Tub,
answers and errors to our calls, PING, ``add-vocab``/``set-vocab``, an ERROR token),
in a temporary directory kept between runs. Inputs that once failed are kept as
fuzz/regressions/pb-*.bin and replayed first.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import atheris
from _fuzzing import chunk_sizes, describe, run

# (atheris includes whole top-level packages: all of octavo, none of Twisted)
with atheris.instrument_imports(include=["octavo"]):
    from octavo.banana import IntegerConstraint, ListOf, Optional
    from octavo.tub._copy_registry import CopyableRegistry
    from octavo.tub._copy_schema import AttributeDictConstraint
    from octavo.tub._copyable import Copyable, RemoteCopy, install_copy_slicers
    from octavo.tub._errors import BananaError, Violation
    from octavo.tub._schema._method import RemoteMethodSchema
    from octavo.tub._wire._codec import pb_codec
    from octavo.tub._wire._connection import (
        DEFAULT_MAX_INBOUND_CALLS,
        DEFAULT_MAX_MESSAGE_SIZE,
        PBConnection,
    )
    from octavo.tub._wire._events import (
        AnswerReceived,
        AnswerRefused,
        CallReceived,
        CallRefused,
        ErrorReceived,
        GiftReceived,
        MessageRefused,
        PBEvent,
        PeerError,
        PingReceived,
    )
    from octavo.tub._wire._references import RemoteReferenceTracker

A_TUBID = "a" * 32  # the far end, whose stream is fuzzed
B_TUBID = "b" * 32  # the receiving end
C_TUBID = "c" * 32  # a third Tub, whose object the far end passes on as a gift


# ---------------------------------------------------------------- a plain-Python host


#: the schema of the objects' "typed" method
TYPED = RemoteMethodSchema(
    _response=int, n=int, items=ListOf(bytes, maxLength=3), label=Optional(str, "")
)


class Obj:
    """One of our objects: "fail" raises, any other method answers with its arguments."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Obj({self.name})"

    def processUniqueID(self) -> int:
        return id(self)

    def getInterfaceName(self) -> str | None:
        return None

    def getMethodSchema(self, name: str) -> Any:
        """ "typed" obeys TYPED; any other method takes anything."""
        return TYPED if name == "typed" else None

    def doRemoteCall(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if name == "fail":
            raise Problem(f"{self.name} failed as asked")
        return [list(args), kwargs]


class Proxy:
    """A proxy for an object of the far end."""

    def __init__(self, tracker: RemoteReferenceTracker) -> None:
        self.tracker = tracker

    def __repr__(self) -> str:  # error texts may quote it: no address
        return f"Proxy({self.tracker.clid}, {self.tracker.url})"


class Problem(Exception):  # noqa: N818 - a plain name, as in tests/tub/_pb_pair.py
    """One of our failures."""


class CopiedProblem:
    """A failure of the far end, as received."""

    def __init__(self, state: dict[str, Any]) -> None:
        self.state = state

    def __repr__(self) -> str:  # error texts may quote it: no address
        return f"CopiedProblem({self.state.get('value')!r})"


#: the copytypes the receiving end knows (none from the process-wide registry)
COPYABLES = CopyableRegistry()


class Point(RemoteCopy):
    """A received "fuzz.Point": two ints, checked by its stateSchema."""

    copytype = "fuzz.Point"
    stateSchema = AttributeDictConstraint(("x", int), ("y", int))
    copyableRegistry = COPYABLES


class Bag(RemoteCopy):
    """A received "fuzz.Bag": any attributes."""

    copytype = "fuzz.Bag"
    copyableRegistry = COPYABLES


class Sent(Copyable):
    """A Copyable the far end sends: any copytype, any state."""

    def __init__(self, copytype: str, **state: object) -> None:
        self.typeToCopy = copytype
        self.state = state

    def getStateToCopy(self) -> dict[str, Any]:
        return self.state


CODEC = pb_codec(
    referenceable=Obj,
    remote_reference=Proxy,
    failure=Problem,
    copied_failure=CopiedProblem,
    copyables=COPYABLES,
)
install_copy_slicers(CODEC.slicers)


class Host:
    """A ConnectionHost made of dicts and lists."""

    def __init__(self, tubid: str, *, gifts: bool = True) -> None:
        self.tubid = tubid
        self.names: dict[str, Any] = {}
        self.lost: list[RemoteReferenceTracker] = []
        self.gifts = gifts

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
            "type": b"fuzz.Problem",
            "value": str(failure).encode(),
            "traceback": b"",
            "parents": [b"fuzz.Problem", b"builtins.Exception"],
        }

    def make_failure(self, state: dict[str, Any]) -> Any:
        return CopiedProblem(state)

    def accepts_gifts(self) -> bool:
        return self.gifts


class Request:
    """One of our calls waiting for its answer."""

    def __init__(self, reqID: int, constraint: Any = None) -> None:
        self.reqID = reqID
        self.constraint = constraint


def connection(host: Host, remote_tubid: str, **kwargs: Any) -> PBConnection:
    """A PB connection with the vocabulary Foolscap negotiates (table 1)."""
    return PBConnection(host, CODEC, remote_tubid=remote_tubid, vocab_table_index=1, **kwargs)


def joined(data: bytes | list[bytes]) -> bytes:
    return data if isinstance(data, bytes) else b"".join(data)


def hello() -> tuple[PBConnection, Host, bytes]:
    """A fresh far end, and its first message: ``getReferenceByName("obj")``."""
    host = Host(A_TUBID)
    a = connection(host, B_TUBID, fast_paths=True)
    req = Request(a.allocate_reqid())
    return a, host, joined(a.send_call(req, 0, "getReferenceByName", (), {"name": b"obj"}))


HELLO = hello()[2]
#: the result constraints of our calls waiting for an answer (reqIDs 1 to 8)
OUR_CALLS: list[Any] = [None, None, IntegerConstraint(), None, ListOf(int), None, None, None]


# ---------------------------------------------------------------- configurations

# The limits byte: two bits each. Every choice still reads HELLO.
MAX_INBOUND_CALLS = [DEFAULT_MAX_INBOUND_CALLS, 1, 2, 4]
MAX_MESSAGE_SIZE = [DEFAULT_MAX_MESSAGE_SIZE, 64, 150, 400]
MAX_DEPTH: list[int | None] = [None, 2, 3, 6]
MAX_TOKEN_SIZE: list[int | None] = [None, 24, 100, 1000]


def limits_for(selector: int) -> dict[str, Any]:
    """PBConnection keyword arguments chosen by one byte."""
    decoder: dict[str, int] = {}
    depth, token = MAX_DEPTH[selector >> 4 & 3], MAX_TOKEN_SIZE[selector >> 6 & 3]
    if depth is not None:
        decoder["max_depth"] = depth
    if token is not None:
        decoder["max_token_size"] = token
    return {
        "max_inbound_calls": MAX_INBOUND_CALLS[selector & 3],
        "max_message_size": MAX_MESSAGE_SIZE[selector >> 2 & 3],
        "decoder_limits": decoder,
    }


# The owner byte: bits 0-2 when calls are answered and gifts resolved (modulo 5), bit 3
# gifts fail, bit 4 the host refuses gifts.
AT_ONCE, AFTER_CHUNK, AFTER_CHUNK_NEWEST_FIRST, WHEN_BLOCKED, AT_END = range(5)
GIFTS_FAIL = 8
NO_GIFTS = 16


def owner_mode(owner: int) -> int:
    """When the owner answers calls and resolves gifts (one of AT_ONCE...AT_END)."""
    return (owner & 7) % 5


def chunking_invariant(limits: int, owner: int) -> bool:
    """Whether whole and chunked input must give the same events: when nothing the owner
    does between chunks changes what the connection reads (it answers at the end; an
    answer may free a reqID, a decref an object) and no limit counts per chunk (calls
    waiting to be taken, unfinished bytes)."""
    return limits & 0x0F == 0 and owner_mode(owner) == AT_END


# ---------------------------------------------------------------- normalised events


def leaf(node: object, again: Callable[[object], object]) -> object:
    """Describe what PB adds to decoded values (see ``_fuzzing.describe``)."""
    if type(node) is Proxy:
        t = node.tracker
        return ("proxy", t.clid, t.url, t.interfaceName)
    if type(node) is Obj:
        return ("obj", node.name)
    if type(node) is CopiedProblem:
        return ("failure", again(node.state))
    if type(node) in (Point, Bag):
        return ("copy", type(node).__name__, again(dict(vars(node))))
    return None  # a Pending, or anything else: a bug


def normal(event: PBEvent) -> tuple[object, ...]:
    """What must agree between receivers, for one event."""
    if isinstance(event, CallReceived):
        target = event.obj.name if isinstance(event.obj, Obj) else type(event.obj).__name__
        values = describe((event.args, event.kwargs), leaf)
        return ("call", event.reqID, event.methodname, target, values)
    if isinstance(event, CallRefused):
        return ("call-refused", event.reqID, str(event.reason))
    if isinstance(event, AnswerReceived):
        return ("answer", event.request.reqID, describe(event.result, leaf))
    if isinstance(event, ErrorReceived):
        return ("error", event.request.reqID, describe(event.failure, leaf))
    if isinstance(event, AnswerRefused):
        return ("answer-refused", event.request.reqID, str(event.reason))
    if isinstance(event, GiftReceived):
        return ("gift", event.url)
    if isinstance(event, MessageRefused):
        return ("message-refused", str(event.violation))
    if isinstance(event, PingReceived):
        return ("ping", event.number)
    assert isinstance(event, PeerError), event
    return ("peer-error", event.message)


# ---------------------------------------------------------------- the owner


class Owner:
    """Runs one receiving connection as the Tub's broker does, and checks it."""

    def __init__(self, limits: int, owner: int, *, fast: bool) -> None:
        self.mode = owner_mode(owner)
        self.gifts_fail = bool(owner & GIFTS_FAIL)
        self.host = Host(B_TUBID, gifts=not owner & NO_GIFTS)
        self.host.names["obj"] = Obj("obj")
        self.conn = connection(self.host, A_TUBID, fast_paths=fast, **limits_for(limits))
        self.log: list[tuple[object, ...]] = []
        self.error: str | None = None
        self.dead = False
        self.sent: list[bytes] = []
        self.calls: list[CallReceived] = []  # to answer later (in the deferred modes)
        self.gifts: list[GiftReceived] = []
        self.requests = {i + 1: Request(i + 1, c) for i, c in enumerate(OUR_CALLS)}
        self.settled: set[int] = set()
        # where the stream starts: "obj" sent as clid 1, our calls sent
        self.conn.receive_data(HELLO)
        self.handle()
        self.settle_all()
        assert self.log == [("call", 1, "getReferenceByName", "OwnMethods", self.log[0][4])]
        for req in self.requests.values():
            assert self.conn.allocate_reqid() == req.reqID
            self.sent.append(joined(self.conn.send_call(req, 0, "getReferenceByName", (), {})))
        self.log.clear()

    # -- input --------------------------------------------------------------------------

    def feed(self, chunk: bytes) -> None:
        """One chunk from the far end, and what the owner does about it."""
        if self.dead:
            return
        try:
            self.conn.receive_data(chunk)
        except BananaError as e:
            cause = e.__cause__
            assert cause is None or isinstance(cause, (BananaError, Violation)), repr(cause)
            self.error = str(e)
            self.dead = True
        self.handle()  # what arrived before a protocol error is acted on
        if self.dead:
            return
        if self.mode in (AFTER_CHUNK, AFTER_CHUNK_NEWEST_FIRST):
            self.settle_all()
        elif self.mode == WHEN_BLOCKED:
            self.resolve_gifts()
            while self.calls and self.conn.input_blocked and not self.dead:
                self.answer(self.calls.pop(0))
                self.check()
                self.handle()

    def finish(self) -> None:
        """The end of the stream: answer everything, then check nothing is left; the
        connection is closed, handing back our calls that had no answer."""
        if not self.dead:
            self.settle_all()
            adm = self.conn.admission
            assert adm.running == 0, adm.running
            assert not self.conn.inbound.held, self.conn.waiting_calls
        for tracker in self.host.lost:
            self.conn.release_reference(tracker)
        unanswered = {req.reqID for req in self.conn.close()}
        assert unanswered == self.requests.keys() - self.settled, (unanswered, self.settled)

    # -- acting on events ---------------------------------------------------------------

    def handle(self) -> None:
        """Act on every event (and those that acting releases)."""
        conn = self.conn
        while True:
            events = conn.events()
            if not events:
                return
            for ev in events:
                self.log.append(normal(ev))
                self.act(ev)
                self.check()

    def act(self, ev: PBEvent) -> None:
        conn = self.conn
        if isinstance(ev, CallReceived):
            if self.mode == AT_ONCE:
                self.answer(ev)
            else:
                self.calls.append(ev)
        elif isinstance(ev, CallRefused):
            self.sent.append(conn.send_refusal(ev.reqID, Problem(str(ev.reason))))
        elif isinstance(ev, (AnswerReceived, ErrorReceived, AnswerRefused)):
            reqid = ev.request.reqID
            assert self.requests.get(reqid) is ev.request, reqid
            assert reqid not in self.settled, reqid
            self.settled.add(reqid)
        elif isinstance(ev, GiftReceived):
            if self.mode == AT_ONCE:
                self.resolve(ev)
            else:
                self.gifts.append(ev)
        elif isinstance(ev, PingReceived):
            self.sent.append(conn.send_pong(ev.number))
        elif isinstance(ev, PeerError):
            self.dead = True

    def answer(self, call: CallReceived) -> None:
        """Run a call and answer it (a Violation sending the result: an error instead)."""
        try:
            if call.methodname is None:
                result = call.obj(*call.args, **call.kwargs)
            else:
                result = call.obj.doRemoteCall(call.methodname, tuple(call.args), call.kwargs)
        except AssertionError:
            raise
        except Exception as e:  # the call failed: its error answer
            if call.reqID:
                self.sent.append(self.conn.send_error(call.reqID, Problem(repr(e))))
            return
        if not call.reqID:
            return
        try:
            data = joined(self.conn.send_answer(call.reqID, result))
        except Violation as v:
            data = self.conn.send_error(call.reqID, Problem(str(v)))
        self.sent.append(data)

    def resolve(self, ev: GiftReceived) -> None:
        if self.gifts_fail:
            self.sent.append(self.conn.gift_failed(ev.gift, f"no route to {ev.url}"))
        else:
            self.sent.append(self.conn.gift_resolved(ev.gift, f"<gift {ev.url}>"))

    def resolve_gifts(self) -> None:
        while self.gifts and not self.dead:
            self.resolve(self.gifts.pop(0))
            self.handle()

    def settle_all(self) -> None:
        """Resolve every gift and answer every call, in the owner's order."""
        while (self.calls or self.gifts) and not self.dead:
            self.resolve_gifts()
            if self.calls:
                newest = self.mode == AFTER_CHUNK_NEWEST_FIRST
                self.answer(self.calls.pop() if newest else self.calls.pop(0))
                self.check()
                self.handle()

    def check(self) -> None:
        """The admission counters are consistent."""
        adm = self.conn.admission
        limit = adm.max_inbound_calls
        assert adm.queued >= 0 and adm.running >= 0, (adm.queued, adm.running)
        assert adm.running <= limit, (adm.running, limit)
        assert len(self.conn.inbound.held) <= limit, len(self.conn.inbound.held)
        assert len(adm.active) <= adm.running + adm.queued <= 2 * limit, (
            sorted(adm.active),
            adm.running,
            adm.queued,
        )


def play(stream: bytes, sizes: list[int], limits: int, owner: int, *, fast: bool) -> Owner:
    """A fresh receiver fed ``stream`` cut at ``sizes``, run by its owner."""
    receiver = Owner(limits, owner, fast=fast)
    offset = 0
    for size in sizes:
        receiver.feed(stream[offset : offset + size])
        offset += size
    receiver.finish()
    return receiver


# ---------------------------------------------------------------- comparing receivers

#: a receiver's BananaError text (None: none) and its normalised events
Outcome = tuple[str | None, list[tuple[object, ...]]]


#: events reported when the data they came in has been decoded, not in arrival order
#: among the calls and answers of the same data
BATCHED = ("ping", "message-refused")


def in_order(log: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    """The events that come in arrival order, whatever the chunking."""
    return [e for e in log if e[0] not in BATCHED]


def same(a: Outcome, b: Outcome) -> bool:
    """The same error and events: those in arrival order alike, the batched ones (which
    each path reports once it hands the data back, so not at the same place) as a set."""
    return (
        a[0] == b[0]
        and in_order(a[1]) == in_order(b[1])
        and sorted(map(repr, a[1])) == sorted(map(repr, b[1]))
    )


def TestOneInput(data: bytes) -> None:
    """One fuzz case: see the module docstring."""
    if len(data) < 3:
        return
    seed, limits, owner, stream = data[0], data[1], data[2], data[3:]
    whole_sizes = [max(len(stream), 1)]
    sizes = chunk_sizes(seed, len(stream))
    outcomes = []
    for fast in (True, False):
        whole = play(stream, whole_sizes, limits, owner, fast=fast)
        parts = play(stream, sizes, limits, owner, fast=fast) if sizes != whole_sizes else whole
        outcomes.append(((whole.error, whole.log), (parts.error, parts.log)))
    fast_outcome, slow_outcome = outcomes
    context = (data.hex(), seed, limits, owner)
    assert same(fast_outcome[0], slow_outcome[0]), ("whole, fast != slow", *context)
    assert same(fast_outcome[1], slow_outcome[1]), ("chunked, fast != slow", *context)
    if chunking_invariant(limits, owner):
        (whole_error, whole_log), (parts_error, parts_log) = fast_outcome
        # (an error's text may quote what the decoder had buffered: compare no text)
        assert (whole_error is None) == (parts_error is None), ("whole != chunked", *context)
        assert in_order(whole_log) == in_order(parts_log), ("whole != chunked", *context)
        assert sorted(map(repr, whole_log)) == sorted(map(repr, parts_log)), context


# ---------------------------------------------------------------- seeds


class FarEnd:
    """The far end of a fresh receiver, after the setup: it holds "obj" (clid 1) and
    has our eight calls to answer. Its messages make the seed streams."""

    def __init__(self) -> None:
        self.a, self.host, first = hello()
        assert first == HELLO
        receiver = Owner(0, 0, fast=True)
        self.a.receive_data(b"".join(receiver.sent))
        events = self.a.events()
        answer, *calls = events
        assert isinstance(answer, AnswerReceived) and isinstance(answer.result, Proxy), answer
        self.obj: Proxy = answer.result
        self.our_calls = [c.reqID for c in calls if isinstance(c, CallReceived)]
        assert self.our_calls == list(range(1, 9)), events
        self.mine = Obj("a-obj")
        self.host.names["a-obj"] = self.mine
        self.gift, self.third = third_party_proxy()
        self.out: list[bytes] = []

    def call(self, method: str, *args: Any, answer: bool = True, to: int = 1, **kw: Any) -> None:
        """A call to our object ``to`` (1: "obj")."""
        req = Request(self.a.allocate_reqid()) if answer else None
        self.out.append(joined(self.a.send_call(req, to, method, args, kw)))

    def stream(self) -> bytes:
        return b"".join(self.out)


def third_party_proxy() -> tuple[Proxy, PBConnection]:
    """A proxy of the far end for an object of a third Tub (it goes on as a gift), and
    the far end's connection to that Tub (which must stay open)."""
    host_c = Host(C_TUBID)
    g = Obj("g")
    host_c.names["g"] = g
    c = connection(host_c, A_TUBID)
    a_to_c = connection(Host(A_TUBID), C_TUBID)
    a_to_c.receive_data(joined(c.send_call(None, 0, "introduce", (g,), {})))
    (event,) = a_to_c.events()
    assert isinstance(event, CallReceived) and isinstance(event.args[0], Proxy), event
    return event.args[0], a_to_c


VALUES: list[object] = [
    0,
    1,
    -1,
    127,
    2**31,
    -(2**31) - 1,
    2**70,
    -(2**70),
    b"",
    b"bytes \x00\xff",
    "",
    "snow \u2603 \U0001f34c",
    None,
    True,
    False,
    0.5,
    -0.0,
    math.inf,
    math.nan,
    [],
    [1, [2, [3, [4]]]],
    (),
    (1, "two", b"three"),
    {},
    {"k": [1, 2], "b": None},
    {3: (4,), 5: b"x"},
    {1, 2, 3},
    frozenset({b"a", b"b"}),
]


def seed_streams() -> list[bytes]:
    """Streams of real messages from the far end, each from a fresh far end."""
    streams = []

    far = FarEnd()  # calls with every kind of value, one by one
    for value in VALUES:
        far.call("echo", value)
    streams.append(far.stream())

    far = FarEnd()  # all together, keyword arguments, a call that fails
    far.call("echo", *VALUES)
    far.call("echo", 1, b"x", name="value", other=[1.5, {"k": None}])
    far.call("fail")
    streams.append(far.stream())

    far = FarEnd()  # a schema'd method: fitting, refused and missing arguments
    far.call("typed", 1, [b"a", b"b"], label="x")
    far.call("typed", 2, [])
    far.call("typed", b"x", [])
    far.call("typed", 1, [b"a"] * 4)
    far.call("typed", True, [], "x", 5)
    far.call("typed", items=[b"z"])
    streams.append(far.stream())

    far = FarEnd()  # references: ours, theirs coming home, callables, shared and cycles
    far.call("echo", far.mine)
    far.call("echo", far.mine, [far.mine, far.mine])
    far.call("echo", far.obj)
    far.call("echo", far.mine.processUniqueID)
    looped: list[object] = [1]
    looped.append(looped)
    shared = {"x": 1}
    far.call("echo", looped, (shared, shared))
    far.call("echo", value=far.mine, home=far.obj)
    streams.append(far.stream())

    far = FarEnd()  # Copyables: fitting, refused by the schema, unknown, nested, shared
    point = Sent("fuzz.Point", x=1, y=2)
    far.call("echo", point)
    far.call("echo", Sent("fuzz.Point", x="one", y=2))
    far.call("echo", Sent("fuzz.Point", x=1, y=2, z=3))
    far.call("echo", Sent("fuzz.Unknown", a=1))
    far.call("echo", [point, point], bag=Sent("fuzz.Bag", inner=point, items=[b"a", None]))
    far.call("echo", Sent("fuzz.Bag", ref=far.mine, gift=far.gift))
    far.call("echo", "after the Copyables")
    streams.append(far.stream())

    far = FarEnd()  # a gift, a call behind it, a gift in kwargs
    far.call("echo", far.gift)
    far.call("echo", 2)
    far.call("echo", [far.gift, far.mine], gift=far.gift)
    streams.append(far.stream())

    far = FarEnd()  # answers to our calls: values, a reference, constraints, errors
    a = far.a
    far.out.append(joined(a.send_answer(1, far.mine)))
    far.out.append(joined(a.send_answer(2, [1, (2, "three"), {b"four": 4.0}])))
    far.out.append(joined(a.send_answer(3, "not an int")))  # IntegerConstraint
    far.out.append(a.send_error(4, Problem("no such name")))
    far.out.append(joined(a.send_answer(5, [1, 2, 3])))  # ListOf(int)
    far.out.append(joined(a.send_answer(6, far.gift)))
    far.out.append(joined(a.send_answer(99, None)))  # nobody waits for it
    far.out.append(joined(a.send_answer(7, None)))
    streams.append(far.stream())

    far = FarEnd()  # control: PING, vocabulary changes, then an ERROR token
    far.out.append(far.a.send_ping(0))
    far.out.append(far.a.send_ping(5))
    far.call("echo", "before")
    far.out.append(far.a.encoder.add_vocab("echo"))
    far.out.append(far.a.encoder.add_vocab("unicode"))
    far.call("echo", "after add-vocab", answer=False)
    far.out.append(far.a.encoder.set_vocab([b"call", b"arguments", b"answer", b"echo"]))
    far.call("echo", "after set-vocab", [None, True])
    far.out.append(joined(far.a.send_answer(1, 7)))
    far.out.append(far.a.error_token("bye"))
    far.call("echo", "never read")
    streams.append(far.stream())

    far = FarEnd()  # many calls, some one-way: the limits on calls
    for i in range(12):
        far.call("echo", i, answer=i % 3 != 0)
    streams.append(far.stream())

    far = FarEnd()  # refusals: unknown clid, duplicate reqID, the broker's own methods
    far.call("echo", 1, to=999)
    dup = joined(far.a.send_call(Request(50), 1, "echo", (2,), {}))
    far.out += [dup, dup]
    far.call("getReferenceByName", to=0, name=b"obj")
    far.call("getReferenceByName", to=0, name=b"nothing")
    far.call("decref", to=0, count=1)
    far.call("decref", to=0, clid=1, count=1)
    far.call("echo", "after decref")
    far.call("decgift", to=0, giftID=1, count=1)
    streams.append(far.stream())

    far = FarEnd()  # big values: the size limits
    far.call("echo", b"x" * 500)
    far.call("echo", "y" * 200, [list(range(40))])
    far.call("echo", [[[[[[[[1]]]]]]]])
    streams.append(far.stream())
    return streams


# (chunking, limits, owner) bytes put before each seed stream
HEADERS = [
    (0, 0x00, AT_ONCE),
    (1, 0x00, AT_END),
    (7, 0x00, AT_ONCE | GIFTS_FAIL),
    (9, 0x05, AFTER_CHUNK),
    (13, 0x3A, WHEN_BLOCKED),
    (21, 0xC3, AFTER_CHUNK_NEWEST_FIRST | NO_GIFTS),
    (5, 0x00, AT_END | GIFTS_FAIL),
]


def seed_inputs() -> list[bytes]:
    """Every seed stream behind every header."""
    return [bytes(header) + stream for stream in seed_streams() for header in HEADERS]


def main() -> None:
    """Replay past failures, then start atheris (seeded unless a corpus is given)."""
    run(
        TestOneInput,
        regression_prefix="pb-",
        corpus_name="octavo-fuzz-pb-corpus",
        seeds=seed_inputs,
    )


if __name__ == "__main__":
    main()
