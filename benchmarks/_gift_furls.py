"""Child process of bench_gift_furls.py: do FURLs made for sent Referenceables leak?

``python _gift_furls.py SYSTEM COUNT BATCH`` (SYSTEM: octavo or foolscap). Two Tubs of
SYSTEM in this process, over 127.0.0.1: the server hands the client COUNT fresh
Referenceables, BATCH per call; every one crosses by reference and so gets a FURL
(``getOrCreateURLForReference``: a swissnum in the Tub's name tables, which are what
gifting needs). The client drops each batch at once, so its proxies are decref'd.

Prints one JSON line: the live objects, name-table entries and tracemalloc/RSS figures
at the baseline (after one warm-up batch), at the peak and after everything was
released.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
import tracemalloc
from typing import Any

from twisted.internet import defer, task

#: tracemalloc on (GIFT_FURLS_TRACE=1) is exact but makes the run several times slower
TRACE = os.environ.get("GIFT_FURLS_TRACE") == "1"


def rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def make_classes(system: str) -> tuple[Any, Any]:
    if system == "foolscap":
        from foolscap.api import Referenceable, Tub
    else:
        from octavo.tub import Referenceable, Tub

    class Thing(Referenceable):  # type: ignore[misc, valid-type]
        live = 0

        def __init__(self) -> None:
            Thing.live += 1

        def __del__(self) -> None:
            Thing.live -= 1

        def remote_ping(self) -> str:
            return "pong"

    class Maker(Referenceable):  # type: ignore[misc, valid-type]
        def remote_make(self, n: int) -> list[Any]:
            return [Thing() for _ in range(n)]

    return Tub, (Maker, Thing)


def held_by_server(tub: Any, system: str) -> dict[str, int]:
    brokers = list(tub.brokers.values())
    if system == "foolscap":
        by_clid = sum(len(b.myReferenceByCLID) for b in brokers)
    else:
        by_clid = sum(len(b.connection.my_references.by_clid) for b in brokers)
    return {
        "nameToReference": len(tub.nameToReference),
        "referenceToName": len(tub.referenceToName),
        "strongReferences": len(tub.strongReferences),
        "held_for_peer": by_clid,
    }


async def settle(reactor: Any, thing: Any) -> None:
    """Until the client's decrefs have freed every Thing (bounded: 30 s)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        gc.collect()
        await task.deferLater(reactor, 0.02, lambda: None)
        if thing.live == 0:
            return


def snapshot(server: Any, system: str, thing: Any) -> dict[str, Any]:
    gc.collect()
    return {
        "live": thing.live,
        **held_by_server(server, system),
        "objects": len(gc.get_objects()),
        "traced_kib": tracemalloc.get_traced_memory()[0] // 1024 if TRACE else None,
        "rss_kib": rss_kib(),
    }


async def measure(reactor: Any, system: str, count: int, batch: int) -> dict[str, Any]:
    tub_cls, (maker_cls, thing) = make_classes(system)
    server, client = tub_cls(), tub_cls()
    for t in (server, client):
        t.startService()
    port = server.listenOn("tcp:0:interface=127.0.0.1").getPortnum()
    server.setLocation(f"127.0.0.1:{port}")
    rref = await client.getReference(server.registerReference(maker_cls()))
    await rref.callRemote("make", batch)
    await settle(reactor, thing)
    if TRACE:
        tracemalloc.start()
    base = snapshot(server, system, thing)
    peak_live = 0
    started = time.perf_counter()
    for _ in range(count // batch):
        got = await rref.callRemote("make", batch)
        peak_live = max(peak_live, thing.live)
        del got
    elapsed = time.perf_counter() - started
    await settle(reactor, thing)
    after = snapshot(server, system, thing)
    traced_peak = tracemalloc.get_traced_memory()[1] // 1024 if TRACE else None
    tracemalloc.stop()
    for t in (client, server):
        await t.stopService()
    return {
        "system": system,
        "count": count,
        "batch": batch,
        "seconds": round(elapsed, 2),
        "baseline": base,
        "peak_live": peak_live,
        "traced_peak_kib": traced_peak,
        "after": after,
    }


def main(reactor: Any, system: str, count: str, batch: str) -> defer.Deferred[None]:
    async def go() -> None:
        result = await measure(reactor, system, int(count), int(batch))
        print(json.dumps(result), flush=True)

    return defer.ensureDeferred(go())


if __name__ == "__main__":
    task.react(main, sys.argv[1:4])
