"""Tub benchmark: Octavo vs Foolscap 24.9 vs a bare Twisted TLS echo (the ceiling).

Each implementation runs in its own child process (a reactor runs once per
process), client and server in that process over loopback TLS, and prints one
JSON line. ``run()`` gathers them into tables with ratios against Foolscap and
against the bare TLS echo measured in the same run.

Measured: serial no-op calls, 100 calls in flight, a 1 MB argument, a nested
dict argument of about 7.7 KB, and the time to make a new connection.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

from twisted.internet import defer, protocol, reactor
from twisted.internet.endpoints import SSL4ClientEndpoint, SSL4ServerEndpoint, connectProtocol

BUDGET = 1.0  # seconds per measurement (bounded, never a pass/fail timing)
MB = 1 << 20


def nested_dict() -> dict[str, Any]:
    """A nested dict of many small values (about 7.7 KB as Banana)."""
    return {
        f"item{i}": {"name": f"n{i}", "tags": ["a", "b", "c"], "size": i * 7, "ok": bool(i % 2)}
        for i in range(95)
    }


async def timed(make_call: Any, *, in_flight: int = 1, budget: float = BUDGET) -> float:
    """Calls per second of ``make_call()`` with ``in_flight`` outstanding, for ``budget`` s."""
    done = 0
    start = time.perf_counter()
    deadline = start + budget
    while time.perf_counter() < deadline:
        if in_flight == 1:
            await make_call()
            done += 1
        else:
            await defer.gatherResults([make_call() for _ in range(in_flight)])
            done += in_flight
    return done / (time.perf_counter() - start)


# -- the three implementations ------------------------------------------------


async def bench_octavo() -> dict[str, float]:
    from octavo.tub import Referenceable, Tub
    from octavo.tub._identity import create_certificate

    class Target(Referenceable):  # type: ignore[misc]
        def remote_noop(self, *args: Any) -> None:
            return None

    return await _bench_pb(Tub, Referenceable, Target, create_certificate)


async def bench_foolscap() -> dict[str, float]:
    from foolscap.api import Referenceable, Tub

    class Target(Referenceable):  # type: ignore[misc]
        def remote_noop(self, *args: Any) -> None:
            return None

    def cert() -> bytes:
        data: bytes = Tub().getCertData()
        return data

    return await _bench_pb(Tub, Referenceable, Target, cert)


async def _bench_pb(tub_class: Any, _ref: Any, target: Any, make_cert: Any) -> dict[str, float]:
    server = tub_class(certData=make_cert())
    server.startService()
    port = server.listenOn("tcp:0:interface=127.0.0.1").getPortnum()
    server.setLocation(f"127.0.0.1:{port}")
    furl = server.registerReference(target(), "target")
    client = tub_class(certData=make_cert())
    client.startService()
    rref = await client.getReference(furl)
    out: dict[str, float] = {}
    out["serial_calls_per_s"] = await timed(lambda: rref.callRemote("noop"))
    out["inflight100_calls_per_s"] = await timed(lambda: rref.callRemote("noop"), in_flight=100)
    payload = os.urandom(MB)
    out["mb_arg_mb_per_s"] = await timed(lambda: rref.callRemote("noop", payload), budget=2.0)
    nested = nested_dict()
    out["nested_dict_calls_per_s"] = await timed(lambda: rref.callRemote("noop", nested))
    certs = [make_cert() for _ in range(5)]
    times = []
    for cert in certs:
        c = tub_class(certData=cert)
        c.startService()
        begin = time.perf_counter()
        await c.getReference(furl)
        times.append(time.perf_counter() - begin)
        await c.stopService()
    out["connect_ms"] = 1000 * min(times)
    await client.stopService()
    await server.stopService()
    return out


def _no_delay(transport: Any) -> None:
    getattr(transport, "setTcpNoDelay", lambda _: None)(True)


class _Echo(protocol.Protocol):
    """Echoes small messages; for a bulk message (first byte b"B" + 4-byte length)
    it only acknowledges with one byte once all of it has arrived."""

    def __init__(self) -> None:
        self.bulk_left = 0

    def connectionMade(self) -> None:
        _no_delay(self.transport)

    def dataReceived(self, data: bytes) -> None:
        transport: Any = self.transport
        if self.bulk_left == 0 and data[:1] == b"B":
            self.bulk_left = int.from_bytes(data[1:5], "big")
            data = data[5:]
        if self.bulk_left:
            self.bulk_left -= len(data)
            if self.bulk_left <= 0:
                self.bulk_left = 0
                transport.write(b"k")
            return
        transport.write(data)


class _Client(protocol.Protocol):
    def __init__(self) -> None:
        self.waiting: defer.Deferred[None] | None = None
        self.expect = 0

    def dataReceived(self, data: bytes) -> None:
        self.expect -= len(data)
        if self.expect <= 0 and self.waiting is not None:
            d, self.waiting = self.waiting, None
            d.callback(None)

    def roundtrip(self, data: bytes) -> defer.Deferred[None]:
        self.expect = len(data)
        self.waiting = defer.Deferred()
        self.transport.write(data)  # type: ignore[union-attr]
        return self.waiting

    def send_bulk(self, data: bytes) -> defer.Deferred[None]:
        self.expect = 1
        self.waiting = defer.Deferred()
        self.transport.write(b"B" + len(data).to_bytes(4, "big") + data)  # type: ignore[union-attr]
        return self.waiting


async def bench_tls_echo() -> dict[str, float]:
    from octavo.tub._identity import TubIdentity, create_certificate

    server_id = TubIdentity.from_pem(create_certificate())
    client_id = TubIdentity.from_pem(create_certificate())
    factory = protocol.Factory.forProtocol(_Echo)
    server_ep = SSL4ServerEndpoint(reactor, 0, server_id.context_factory(), interface="127.0.0.1")
    port: Any = await server_ep.listen(factory)
    client = _Client()
    client_ep = SSL4ClientEndpoint(
        reactor, "127.0.0.1", port.getHost().port, client_id.context_factory()
    )
    await connectProtocol(client_ep, client)
    _no_delay(client.transport)
    out: dict[str, float] = {}
    out["serial_calls_per_s"] = await timed(lambda: client.roundtrip(b"x" * 64))
    payload = os.urandom(MB)
    out["mb_arg_mb_per_s"] = await timed(lambda: client.send_bulk(payload), budget=2.0)
    client.transport.loseConnection()  # type: ignore[union-attr]
    await port.stopListening()
    return out


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def bench_load() -> dict[str, float]:
    """LOAD_CLIENTS client Tubs on one server Tub, LOAD_CALLS calls, each answered once."""
    from octavo.tub import Referenceable, Tub
    from octavo.tub._identity import create_certificate

    clients_n = int(os.environ.get("OCTAVO_BENCH_LOAD_CLIENTS", "500"))
    calls_n = int(os.environ.get("OCTAVO_BENCH_LOAD_CALLS", "100000"))

    class Target(Referenceable):  # type: ignore[misc]
        def remote_echo(self, i: int) -> int:
            return i

    server = Tub(certData=create_certificate())
    server.startService()
    port = server.listenOn("tcp:0:interface=127.0.0.1").getPortnum()
    server.setLocation(f"127.0.0.1:{port}")
    furl = server.registerReference(Target(), "target")
    certs = [create_certificate() for _ in range(clients_n)]
    rss_before = _rss_bytes()
    begin = time.perf_counter()
    tubs = []
    rrefs = []
    for cert in certs:
        t = Tub(certData=cert)
        t.startService()
        tubs.append(t)
        rrefs.append(await t.getReference(furl))
    connect_s = time.perf_counter() - begin
    rss_after = _rss_bytes()
    answers: list[int] = []
    per_client = calls_n // clients_n

    async def client_loop(k: int) -> None:
        rref = rrefs[k]
        for j in range(per_client):
            answers.append(await rref.callRemote("echo", k * per_client + j))

    begin = time.perf_counter()
    await defer.gatherResults(
        [defer.ensureDeferred(client_loop(k)) for k in range(clients_n)], consumeErrors=True
    )
    calls_s = time.perf_counter() - begin
    total = per_client * clients_n
    exactly_once = len(answers) == total and sorted(answers) == list(range(total))
    for t in tubs:
        await t.stopService()
    await server.stopService()
    return {
        "load_clients": clients_n,
        "load_calls": total,
        "load_all_answered_once": float(exactly_once),
        "load_calls_per_s": total / calls_s,
        "load_connect_s": connect_s,
        "load_rss_per_idle_connection_kb": (rss_after - rss_before) / clients_n / 1024,
    }


CHILDREN = {
    "octavo": bench_octavo,
    "foolscap": bench_foolscap,
    "tls-echo": bench_tls_echo,
    "load": bench_load,
}


def child(name: str) -> None:
    """Run one implementation's measurements and print them as JSON."""
    result: dict[str, Any] = {}

    async def main() -> None:
        try:
            result.update(await CHILDREN[name]())
        finally:
            reactor.stop()

    reactor.callWhenRunning(lambda: defer.ensureDeferred(main()))
    reactor.run()
    print(json.dumps(result))


