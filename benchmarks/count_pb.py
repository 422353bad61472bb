"""Instruction counts (callgrind) of one PB call and its answer, per call, per tree.

Wall-clock timings drift on a shared machine; instruction counts barely do. Each
measurement is one child Python under ``valgrind --tool=callgrind`` that builds two
Brokers of the tree given (``octavo.tub.testing.FakeTub`` and its ``Broker``) joined by
an in-memory pipe (this file's, the same for every tree, so only the tree's own code
differs), makes warm-up calls, then makes ``CALLS`` calls of one workload, each pumped
until both sides are idle (call, answer, the answer's callback). Only those calls are
counted: the child calls ``os.getppid()`` just before and just after them, and
callgrind's ``--dump-before=getppid`` writes the counts so far at each of those points
(the second dump holds the loop alone). Until just before, the child runs
uninstrumented (``--instr-atstart=no``, about ten times faster), and starts callgrind's
instrumentation with a client request (``CALLGRIND_START_INSTRUMENTATION``, made through
ctypes: x86-64 only). ``--keep DIR`` keeps the counted dumps for ``callgrind_annotate``.

Steadiness: a fixed hash seed; bytecode compiled once beforehand (a plain run of the
child, ``PYTHONPYCACHEPREFIX`` in a temporary folder, so the trees are not written to);
30 nested-dict calls first (every later OPEN number takes three bytes, as on a
connection that has been busy; the ``, long-lived`` workloads then skip past 2**21
OPEN numbers each way and request ids, four bytes each, as on a connection that has
made some million calls), then 20 of the workload (CPython's specialising
interpreter settles); then ``gc.collect(); gc.freeze()`` and the collector off during the
counted calls. Each measurement is repeated (``--repeats``, default 3) with the heap
laid out differently (repeat ``i`` first allocates ``i * 1000`` byte strings of mixed
sizes that stay alive), so id-hashed tables collide differently: the min/median/max per
call show what is left of the noise. Compare two trees (say, before and after a change)
with two ``--tree``::

    .tox/tub/bin/python benchmarks/count_pb.py --tree ../wt-base --tree .

Run it with a python that has Twisted (the tub tox env's); each tree's
``packages/*/src`` go first on the child's ``PYTHONPATH`` (checked: the child refuses to
run another tree's octavo). ``OCTAVO_FAST_PATHS`` is passed on as it is set here.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import glob
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from _rpc_common import STORE_ARGS, typed_interface

HERE = Path(__file__).resolve()
#: nested-dict calls before anything is counted (past 16,383 OPENs: three-byte numbers)
PRIMING_CALLS = 30
#: calls of the workload itself before counting
WARMUP_CALLS = 20
#: the marker: callgrind dumps its counts whenever this C function is entered
MARKER = "getppid"


def nested_dict() -> dict[str, list[object]]:
    """The dict of ``bench_banana.py`` (200 keys, ~1,200 OPENs)."""
    return {f"key{i:03d}": [i % 10, "ab", "cd", (i, "x")] for i in range(200)}


def small_dict() -> dict[str, object]:
    """A small flat dict, as a typical call's keyword-ish argument."""
    return {"id": 7, "name": "alice", "data": b"0123456789abcdef", "ok": True, "n": None}


#: name: (remote method, arguments, counted calls per child run)
WORKLOADS: dict[str, tuple[str, tuple[Any, ...], int]] = {
    "ping": ("ping", (), 200),
    "flat args": ("flat", (12345, b"0123456789abcdef", "hello, world"), 200),
    "small dict": ("take", (small_dict(),), 200),
    "nested dict": ("take", (nested_dict(),), 8),
    "ping, long-lived": ("ping", (), 200),
    "flat args, long-lived": ("flat", (12345, b"0123456789abcdef", "hello, world"), 200),
    "small dict, long-lived": ("take", (small_dict(),), 200),
    "store": ("store", STORE_ARGS, 200),
    "store, typed": ("store", STORE_ARGS, 200),
}
#: workloads whose name ends so call an object with a RemoteInterface the caller knows
#: too (``_rpc_common.typed_interface``: ``store(n=int, items=ListOf(bytes))``, as in
#: ``bench_rpc.py``, with its ``STORE_ARGS``): both ends check the call against the schema
TYPED = ", typed"
#: workloads whose name ends so run as on a connection that has made some million
#: calls: OPEN numbers (each way) and request ids past 2**21, four-digit headers
LONG_LIVED = ", long-lived"
LONG_LIVED_FROM = 1 << 21


