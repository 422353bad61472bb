"""A raw Banana peer for end-to-end hostile tests: a real Tub over loopback TLS.

The attacker negotiates with octavo's own connection code (a Tub whose "broker" is
:class:`RawBroker`), then writes Banana bytes made with octavo.banana's Encoder or by
hand, and reads the answers as plain tuples. :class:`RawPeerCase` sets up a server Tub,
a well-behaved client of it and an attacker.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from twisted.internet import defer, reactor
from twisted.trial import unittest

from octavo.banana import (
    BananaError,
    Decoder,
    Encoder,
    ErrorReceived,
    ObjectReceived,
    PingReceived,
    SliceContext,
    SlicerRegistry,
    Unslicer,
    b128_encode,
    default_unslicers,
)
from octavo.furl import TubRef
from octavo.tub._net._identity import create_certificate
from octavo.tub._referenceable import Referenceable
from octavo.tub._tub import Tub
from octavo.tub._wire._vocabulary import INITIAL_VOCAB_TABLES

from .probe_broker import ProbeBroker

CERTS = [create_certificate() for _ in range(8)]
DEFAULT_MAX_TOKEN_SIZE = 16 * 1024 * 1024  # octavo.banana.Decoder's default
DEFAULT_MAX_DEPTH = 500


def wait(seconds: float) -> defer.Deferred[None]:
    d: defer.Deferred[None] = defer.Deferred()
    reactor.callLater(seconds, d.callback, None)
    return d


async def until(predicate: Callable[[], object], tries: int = 500) -> None:
    """Spin the reactor until predicate() holds (bounded: at most ``tries`` * 10 ms)."""
    for _ in range(tries):
        if predicate():
            return
        await wait(0.01)
    raise AssertionError("condition not reached")


# -- what the raw peer sends: Foolscap's call sequence, made by octavo.banana ---------


@dataclass
class Call:
    reqID: int
    clid: int
    method: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class Arguments:
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


def _slice_call(c: Call, ctx: SliceContext) -> tuple[tuple[str, ...], Iterable[object]]:
    return ("call",), (c.reqID, c.clid, c.method.encode(), Arguments(c.args, c.kwargs))


def _slice_arguments(a: Arguments, ctx: SliceContext) -> tuple[tuple[str, ...], Iterable[object]]:
    kw = [x for k in sorted(a.kwargs) for x in (k.encode(), a.kwargs[k])]
    return ("arguments",), (len(a.args), *a.args, *kw)


SLICERS = SlicerRegistry()
SLICERS.register(Call, _slice_call)
SLICERS.register(Arguments, _slice_arguments)


def tstr(body: bytes) -> bytes:
    return b128_encode(len(body)) + b"\x82" + body


def topen(n: int, *opentype: bytes) -> bytes:
    return b128_encode(n) + b"\x88" + b"".join(tstr(t) for t in opentype)


def tclose(n: int) -> bytes:
    return b128_encode(n) + b"\x89"


def tint(n: int) -> bytes:
    return b128_encode(n) + b"\x81"


def raw_call(reqid: int, clid: int, method: bytes, arg: bytes) -> bytes:
    """A call with one positional argument given as raw token bytes (OPENs 900, 901)."""
    return (
        topen(900, b"call")
        + tint(reqid)
        + tint(clid)
        + tstr(method)
        + topen(901, b"arguments")
        + tint(1)
        + arg
        + tclose(901)
        + tclose(900)
    )


# -- what the raw peer reads: answers and errors as plain tuples ---------------------


class Collect(Unslicer):
    """Any sequence, as ``(opentype, [children])``."""

    def __init__(self, opentype: tuple[str, ...]) -> None:
        self.opentype = opentype
        self.children: list[object] = []

    def receiveChild(self, obj: object) -> None:
        self.children.append(obj)

    def receiveClose(self) -> object:
        return (self.opentype, self.children)


REPLIES = default_unslicers()
for _name in ("answer", "error", "my-reference"):
    REPLIES.register((_name,), Collect, top_level=True)
REPLIES.register(("copyable",), Collect, extra_index_tokens=1, max_index_length=200)


class RawBroker(ProbeBroker):
    """Owns a negotiated connection: raw Banana out, decoded replies in."""

    def __init__(self, tub: Tub, tubref: Any, params: dict[str, object], info: Any) -> None:
        super().__init__(tub, tubref, params, info)
        index = params.get("initial-vocab-table-index")
        vocab = INITIAL_VOCAB_TABLES.get(index) if isinstance(index, int) else None
        self.decoder = Decoder(unslicers=REPLIES, vocab=vocab)
        self.encoder = Encoder(slicers=SLICERS)
        self.replies: dict[int, tuple[str, Any]] = {}
        self.error_message: bytes | None = None
        self.decode_error: BananaError | None = None
        #: bytes read from / written to the connection (after TLS)
        self.bytes_in = 0
        self.bytes_out = 0

    def dataReceived(self, data: bytes) -> None:
        self.bytes_in += len(data)
        try:
            self.decoder.receive_data(data)
        except BananaError as e:
            self.decode_error = e
            self.transport.loseConnection()
        for ev in self.decoder.events():
            if isinstance(ev, ObjectReceived):
                (kind,), (reqid, value) = ev.obj  # type: ignore[misc]
                self.replies[reqid] = (kind, value)
            elif isinstance(ev, ErrorReceived):
                self.error_message = ev.message
            elif isinstance(ev, PingReceived):
                self.transport.write(self.encoder.pong(ev.number))

    def send(self, data: bytes) -> None:
        self.bytes_out += len(data)
        self.transport.write(data)

    def call(self, reqid: int, clid: int, method: str, *args: Any, **kwargs: Any) -> None:
        self.send(self.encoder.encode(Call(reqid, clid, method, args, kwargs)))

    async def reply(self, reqid: int, tries: int = 500) -> tuple[str, Any]:
        await until(lambda: reqid in self.replies or self.lost is not None, tries)
        assert reqid in self.replies, f"no reply to {reqid}; connection lost: {self.lost}"
        return self.replies.pop(reqid)

    async def error_text(self, reqid: int) -> str:
        """The reply to ``reqid``, which must be an error: its failure's text."""
        kind, value = await self.reply(reqid)
        assert kind == "error", (kind, value)
        (_copyable, _cls), items = value
        state = dict(zip(items[::2], items[1::2], strict=True))
        return f"{state.get(b'type')!r} {state.get(b'value')!r}"