# -- the harness entry point ----------------------------------------------------


def measure(name: str) -> dict[str, float]:
    """Run one child process and return its figures (empty on failure)."""
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    proc = subprocess.run(
        [sys.executable, __file__, "--child", name],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
        check=False,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        sys.stderr.write(f"bench_tub child {name} failed:\n{proc.stderr[-3000:]}\n")
        return {}
    figures: dict[str, float] = json.loads(lines[-1])
    return figures


def run() -> Any:
    """Measure all three and build the report (``benchmarks/run.py tub``)."""
    from _harness import Report

    figures = {name: measure(name) for name in CHILDREN}
    octavo, foolscap, echo = figures["octavo"], figures["foolscap"], figures["tls-echo"]
    rows = []
    labels = [
        ("serial no-op calls/s", "serial_calls_per_s", True),
        ("100 in flight calls/s", "inflight100_calls_per_s", True),
        ("1 MB argument MB/s", "mb_arg_mb_per_s", True),
        ("7.7 KB nested dict calls/s", "nested_dict_calls_per_s", True),
        ("new connection ms", "connect_ms", False),
    ]
    for label, key, higher_better in labels:
        o, f, e = octavo.get(key), foolscap.get(key), echo.get(key)
        ratio = ""
        if o and f:
            ratio = f"{(o / f if higher_better else f / o):.2f}x"
        ceiling = f"{o / e:.0%} of echo" if o and e else ""
        rows.append([label, _fmt(o), _fmt(f), _fmt(e), ratio, ceiling])
    report = Report("tub")
    report.table(
        "Octavo Tub vs Foolscap 24.9 (same run, loopback TLS; ratio > 1 means Octavo is better)",
        ["measure", "octavo", "foolscap", "bare TLS echo", "octavo/foolscap", "vs ceiling"],
        rows,
    )
    load = figures["load"]
    if load:
        report.table(
            "Load: many client Tubs on one Octavo Tub (loopback, one process)",
            [
                "clients",
                "calls",
                "every call answered once",
                "calls/s",
                "connect all (s)",
                "RSS per idle connection (KiB, both ends)",
            ],
            [
                [
                    int(load["load_clients"]),
                    int(load["load_calls"]),
                    "yes" if load["load_all_answered_once"] else "NO",
                    _fmt(load["load_calls_per_s"]),
                    _fmt(load["load_connect_s"]),
                    _fmt(load["load_rss_per_idle_connection_kb"]),
                ]
            ],
        )
    report.data.update(figures)
    report.notes.append(
        "Each figure is the rate over a bounded run (about 1-2 s) in a fresh child process; "
        "the bare TLS echo is the ceiling for serial calls and bulk transfer."
    )
    return report


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(sys.argv[2])
    else:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        print(run().render())
