"""Octavo Tub RPC against Foolscap 24.9 and a bare Twisted TLS echo, measured in one run.

Loopback only (127.0.0.1). Each system's server runs in its own subprocess and its
client in another, and the systems never share a process, a reactor or a heap. For
the call figures (not the curve, whose two client processes need every core) each
server is pinned to one core and its client to another, as two hosts would be: left
to itself, Linux often wakes the client on the server's core (and back), so one side
waits for the other to finish work they would do at the same time on two machines
(``RPC_PIN=0``: no pinning). For the call figures the three servers (echo,
Foolscap, Octavo) are up together and the clients take turns, round after round (3, or
1 in quick mode), keeping each figure's best round: load from elsewhere on the machine
then hits every system alike. The new-connection time is measured apart, pinned the
same way: a client process per system connects a few fresh Tubs (8; the process's
first connection is not timed), the systems taking turns for 8 rounds, and the median
of each system's 64 connections is kept; the systems' connections are spread over the
same minute, where a figure taken at the end of each system's call figures (as before)
compared connections made up to a minute apart, and the VM's pace moves that much.
The load run gets a fresh server per system, so its memory baseline is clean; its
client Tubs all live in one client process.

Figures (each a ratio "how many times better Octavo is than Foolscap", beside the bare
TLS echo as the ceiling): serial no-op calls/s; calls/s with 100 in flight; MB/s for a
1 MB bytes argument, and for 10 MB and 50 MB ones (the Octavo server sets
``max-token-size`` to 64 MiB for them; the target is 90% of its own 1 MB figure
of the same seconds: the three sizes take turns);
calls/s with a 7.7 KB nested dict argument; new-connection time
(``getReference`` from a fresh client Tub, TLS and negotiation included; each
system's Tubs with the key they make, Foolscap RSA-2048 and Octavo ECDSA P-256, and
again with RSA-2048 certificates on both); and
``store(n=int, items=ListOf(bytes))`` calls/s through a RemoteInterface both ends know
(checked by caller and callee) beside the same call without a schema (also typed /
untyped of the phases run back to back, the median over the rounds); the server's
system calls per call (``perf``, ``_rpc_syscalls.py``) for serial and 100-in-flight
calls. Then the connection-count curve (``_rpc_curve.py``: 1, 10, 100, 500 client
Tubs x 10 calls in flight, client work in two processes; calls/s and server system
calls per call, every system on the same servers; 5 rounds, 1 in quick mode, the
systems taking turns at each point, each system's best round kept; also each round's
own ratio to Foolscap, the median over the rounds). Then a load
run: many client Tubs (500 by default) on one server Tub, 100,000 calls in all, every
call answered exactly once (counted on both sides), and server memory per idle
connection (RSS delta / connections).

``python benchmarks/run.py rpc`` runs it (options from the environment: ``RPC_QUICK=1``,
``RPC_CLIENTS``, ``RPC_CALLS``, ``RPC_SYSTEMS=foolscap,octavo``, ``RPC_SKIP_LOAD=1``,
``RPC_CURVE=1,10,100,500`` (empty: no curve), ``RPC_BASELINE=PATH``,
``RPC_PAYLOADS_ONLY=1``: only the 1, 10 and 50 MB argument rows, a minute or two;
``RPC_PIN=0``: no pinning to cores; ``RPC_COMPILED=0``: without the compiled build
(below); ``RPC_TUB_KEYS=rsa``: Octavo's Tubs use RSA-2048
certificates as Foolscap's do, not the ECDSA P-256 ones Octavo makes, as a baseline
checkout from before Octavo loaded ECDSA keys needs);
``python benchmarks/bench_rpc.py --quick [--clients N] [--calls N]
[--baseline PATH]`` does the same with command-line options.

Before and after: with ``RPC_BASELINE`` set to another checkout of this repository (say
a worktree of the commit before a change), a fourth server and client run Octavo from
that checkout's ``packages/*/src`` (put first on ``PYTHONPATH``) in the same rounds, and
a second table compares its figures with the current code's, each as a ratio against
Foolscap measured in the same rounds. The baseline takes no part in the load run.

The compiled build: unless ``RPC_COMPILED=0``, octavo-tub's optional compiled wheel
(its mypyc hook, built by ``scripts/compiled_build.py`` at the start) runs as one more
Octavo server and client ("compiled") in the same rounds of the call figures and the
curve, reported beside the pure Python build (which the main table shows), each as a
ratio against Foolscap. It takes no part in the load run either.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import selectors
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from _harness import Report
from _rpc_common import KEYS_ENV, LOAD_CERT_BASE, SYSTEMS, ensure_certificates, tub_keys
from _rpc_curve import curve_point
from _rpc_syscalls import perf_command

HERE = Path(__file__).resolve().parent
SERVER_START_SECONDS = 60.0


@dataclass(frozen=True)
class Options:
    """What to run: quick mode scales every time budget down and shrinks the load run."""

    quick: bool = False
    clients: int = 500
    calls: int = 100_000
    systems: tuple[str, ...] = SYSTEMS
    load: bool = True
    #: another checkout whose Octavo runs beside this one ("baseline"), or None
    baseline: str | None = None
    #: octavo-tub's compiled build runs beside the pure one ("compiled")
    compiled: bool = True
    #: connection counts of the curve (each x 10 calls in flight); empty: no curve
    curve: tuple[int, ...] = (1, 10, 100, 500)
    #: only the 1, 10 and 50 MB argument rows (no echo, curve or load run)
    payloads_only: bool = False
    #: the call figures with each server on one core and its client on another
    pin: bool = True

    @property
    def scale(self) -> float:
        """Multiplier of the client's time budgets (1.0 is 3 s per figure)."""
        return 0.25 if self.quick else 0.3

    @property
    def rounds(self) -> int:
        """Rounds of the call figures (best of them is kept)."""
        return 1 if self.quick else 3

    @property
    def connect_rounds(self) -> int:
        """Rounds of the new-connection figure (the systems take turns in each)."""
        return 2 if self.quick else 8

    @property
    def curve_rounds(self) -> int:
        """Rounds of the connection-count curve (the systems take turns at each point;
        each system's best round is kept)."""
        return 1 if self.quick else 5

    @property
    def connects_per_round(self) -> int:
        """Connections timed per system in each of those rounds."""
        return 4 if self.quick else 8

    @property
    def load_seconds(self) -> float:
        """Bound on each load-run phase (connecting, calling)."""
        return 40.0 if self.quick else 150.0


