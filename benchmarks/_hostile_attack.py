"""The hostile benchmark's attacker: ``python _hostile_attack.py ATTACK SYSTEM --count N
[--bound S] [--stall S] [--settle S] [--after S]``; prints one JSON line.

Its stdin brings the server's announcement (a JSON line with ``furl`` and ``pid``), then
the word to go (any line), once the well-behaved client is connected.

Every attack runs in the same frame: connect and warm up (the raw attacks: a negotiated
:class:`~_hostile_raw.RawTub` connection asks for ``bench`` by name and makes a few
calls); on the word to go, wait 0.5 s; read the server's RSS (the baseline) and reset its
peak RSS (VmHWM); attack, bounded in bytes (``--count``) and time (``--bound``; an attack
whose bytes make no progress into the server for ``--stall`` seconds ends as "stopped
reading"); wait ``--settle`` s; read the RSS; disconnect (abort); wait ``--after`` s;
read the RSS and the peak again. Times are ``time.monotonic()`` (the prober's clock), so the
orchestrator can tell which of the well-behaved client's pings fell during the attack
and which right after it.

Attacks (ATTACK): ``add-vocab``, ``set-vocab``, ``set-vocab-reconnect``, ``big-list``,
``slow-flood``, ``echo-flood``, ``bad-clid``, ``idle`` (real client Tubs of SYSTEM),
``max-connections`` (real client Tubs, against a server with that option set low) and
``max-references`` (``fresh()`` calls, against a server with that option set low).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from _hostile_raw import (
    RawBroker,
    RawTub,
    failure_text,
    reset_peak,
    server_status,
    tcp_queues,
    tstr,
)
from _rpc_common import (
    CONNECT_CERTS,
    LOAD_CERT_BASE,
    global_reactor,
    load_certificates,
    stdin_line,
    tub_classes,
)
from twisted.internet import defer, protocol, stdio, task
from twisted.python.failure import Failure

from octavo.furl import parse_furl

reactor = global_reactor()
clock = time.monotonic
TIMED_OUT = object()


def sleep(seconds: float) -> defer.Deferred[None]:
    return task.deferLater(reactor, seconds, lambda: None)


class Failed:
    """What :func:`within` gives for a failure (a Failure must not be a callback result)."""

    def __init__(self, failure: Failure) -> None:
        self.failure = failure

    def __str__(self) -> str:
        return str(self.failure.getErrorMessage())


def within(d: defer.Deferred[Any], seconds: float) -> defer.Deferred[Any]:
    """Fires with ``d``'s result, :class:`Failed`, or TIMED_OUT after ``seconds``
    (``d`` is left alone, never cancelled: a late answer is dropped)."""
    out: defer.Deferred[Any] = defer.Deferred()

    def fire(result: object) -> None:
        if not out.called:
            out.callback(Failed(result) if isinstance(result, Failure) else result)

    d.addBoth(fire)
    reactor.callLater(seconds, fire, TIMED_OUT)
    return out


def mib(kib: float) -> float:
    return round(kib / 1024, 1)


class Context:
    """What one attack run knows: the target, its bounds, the certificates, the figures."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.system: str = args.system
        self.furl: str = args.furl
        self.pid: int = args.server_pid
        self.server_port = int(parse_furl(args.furl).tubref.hints[0].port)
        self.certs = load_certificates()
        self.tubs: list[Any] = []
        self.out: dict[str, Any] = {"attack": args.attack, "system": args.system}
        self.details: dict[str, Any] = {}
        self.out["details"] = self.details
        self.base: dict[str, int] | None = None
        self.peak_sampled = 0
        self.sampling = False
        #: fires when the orchestrator says go (a line on stdin); EOF fails it
        self.go: defer.Deferred[None] = defer.Deferred()

    # -- raw connections -----------------------------------------------------------------

    async def raw(self, slot: int = 0) -> tuple[RawBroker, int]:
        """A negotiated raw connection (certificate ``CONNECT_CERTS[slot]``) and the clid
        of ``bench`` on it."""
        tub = RawTub(certData=self.certs[CONNECT_CERTS[slot]])
        tub.startService()
        self.tubs.append(tub)
        got = await within(tub.getBrokerForTubRef(parse_furl(self.furl).tubref), 30)
        if got is TIMED_OUT or isinstance(got, Failed):
            raise RuntimeError(f"raw connection failed: {got}")
        broker: RawBroker = got
        reqid = broker.call(0, "getReferenceByName", kwargs=[("name", tstr(b"bench"))])
        kind, value = await self.reply(broker, reqid, 30)
        if kind != "answer":
            raise RuntimeError(f"getReferenceByName failed: {kind} {value}")
        clid: int = value[1][0]
        return broker, clid

    async def reply(self, broker: RawBroker, reqid: int, seconds: float) -> tuple[str, Any]:
        """The reply to ``reqid`` (``("lost", ...)`` / ``("timeout", None)`` otherwise)."""
        deadline = clock() + seconds
        while reqid not in broker.replies:
            if broker.lost is not None:
                return ("lost", broker.lost.getErrorMessage())
            if clock() > deadline:
                return ("timeout", None)
            await sleep(0.01)
        return broker.replies.pop(reqid)

    async def warm_up(self, broker: RawBroker, clid: int) -> None:
        """A few ordinary calls, so one-time costs are in the baseline (``ping()``, which
        the server does not count in its ``stats()``)."""
        for _ in range(20):
            reqid = broker.call(clid, "ping")
            kind, _ = await self.reply(broker, reqid, 30)
            if kind != "answer":
                raise RuntimeError(f"warm-up call failed: {kind}")

    def backlog(self, broker: RawBroker) -> int:
        """Bytes we wrote that the server process has not read yet (our transport's
        buffer, our socket's send queue, the server socket's receive queue)."""
        if broker.lost is not None:
            return 0
        port = broker.local_port()
        ours = tcp_queues(port, self.server_port) or (0, 0)
        theirs = tcp_queues(self.server_port, port) or (0, 0)
        return broker.unsent() + ours[0] + theirs[1]

    async def until(self, broker: RawBroker, done: Callable[[], bool]) -> str:
        """Wait until ``done()``: "done", "lost" (the server closed the connection),
        "stopped reading" (no byte moved either way for ``--stall`` s) or "bound"."""
        start = clock()
        moved = start
        last: tuple[int, int, int] | None = None
        while True:
            if done():
                return "done"
            if broker.lost is not None:
                return "lost"
            now = clock()
            written = broker.feeder.written if broker.feeder is not None else 0
            state = (written, self.backlog(broker), broker.bytes_in)
            if state != last:
                last, moved = state, now
            if now - moved > self.args.stall:
                return "stopped reading"
            if now - start > self.args.bound:
                return "bound"
            await sleep(0.05)

    def read_all(self, broker: RawBroker) -> Callable[[], bool]:
        """``done`` for :meth:`until`: every byte fed to ``broker`` has been read by the server."""

        def check() -> bool:
            feeder = broker.feeder
            return feeder is not None and feeder.done and self.backlog(broker) == 0

        return check

    # -- the frame -----------------------------------------------------------------------

    async def sample(self) -> None:
        """Keep the largest RSS seen (in case the peak cannot be reset)."""
        self.sampling = True
        while self.sampling:
            status = server_status(self.pid)
            if status is not None:
                self.peak_sampled = max(self.peak_sampled, status["rss"])
            await sleep(0.05)

    async def begin(self) -> None:
        """Wait for the word to go (a line on stdin) and 0.5 s; read the baseline and
        reset the peak: the attack starts now."""
        await self.go
        await sleep(0.5)
        self.base = server_status(self.pid)
        if self.base is None:
            raise RuntimeError("server gone before the attack")
        self.out["base_kib"] = self.base["rss"]
        self.out["peak_reset"] = reset_peak(self.pid)
        self.peak_sampled = self.base["rss"]
        defer.ensureDeferred(self.sample())
        self.out["t_start"] = clock()

    def peak(self, status: dict[str, int]) -> int:
        """The peak RSS so far (KiB): VmHWM if it was reset, else the largest sample."""
        if self.out["peak_reset"]:
            return status["hwm"]
        return max(self.peak_sampled, status["rss"])

    async def end(self, disconnect: Callable[[], Awaitable[None]]) -> None:
        """Wait ``--settle`` s, read the RSS, disconnect, wait ``--after`` s, read the RSS
        and the peak (over the whole attack, its end and the disconnect included)."""
        assert self.base is not None
        base = self.base["rss"]
        self.out["t_end"] = clock()
        await sleep(self.args.settle)
        status = server_status(self.pid)
        if status is not None:
            self.out["end_kib"] = status["rss"] - base
            self.out["peak_before_disconnect_kib"] = self.peak(status) - base
            self.out["t_disconnect"] = clock()
            await disconnect()
            await sleep(self.args.after)
            self.out["t_after"] = clock()
            status = server_status(self.pid)
        self.sampling = False
        if status is None:
            self.out["server_gone"] = True
            self.out["peak_kib"] = self.peak_sampled - base
            return
        self.out["peak_kib"] = self.peak(status) - base
        self.out["after_kib"] = status["rss"] - base

    async def close_all(self) -> None:
        """Drop every connection we made (raw ones at once), and stop our Tubs."""
        tubs, self.tubs = self.tubs, []
        for tub in tubs:
            for broker in list(tub.brokers.values()):
                if isinstance(broker, RawBroker):
                    broker.abort()
        stops = [tub.stopService() for tub in tubs if tub.running]
        await within(defer.DeferredList(stops, consumeErrors=True), 15)

    def outcome(self, broker: RawBroker, how: str, started: float) -> str:
        """A short text for what became of the attack connection."""
        if how == "lost":
            lost_at = broker.lost_at or clock()
            text = f"server closed the connection after {lost_at - started:.1f} s"
            if broker.error_token:
                text += f" (ERROR: {broker.error_token[:120].decode('utf-8', 'replace')})"
            return text
        return how


