"""``log.msg`` of an event nobody watches: octavo.logging against Foolscap 24.9.

The goal of issue 12: Octavo's cost per unwatched event at most half of Foolscap's,
so the ratio column (Foolscap's time / Octavo's time) should be 2 or more. Each logger
is a fresh ``FoolscapLogger`` of its library with no observers and no log directory,
as in a process that logs but publishes nothing. Then 10 million events (with 50
facilities and all eight levels) go into one Octavo logger while the RSS is read
before and after: the ring buffers keep memory flat.

Run: ``python benchmarks/bench_log_msg.py`` (or ``benchmarks/run.py log_msg``) in an
env with foolscap and octavo-logging (``.tox/interop/bin/python``). Wall-clock ratios on
a shared machine move by 20%; ``--instructions`` counts instructions per call instead
(valgrind's callgrind: a child process making 10,000 calls, less one making none, divided
by 10,000), which does not drift (ten child runs, about 10 minutes).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

from _harness import Report, best_of
from foolscap.logging import log as foolscap_log

from octavo.logging import FoolscapLogger

EVENTS_FOR_MEMORY = 10_000_000
ROUNDS = 5
#: calls per child run of --instructions (a run with none is the baseline)
CALLS = 10_000


def _rss_mib() -> float:
    """The current resident set size in MiB (Linux /proc)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _cases(msg: Callable[..., int]) -> dict[str, Callable[[], object]]:
    return {
        'msg("hello")': lambda: msg("hello"),
        'msg("got %s", 1, level=UNUSUAL)': lambda: msg("got %s", 1, level=23),
        "msg(format=..., facility=..., k=)": lambda: msg(
            format="%(k)s", facility="app/sub", k=1, level=20
        ),
        'msg("deep", parent=3, x=1, y="z")': lambda: msg("deep", parent=3, x=1, y="z"),
    }


def run() -> Report:
    """Time both loggers on the same calls, then check memory over 10M events."""
    report = Report("log_msg")
    ours = FoolscapLogger()
    theirs = foolscap_log.FoolscapLogger()
    rows: list[list[object]] = []
    for (name, f_ours), f_theirs in zip(
        _cases(ours.msg).items(), _cases(theirs.msg).values(), strict=True
    ):
        # interleaved rounds, best of each: the machine's noise hits both alike
        t_theirs = t_ours = float("inf")
        for _ in range(ROUNDS):
            t_theirs = min(t_theirs, best_of(f_theirs, repeat=5, budget=0.3))
            t_ours = min(t_ours, best_of(f_ours, repeat=5, budget=0.3))
        ratio = t_theirs / t_ours
        rows.append([name, f"{t_ours * 1e9:.0f}", f"{t_theirs * 1e9:.0f}", f"{ratio:.2f}"])
        report.data[name] = {"octavo_ns": t_ours * 1e9, "foolscap_ns": t_theirs * 1e9}
    report.table(
        "log.msg with no observers (ns per call; ratio = Foolscap / Octavo, goal >= 2)",
        ["call", "octavo ns", "foolscap ns", "ratio"],
        rows,
    )

    logger = FoolscapLogger()
    msg = logger.msg
    facilities = [f"app/f{i}" for i in range(50)]
    levels = [10, 20, 23, 25, 28, 30, 35, 40]
    for i in range(200_000):  # fill every buffer once, so growth after this is a leak
        msg("warm", facility=facilities[i % 50], level=levels[i % 8])
    before = _rss_mib()
    start = time.perf_counter()
    for i in range(EVENTS_FOR_MEMORY):
        msg("event %d", i, facility=facilities[i % 50], level=levels[i % 8])
    elapsed = time.perf_counter() - start
    after = _rss_mib()
    buffered = sum(1 for _ in logger.get_buffered_events())
    report.table(
        f"memory over {EVENTS_FOR_MEMORY:,} events (50 facilities x 8 levels)",
        ["RSS before MiB", "RSS after MiB", "growth MiB", "buffered events", "seconds"],
        [[f"{before:.1f}", f"{after:.1f}", f"{after - before:.1f}", buffered, f"{elapsed:.1f}"]],
    )
    report.data["memory"] = {"before_mib": before, "after_mib": after, "buffered": buffered}
    return report


_CHILD = """
import sys
sys.path.insert(0, {here!r})
from bench_log_msg import _cases
if {which!r} == "octavo":
    from octavo.logging import FoolscapLogger
else:
    from foolscap.logging.log import FoolscapLogger
call = list(_cases(FoolscapLogger().msg).values())[{index}]
for _ in range({n}):
    call()
"""


def _instructions(which: str, index: int, n: int) -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={tmp}/out",
                sys.executable,
                "-c",
                _CHILD.format(here=here, which=which, index=index, n=n),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    found = re.search(r"Collected : ([\d,]+)", done.stderr)
    assert found is not None, done.stderr
    return int(found.group(1).replace(",", ""))


def run_instructions() -> Report:
    """Instructions per call of each case, for both loggers (needs valgrind)."""
    report = Report("log_msg_instructions")
    rows: list[list[object]] = []
    baseline = {which: _instructions(which, 0, 0) for which in ("octavo", "foolscap")}
    for index, name in enumerate(_cases(FoolscapLogger().msg)):
        per_call = {
            which: (_instructions(which, index, CALLS) - baseline[which]) / CALLS
            for which in ("octavo", "foolscap")
        }
        ratio = per_call["foolscap"] / per_call["octavo"]
        ours, theirs = per_call["octavo"], per_call["foolscap"]
        rows.append([name, f"{ours:.0f}", f"{theirs:.0f}", f"{ratio:.2f}"])
        report.data[name] = per_call
    report.table(
        "log.msg with no observers (instructions per call; ratio = Foolscap / Octavo, goal >= 2)",
        ["call", "octavo", "foolscap", "ratio"],
        rows,
    )
    return report


if __name__ == "__main__":
    print((run_instructions() if "--instructions" in sys.argv else run()).render())
