"""Benchmark client process; prints one JSON line of figures on stdout.

``python _rpc_client.py echo --port P`` measures the bare TLS echo;
``python _rpc_client.py micro SYSTEM --furl F`` measures one RPC system's call figures;
``python _rpc_client.py connect SYSTEM --furl F --first K --count N`` times N new
connections;
``python _rpc_client.py load SYSTEM --furl F --server-pid PID --clients N --calls M``
runs the load test; ``python _rpc_client.py curve SYSTEM --furl F --connections N
--first K [--measure]`` is one process of a connection-count point (``_rpc_curve.py``).
``--scale`` multiplies every time budget (the quick mode uses 0.25).
Every loop stops after a bounded count or a bounded time, whichever comes first.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from _rpc_common import (
    CLIENT_CERT,
    CONNECT_CERTS,
    LOAD_CERT_BASE,
    MEGABYTE,
    PAYLOAD_SIZES,
    STORE_ARGS,
    TYPED_NAME,
    bounded,
    global_reactor,
    has_schemas,
    load_certificates,
    nested_dict,
    rss_kib,
    tub_classes,
    tub_keys,
    typed_interface,
)
from twisted.internet import defer, endpoints, task, threads
from twisted.python.failure import Failure

Call = Callable[[], Awaitable[object]]
#: turns each payload size takes in payload_figures
PAYLOAD_SLICES = 3
clock = time.perf_counter
reactor = global_reactor()


def sleep(seconds: float) -> defer.Deferred[None]:
    """A Deferred firing after ``seconds`` of reactor time."""
    return task.deferLater(reactor, seconds, lambda: None)


#: rounds the last serial() or in_flight() made ("last")
COUNT = {"last": 0}


async def serial(call: Call, seconds: float, max_count: int) -> float:
    """Rounds per second of ``call`` made one after another."""
    more = bounded(max_count, seconds)
    done = 0
    start = clock()
    while more(done):
        await call()
        done += 1
    COUNT["last"] = done
    return done / (clock() - start)


async def in_flight(call: Call, width: int, seconds: float, max_count: int) -> float:
    """Rounds per second of ``call`` with ``width`` always outstanding."""
    more = bounded(max_count, seconds)
    issued = 0
    done = 0

    async def worker() -> None:
        nonlocal issued, done
        while more(issued):
            issued += 1
            await call()
            done += 1

    start = clock()
    await defer.gatherResults([defer.ensureDeferred(worker()) for _ in range(width)])
    COUNT["last"] = done
    return done / (clock() - start)


class ServerSyscalls:
    """The server's system calls during a phase, through its ``syscalls`` method
    (None for the echo, or when perf cannot count)."""

    def __init__(self, ref: Any = None) -> None:
        self._ref = ref
        self._total = 0

    async def start(self) -> None:
        """Counting on (from the total so far: earlier phases and clients counted too)."""
        if self._ref is not None:
            self._total = await self._ref.callRemote("syscalls", False) or 0
            await self._ref.callRemote("syscalls", True)

    async def per_call(self, calls: int) -> float | None:
        """Counting off; the system calls since start() per call."""
        if self._ref is None:
            return None
        total = await self._ref.callRemote("syscalls", False)
        if total is None or not calls:
            return None
        count, self._total = total - self._total, total
        return float(count / calls)

    async def faults(self) -> int | None:
        """The server's minor page faults so far (None for the echo)."""
        if self._ref is None:
            return None
        stats = await self._ref.callRemote("stats")
        return int(stats["faults"])