# -- the attacks ----------------------------------------------------------------------


async def raw_attack(
    ctx: Context,
    prepare: Callable[[RawBroker, int], Iterable[bytes]],
    *,
    read: bool,
    then: Callable[[RawBroker, int], Awaitable[None]] | None = None,
    lazy: bool = False,
) -> None:
    """One raw connection: warm up, feed the attack, wait for the server to take it.

    ``prepare`` makes the attack's chunks, as a list before the baseline (so making them
    costs the attacker, not the measurement), or as they are sent if ``lazy``. With
    ``read`` False we stop reading the socket first. ``then`` (optional) runs once the
    server has read every byte; its own waits are bounded.
    """
    broker, clid = await ctx.raw()
    await ctx.warm_up(broker, clid)
    chunks = prepare(broker, clid) if lazy else list(prepare(broker, clid))
    await ctx.begin()
    bytes_in, bytes_out = broker.bytes_in, broker.bytes_out
    started = clock()
    if not read:
        broker.stop_reading()
    feeder = broker.feed(chunks)
    del chunks
    how = await ctx.until(broker, ctx.read_all(broker))
    took = clock() - started
    ctx.details["read_s"] = round(took, 2)
    if how == "done":
        how = f"server read it all in {took:.1f} s"
        if then is not None:
            await then(broker, clid)
            how = ctx.details.pop("then", how)
            ctx.details.pop("then_ok", None)
    elif how in ("stopped reading", "bound"):
        unread = ctx.backlog(broker)
        ctx.details["unread_bytes"] = unread
        read_mib = mib((feeder.written - unread) / 1024)
        how = (
            f"server stopped reading after ~{read_mib} MiB"
            if how == "stopped reading"
            else f"server still reading after {took:.0f} s (~{read_mib} MiB read)"
        )
    ctx.out["outcome"] = ctx.outcome(broker, how, started)
    ctx.out["sent"] = broker.bytes_out - bytes_out
    ctx.out["received"] = broker.bytes_in - bytes_in

    async def disconnect() -> None:
        broker.abort()

    await ctx.end(disconnect)
    ctx.details["answers"] = broker.answers
    ctx.details["errors"] = broker.errors
    if broker.first_error:
        ctx.details["first_error"] = broker.first_error