def options_from_env(env: dict[str, str] | None = None) -> Options:
    """Options from ``RPC_*`` environment variables (how ``run.py rpc`` is configured)."""
    env = dict(os.environ) if env is None else env
    quick = env.get("RPC_QUICK", "") not in ("", "0")
    payloads_only = env.get("RPC_PAYLOADS_ONLY", "") not in ("", "0")
    systems = tuple(s for s in env.get("RPC_SYSTEMS", ",".join(SYSTEMS)).split(",") if s)
    unknown = set(systems) - set(SYSTEMS)
    if unknown:
        raise ValueError(f"RPC_SYSTEMS names unknown systems {sorted(unknown)}")
    return Options(
        quick=quick,
        clients=int(env.get("RPC_CLIENTS", "50" if quick else "500")),
        calls=int(env.get("RPC_CALLS", "5000" if quick else "100000")),
        systems=systems,
        load=env.get("RPC_SKIP_LOAD", "") in ("", "0") and not payloads_only,
        baseline=env.get("RPC_BASELINE") or None,
        compiled=env.get("RPC_COMPILED", "1") not in ("", "0") and "octavo" in systems,
        curve=tuple(int(n) for n in env.get("RPC_CURVE", "1,10,100,500").split(",") if n),
        payloads_only=payloads_only,
        pin=env.get("RPC_PIN", "1") not in ("", "0"),
    )


def two_cores(wanted: bool) -> tuple[int, int] | None:
    """A core for the servers and another for their clients (None: not wanted, fewer
    than two cores to run on, or no ``sched_setaffinity`` on this system)."""
    if not wanted or not hasattr(os, "sched_getaffinity"):
        return None
    cores = sorted(os.sched_getaffinity(0))
    return (cores[0], cores[1]) if len(cores) >= 2 else None


@contextmanager
def servers_pinned(pids: list[int], core: int | None) -> Iterator[None]:
    """Run these server processes on ``core`` only (None: as they are), for the block."""
    if core is None:
        yield
        return
    everywhere = os.sched_getaffinity(0)
    for pid in pids:
        os.sched_setaffinity(pid, {core})
    try:
        yield
    finally:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):  # (it stopped: nothing to undo)
                os.sched_setaffinity(pid, everywhere)


def baseline_env(baseline: str | None) -> dict[str, str] | None:
    """The environment of a process that runs Octavo from the ``baseline`` checkout."""
    if baseline is None:
        return None
    root = Path(baseline).resolve()
    paths = sorted(str(p) for p in (root / "packages").glob("*/src"))
    if not paths:
        raise ValueError(f"RPC_BASELINE={baseline}: no packages/*/src there")
    old = os.environ.get("PYTHONPATH")
    return dict(os.environ, PYTHONPATH=os.pathsep.join([*paths, *([old] if old else [])]))


def compiled_env(stack: ExitStack) -> dict[str, str]:
    """The environment of a process that runs octavo-tub's compiled build: built and
    unpacked (``scripts/compiled_build.py``) into a folder that lives as long as
    ``stack``, put first on ``PYTHONPATH``."""
    folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="octavo-compiled-"))
    script = HERE.parent / "scripts" / "compiled_build.py"
    subprocess.run([sys.executable, str(script), folder], check=True, stdout=subprocess.DEVNULL)
    old = os.environ.get("PYTHONPATH")
    return dict(os.environ, PYTHONPATH=os.pathsep.join([folder, *([old] if old else [])]))


def octavo_builds(opts: Options, stack: ExitStack) -> dict[str, dict[str, str] | None]:
    """The systems (and their environments) the Tub figures are measured on: those of
    ``opts.systems``, then the baseline checkout and the compiled build if asked for."""
    envs: dict[str, dict[str, str] | None] = dict.fromkeys(opts.systems)
    if opts.baseline:
        envs["baseline"] = baseline_env(opts.baseline)
    if opts.compiled:
        envs["compiled"] = compiled_env(stack)
    return envs


#: the kinds of certificate the processes use (``_rpc_common.tub_keys``)
KEY_KINDS = ("rsa", "ecdsa")


def _process(system: str) -> str:
    """The system name the server and client scripts know ("baseline", "compiled" and
    "octavo-rsa" run Octavo)."""
    return "octavo" if system in ("baseline", "compiled", "octavo-rsa") else system