def _inner(workload: str, calls: int, pad: int, tree: str) -> None:
    """The child: set up, warm up, then make ``calls`` counted calls."""
    import gc

    # the heap, laid out differently per repeat (kept alive to the end)
    padding = [b"x" * (k % 600) for k in range(pad)]

    from twisted.internet.address import IPv4Address
    from twisted.internet.task import Clock

    import octavo.banana
    import octavo.tub
    from octavo.tub import Referenceable
    from octavo.tub._eventual import queue_for
    from octavo.tub.testing import Broker, FakeTub

    for module in (octavo.banana, octavo.tub):
        where = os.path.realpath(module.__file__ or "")
        if not where.startswith(os.path.realpath(tree) + os.sep):
            raise SystemExit(f"{module.__name__} is {where}, not from {tree}")

    class Pipe:
        """One end of an in-memory pipe (as octavo.tub.testing.PipeTransport)."""

        disconnecting = False

        def __init__(self, host: IPv4Address, peer: IPv4Address) -> None:
            self.buffer: list[bytes] = []
            self.protocol: Any = None
            self.connected = True
            self.reading = True
            self.host = host
            self.peer = peer

        def write(self, data: bytes) -> None:
            self.buffer.append(bytes(data))

        def writeSequence(self, data: list[bytes]) -> None:
            self.write(b"".join(data))

        def loseConnection(self) -> None:
            raise AssertionError("the benchmark's connection was closed")

        abortConnection = loseConnection

        def getPeer(self) -> IPv4Address:
            return self.peer

        def getHost(self) -> IPv4Address:
            return self.host

        def registerProducer(self, producer: object, streaming: bool) -> None:
            pass

        def unregisterProducer(self) -> None:
            pass

        def pauseProducing(self) -> None:
            self.reading = False

        def resumeProducing(self) -> None:
            self.reading = True

    class Target(Referenceable):  # type: ignore[misc]
        def remote_ping(self) -> None:
            return None

        def remote_flat(self, n: int, b: bytes, s: str) -> None:
            return None

        def remote_take(self, d: object) -> None:
            return None

        def remote_store(self, n: int, items: list[bytes]) -> None:
            return None

    clock = Clock()
    alice, bob = FakeTub("alice"), FakeTub("bob")
    bob.names["t"] = Target()
    if workload.endswith(TYPED):
        from zope.interface import implementer

        typed = typed_interface("octavo")  # (bench_rpc.py's, declared in this child)
        bob.names["t"] = implementer(typed)(type("TypedTarget", (Target,), {}))()
    left = Broker(alice, bob.tubref(), _PARAMS, clock=clock)
    right = Broker(bob, alice.tubref(), _PARAMS, clock=clock)
    a = IPv4Address("TCP", "127.0.0.1", 40001)
    b = IPv4Address("TCP", "127.0.0.1", 40002)
    lt, rt = Pipe(a, b), Pipe(b, a)
    lt.protocol, rt.protocol = left, right
    left.makeConnection(lt)
    right.makeConnection(rt)
    if os.environ.get("COUNT_PB_NO_TURN_TIMER"):
        # --no-turn-timer: the writers' turns never open (their clock schedules nothing),
        # so every write goes out at once: what the write coalescing costs per call
        for broker in (left, right):
            writer = getattr(broker, "writer", None)
            if writer is not None and hasattr(writer, "_clock"):
                writer._clock = _NoTimer()
    queue = queue_for(clock)
    ends = ((lt, rt), (rt, lt))

    def pump() -> None:
        for _ in range(1000):
            moved = False
            for src, dst in ends:
                if dst.reading and src.buffer:
                    data = b"".join(src.buffer)
                    src.buffer = []
                    dst.protocol.dataReceived(data)
                    moved = True
            now = clock.seconds()
            ran = False
            if any(c.getTime() <= now for c in clock.calls):
                clock.advance(0)
                ran = True
            if not moved and not ran and not queue.pending():
                return
        raise RuntimeError("the connection did not settle")

    def result(d: Any) -> Any:
        out: list[Any] = []
        d.addBoth(out.append)
        pump()
        return out[0]

    ref = result(left.getYourReferenceByName("t"))
    if workload.endswith(TYPED) and getattr(ref.tracker, "interface", None) is None:
        raise SystemExit(f"{workload}: the caller does not know the target's interface")
    method, args, _ = WORKLOADS[workload]
    call = ref.callRemote
    nested = nested_dict()
    for _ in range(PRIMING_CALLS):
        result(call("take", nested))
    if workload.endswith(LONG_LIVED):
        import itertools

        for sender, receiver in ((left, right), (right, left)):
            sender.connection.encoder.take_opens(LONG_LIVED_FROM)
            receiver.connection.decoder.count_opens(LONG_LIVED_FROM)
        left.connection._next_reqid = itertools.count(LONG_LIVED_FROM)
    for _ in range(WARMUP_CALLS):
        if result(call(method, *args)) is not None:
            raise SystemExit(f"{workload}: the call did not answer None")
    del padding[::2]  # free some, so that the counted calls reuse holes too
    gc.collect()
    gc.freeze()
    gc.disable()
    _client_request(_START_INSTRUMENTATION)
    os.getppid()  # callgrind dumps: everything so far
    for _ in range(calls):
        result(call(method, *args))
    os.getppid()  # callgrind dumps: the counted calls
    os._exit(0)