async def sync(ctx: Context, broker: RawBroker, clid: int) -> None:
    """A ``ping()`` on the attack connection: answered once the server has dealt with
    everything before it."""
    started = clock()
    reqid = broker.call(clid, "ping")
    kind, _ = await ctx.reply(broker, reqid, ctx.args.bound)
    took = clock() - started
    ctx.details["then_ok"] = kind == "answer"
    if kind == "answer":
        ctx.details["then"] = f"read and handled; a ping after it answered in {took:.1f} s"
    elif kind == "lost":
        ctx.details["then"] = "server closed the connection"
    else:
        ctx.details["then"] = f"a ping after it: {kind} after {took:.1f} s"


def words(n: int, start: int = 0) -> Iterable[bytes]:
    """``n`` distinct 8-byte words."""
    return (b"w%07d" % i for i in range(start, start + n))


async def add_vocab(ctx: Context) -> None:
    """``--count`` add-vocab messages with fresh indexes (from 1000) and 8-byte words."""
    n = ctx.args.count

    def prepare(broker: RawBroker, clid: int) -> Iterable[bytes]:
        msgs = [broker.wire.add_vocab(1000 + i, w) for i, w in enumerate(words(n))]
        return [b"".join(msgs[i : i + 2000]) for i in range(0, n, 2000)]

    await raw_attack(ctx, prepare, read=True, then=lambda b, c: sync(ctx, b, c))