async def measure_calls(
    small: Call, big: Call, dict_call: Call, scale: float, syscalls: ServerSyscalls
) -> dict[str, float]:
    """The call figures shared by the echo and the Tubs, each after a short warm-up;
    for serial and 100-in-flight calls also the server's system calls per call."""
    out: dict[str, float] = {}
    await serial(small, 0.3 * scale, 300)
    await syscalls.start()
    out["serial_per_s"] = await serial(small, 3.0 * scale, 50_000)
    per_call = await syscalls.per_call(COUNT["last"])
    if per_call is not None:
        out["serial_syscalls_per_call"] = per_call
    await in_flight(small, 100, 0.3 * scale, 500)
    await syscalls.start()
    out["inflight100_per_s"] = await in_flight(small, 100, 3.0 * scale, 100_000)
    per_call = await syscalls.per_call(COUNT["last"])
    if per_call is not None:
        out["inflight100_syscalls_per_call"] = per_call
    await serial(big, 0.3 * scale, 3)
    faults = await syscalls.faults()
    out["mb_per_s"] = await serial(big, 3.0 * scale, 500) * len(MEGABYTE) / 1e6
    if faults is not None:
        # the server's page faults per MiB received: fresh pages, not reused heap
        faulted = (await syscalls.faults() or 0) - faults
        out["mb_faults"] = faulted / (COUNT["last"] * len(MEGABYTE) / 2**20)
    await serial(dict_call, 0.3 * scale, 20)
    out["dict_per_s"] = await serial(dict_call, 4.0 * scale, 20_000)
    return out


async def payload_figures(
    take: Callable[[bytes], Awaitable[object]],
    scale: float,
    faults: Callable[[], Awaitable[int | None]] | None = None,
) -> dict[str, Any]:
    """MB/s of serial calls with a 1 MB, a 10 MB and a 50 MB bytes argument (keys
    ``mb_per_s``, ``mb10_per_s``, ``mb50_per_s``), each size after one warm-up call; a
    size the server refuses is left out (its error under ``mbN_error``). The sizes take
    turns (three slices each), so each big size's share of the 1 MB figure
    (``mb10_share``, ``mb50_share``) compares calls made in the same seconds. With
    ``faults`` (the server's page faults so far), also each size's faults per MiB
    received (``mb_slices_faults``, ``mb10_faults``, ``mb50_faults``)."""
    out: dict[str, Any] = {}
    sizes = (len(MEGABYTE), *PAYLOAD_SIZES)
    payloads = {size: MEGABYTE if size == len(MEGABYTE) else b"\xa5" * size for size in sizes}
    keys = {
        size: "mb_per_s" if size == len(MEGABYTE) else f"mb{size // 1_000_000}_per_s"
        for size in sizes
    }
    taken: dict[int, list[float]] = {}
    for size in sizes:
        try:
            await take(payloads[size])
        except Exception as e:
            out[keys[size].replace("_per_s", "_error")] = repr(e)[:300]
            continue
        taken[size] = [0.0, 0.0, 0.0]  # bytes, seconds, page faults
    for _ in range(PAYLOAD_SLICES):
        for size, total in taken.items():
            done = 0
            before = await faults() if faults is not None else None
            start = clock()
            # at least one call (a 50 MB one takes a while), else as serial() does
            while done < 1 or (done < 200 and clock() - start < 3.0 * scale / PAYLOAD_SLICES):
                await take(payloads[size])
                done += 1
            total[0] += done * size
            total[1] += clock() - start
            if before is not None and faults is not None:
                total[2] += (await faults() or 0) - before
    for size, (nbytes, seconds, faulted) in taken.items():
        out[keys[size]] = nbytes / 1e6 / seconds
        if faults is not None:
            name = "mb_slices" if size == len(MEGABYTE) else keys[size].replace("_per_s", "")
            out[f"{name}_faults"] = faulted / (nbytes / 2**20)
    one = out.get("mb_per_s")
    for size in PAYLOAD_SIZES:
        key = keys[size]
        if one and key in out:
            out[key.replace("_per_s", "_share")] = out[key] / one
    del payloads
    gc.collect()
    return out