@contextmanager
def server(
    system: str, max_seconds: float, env: dict[str, str] | None = None
) -> Iterator[dict[str, Any]]:
    """A running ``_rpc_server.py`` subprocess; yields its announcement (port, pid, furl).
    A Tub server runs under ``perf stat`` when perf can count its system calls."""
    with tempfile.TemporaryFile() as log, tempfile.TemporaryDirectory() as perf_dir:
        prefix, perf_env = perf_command(perf_dir) if system != "echo" else ([], {})
        if perf_env:
            env = dict(env if env is not None else os.environ, **perf_env)
        proc = subprocess.Popen(
            [
                *prefix,
                *(sys.executable, str(HERE / "_rpc_server.py"), _process(system)),
                *("--max-seconds", str(max_seconds)),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            env=env,
        )
        try:
            yield _announcement(proc, log, system)
        finally:
            if proc.stdin is not None:
                proc.stdin.close()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)
            if proc.stdout is not None:
                proc.stdout.close()


def _announcement(proc: subprocess.Popen[bytes], log: IO[bytes], system: str) -> dict[str, Any]:
    """The JSON line a server prints once it listens (bounded wait)."""
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        ready = sel.select(SERVER_START_SECONDS)
    line = proc.stdout.readline() if ready else b""
    if not line:
        log.seek(0)
        raise RuntimeError(f"{system} server did not start: {log.read()[-2000:]!r}")
    info: dict[str, Any] = json.loads(line)
    return info