def set_vocab_chunks(broker: RawBroker, n: int) -> list[bytes]:
    """One set-vocab of ``n`` entries: the negotiated words at their own indexes (so our
    later VOCAB tokens still mean what they meant), then fresh 8-byte words."""
    initial = sorted(broker.wire._vocab, key=broker.wire._vocab.__getitem__)
    table = [*initial, *words(n - len(initial))]
    return list(broker.wire.set_vocab(0, table))


async def set_vocab(ctx: Context) -> None:
    """One set-vocab message of ``--count`` entries."""
    await raw_attack(
        ctx,
        lambda broker, clid: set_vocab_chunks(broker, ctx.args.count),
        read=True,
        then=lambda b, c: sync(ctx, b, c),
    )


async def set_vocab_reconnect(ctx: Context) -> None:
    """``--connections`` connections in turn, each a set-vocab of ``--count`` entries,
    then closed: the RSS 1 s after each close."""
    broker, clid = await ctx.raw(0)
    await ctx.warm_up(broker, clid)
    await ctx.begin()
    started = clock()
    after_each: list[float | None] = []
    outcomes: list[str] = []
    sent = received = 0
    for k in range(ctx.args.connections):
        if k:
            broker, clid = await ctx.raw(k)
        b_in, b_out = broker.bytes_in, broker.bytes_out
        broker.feed(set_vocab_chunks(broker, ctx.args.count))
        how = await ctx.until(broker, ctx.read_all(broker))
        if how == "done":
            await sync(ctx, broker, clid)
            how = "handled" if ctx.details.pop("then_ok") else ctx.details["then"]
            ctx.details.pop("then")
        outcomes.append(ctx.outcome(broker, how, started))
        sent += broker.bytes_out - b_out
        received += broker.bytes_in - b_in
        broker.abort()
        await sleep(ctx.args.settle)
        status = server_status(ctx.pid)
        assert ctx.base is not None
        after_each.append(mib(status["rss"] - ctx.base["rss"]) if status else None)
    ctx.details["after_each_close_mib"] = after_each
    ctx.details["outcomes"] = outcomes
    if set(outcomes) == {"handled"}:
        ctx.out["outcome"] = "each read and handled (a ping after it answered)"
    else:
        ctx.out["outcome"] = "; ".join(outcomes)
    ctx.out["sent"] = sent
    ctx.out["received"] = received

    async def nothing() -> None:
        pass

    await ctx.end(nothing)


async def big_list(ctx: Context) -> None:
    """``take(value)`` with value a list of ``--count`` empty lists (one message)."""
    box: dict[str, int] = {}

    def prepare(broker: RawBroker, clid: int) -> Iterable[bytes]:
        reqid = broker.reqid()
        broker.watch.add(reqid)
        box["reqid"] = reqid
        inner = broker.wire.list_of_empty_lists(ctx.args.count)
        return list(broker.wire.call_stream(reqid, clid, "take", inner))

    async def answered(broker: RawBroker, clid: int) -> None:
        started = clock()
        how = await ctx.until(broker, lambda: box["reqid"] in broker.replies)
        took = clock() - started
        if how == "done":
            kind, value = broker.replies.pop(box["reqid"])
            if kind == "answer":
                ctx.details["then"] = f"call answered {took:.1f} s after the last byte"
            else:
                ctx.details["then"] = f"error answer: {failure_text(value)[:160]}"
        elif how == "lost":
            ctx.details["then"] = "server closed the connection"
        else:
            ctx.details["then"] = f"no answer ({how}, {took:.1f} s)"

    await raw_attack(ctx, prepare, read=True, then=answered)