async def echo_suite(port: int, cert: str, scale: float) -> dict[str, float]:
    """Bare TLS echo figures: the ceilings."""
    from _rpc_echo import EchoClient, tls_options

    options = tls_options(cert)
    endpoint = endpoints.SSL4ClientEndpoint(  # type: ignore[no-untyped-call]
        reactor, "127.0.0.1", port, options
    )

    async def connect() -> EchoClient:
        client = EchoClient()
        await endpoints.connectProtocol(endpoint, client)  # type: ignore[no-untyped-call]
        await client.handshake
        return client

    client = await connect()
    small = b"s" * 64
    dict_sized = json.dumps(nested_dict()).encode()
    out = await measure_calls(
        lambda: client.request(b"E", small),
        lambda: client.request(b"A", MEGABYTE),
        lambda: client.request(b"A", dict_sized),
        scale,
        ServerSyscalls(),
    )
    out["dict_sized_bytes"] = len(dict_sized)
    client.close()
    times: list[float] = []
    more = bounded(40, 4.0 * scale)
    while more(len(times)):
        start = clock()
        fresh = await connect()
        times.append(clock() - start)
        fresh.close()
        await sleep(0.01)
    out["connect_ms"] = statistics.median(times) * 1000
    out["connects"] = len(times)
    return out


async def schema_figures(
    system: str, tub: Any, ref: Any, furl: str, scale: float
) -> dict[str, float]:
    """store(int, ListOf(bytes)) calls/s (serial, and 100 in flight), without a schema and
    through a RemoteInterface both ends know (the caller checks before sending, the
    callee as the call arrives); with 100 in flight also CPU microseconds per call, both
    processes together (serial calls' CPU is mostly the wake-ups around each round trip,
    the same for a bare TLS echo)."""
    if not has_schemas(system):
        return {}
    typed_interface(system)  # known here too: the caller checks
    typed = await tub.getReference(furl.rsplit("/", 1)[0] + "/" + TYPED_NAME)
    out: dict[str, float] = {}
    for target in (ref, typed):
        await serial(lambda t=target: t.callRemote("store", *STORE_ARGS), 0.3 * scale, 300)
    time_shares: list[float] = []
    cpu_shares: list[float] = []
    for _ in range(2):  # alternate, so both figures see the same machine
        pair: dict[str, tuple[float, float]] = {}
        for key, target in (("store", ref), ("typed_store", typed)):
            call = lambda t=target: t.callRemote("store", *STORE_ARGS)  # noqa: E731
            rate = await serial(call, 1.5 * scale, 50_000)
            _keep_best(out, f"{key}_per_s", rate)
            cpu = await CallCPU.start(ref)
            rate = await in_flight(call, 100, 1.5 * scale, 100_000)
            cpu_us = await cpu.per_call(COUNT["last"])
            _keep_best(out, f"{key}_inflight100_per_s", rate)
            _keep_least(out, f"{key}_inflight100_cpu_us", cpu_us)
            pair[key] = (rate, cpu_us)
        (plain_rate, plain_cpu), (typed_rate, typed_cpu) = pair["store"], pair["typed_store"]
        if typed_rate > 0 and plain_cpu > 0:
            time_shares.append(plain_rate / typed_rate)
            cpu_shares.append(typed_cpu / plain_cpu)
    # typed / untyped of the phases run back to back (a pair sees one pace of the
    # machine): bench_rpc's best() takes the median of these over the rounds
    if time_shares:
        out["typed_inflight100_time_share"] = statistics.median(time_shares)
        out["typed_inflight100_cpu_share"] = statistics.median(cpu_shares)
    return out


def _keep_best(out: dict[str, float], key: str, value: float) -> None:
    out[key] = max(out.get(key, 0.0), value)


def _keep_least(out: dict[str, float], key: str, value: float) -> None:
    out[key] = min(out.get(key, value), value)