class RawTub(Tub):
    """A Tub whose negotiated connections are handed to RawBrokers."""

    def _make_broker(self, tubref: Any, params: dict[str, object], info: Any) -> Any:
        return RawBroker(self, tubref, params, info)


class Target(Referenceable):  # type: ignore[misc]
    """What the server publishes: quick, slow and reference-making methods."""

    def __init__(self) -> None:
        self.calls = 0  # calls of take() and never()

    def remote_echo(self, value: Any) -> Any:
        return value

    def remote_take(self, value: Any) -> None:
        self.calls += 1

    def remote_never(self) -> defer.Deferred[None]:
        self.calls += 1
        return defer.Deferred()

    def remote_fresh(self) -> Referenceable:
        return Referenceable()


class RawPeerCase(unittest.TestCase):
    """Tub S (``server``) publishes a Target; a raw peer (``raw``, holding it as
    ``clid``) attacks it while Tub C (``good``) keeps calling."""

    #: Tub options of the server (``setOption`` name -> value)
    server_options: dict[str, object] = {}

    async def setUp(self) -> None:  # type: ignore[override]
        self.server = self.tub(Tub, CERTS[0], listen=True)
        for name, value in self.server_options.items():
            self.server.setOption(name, value)
        self.target = Target()
        self.furl = self.server.registerReference(self.target, "target")
        client = self.tub(Tub, CERTS[1])
        self.good = await client.getReference(self.furl)
        self.raw = await self.attacker()
        self.raw.call(1, 0, "getReferenceByName", name="target")
        kind, ref = await self.raw.reply(1)
        assert kind == "answer" and ref[0] == ("my-reference",)
        self.clid: int = ref[1][0]

    def tub(self, cls: type[Tub], cert: bytes | None, *, listen: bool = False) -> Any:
        t = cls(certData=cert) if cert else cls()
        t.startService()
        self.addCleanup(t.stopService)
        if listen:
            port = t.listenOn("tcp:0:interface=127.0.0.1").getPortnum()
            t.setLocation(f"127.0.0.1:{port}")
        return t

    async def attacker(self, cert: bytes = CERTS[2]) -> RawBroker:
        """A new raw peer (one per certificate), connected to the server."""
        raw = self.tub(RawTub, cert)
        tubref = TubRef(self.server.getTubID(), tuple(self.server.locationHints))
        broker = await raw.getBrokerForTubRef(tubref)
        assert isinstance(broker, RawBroker)
        return broker

    def server_broker(self, raw: RawBroker | None = None) -> Any:
        """The server's Broker for the raw peer ``raw`` (default: ``self.raw``)."""
        tubid = (raw or self.raw).tub.getTubID()
        (broker,) = [b for b in self.server.brokers.values() if b.remote_tubref.getTubID() == tubid]
        return broker

    async def assert_good_client_served(self, n: int = 3) -> None:
        for i in range(n):
            assert await self.good.callRemote("echo", ["ok", i]) == ["ok", i]

    async def assert_raw_alive(self, reqid: int = 999) -> None:
        self.raw.call(reqid, self.clid, "echo", "still here")
        assert await self.raw.reply(reqid) == ("answer", "still here")

    async def assert_raw_closed_with_error(self) -> None:
        await until(lambda: self.raw.lost is not None)
        assert self.raw.error_message, "no ERROR token before the close"
