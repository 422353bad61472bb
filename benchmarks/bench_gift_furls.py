"""Do the FURLs of Referenceables sent by reference keep them alive? (Foolscap and Octavo)

Every Referenceable that crosses a connection by reference is given a FURL on its
first trip (``Tub.getOrCreateURLForReference``: a swissnum in the Tub's name tables),
so that the receiver can pass it on to a third Tub (a gift). Those tables are weak in
both systems; this measures that they really are. For each system, a child process
(``_gift_furls.py``) runs two Tubs over 127.0.0.1; the server sends the client 100,000
fresh Referenceables, 1,000 per call, and the client drops each batch at once. After
everything is released: how many of them are still alive, how many entries the name
tables and the per-peer reference table hold, the number of objects the garbage
collector tracks, RSS, and (with ``GIFT_FURLS_TRACE=1``) tracemalloc's current and peak.

``python benchmarks/run.py gift_furls`` (about 40 s for Octavo, 105 s for Foolscap;
``GIFT_FURLS_SYSTEMS=octavo`` for one system, ``GIFT_FURLS_COUNT=N`` for another count).
Measured, never asserted (``tests/tub/test_gifts.py`` asserts the objects are freed).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from _harness import Report

HERE = Path(__file__).resolve().parent
SYSTEMS = ("octavo", "foolscap")


def measure(system: str, count: int, batch: int) -> dict[str, object]:
    """One child run; its JSON result."""
    out = subprocess.run(
        [sys.executable, str(HERE / "_gift_furls.py"), system, str(count), str(batch)],
        check=True,
        capture_output=True,
        text=True,
        timeout=900,
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def run() -> Report:
    """Measure each system and tabulate (what ``benchmarks/run.py gift_furls`` calls)."""
    systems = os.environ.get("GIFT_FURLS_SYSTEMS", ",".join(SYSTEMS)).split(",")
    count = int(os.environ.get("GIFT_FURLS_COUNT", "100000"))
    batch = 1000
    rep = Report("gift_furls")
    rows: list[list[object]] = []
    for system in systems:
        r = measure(system, count, batch)
        rep.data[system] = r
        base, after = r["baseline"], r["after"]
        assert isinstance(base, dict) and isinstance(after, dict)
        rows.append(
            [
                system,
                r["seconds"],
                r["peak_live"],
                after["live"],
                f"{base['nameToReference']} -> {after['nameToReference']}",
                f"{base['held_for_peer']} -> {after['held_for_peer']}",
                f"{base['objects']} -> {after['objects']}",
                f"{base['rss_kib'] // 1024} -> {after['rss_kib'] // 1024}",
                r["traced_peak_kib"] if r["traced_peak_kib"] is not None else "off",
                after["traced_kib"] if after["traced_kib"] is not None else "off",
            ]
        )
    rep.table(
        f"{count:,} Referenceables sent by reference ({batch:,} per call) and dropped",
        [
            "system",
            "s",
            "most alive",
            "alive after",
            "names (before -> after)",
            "held for peer",
            "gc objects",
            "RSS MiB",
            "traced peak KiB",
            "traced after KiB",
        ],
        rows,
    )
    return rep


if __name__ == "__main__":
    print(run().render())