class CallCPU:
    """CPU time of both processes of a call (this client's and the server's, read
    through the server's ``cpu`` method) over a phase, per call: what a call costs
    apart from the time it waits for the other side."""

    def __init__(self, ref: Any, client: float, server: float) -> None:
        self._ref, self._client, self._server = ref, client, server

    @classmethod
    async def start(cls, ref: Any) -> CallCPU:
        """Both clocks read now."""
        server = await ref.callRemote("cpu")
        return cls(ref, time.process_time(), server)

    async def per_call(self, calls: int) -> float:
        """Microseconds of CPU (client + server) per call since start()."""
        client = time.process_time() - self._client
        server = await self._ref.callRemote("cpu") - self._server
        return (client + server) * 1e6 / max(calls, 1)


async def micro_suite(
    system: str, furl: str, certs: list[str], scale: float, payloads_only: bool = False
) -> dict[str, Any]:
    """One RPC system's call figures and its new-connection time (``payloads_only``:
    only the 1, 10 and 50 MB argument figures)."""
    tub_class, _ = tub_classes(system)
    tub = tub_class(certData=certs[CLIENT_CERT])
    tub.startService()
    ref = await tub.getReference(furl)
    if payloads_only:
        out = await payload_figures(
            lambda p: ref.callRemote("take", p), scale, ServerSyscalls(ref).faults
        )
        await tub.stopService()
        return out
    payload = nested_dict()
    out = await measure_calls(
        lambda: ref.callRemote("noop"),
        lambda: ref.callRemote("take", MEGABYTE),
        lambda: ref.callRemote("take", payload),
        scale,
        ServerSyscalls(ref),
    )
    out.update(await schema_figures(system, tub, ref, furl, scale))
    big = await payload_figures(
        lambda p: ref.callRemote("take", p), scale, ServerSyscalls(ref).faults
    )
    big.pop("mb_per_s", None)  # (measured above, between the other figures)
    out.update(big)
    await tub.stopService()
    return out


async def connect_suite(
    system: str, furl: str, certs: list[str], *, first: int, count: int
) -> dict[str, Any]:
    """Times of ``count`` new connections, each a fresh client Tub (certificates from
    ``first`` on, round ``CONNECT_CERTS``) from ``startService`` done to the reference
    in hand: TCP, TLS, negotiation and the first call. One connection before them is
    not timed (this process's first: its one-time costs are not a connection's)."""
    tub_class, _ = tub_classes(system)

    async def connect(index: int) -> float:
        fresh = tub_class(certData=certs[CONNECT_CERTS[index % len(CONNECT_CERTS)]])
        fresh.startService()
        start = clock()
        await fresh.getReference(furl)
        took = clock() - start
        await fresh.stopService()
        await sleep(0.01)
        return took

    await connect(first - 1)
    times = [await connect(first + i) for i in range(count)]
    return {"connect_times_ms": [t * 1000 for t in times]}


