"""A log gatherer fed by many Tubs at once: does it keep up, and what is dropped?

The gatherer (an Octavo LogGatherer on a loopback Tub) runs in this process; a child
process (``_log_sources.py``) runs ``LOG_GATHERER_TUBS`` Tubs (default 20), each
pushing ``LOG_GATHERER_RATE`` events a second (default 2,000) for
``LOG_GATHERER_SECONDS`` (default 10) through its logport. Printed: events sent,
events written to the gatherer's flogfile, events the publishers dropped (their
bounded queues: the gatherer was too slow), and the gatherer's own refusals and flood
cuts. ``python benchmarks/run.py log_gatherer``. Measured, never asserted.

``python benchmarks/bench_log_gatherer.py --instructions`` counts instead (valgrind's
callgrind) what one event costs the gatherer in octavo.logging, after Banana decoding:
``LogGatherer.msg`` on a typical event (what ``remote_msg`` is given), and its two
parts, checking the event and encoding its line. Each is a child process making
``CALLS`` calls, less one making none (after one warm-up call of ``msg`` in both),
divided by ``CALLS``; about 10 minutes on a busy 2-core machine.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _harness import Report
from twisted.internet import defer, protocol, reactor

from octavo.logging._gatherer import LogGatherer
from octavo.tub import Tub

HERE = Path(__file__).resolve().parent


class _Child(protocol.ProcessProtocol):
    def __init__(self) -> None:
        self.out = b""
        self.err = b""
        self.ended: defer.Deferred[None] = defer.Deferred()

    def outReceived(self, data: bytes) -> None:
        self.out += data

    def errReceived(self, data: bytes) -> None:
        self.err = (self.err + data)[-4000:]

    def processEnded(self, reason: object) -> None:
        self.ended.callback(None)


def measure(tubs: int, rate: int, seconds: float) -> dict[str, Any]:
    """One run; the child's JSON plus the gatherer's counts."""
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as basedir:
        gatherer = LogGatherer(basedir)
        tub = Tub()

        async def go() -> None:
            try:
                tub.startService()
                port = tub.listenOn("tcp:0:interface=127.0.0.1").getPortnum()
                tub.setLocation(f"127.0.0.1:{port}")
                gatherer.start()
                furl = tub.registerReference(gatherer)
                child = _Child()
                args = [str(HERE / "_log_sources.py"), furl, str(tubs), str(rate), str(seconds)]
                reactor.spawnProcess(child, sys.executable, [sys.executable, *args], env=None)  # type: ignore[attr-defined]
                started = time.monotonic()
                cpu0 = time.process_time()
                await child.ended
                result["gatherer_cpu_seconds"] = time.process_time() - cpu0
                result["wall_seconds"] = time.monotonic() - started
                lines = child.out.decode().strip().splitlines()
                if not lines:
                    raise RuntimeError(f"sources failed: {child.err.decode()}")
                result.update(json.loads(lines[-1]))
                result["written"] = sum(gatherer.stats.written.values())
                result["refused"] = sum(gatherer.stats.refused.values())
                result["flood_cut"] = sum(gatherer.stats.flooded.values())
                path = gatherer.current_file
                result["file_bytes"] = os.path.getsize(path) if path else 0
            finally:
                gatherer.stop()
                await tub.stopService()
                reactor.stop()  # type: ignore[attr-defined]

        reactor.callWhenRunning(lambda: defer.Deferred.fromCoroutine(go()))  # type: ignore[attr-defined]
        reactor.run()  # type: ignore[attr-defined]
    return result


def run() -> Report:
    """Measure and tabulate (what ``benchmarks/run.py log_gatherer`` calls)."""
    tubs = int(os.environ.get("LOG_GATHERER_TUBS", "20"))
    rate = int(os.environ.get("LOG_GATHERER_RATE", "2000"))
    seconds = float(os.environ.get("LOG_GATHERER_SECONDS", "10"))
    r = measure(tubs, rate, seconds)
    rep = Report("log_gatherer")
    offered = tubs * rate * seconds
    rep.table(
        f"{tubs} Tubs x {rate} events/s for {seconds:g} s into one gatherer (loopback)",
        ["offered", "sent", "written", "dropped by publishers", "gatherer refused",
         "gatherer flood cut", "emit s", "drain s", "file MB", "gatherer CPU us/event",
         "sources CPU us/event"],
        [[int(offered), r["sent"], r["written"], r["dropped_by_publishers"], r["refused"],
          r["flood_cut"], f"{r['emit_seconds']:.1f}", f"{r['drain_seconds']:.1f}",
          f"{r['file_bytes'] / 1e6:.1f}",
          f"{1e6 * r['gatherer_cpu_seconds'] / max(r['written'], 1):.1f}",
          f"{1e6 * r['cpu_seconds'] / max(r['sent'], 1):.1f}"]],
    )  # fmt: skip
    rep.notes.append(
        "CPU us/event: each process's CPU time (user + system) over the whole run, "
        "divided by the events it wrote (gatherer) or sent (sources), start-up excluded "
        "for the gatherer; CPU time is not inflated by other work on the machine the "
        "way wall time is."
    )
    lost = r["sent"] - r["written"]
    rep.notes.append(
        f"sent - written = {lost}; dropped by the publishers' bounded queues: "
        f"{r['dropped_by_publishers']} ({'none dropped' if lost == 0 else 'some dropped'})."
    )
    rep.data = {"tubs": tubs, "rate": rate, "seconds": seconds, **r}
    return rep


#: calls per child of --instructions
CALLS = 5_000
#: an event as the gatherer's remote_msg gets it from an Octavo or Foolscap Tub
EVENT = {
    "message": "bench event %d",
    "args": (17,),
    "level": 20,
    "num": 12345,
    "time": 1764633600.123,
    "incarnation": (b"0123456789abcdef", None),
    "tubID": "ck2ln2dfnqoamjk2sjtd5wr7kpzabjwv",
}
_CASES = {
    "LogGatherer.msg (all of it)": "g.msg(TUBID, EVENT)",
    "check_remote_event": "check_remote_event(EVENT)",
    "encode_record": 'encode_record({"from": TUBID, "rx_time": 1.0, "d": EVENT})',
}
_CHILD = """
import sys, tempfile
sys.path.insert(0, {here!r})
from twisted.internet.task import Clock
from bench_log_gatherer import EVENT
from octavo.logging._flogfile import encode_record
from octavo.logging._gatherer import LogGatherer
from octavo.logging._validate import check_remote_event
TUBID = "ck2ln2dfnqoamjk2sjtd5wr7kpzabjwv"
clock = Clock()
clock.advance(1000)
with tempfile.TemporaryDirectory() as d:
    g = LogGatherer(d, clock=clock, max_events_per_second=10**9)
    g.start()
    {call}
    for _ in range({n}):
        {call}
    g.stop()
"""


def _instructions(call: str, n: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        code = _CHILD.format(here=str(HERE), call=call, n=n)
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/out",
             sys.executable, "-c", code],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
    found = re.search(r"Collected : ([\d,]+)", done.stderr)
    assert found is not None, done.stderr
    return int(found.group(1).replace(",", ""))


def run_instructions() -> Report:
    """Instructions per event of the gatherer's own work (needs valgrind)."""
    rep = Report("log_gatherer_instructions")
    rows = []
    # one baseline: its warm-up call (msg) warms what the other cases call too
    baseline = _instructions(_CASES["LogGatherer.msg (all of it)"], 0)
    for name, call in _CASES.items():
        per_call = (_instructions(call, CALLS) - baseline) / CALLS
        rows.append([name, f"{per_call:,.0f}"])
        rep.data[name] = per_call
    rep.table("octavo.logging's cost per gathered event", ["step", "instructions"], rows)
    return rep


if __name__ == "__main__":
    print((run_instructions() if "--instructions" in sys.argv else run()).render())
