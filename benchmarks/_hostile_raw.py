"""The hostile benchmark's raw peer: a negotiated connection that writes hand-made Banana.

Theory of operation: :class:`RawTub` is an Octavo Tub whose negotiated connections are
handed to a :class:`RawBroker` instead of a PB Broker (as ``tests/tub/test_tub_bad_input.py``
does), so negotiation (HTTP upgrade, TLS, the negotiation offer) is real and the server,
Foolscap's or Octavo's, sees a proper peer. From then on the RawBroker writes whatever
:class:`Wire` makes (Banana tokens built by hand, one OPEN counter per connection, the
negotiated vocabulary used for opentypes), counts every byte each way, decodes the replies
just far enough to count answers and errors, and can stop reading (the transport's own
``pauseProducing``) while it goes on writing through a :class:`Feeder`, which writes a
stream of chunks only while the transport takes them (it is the transport's producer).

:func:`server_status` and :func:`tcp_queues` read the server process from outside
(``/proc``): its RSS and peak RSS, and the bytes still in flight on one loopback TCP
connection, so the attacker can tell "the server has read everything" from "the server
stopped reading".
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Iterator
from typing import Any

from twisted.internet import reactor
from twisted.internet.interfaces import IPushProducer
from twisted.internet.protocol import Protocol
from twisted.python.failure import Failure
from zope.interface import implementer

from octavo.banana import (
    BananaError,
    Decoder,
    ErrorReceived,
    ObjectReceived,
    PingReceived,
    Unslicer,
    b128_encode,
    default_unslicers,
)
from octavo.tub._tub import Tub
from octavo.tub._wire._vocabulary import INITIAL_VOCAB_TABLES

# -- Banana tokens, by hand ---------------------------------------------------------


def tint(n: int) -> bytes:
    """An INT token (n >= 0)."""
    return b128_encode(n) + b"\x81"


def tstr(body: bytes) -> bytes:
    """A STRING token."""
    return b128_encode(len(body)) + b"\x82" + body


class Wire:
    """Token bytes for one connection: one OPEN counter, the negotiated vocabulary."""

    def __init__(self, vocab: Iterable[bytes] = ()) -> None:
        self._count = itertools.count()
        self._vocab = {word: i for i, word in enumerate(vocab)}

    def name(self, word: bytes) -> bytes:
        """``word`` as a VOCAB token if the vocabulary has it, else as a STRING."""
        index = self._vocab.get(word)
        return tstr(word) if index is None else b128_encode(index) + b"\x87"

    def open(self, opentype: bytes) -> tuple[bytes, bytes]:
        """(OPEN + opentype, the matching CLOSE) for one sequence."""
        n = next(self._count)
        return b128_encode(n) + b"\x88" + self.name(opentype), b128_encode(n) + b"\x89"

    def seq(self, opentype: bytes, *children: bytes) -> bytes:
        """A whole sequence of already-made children."""
        head, tail = self.open(opentype)
        return head + b"".join(children) + tail

    def unicode(self, text: str) -> bytes:
        """A str value, as Foolscap sends it (a 'unicode' sequence)."""
        return self.seq(b"unicode", tstr(text.encode("utf-8")))

    def call(
        self,
        reqid: int,
        clid: int,
        method: str,
        args: Iterable[bytes] = (),
        kwargs: Iterable[tuple[str, bytes]] = (),
    ) -> bytes:
        """A 'call' sequence; ``args`` and kwargs values are already-made tokens."""
        args = list(args)
        kw = [tstr(k.encode()) + v for k, v in kwargs]
        arguments = self.seq(b"arguments", tint(len(args)), *args, *kw)
        return self.seq(b"call", tint(reqid), tint(clid), tstr(method.encode()), arguments)

    def call_stream(
        self, reqid: int, clid: int, method: str, arg_chunks: Iterable[bytes]
    ) -> Iterator[bytes]:
        """A 'call' with one positional argument given as a stream of token chunks."""
        call_head, call_tail = self.open(b"call")
        args_head, args_tail = self.open(b"arguments")
        yield call_head + tint(reqid) + tint(clid) + tstr(method.encode()) + args_head + tint(1)
        yield from arg_chunks
        yield args_tail + call_tail

    def add_vocab(self, index: int, word: bytes) -> bytes:
        """OPEN('add-vocab') INT(index) STRING(word) CLOSE."""
        return self.seq(b"add-vocab", tint(index), tstr(word))

    def set_vocab(self, first: int, words: Iterable[bytes]) -> Iterator[bytes]:
        """OPEN('set-vocab') then INT/STRING pairs (indexes from ``first``), CLOSE, in
        chunks of about 64 KiB."""
        head, tail = self.open(b"set-vocab")
        buf = [head]
        size = len(head)
        for i, word in enumerate(words, first):
            token = tint(i) + tstr(word)
            buf.append(token)
            size += len(token)
            if size >= 65536:
                yield b"".join(buf)
                buf, size = [], 0
        buf.append(tail)
        yield b"".join(buf)

    def list_of_empty_lists(self, n: int) -> Iterator[bytes]:
        """A 'list' sequence holding ``n`` empty 'list' sequences, in ~64 KiB chunks."""
        head, tail = self.open(b"list")
        yield head
        buf: list[bytes] = []
        for _ in range(n):
            inner_head, inner_tail = self.open(b"list")
            buf.append(inner_head + inner_tail)
            if len(buf) >= 6000:
                yield b"".join(buf)
                buf = []
        buf.append(tail)
        yield b"".join(buf)


# -- what the raw peer reads: replies as plain tuples ---------------------------------


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


def failure_text(value: Any) -> str:
    """The type and message of an error answer's failure (either system's layout)."""
    try:
        (_copyable, _cls), items = value
        state = dict(zip(items[::2], items[1::2], strict=False))
    except (TypeError, ValueError):
        return repr(value)[:200]
    parts = []
    for key in (b"type", "type", b"value", "value"):
        if key in state:
            v = state[key]
            parts.append(v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v))
    return " ".join(parts)[:300] or repr(value)[:200]


@implementer(IPushProducer)
class Feeder:
    """Writes a stream of chunks to a transport while it takes them (its producer)."""

    def __init__(self, broker: RawBroker, chunks: Iterable[bytes]) -> None:
        self._broker = broker
        self._chunks = iter(chunks)
        self.paused = False
        self.done = False
        self.written = 0

    def pauseProducing(self) -> None:
        self.paused = True

    def resumeProducing(self) -> None:
        self.paused = False
        self.pump()

    def stopProducing(self) -> None:
        self.done = True

    def pump(self) -> None:
        """Write chunks until the transport asks us to pause or the stream ends."""
        while not self.paused and not self.done:
            chunk = next(self._chunks, None)
            if chunk is None:
                self.done = True
                break
            if self._broker.lost is not None:
                self.done = True
                break
            self.written += len(chunk)
            self._broker.send(chunk)


class RawBroker(Protocol):
    """Owns a negotiated connection: raw Banana out, replies counted (and decoded) in.

    It provides what the Tub asks of a Broker (attach, detach, shutdown) and no PB.
    """

    def __init__(
        self, tub: Tub, tubref: Any, params: dict[str, object], connection_info: Any
    ) -> None:
        self.tub = tub
        self.connection_info = connection_info
        self.remote_tubref = tubref
        self.params = params
        self.current_slave_IR = params.get("current-slave-IR")
        self.current_seqnum = params.get("current-seqnum")
        self.creation_timestamp = reactor.seconds()  # type: ignore[attr-defined]
        self.inboundDeliveryQueue: list[Any] = []
        self.waitingForAnswers: dict[int, Any] = {}
        index = params.get("initial-vocab-table-index")
        vocab = INITIAL_VOCAB_TABLES.get(index, ()) if isinstance(index, int) else ()
        self.wire = Wire(vocab)
        self.decoder: Decoder | None = Decoder(unslicers=REPLIES, vocab=vocab)
        #: replies kept by reqID (only those in ``watch``; the rest are only counted)
        self.replies: dict[int, tuple[str, Any]] = {}
        self.watch: set[int] = set()
        self.answers = 0
        self.errors = 0
        self.first_error: str | None = None
        self.error_token: bytes | None = None
        self.decode_error: str | None = None
        self.bytes_in = 0
        self.bytes_out = 0
        self.lost: Failure | None = None
        self.lost_at: float | None = None
        self.feeder: Feeder | None = None
        self.reading = True
        self._lost_watchers: list[Any] = []
        self._next_reqid = itertools.count(1)

    # -- the Tub's side ------------------------------------------------------------------

    def connectionLost(self, reason: Failure = None) -> None:  # type: ignore[assignment]
        self.lost = reason
        self.lost_at = time.monotonic()
        if self.feeder is not None:
            self.feeder.done = True
        self.tub.brokerDetached(self, reason)
        for cb in self._lost_watchers:
            cb()

    def shutdown(self, why: Failure, fireDisconnectWatchers: bool = True) -> None:
        self.abort()

    def revokeReference(self, obj: Any) -> None:
        pass

    def getYourReferenceByName(self, name: str) -> Any:
        raise NotImplementedError("a RawBroker speaks no PB")

    def getConnectionInfo(self) -> Any:
        return self.connection_info

    def _notifyOnConnectionLost(self, cb: Any) -> None:
        if self.lost is not None:
            cb()
        else:
            self._lost_watchers.append(cb)

    # -- reading -------------------------------------------------------------------------

    def dataReceived(self, data: bytes) -> None:
        self.bytes_in += len(data)
        if self.decoder is None:
            return
        try:
            self.decoder.receive_data(data)
        except BananaError as e:
            self.decode_error = str(e)[:200]
            self.decoder = None
            return
        for ev in self.decoder.events():
            if isinstance(ev, ObjectReceived):
                self._reply(ev.obj)
            elif isinstance(ev, ErrorReceived):
                self.error_token = ev.message
            elif isinstance(ev, PingReceived):
                self.send(b128_encode(ev.number) + b"\x8f")

    def _reply(self, obj: Any) -> None:
        try:
            (kind,), (reqid, value) = obj
        except (TypeError, ValueError):
            return
        if kind == "answer":
            self.answers += 1
        elif kind == "error":
            self.errors += 1
            if self.first_error is None:
                self.first_error = failure_text(value)
        if reqid in self.watch:
            self.replies[reqid] = (kind, value)

    def stop_reading(self) -> None:
        """Stop reading the socket (what the server sends stays in the kernel)."""
        self.reading = False
        self.transport.pauseProducing()  # type: ignore[union-attr]

    # -- writing -------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        self.bytes_out += len(data)
        self.transport.write(data)  # type: ignore[union-attr]

    def feed(self, chunks: Iterable[bytes]) -> Feeder:
        """Write ``chunks`` as fast as the transport takes them (never buffering more)."""
        feeder = Feeder(self, chunks)
        self.feeder = feeder
        self.transport.registerProducer(feeder, True)  # type: ignore[union-attr]
        feeder.pump()
        return feeder

    def reqid(self) -> int:
        """A fresh request ID."""
        return next(self._next_reqid)

    def call(
        self,
        clid: int,
        method: str,
        args: Iterable[bytes] = (),
        kwargs: Iterable[tuple[str, bytes]] = (),
        *,
        watch: bool = True,
    ) -> int:
        """Send one call; return its reqID (its reply is kept if ``watch``)."""
        reqid = self.reqid()
        if watch:
            self.watch.add(reqid)
        self.send(self.wire.call(reqid, clid, method, args, kwargs))
        return reqid

    def unsent(self) -> int:
        """Bytes the transport still holds for us (not yet handed to the kernel)."""
        transport: Any = self.transport
        buffered = getattr(transport, "_tempDataLen", 0)
        data = getattr(transport, "dataBuffer", b"")
        offset = getattr(transport, "offset", 0)
        return int(buffered) + max(0, len(data) - int(offset))

    def local_port(self) -> int:
        return int(self.transport.getHost().port)  # type: ignore[union-attr]

    def abort(self) -> None:
        """Drop the connection at once (what we still hold is thrown away)."""
        transport: Any = self.transport
        if transport is None or self.lost is not None:
            return
        if self.feeder is not None:
            self.feeder.done = True
        transport.abortConnection()


class RawTub(Tub):
    """A Tub whose negotiated connections are handed to RawBrokers."""

    def _make_broker(self, tubref: Any, params: dict[str, object], info: Any) -> Any:
        return RawBroker(self, tubref, params, info)


# -- the server, seen from outside ------------------------------------------------------


def server_status(pid: int) -> dict[str, int] | None:
    """``{"rss": KiB, "hwm": KiB}`` of process ``pid`` (None if it is gone)."""
    out: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    out["rss"] = int(line.split()[1])
                elif line.startswith("VmHWM:"):
                    out["hwm"] = int(line.split()[1])
    except OSError:
        return None
    return out if len(out) == 2 else None


def reset_peak(pid: int) -> bool:
    """Reset the peak RSS (VmHWM) of ``pid`` to its RSS now (Linux ``clear_refs`` 5)."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


def tcp_queues(local_port: int, remote_port: int) -> tuple[int, int] | None:
    """(tx_queue, rx_queue) of the loopback TCP socket ``local_port`` -> ``remote_port``
    (from /proc/net/tcp: bytes not yet acknowledged by the peer / not yet read by the
    owning process), or None if there is no such socket."""
    local = f":{local_port:04X}"
    remote = f":{remote_port:04X}"
    try:
        with open("/proc/net/tcp", encoding="ascii") as table:
            next(table)
            for line in table:
                fields = line.split()
                if fields[1].endswith(local) and fields[2].endswith(remote):
                    tx, rx = fields[4].split(":")
                    return int(tx, 16), int(rx, 16)
    except OSError:
        return None
    return None