_PARAMS = {"banana-decision-version": 3, "initial-vocab-table-index": 1}


class _NoTimer:
    """A clock for a CorkedWriter (octavo.tub._broker._writer) that opens no turn."""

    def callLater(self, delay: float, f: object, *args: object) -> None:
        return None


#: callgrind's CALLGRIND_START_INSTRUMENTATION (callgrind.h: VG_USERREQ_TOOL_BASE('C','T') + 4)
_START_INSTRUMENTATION = 0x4354_0004
#: valgrind's client-request sequence for amd64 (valgrind.h), as a function
#: ``unsigned long f(unsigned long args[6])``: mov %rdi,%rax; xor %edx,%edx; the four
#: rol of %rdi (128 bits in all: %rdi unchanged); xchg %rbx,%rbx; mov %rdx,%rax; ret.
#: Natively (no valgrind) it does nothing and returns 0.
_REQUEST_CODE = bytes.fromhex("4889f831d248c1c70348c1c70d48c1c73d48c1c7334887db4889d0c3")


def _client_request(request: int) -> int:
    """Make a valgrind client request (amd64 only) without a compiled helper."""
    import ctypes
    import mmap
    import platform

    if platform.machine() not in ("x86_64", "AMD64"):
        raise SystemExit("count_pb.py needs x86-64 (valgrind's client-request sequence)")
    page = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    page.write(_REQUEST_CODE)
    address = ctypes.addressof(ctypes.c_char.from_buffer(page))
    function = ctypes.CFUNCTYPE(ctypes.c_ulong, ctypes.c_void_p)(address)
    args = (ctypes.c_ulong * 6)(request, 0, 0, 0, 0, 0)
    return int(function(args))


def _child_env(tree: str, cache: str) -> dict[str, str]:
    srcs = sorted(glob.glob(os.path.join(tree, "packages", "*", "src")))
    if not srcs:
        raise SystemExit(f"{tree}: no packages/*/src")
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(srcs),
        "PYTHONHASHSEED": "0",
        "PYTHONPYCACHEPREFIX": cache,
    }


def _inner_command(python: str, tree: str, workload: str, calls: int, pad: int) -> list[str]:
    return [python, str(HERE), "--inner", workload, str(calls), str(pad), tree]


def prepare(python: str, tree: str, cache: str) -> None:
    """Compile the tree's bytecode (into ``cache``) and check that every workload runs."""
    for workload in WORKLOADS:
        command = _inner_command(python, tree, workload, 1, 0)
        subprocess.run(command, env=_child_env(tree, cache), check=True)