def calls(broker: RawBroker, n: int, make: Callable[[int], bytes]) -> list[bytes]:
    """``n`` messages made by ``make(i)``, joined in chunks of 1000."""
    out = []
    for first in range(0, n, 1000):
        out.append(b"".join(make(i) for i in range(first, min(n, first + 1000))))
    return out


async def slow_flood(ctx: Context) -> None:
    """``--count`` calls to ``slow()``, never reading the socket."""

    def prepare(broker: RawBroker, clid: int) -> Iterable[bytes]:
        return calls(broker, ctx.args.count, lambda i: broker.wire.call(10_000 + i, clid, "slow"))

    await raw_attack(ctx, prepare, read=False)


async def echo_flood(ctx: Context) -> None:
    """``--count`` calls ``echo(64 KiB)``, never reading the socket."""
    payload = tstr(b"\xa5" * 65536)

    def prepare(broker: RawBroker, clid: int) -> Iterable[bytes]:
        # 100 MiB in all: made as they are sent
        return (
            broker.wire.call(10_000 + i, clid, "echo", [payload]) for i in range(ctx.args.count)
        )

    await raw_attack(ctx, prepare, read=False, lazy=True)


async def bad_clid(ctx: Context) -> None:
    """``--count`` calls to clids that do not exist, reading every answer."""
    n = ctx.args.count

    def prepare(broker: RawBroker, clid: int) -> Iterable[bytes]:
        return calls(broker, n, lambda i: broker.wire.call(10_000 + i, 100_000 + i, "ping"))

    async def all_answered(broker: RawBroker, clid: int) -> None:
        how = await ctx.until(broker, lambda: broker.errors >= n)
        got = broker.errors
        ctx.details["then"] = (
            f"{got:,} error answers" if how == "done" else f"{got:,} error answers ({how})"
        )

    await raw_attack(ctx, prepare, read=True, then=all_answered)


async def max_references(ctx: Context) -> None:
    """``--count`` calls to ``fresh()`` (a new object each) that we never release."""
    n = ctx.args.count

    def prepare(broker: RawBroker, clid: int) -> Iterable[bytes]:
        return calls(broker, n, lambda i: broker.wire.call(10_000 + i, clid, "fresh"))

    async def all_answered(broker: RawBroker, clid: int) -> None:
        base = broker.answers + broker.errors
        how = await ctx.until(broker, lambda: broker.answers + broker.errors - base >= n)
        ctx.details["then"] = how

    await raw_attack(ctx, prepare, read=True, then=all_answered)
    answers = ctx.details["answers"] - 21  # the warm-up's getReferenceByName and 20 echoes
    ctx.out["outcome"] = (
        f"{answers:,} references handed out, {ctx.details['errors']:,} error answers"
        + (f" ({ctx.details['first_error']})" if ctx.details.get("first_error") else "")
    )