async def load_suite(
    system: str,
    furl: str,
    certs: list[str],
    *,
    server_pid: int,
    clients: int,
    calls: int,
    seconds: float,
) -> dict[str, object]:
    """``clients`` client Tubs on one server Tub, ``calls`` calls in all, each answered once."""
    if clients < 2:
        raise ValueError("the load run needs at least 2 client Tubs")
    if len(certs) < LOAD_CERT_BASE + clients:
        raise ValueError(f"only {len(certs)} cached certificates for {clients} clients")
    tub_class, _ = tub_classes(system)
    tubs = [tub_class(certData=certs[LOAD_CERT_BASE + i]) for i in range(clients)]
    for tub in tubs:
        tub.startService()
    refs: list[Any] = [None] * clients
    out: dict[str, object] = {"clients": clients, "calls": calls}

    async def attach(i: int) -> None:
        refs[i] = await tubs[i].getReference(furl)
        await refs[i].callRemote("noop")

    # One connection first, so the server's one-time costs are in the baseline.
    await attach(0)
    await sleep(0.3)
    stats_before = await refs[0].callRemote("stats")
    base_kib = rss_kib(server_pid)
    started = clock()
    pending = list(range(clients - 1, 0, -1))

    async def attacher() -> None:
        while pending and clock() - started < seconds:
            await attach(pending.pop())

    await defer.gatherResults([defer.ensureDeferred(attacher()) for _ in range(25)])
    if pending:
        raise RuntimeError(f"{len(pending)} client Tubs not connected within {seconds} s")
    out["connect_all_s"] = clock() - started
    await sleep(1.0)
    idle_kib = rss_kib(server_pid)
    out["server_rss_base_kib"] = base_kib
    out["server_rss_idle_kib"] = idle_kib
    out["kib_per_idle_connection"] = (idle_kib - base_kib) / (clients - 1)

    # calls in all, spread evenly; each client makes its share one after another.
    seen = bytearray(calls)
    answered = 0
    wrong = 0
    deadline = clock() + seconds
    shares = [calls // clients + (1 if i < calls % clients else 0) for i in range(clients)]
    firsts = [sum(shares[:i]) for i in range(clients)]

    async def caller(i: int) -> None:
        nonlocal answered, wrong
        for call_id in range(firsts[i], firsts[i] + shares[i]):
            if clock() > deadline:
                return
            result = await refs[i].callRemote("echo", call_id)
            answered += 1
            if result != call_id or seen[call_id]:
                wrong += 1
            seen[call_id] = 1

    started = clock()
    await defer.gatherResults([defer.ensureDeferred(caller(i)) for i in range(clients)])
    elapsed = clock() - started
    stats_after = await refs[0].callRemote("stats")
    server_calls = stats_after["calls"] - stats_before["calls"] - (clients - 1)
    out["calls_s"] = elapsed
    out["calls_per_s"] = answered / elapsed
    out["answered"] = answered
    out["wrong"] = wrong
    out["server_counted"] = server_calls
    out["server_rss_after_kib"] = stats_after["rss_kib"]
    out["all_answered_once"] = (
        answered == calls and wrong == 0 and all(seen) and server_calls == calls
    )
    stops = [tub.stopService() for tub in tubs]
    await defer.DeferredList(stops, consumeErrors=True)
    return out


async def curve_suite(
    system: str,
    furl: str,
    certs: list[str],
    *,
    connections: int,
    first: int,
    width: int,
    seconds: float,
    measure: bool,
) -> dict[str, object]:
    """One process of a connection-count point: ``connections`` client Tubs, each
    keeping ``width`` no-op calls in flight. Connects, says it is ready, waits for the
    word (a line on stdin), calls. The measuring process reads the server's call count,
    clock, CPU time and system calls at both ends of a window of ``seconds``; the other
    calls until told (a second line) that the measuring one is done."""
    tub_class, _ = tub_classes(system)
    tubs = [tub_class(certData=certs[LOAD_CERT_BASE + first + i]) for i in range(connections)]
    for tub in tubs:
        tub.startService()
    refs: list[Any] = []
    for start in range(0, connections, 25):
        batch = tubs[start : start + 25]
        got = [defer.ensureDeferred(t.getReference(furl)) for t in batch]
        refs += await defer.gatherResults(got)
    await defer.gatherResults([defer.ensureDeferred(r.callRemote("noop")) for r in refs])
    print(json.dumps({"ready": True}), flush=True)
    await threads.deferToThread(sys.stdin.readline)
    stop = False

    def worker(ref: Any) -> defer.Deferred[None]:
        # a chain of callbacks, not a coroutine: Twisted's coroutine machinery is a
        # large share of a client's CPU per call, and on this machine the client
        # processes share the server's cores (see benchmarks/README)
        done: defer.Deferred[None] = defer.Deferred()

        def again(_: object) -> None:
            if stop:
                done.callback(None)
            else:
                ref.callRemote("noop").addCallbacks(again, done.errback)

        again(None)
        return done

    workers = [worker(r) for r in refs for _ in range(width)]
    await sleep(0.5)  # every worker running, both processes
    out: dict[str, object] = {"connections": connections}
    if measure:
        # Calls, time, CPU and system calls are all read by the server, one call at
        # each end of the window, so no round trip (0.2-0.8 s for Foolscap at 500 x
        # 10) is in any figure (before 9496b2b one was: see benchmarks/README.md).
        total = await refs[0].callRemote("syscalls", False)  # (before the window)
        before = await refs[0].callRemote("stats", True)
        await sleep(seconds)
        after = await refs[0].callRemote("stats", False)
        calls = after["calls"] - before["calls"]
        out["calls_per_s"] = calls / (after["time"] - before["time"])
        out["server_cpu_us_per_call"] = (after["cpu"] - before["cpu"]) * 1e6 / max(calls, 1)
        counted = total is not None and after.get("syscalls") is not None and calls
        out["server_syscalls_per_call"] = (after["syscalls"] - total) / calls if counted else None
    else:
        await threads.deferToThread(sys.stdin.readline)  # the measuring one is done
    stop = True
    await defer.gatherResults(workers)
    await defer.DeferredList([tub.stopService() for tub in tubs], consumeErrors=True)
    return out


def run_main(coro: Callable[[], Coroutine[Any, Any, dict[str, Any]]]) -> dict[str, Any]:
    """Run ``coro`` on the reactor and return its result (re-raising its failure)."""
    box: list[object] = []

    def begin() -> None:
        d = defer.ensureDeferred(coro())
        d.addBoth(box.append)
        d.addBoth(lambda _: reactor.stop())

    reactor.callWhenRunning(begin)
    reactor.run()
    (result,) = box
    if isinstance(result, Failure):
        result.raiseException()
    assert isinstance(result, dict)
    return result


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run one suite, print its JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suite", choices=["echo", "micro", "connect", "load", "curve"])
    parser.add_argument("system", nargs="?", choices=["foolscap", "octavo"])
    parser.add_argument("--port", type=int)
    parser.add_argument("--furl")
    parser.add_argument("--server-pid", type=int)
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seconds", type=float, default=120.0, help="load-run bound")
    parser.add_argument("--connections", type=int, default=1, help="curve: client Tubs")
    parser.add_argument("--first", type=int, default=0, help="curve, connect: first certificate")
    parser.add_argument("--count", type=int, default=8, help="connect: connections timed")
    parser.add_argument("--width", type=int, default=10, help="curve: calls in flight each")
    parser.add_argument("--measure", action="store_true", help="curve: the measuring one")
    parser.add_argument(
        "--payloads-only", action="store_true", help="micro: only the 1/10/50 MB figures"
    )
    args = parser.parse_args(argv)
    certs = load_certificates(tub_keys(args.system or "echo"))
    gc.collect()

    async def chosen() -> dict[str, Any]:
        if args.suite == "echo":
            return await echo_suite(args.port, certs[CLIENT_CERT], args.scale)
        if args.system is None or args.furl is None:
            parser.error(f"{args.suite} needs SYSTEM and --furl")
        if args.suite == "micro":
            return await micro_suite(
                args.system, args.furl, certs, args.scale, payloads_only=args.payloads_only
            )
        if args.suite == "connect":
            return await connect_suite(
                args.system, args.furl, certs, first=args.first, count=args.count
            )
        if args.suite == "curve":
            return await curve_suite(
                args.system,
                args.furl,
                certs,
                connections=args.connections,
                first=args.first,
                width=args.width,
                seconds=args.seconds,
                measure=args.measure,
            )
        return await load_suite(
            args.system,
            args.furl,
            certs,
            server_pid=args.server_pid,
            clients=args.clients,
            calls=args.calls,
            seconds=args.seconds,
        )

    result = {"suite": args.suite, "system": args.system or "echo", **run_main(chosen)}
    result["client_rss_kib"] = rss_kib()
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