def count(
    python: str, tree: str, cache: str, workload: str, *, calls: int, pad: int, keep: str | None
) -> int:
    """Instructions of ``calls`` calls of ``workload`` (one child under callgrind);
    with ``keep``, the counted dump is copied there (for ``callgrind_annotate``)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg.out")
        command = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={out}",
            f"--dump-before={MARKER}",
            *_inner_command(python, tree, workload, calls, pad),
        ]
        done = subprocess.run(
            command, check=False, env=_child_env(tree, cache), capture_output=True, text=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"{workload} in {tree}:\n{done.stderr[-3000:]}")
        dumps = []
        for path in glob.glob(out + ".*"):
            with open(path) as f:
                text = f.read()
            if f"Trigger: --dump-before={MARKER}" in text:
                m = re.search(r"^totals: (\d+)", text, re.M)
                assert m is not None, path
                dumps.append((int(path.rsplit(".", 1)[1]), int(m.group(1)), path))
        if len(dumps) != 2:
            raise RuntimeError(f"{workload} in {tree}: {len(dumps)} marker dumps, not 2")
        _, total, path = max(dumps)
        if keep is not None:
            name = f"{os.path.basename(tree)}.{workload.replace(' ', '_')}.{pad}.out"
            shutil.copy(path, os.path.join(keep, name))
    return total


def _label(tree: str) -> str:
    try:
        rev = subprocess.run(
            ["git", "-C", tree, "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        rev = "?"
    return f"{os.path.basename(os.path.abspath(tree))} ({rev})"


def main(argv: list[str] | None = None) -> int:
    """Print instructions per call, min/median/max of the repeats, per tree."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", action="append", default=[])
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--workload", action="append", default=[], choices=list(WORKLOADS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=1, help="children run at once")
    parser.add_argument("--scale", type=float, default=1.0, help="times the counted calls")
    parser.add_argument(
        "--no-turn-timer",
        action="store_true",
        help="no write coalescing timer (a tree with a CorkedWriter): shows its cost",
    )
    parser.add_argument("--keep", metavar="DIR", help="keep the counted dumps in DIR")
    parser.add_argument("-v", "--verbose", action="store_true", help="every repeat")
    parser.add_argument("--inner", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.inner:
        _inner(args.inner[0], int(args.inner[1]), int(args.inner[2]), args.inner[3])
        return 0
    if args.no_turn_timer:
        os.environ["COUNT_PB_NO_TURN_TIMER"] = "1"  # (the children's environment)
    trees = [os.path.abspath(t) for t in args.tree] or [str(HERE.parents[1])]
    names = args.workload or list(WORKLOADS)
    with tempfile.TemporaryDirectory(prefix="count_pb-pyc-") as cache:
        for tree in trees:
            prepare(args.python, tree, cache)
        jobs = {}
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            for name in names:
                calls = max(1, round(WORKLOADS[name][2] * args.scale))
                for tree in trees:
                    for i in range(args.repeats):
                        jobs[name, tree, i] = (
                            pool.submit(
                                count,
                                args.python,
                                tree,
                                cache,
                                name,
                                calls=calls,
                                pad=1000 * i,
                                keep=args.keep,
                            ),
                            calls,
                        )
            per_call = {key: f.result() / calls for key, (f, calls) in jobs.items()}
    labels = [_label(t) for t in trees]
    head = "| workload | " + " | ".join(f"{lab}: median [min-max]" for lab in labels)
    print(head + (" | ratio |" if len(trees) == 2 else " |"))
    print("|---" * (len(trees) + 1 + (len(trees) == 2)) + "|")
    for name in names:
        medians = []
        cells = []
        for tree in trees:
            runs = sorted(per_call[name, tree, i] for i in range(args.repeats))
            med = statistics.median(runs)
            medians.append(med)
            cell = f"{med / 1e3:,.1f} k [{runs[0] / 1e3:,.1f}-{runs[-1] / 1e3:,.1f}]"
            if args.verbose:
                cell += " (" + ", ".join(f"{r:,.0f}" for r in runs) + ")"
            cells.append(cell)
        row = f"| {name} | " + " | ".join(cells)
        if len(trees) == 2:
            row += f" | {medians[1] / medians[0]:.3f} |"
        else:
            row += " |"
        print(row, flush=True)
    print(
        f"\ninstructions per call; {args.repeats} runs each; OCTAVO_FAST_PATHS="
        f"{os.environ.get('OCTAVO_FAST_PATHS', '(unset)')}"
        + ("; no write-coalescing timer" if args.no_turn_timer else "")
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