def client(
    args: list[str], timeout: float, env: dict[str, str] | None = None, core: int | None = None
) -> dict[str, Any]:
    """Run ``_rpc_client.py`` with ``args`` (on ``core`` only, if given); return the
    JSON it prints (or the error)."""
    pin = None if core is None else (lambda: os.sched_setaffinity(0, {core}))
    try:
        done = subprocess.run(
            [sys.executable, str(HERE / "_rpc_client.py"), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=env,
            preexec_fn=pin,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"client {' '.join(args[:2])} exceeded {timeout:.0f} s"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"error": f"client {' '.join(args[:2])} failed: {done.stderr[-1500:]}"}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def _page_faults(data: dict[str, Any]) -> str:
    """Each system's server page faults per MiB in the payload rows, for the notes."""
    keys = ("mb_faults", "mb_slices_faults", "mb10_faults", "mb50_faults")
    parts = []
    for part, value in data.items():
        if part.startswith("micro.") and isinstance(value, dict) and "mb10_faults" in value:
            got = [
                f"{value[k]:.0f}" if isinstance(value.get(k), int | float) else "-" for k in keys
            ]
            parts.append(f"{part[6:]} {got[0]}; {' / '.join(got[1:])}")
    return ", ".join(parts)


def best(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The best of each figure over ``rounds`` (highest rate, lowest time), as timeit does;
    of a share (one figure of a round over another of the same round), the median."""
    good = [r for r in rounds if "error" not in r]
    if not good:
        return rounds[-1] if rounds else {"error": "not run"}
    out: dict[str, Any] = {}
    for key in good[0]:
        values = [r[key] for r in good if key in r]
        if key.endswith("_ms") and all(isinstance(v, int | float) for v in values):
            out[key] = min(values)
        elif key.endswith("_per_s") and all(isinstance(v, int | float) for v in values):
            out[key] = max(values)
        elif key.endswith(("_per_call", "_us")) and all(isinstance(v, int | float) for v in values):
            out[key] = min(values)  # (CPU microseconds a call: the least, as time)
        elif key.endswith(("_share", "_faults")) and all(
            isinstance(v, int | float) for v in values
        ):
            out[key] = statistics.median(values)  # a ratio of one round's figures
        else:
            out[key] = values[-1]
    out["rounds"] = len(good)
    return out


def measure(opts: Options) -> dict[str, Any]:
    """Run every part; return raw figures keyed by part and system."""
    data: dict[str, Any] = {"options": opts.__dict__ | {"systems": list(opts.systems)}}
    data["options"]["octavo_keys"] = tub_keys("octavo")
    if opts.payloads_only:
        return measure_payloads(opts, data)
    started = time.perf_counter()
    ensure_certificates(
        LOAD_CERT_BASE + max(opts.clients if opts.load else 0, *opts.curve, 0), KEY_KINDS
    )
    data["certificates_s"] = round(time.perf_counter() - started, 1)
    scale = ["--scale", str(opts.scale)]
    builds = ExitStack()
    envs = octavo_builds(opts, builds)
    micro = tuple(envs)
    rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in ("echo", *micro)}
    # Octavo's Tubs make ECDSA keys, Foolscap's RSA-2048: the connection row is also
    # measured with RSA-2048 certificates on both systems, by a server of its own
    same_keys = ("octavo-rsa",) if "octavo" in micro and tub_keys("octavo") != "rsa" else ()
    envs.update({name: dict(os.environ, **{KEYS_ENV: "rsa"}) for name in same_keys})
    # All servers up at once (idle ones cost nothing); the clients take turns, round
    # after round, so a burst of load from elsewhere on the machine hits every system
    # alike, and the best of the rounds is kept.
    cores = two_cores(opts.pin)
    on = cores[1] if cores else None
    data["pinned_cores"] = list(cores) if cores else None
    with builds, ExitStack() as stack:
        infos = {
            name: stack.enter_context(server(name, 600, envs.get(name)))
            for name in (*rounds, *same_keys)
        }
        pids = [int(info["pid"]) for info in infos.values()]
        with servers_pinned(pids, cores[0] if cores else None):
            for _ in range(opts.rounds):
                echo = ["echo", "--port", str(infos["echo"]["port"]), *scale]
                rounds["echo"].append(client(echo, 120, core=on))
                for system in micro:
                    args = ["micro", _process(system), "--furl", infos[system]["furl"], *scale]
                    rounds[system].append(client(args, 180, envs[system], core=on))
            connects = connect_rounds(opts, (*micro, *same_keys), infos, envs, on)
        data.update(curve_rounds(opts, micro, infos, envs))
    data["echo"] = best(rounds["echo"])
    for system in micro:
        data[f"micro.{system}"] = best(rounds[system])
        data[f"micro.{system}"].update(connects[system])
    for name in same_keys:
        data[f"connect.{name}"] = connects[name]
    data["rounds"] = rounds
    if opts.load:
        for system in opts.systems:
            with server(system, opts.load_seconds * 2 + 120) as info:
                args = [
                    *("load", system, "--furl", info["furl"]),
                    *("--server-pid", str(info["pid"])),
                    *("--clients", str(opts.clients), "--calls", str(opts.calls)),
                    *("--seconds", str(opts.load_seconds)),
                ]
                data[f"load.{system}"] = client(args, opts.load_seconds * 2 + 60)
    return data


def connect_rounds(
    opts: Options,
    systems: tuple[str, ...],
    infos: dict[str, dict[str, Any]],
    envs: dict[str, dict[str, str] | None],
    core: int | None,
) -> dict[str, dict[str, Any]]:
    """The new-connection figure of each system: a few connections at a time per
    system, the systems taking turns (the first one changing each round) for
    ``opts.connect_rounds`` rounds, so each system's connections are spread over the
    same minute of the machine's life; the median of all of them (``connect_ms``)."""
    per = opts.connects_per_round
    times: dict[str, list[float]] = {name: [] for name in systems}
    errors: dict[str, str] = {}
    for r in range(opts.connect_rounds):
        for system in systems[r % len(systems) :] + systems[: r % len(systems)]:
            args = ["connect", _process(system), "--furl", infos[system]["furl"]]
            args += ["--first", str(r * per), "--count", str(per)]
            out = client(args, 120, envs[system], core=core)
            times[system] += out.get("connect_times_ms", [])
            if "error" in out:
                errors[system] = out["error"]
    figures: dict[str, dict[str, Any]] = {}
    for system in systems:
        got = times[system]
        figures[system] = {"connects": len(got)}
        if got:
            figures[system]["connect_ms"] = statistics.median(got)
        if system in errors:
            figures[system]["connect_error"] = errors[system]
    return figures


def curve_rounds(
    opts: Options,
    systems: tuple[str, ...],
    infos: dict[str, dict[str, Any]],
    envs: dict[str, dict[str, str] | None],
) -> dict[str, Any]:
    """The connection-count curve: every point measured ``opts.curve_rounds`` times,
    the systems taking turns (the first one changing each round), so each system's
    windows are spread over the same minutes of the machine's life; the round with the
    most calls/s is kept per system and point (``curve.SYSTEM.N``), every round under
    ``curve_rounds``. With one window per system, taken one after the other, the
    500-connection ratio ranged over 4.9x-8.2x in runs of unchanged code: the VM's
    pace moves that much between windows."""
    runs: dict[str, list[dict[str, Any]]] = {}
    for r in range(opts.curve_rounds):
        for n in opts.curve:
            for system in systems[r % len(systems) :] + systems[: r % len(systems)]:
                point = curve_point(_process(system), infos[system]["furl"], n, env=envs[system])
                runs.setdefault(f"curve.{system}.{n}", []).append(point)
    kept: dict[str, Any] = {key: best_point(points) for key, points in runs.items()}
    kept["curve_rounds"] = runs
    return kept


def best_point(points: list[dict[str, Any]]) -> dict[str, Any]:
    """The curve round with the most calls/s (the last one when none measured any)."""
    measured = [p for p in points if isinstance(p.get("calls_per_s"), int | float)]
    if not measured:
        return points[-1]
    point = dict(max(measured, key=lambda p: p["calls_per_s"]))
    point["rounds"] = len(measured)
    return point


def measure_payloads(opts: Options, data: dict[str, Any]) -> dict[str, Any]:
    """Only the 1, 10 and 50 MB argument figures (``RPC_PAYLOADS_ONLY=1``): the Tub
    servers up together, their clients taking turns, best of the rounds."""
    ensure_certificates(LOAD_CERT_BASE, KEY_KINDS)
    scale = ["--scale", str(opts.scale)]
    builds = ExitStack()
    envs = octavo_builds(opts, builds)
    micro = tuple(envs)
    rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in micro}
    cores = two_cores(opts.pin)
    on = cores[1] if cores else None
    data["pinned_cores"] = list(cores) if cores else None
    with builds, ExitStack() as stack:
        infos = {name: stack.enter_context(server(name, 600, envs.get(name))) for name in micro}
        pids = [int(info["pid"]) for info in infos.values()]
        with servers_pinned(pids, cores[0] if cores else None):
            for _ in range(opts.rounds):
                for system in micro:
                    args = ["micro", _process(system), "--furl", infos[system]["furl"], *scale]
                    args.append("--payloads-only")
                    rounds[system].append(client(args, 300, envs[system], core=on))
    for system in micro:
        data[f"micro.{system}"] = best(rounds[system])
    data["rounds"] = rounds
    return data


def _connects(data: dict[str, Any]) -> str:
    """How many connections each system's new-connection figure is the median of."""
    counts = {
        part.split(".", 1)[1]: value.get("connects")
        for part, value in data.items()
        if part.startswith(("micro.", "connect."))
        and isinstance(value, dict)
        and "connects" in value
    }
    return ", ".join(f"{n} ({system})" for system, n in counts.items()) or "no connections"


def _octavo_rsa(data: dict[str, Any]) -> bool:
    """Whether this run's Octavo Tubs all had RSA-2048 keys (``RPC_TUB_KEYS=rsa``)."""
    return data.get("options", {}).get("octavo_keys") == "rsa"


def _fmt(value: object, digits: int = 0) -> str:
    if not isinstance(value, int | float):
        return "-"
    return f"{value:,.{digits}f}"


def _ratio(octavo: object, foolscap: object, *, invert: bool = False) -> str:
    if not isinstance(octavo, int | float) or not isinstance(foolscap, int | float):
        return "-"
    if not octavo or not foolscap:
        return "-"
    return f"{(foolscap / octavo) if invert else (octavo / foolscap):.2f}x"


#: the other Octavos a run may measure beside this checkout's: their tables' titles, and
#: the last column's header and whether it is this checkout over the other (after/before)
BESIDE = {
    "baseline": (
        "Before/after in the same rounds: Octavo from RPC_BASELINE vs this checkout",
        "after/before",
        True,
    ),
    "compiled": (
        "The compiled build in the same rounds: octavo-tub's mypyc wheel vs pure Python",
        "compiled/Octavo",
        False,
    ),
}


def _beside_table(
    rep: Report, data: dict[str, Any], name: str, specs: list[tuple[str, str, int, str, str]]
) -> None:
    """The table of another Octavo (``name``: a baseline checkout, the compiled build)
    measured in the same rounds as this one, each as a ratio against Foolscap."""
    other = data.get(f"micro.{name}", {})
    if not other:
        return
    octa, fool = data.get("micro.octavo", {}), data.get("micro.foolscap", {})
    title, last, this_over_other = BESIDE[name]
    rows = []
    for label, key, digits, _echo_key, _target in specs:
        invert = key == "connect_ms"
        top, bottom = (octa, other) if this_over_other else (other, octa)
        rows.append(
            [
                label,
                _fmt(other.get(key), digits),
                _ratio(other.get(key), fool.get(key), invert=invert),
                _fmt(octa.get(key), digits),
                _ratio(octa.get(key), fool.get(key), invert=invert),
                _ratio(top.get(key), bottom.get(key), invert=invert),
            ]
        )
    header = ["figure", name, f"{name}/Foolscap", "Octavo", "Octavo/Foolscap"]
    rep.table(title, [*header, last], rows)


def report(data: dict[str, Any]) -> Report:
    """Tables from the raw figures."""
    rep = Report("rpc", data=data)
    echo = data.get("echo", {})
    fool = data.get("micro.foolscap", {})
    octa = data.get("micro.octavo", {})
    rows: list[list[object]] = []
    specs = [
        ("serial no-op calls/s", "serial_per_s", 0, "serial_per_s", ">= 2x"),
        ("calls/s, 100 in flight", "inflight100_per_s", 0, "inflight100_per_s", ">= 5x"),
        ("1 MB bytes argument, MB/s", "mb_per_s", 1, "mb_per_s", ">= 90% of echo"),
        ("10 MB bytes argument, MB/s", "mb10_per_s", 1, "-", ">= 90% of 1 MB"),
        ("50 MB bytes argument, MB/s", "mb50_per_s", 1, "-", ">= 90% of 1 MB"),
        ("7.7 KB nested dict calls/s", "dict_per_s", 0, "dict_per_s", ">= 10x"),
        ("new connection, ms (median)", "connect_ms", 2, "connect_ms", ">= 0.8x"),
    ]
    for label, key, digits, echo_key, target in specs:
        invert = key == "connect_ms"
        ratio = _ratio(octa.get(key), fool.get(key), invert=invert)
        of_echo = _ratio(octa.get(key), echo.get(echo_key), invert=invert)
        rows.append(
            [
                label,
                _fmt(fool.get(key), digits),
                _fmt(octa.get(key), digits),
                ratio,
                _fmt(echo.get(echo_key), digits),
                of_echo,
                target,
                _verdict(key, octa, fool, echo),
            ]
        )
    same = data.get("connect.octavo-rsa", {})
    if "connect_ms" in same:
        rows.append(
            [
                "new connection, RSA-2048 both, ms",
                _fmt(fool.get("connect_ms"), 2),
                _fmt(same.get("connect_ms"), 2),
                _ratio(same.get("connect_ms"), fool.get("connect_ms"), invert=True),
                _fmt(echo.get("connect_ms"), 2),
                _ratio(same.get("connect_ms"), echo.get("connect_ms"), invert=True),
                "(same keys)",
                "-",
            ]
        )
    rep.table(
        "RPC over loopback TLS 1.3: Foolscap 24.9 vs Octavo (ratio = times better)",
        [
            "figure",
            "Foolscap 24.9",
            "Octavo",
            "Octavo/Foolscap",
            "TLS echo ceiling",
            "Octavo/echo",
            "target",
            "met",
        ],
        rows,
    )
    if not data.get("options", {}).get("payloads_only"):
        _schema_table(rep, fool, octa, echo)
        _steady_table(rep, data)
    for name in BESIDE:
        _beside_table(rep, data, name, specs)
    if data.get("micro.baseline"):
        rep.notes.append(f"baseline: Octavo from {data['options'].get('baseline')}")
    load_rows: list[list[object]] = []
    lf = data.get("load.foolscap", {})
    lo = data.get("load.octavo", {})
    if lf or lo:
        for label, key, digits, invert in [
            ("client Tubs connected", "clients", 0, False),
            ("time to connect them all, s", "connect_all_s", 2, True),
            ("calls made", "calls", 0, False),
            ("calls answered", "answered", 0, False),
            ("calls counted by the server", "server_counted", 0, False),
            ("calls/s under load", "calls_per_s", 0, False),
            ("server KiB per idle connection", "kib_per_idle_connection", 1, True),
        ]:
            same = key in ("clients", "calls", "answered", "server_counted")
            load_rows.append(
                [
                    label,
                    _fmt(lf.get(key), digits),
                    _fmt(lo.get(key), digits),
                    "" if same else _ratio(lo.get(key), lf.get(key), invert=invert),
                ]
            )
        load_rows.append(
            [
                "every call answered exactly once",
                str(lf.get("all_answered_once", "-")),
                str(lo.get("all_answered_once", "-")),
                "",
            ]
        )
        rep.table(
            "Load run: client Tubs on one server Tub (ratio = times better)",
            ["figure", "Foolscap 24.9", "Octavo", "Octavo/Foolscap"],
            load_rows,
        )
    cores = data.get("pinned_cores")
    placement = (
        f"call figures with the servers on core {cores[0]} and the clients on core {cores[1]}"
        if cores
        else "not pinned to cores"
    )
    rep.notes.append(
        f"Each server in its own process, each client in another ({placement}); "
        "echo: TLS 1.3, RSA-2048 self-signed certificates on both ends, 64-byte echo for "
        f"the small rows, a {echo.get('dict_sized_bytes', '~7.7K')}-byte upload + ack for "
        "the dict row, a 1 MB upload + ack for MB/s, TCP connect + TLS handshake for the "
        "connection row. Connection ratio = Foolscap time / Octavo time; new connection: "
        f"the median of {_connects(data)}, the systems taking turns (echo: its own round's)."
        " Each system's Tubs use the key they make: Foolscap RSA-2048, Octavo "
        f"{'RSA-2048 (RPC_TUB_KEYS=rsa)' if _octavo_rsa(data) else 'ECDSA P-256'}; "
        "'RSA-2048 both': Octavo Tubs (server and clients) with RSA-2048 certificates."
    )
    curve_counts = sorted(
        {v["rounds"] for k, v in data.items() if k.startswith("curve.") and "rounds" in v}
    )
    if curve_counts:
        rep.notes.append(
            "Connection-count curve: each system's best of "
            f"{'/'.join(str(c) for c in curve_counts)} round(s) at each point, the systems "
            "taking turns (client processes not pinned: they need both cores)."
        )
    shares = [
        f"{size} MB {octa[f'mb{size}_share'] * 100:.0f}%"
        for size in (10, 50)
        if isinstance(octa.get(f"mb{size}_share"), int | float)
    ]
    if shares:
        rep.notes.append(
            "10 and 50 MB rows: met when Octavo's MB/s is at least 90% of its MB/s with a "
            "1 MB argument in the same seconds (1, 10 and 50 MB calls take turns, three "
            f"slices each; median of the rounds): {', '.join(shares)}."
        )
    faulted = _page_faults(data)
    if faulted:
        rep.notes.append(
            "The server's minor page faults per MiB received (median of the rounds; 256 "
            "is every 4 KiB page fresh, ~0 a reused heap), 1 MB row and 1 / 10 / 50 MB "
            f"turns: {faulted}."
        )
    for part, value in data.items():
        if isinstance(value, dict) and "error" in value:
            rep.notes.append(f"{part}: {value['error']}")
        if isinstance(value, dict) and part.startswith("micro."):
            for key in ("mb10_error", "mb50_error"):
                if key in value:
                    rep.notes.append(f"{part} {key[:4]} MB argument: {value[key]}")
            if "connect_error" in value:
                rep.notes.append(f"{part} new connections: {value['connect_error']}")
    for system in ("foolscap", "octavo"):
        load = data.get(f"load.{system}", {})
        if load and load.get("all_answered_once") is False:
            rep.notes.append(
                f"load.{system}: NOT every call was answered exactly once: "
                f"{load.get('answered')} answered of {load.get('calls')} "
                f"({load.get('wrong')} wrong or repeated; the server counted "
                f"{load.get('server_counted')}; calls stop at the {opts_seconds(data)} s bound)"
            )
    return rep


def _schema_table(
    rep: Report, fool: dict[str, Any], octa: dict[str, Any], echo: dict[str, Any]
) -> None:
    """store(int, ListOf(bytes)) through a RemoteInterface that both ends know, and the
    same call without one: what checking costs each library, serial and 100 in flight.

    With 100 in flight also the CPU time of a call (client and server processes
    together): what a call costs apart from waiting. Serial calls also show the bare TLS
    echo's serial round trips/s, the ceiling no library on Twisted's TLS passes: when it
    is under 5x Foolscap's typed serial figure, so is every implementation's."""
    rows: list[list[object]] = []
    for mode, suffix in (("serial", "_per_s"), ("100 in flight", "_inflight100_per_s")):
        o_plain, o_typed = octa.get("store" + suffix), octa.get("typed_store" + suffix)
        f_plain, f_typed = fool.get("store" + suffix), fool.get("typed_store" + suffix)
        met_speed = met_cost = "-"
        if isinstance(o_typed, int | float) and isinstance(f_typed, int | float) and f_typed:
            met_speed = "yes" if o_typed >= 5 * f_typed else "no"
        if isinstance(o_plain, int | float) and isinstance(o_typed, int | float) and o_typed:
            met_cost = "yes" if o_plain / o_typed <= 1.2 else "no"
        rows += [
            [f"calls/s, no schema, {mode}", _fmt(f_plain), _fmt(o_plain),
             _ratio(o_plain, f_plain), "", ""],
            [f"calls/s, RemoteInterface, {mode}", _fmt(f_typed), _fmt(o_typed),
             _ratio(o_typed, f_typed), ">= 5x", met_speed],
            [f"time typed / untyped, {mode}", _ratio(f_typed, f_plain, invert=True),
             _ratio(o_typed, o_plain, invert=True), "", "<= 1.2x", met_cost],
        ]  # fmt: skip
        if mode == "serial":
            ceiling = echo.get("serial_per_s")
            rows.append(
                ["bare TLS echo round trips/s, serial (ceiling)", _fmt(f_typed),
                 _fmt(ceiling), _ratio(ceiling, f_typed), "", ""]
            )  # fmt: skip
            continue
        cpu = suffix.removesuffix("_per_s") + "_cpu_us"
        f_cpu_plain, o_cpu_plain = fool.get("store" + cpu), octa.get("store" + cpu)
        f_cpu, o_cpu = fool.get("typed_store" + cpu), octa.get("typed_store" + cpu)
        met_cpu = "-"
        if isinstance(o_cpu, int | float) and isinstance(f_cpu, int | float) and o_cpu:
            met_cpu = "yes" if f_cpu >= 5 * o_cpu else "no"
        rows += [
            [f"CPU us/call (both sides), no schema, {mode}", _fmt(f_cpu_plain, 1),
             _fmt(o_cpu_plain, 1), _ratio(o_cpu_plain, f_cpu_plain, invert=True), "", ""],
            [f"CPU us/call (both sides), RemoteInterface, {mode}", _fmt(f_cpu, 1),
             _fmt(o_cpu, 1), _ratio(o_cpu, f_cpu, invert=True), ">= 5x less", met_cpu],
        ]  # fmt: skip
        for what, key in (("time", "time_share"), ("CPU", "cpu_share")):
            share = f"typed_inflight100_{key}"
            rows.append(
                [f"{what} typed / untyped, {mode}, paired (median of rounds)",
                 _ratio(fool.get(share), 1), _ratio(octa.get(share), 1), "", "", ""]
            )  # fmt: skip
    rep.table(
        "RemoteInterface calls: store(n=int, items=ListOf(bytes)), 10 x 32-byte items",
        ["figure", "Foolscap 24.9", "Octavo", "Octavo/Foolscap", "target", "met"],
        rows,
    )


def _steady_table(rep: Report, data: dict[str, Any]) -> None:
    """Steady load: 100 in flight on one connection, and the connection-count curve
    (N connections x 10 in flight), with the server's system calls per call."""
    names = [s for s in ("foolscap", "octavo", "compiled", "baseline") if f"micro.{s}" in data]
    label = {
        "foolscap": "Foolscap",
        "octavo": "Octavo",
        "compiled": "compiled",
        "baseline": "baseline",
    }
    rows: list[list[object]] = []
    points: list[tuple[str, dict[str, dict[str, Any]], str, str]] = [
        (
            "1 connection, 100 in flight (refilled)",
            {s: data.get(f"micro.{s}", {}) for s in names},
            "inflight100_per_s",
            "inflight100_syscalls_per_call",
        ),
        (
            "1 connection, serial",
            {s: data.get(f"micro.{s}", {}) for s in names},
            "serial_per_s",
            "serial_syscalls_per_call",
        ),
    ]
    for n in data.get("options", {}).get("curve", ()):
        points.append(
            (
                f"{n} connection(s) x 10 in flight",
                {s: data.get(f"curve.{s}.{n}", {}) for s in names},
                "calls_per_s",
                "server_syscalls_per_call",
            )
        )
    for title, figs, rate, per_call in points:
        fool = figs.get("foolscap", {})
        row: list[object] = [title]
        for s in names:
            row += [_fmt(figs[s].get(rate)), _fmt(figs[s].get(per_call), 2)]
        for s in names[1:]:
            row.append(_ratio(figs[s].get(rate), fool.get(rate)))
        rows.append(row)
    header = ["figure"]
    for s in names:
        header += [f"{label[s]} calls/s", f"{label[s]} syscalls/call"]
    header += [f"{label[s]}/Foolscap" for s in names[1:]]
    rep.table(
        "Steady load: calls/s and server system calls per call (perf; '-' without it)",
        header,
        rows,
    )
    cpu_rows: list[list[object]] = []
    for n in data.get("options", {}).get("curve", ()):
        figs = {s: data.get(f"curve.{s}.{n}", {}) for s in names}
        fool_cpu = figs.get("foolscap", {}).get("server_cpu_us_per_call")
        row = [f"{n} connection(s) x 10 in flight"]
        row += [_fmt(figs[s].get("server_cpu_us_per_call"), 1) for s in names]
        row += [
            _ratio(figs[s].get("server_cpu_us_per_call"), fool_cpu, invert=True) for s in names[1:]
        ]
        cpu_rows.append(row)
    if any(cell != "-" for row in cpu_rows for cell in row[1:]):
        rep.table(
            "Connection-count curve: the server process's CPU us per call answered, in "
            "the round kept above (ratio = times less); what the clients cost is not in it",
            ["figure", *(f"{label[s]} us/call" for s in names)]
            + [f"{label[s]}/Foolscap" for s in names[1:]],
            cpu_rows,
        )
    paired_rows = [
        [f"{n} connection(s) x 10 in flight", *(_paired_ratios(data, s, n) for s in names[1:])]
        for n in data.get("options", {}).get("curve", ())
    ]
    if any(cell != "-" for row in paired_rows for cell in row[1:]):
        rep.table(
            "Connection-count curve: each round's own ratio (a system's calls/s over "
            "Foolscap's in the same round, one pace of the machine): median [least-most]",
            ["figure", *(f"{label[s]}/Foolscap" for s in names[1:])],
            paired_rows,
        )


def _paired_ratios(data: dict[str, Any], system: str, n: int) -> str:
    """Median [least-most] over the curve's rounds of ``system``'s calls/s at ``n``
    connections over Foolscap's in the same round (``-`` if no round has both)."""
    rounds = data.get("curve_rounds", {})
    ours, theirs = rounds.get(f"curve.{system}.{n}", []), rounds.get(f"curve.foolscap.{n}", [])
    ratios = [
        a["calls_per_s"] / b["calls_per_s"]
        for a, b in zip(ours, theirs, strict=False)
        if isinstance(a.get("calls_per_s"), int | float)
        and isinstance(b.get("calls_per_s"), int | float)
        and b["calls_per_s"] > 0
    ]
    if not ratios:
        return "-"
    return f"{statistics.median(ratios):.2f}x [{min(ratios):.2f}x-{max(ratios):.2f}x]"


def opts_seconds(data: dict[str, Any]) -> float:
    """The load-run time bound the figures were measured with."""
    options = data.get("options", {})
    return Options(quick=bool(options.get("quick"))).load_seconds


def _verdict(key: str, octa: dict[str, Any], fool: dict[str, Any], echo: dict[str, Any]) -> str:
    o, f, e = octa.get(key), fool.get(key), echo.get(key)
    if not isinstance(o, int | float) or not isinstance(f, int | float):
        return "-"
    if key == "serial_per_s":
        return "yes" if o >= 2 * f else "no"
    if key == "inflight100_per_s":
        return "yes" if o >= 5 * f else "no"
    if key == "mb_per_s":
        return "-" if not isinstance(e, int | float) else ("yes" if o >= 0.9 * e else "no")
    if key in ("mb10_per_s", "mb50_per_s"):  # against Octavo's 1 MB calls of the same seconds
        share = octa.get(key.replace("_per_s", "_share"))
        return "-" if not isinstance(share, int | float) else ("yes" if share >= 0.9 else "no")
    if key == "dict_per_s":
        return "yes" if o >= 10 * f else "no"
    return "yes" if f / o >= 0.8 else "no"


def run(opts: Options | None = None) -> Report:
    """Measure and report (what ``benchmarks/run.py rpc`` calls)."""
    opts = options_from_env() if opts is None else opts
    if "octavo" in opts.systems and importlib.util.find_spec("octavo.tub") is None:
        raise RuntimeError("octavo.tub is not installed; set RPC_SYSTEMS=foolscap")
    rep = report(measure(opts))
    failed = [
        system
        for system in opts.systems
        if opts.load and rep.data.get(f"load.{system}", {}).get("all_answered_once") is not True
    ]
    if failed:
        print(rep.render(), file=sys.stderr)
        raise AssertionError(f"load run: not every call answered exactly once for {failed}")
    return rep


def main(argv: list[str] | None = None) -> int:
    """Command line: the options as flags, then the same run, print and JSON as run.py."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short budgets, small load run")
    parser.add_argument("--clients", type=int, help="load-run client Tubs (500; quick 50)")
    parser.add_argument("--calls", type=int, help="load-run calls in all (100000; quick 5000)")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="foolscap,octavo")
    parser.add_argument("--skip-load", action="store_true", help="no load run")
    parser.add_argument("--baseline", help="another checkout whose Octavo runs beside this one")
    args = parser.parse_args(argv)
    os.environ["RPC_QUICK"] = "1" if args.quick else ""
    os.environ["RPC_SYSTEMS"] = args.systems
    os.environ["RPC_SKIP_LOAD"] = "1" if args.skip_load else ""
    os.environ["RPC_BASELINE"] = args.baseline or ""
    for name, value in (("RPC_CLIENTS", args.clients), ("RPC_CALLS", args.calls)):
        if value is not None:
            os.environ[name] = str(value)
    import run as harness

    harness.run_one("rpc")
    return 0


if __name__ == "__main__":
    sys.exit(main())