async def crowd(ctx: Context, *, expect_refusals: bool) -> None:
    """``--count`` real client Tubs of the server's system, each holding one reference
    (``getReference`` + ``ping``), 25 connecting at a time; held 1 s, then all stopped."""
    n = ctx.args.count
    if len(ctx.certs) < LOAD_CERT_BASE + n:
        raise RuntimeError(f"only {len(ctx.certs)} cached certificates for {n} client Tubs")
    tub_class, _ = tub_classes(ctx.system)
    refs: list[Any] = []
    refused: list[str] = []

    async def attach(i: int) -> None:
        tub = tub_class(certData=ctx.certs[LOAD_CERT_BASE + i])
        tub.startService()
        ctx.tubs.append(tub)
        got = await within(tub.getReference(ctx.furl), 30)
        if isinstance(got, Failed) or got is TIMED_OUT:
            refused.append("timed out" if got is TIMED_OUT else str(got))
            return
        await got.callRemote("ping")
        refs.append(got)

    await attach(0)  # one first, so the server's one-time costs are in the baseline
    await ctx.begin()
    started = clock()
    pending = list(range(n - 1, 0, -1))

    async def attacher() -> None:
        # connecting takes a while (a TLS handshake each): twice the usual bound
        while pending and clock() - started < 2 * ctx.args.bound:
            await attach(pending.pop())

    await defer.gatherResults([defer.ensureDeferred(attacher()) for _ in range(25)])
    took = clock() - started
    await sleep(ctx.args.settle)
    status = server_status(ctx.pid)
    assert ctx.base is not None
    connected = len(refs)
    ctx.details.update(connected=connected, refused=len(refused), connect_s=round(took, 1))
    if refused:
        ctx.details["first_refusal"] = refused[0][:200]
    if status is not None and connected > 1:
        per = (status["rss"] - ctx.base["rss"]) / (connected - 1)
        ctx.details["kib_per_connection"] = round(per, 1)
    if expect_refusals:
        ctx.out["outcome"] = f"{connected} accepted, {len(refused)} refused" + (
            f" ({refused[0][:80]})" if refused else ""
        )
    else:
        ctx.out["outcome"] = (
            f"{connected:,} connected in {took:.1f} s"
            + (f" ({len(pending)} not tried, {len(refused)} failed)" if len(refs) < n else "")
            + (
                f"; {ctx.details['kib_per_connection']} KiB each"
                if "kib_per_connection" in ctx.details
                else ""
            )
        )

    async def disconnect() -> None:
        await ctx.close_all()

    await ctx.end(disconnect)


class _Go(protocol.Protocol):
    """Fires ``go`` at the first byte on stdin; fails it if stdin closes first."""

    def __init__(self, go: defer.Deferred[None]) -> None:
        self.go = go

    def dataReceived(self, data: bytes) -> None:
        if not self.go.called:
            self.go.callback(None)

    def connectionLost(self, reason: Failure | None = None) -> None:
        if not self.go.called:
            self.go.errback(RuntimeError("stdin closed before the word to go"))


ATTACKS: dict[str, Callable[[Context], Awaitable[None]]] = {
    "add-vocab": add_vocab,
    "set-vocab": set_vocab,
    "set-vocab-reconnect": set_vocab_reconnect,
    "big-list": big_list,
    "slow-flood": slow_flood,
    "echo-flood": echo_flood,
    "bad-clid": bad_clid,
    "idle": lambda ctx: crowd(ctx, expect_refusals=False),
    "max-connections": lambda ctx: crowd(ctx, expect_refusals=True),
    "max-references": max_references,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("attack", choices=sorted(ATTACKS))
    parser.add_argument("system", choices=["foolscap", "octavo"])
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--connections", type=int, default=5)
    parser.add_argument("--bound", type=float, default=30.0, help="seconds an attack may take")
    parser.add_argument("--stall", type=float, default=3.0, help="seconds without progress")
    parser.add_argument("--settle", type=float, default=1.0, help="seconds before the peak")
    parser.add_argument("--after", type=float, default=2.0, help="seconds after disconnecting")
    args = parser.parse_args(argv)
    line = stdin_line()
    if not line:
        return 1  # the orchestrator gave up before the server announced itself
    target = json.loads(line)
    args.furl, args.server_pid = target["furl"], target["pid"]
    ctx = Context(args)
    stdio.StandardIO(_Go(ctx.go))  # type: ignore[no-untyped-call]
    box: list[Any] = []

    async def attack() -> None:
        try:
            await ATTACKS[args.attack](ctx)
        finally:
            await ctx.close_all()

    def begin() -> None:
        d = defer.ensureDeferred(attack())
        d.addBoth(box.append)
        d.addBoth(lambda _: reactor.stop())

    reactor.callWhenRunning(begin)
    reactor.run()
    if box and isinstance(box[0], Failure):
        ctx.out["error"] = f"{box[0].type.__name__}: {box[0].getErrorMessage()}"[:500]
    print(json.dumps(ctx.out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
