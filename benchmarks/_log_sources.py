"""Child process of bench_log_gatherer: N Tubs logging at a rate, pushing to a gatherer.

``python _log_sources.py GATHERER_FURL TUBS RATE SECONDS``: each Tub has its own
logger and logport and the ``log-gatherer-furl`` option; once every Tub's logport is
subscribed, each logs RATE events a second (in 10 ms batches; a late batch makes up
for those it missed) for SECONDS, then the process waits (at most 30 s) for the
subscriptions' queues to drain and prints one JSON line: events sent, and events the
publishers dropped (slow gatherer).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from twisted.internet import reactor, task

from octavo.logging._logger import FoolscapLogger
from octavo.logging._plugin import LoggingPlugin
from octavo.tub import Tub
from octavo.tub._options import LOGGING_PLUGIN, register_plugin_factory


def main(furl: str, tubs: int, rate: int, seconds: float) -> None:
    loggers: dict[str, FoolscapLogger] = {}
    plugins: list[LoggingPlugin] = []

    def factory(tub: Any) -> LoggingPlugin:
        logger = loggers.setdefault(tub.getTubID(), FoolscapLogger())
        logger.set_buffer_size(20, 10)  # the buffers are not what is measured
        plugin = LoggingPlugin(tub, logger)
        plugins.append(plugin)
        return plugin

    register_plugin_factory(LOGGING_PLUGIN, factory)
    sources = []
    for _ in range(tubs):
        t = Tub()
        t.startService()
        port = t.listenOn("tcp:0:interface=127.0.0.1").getPortnum()
        t.setLocation(f"127.0.0.1:{port}")
        t.setLogGathererFURL(furl)
        sources.append(t)
    sent = [0]
    cpu0 = time.process_time()  # (after the Tubs' keys were made)
    per_tick = max(1, rate // 100)
    result: dict[str, Any] = {}

    def subscriptions() -> list[Any]:
        return [s for p in plugins if p._logport for s in p._logport.subscriptions]

    def emit(ticks: int) -> None:
        # a late tick (the process was busy) makes up for the ticks it missed, so the
        # rate holds whenever the process has the CPU for it
        for t in sources:
            for _ in range(per_tick * ticks):
                t.log("bench event %d", sent[0], level=20)
                sent[0] += 1

    def wait_subscribed() -> None:
        if len([s for s in subscriptions() if s.subscribed]) < tubs:
            reactor.callLater(0.05, wait_subscribed)
            return
        loop = task.LoopingCall.withCount(emit)
        loop.start(0.01)
        reactor.callLater(seconds, stop_emitting, loop, time.monotonic())

    def stop_emitting(loop: task.LoopingCall, started: float) -> None:
        loop.stop()
        result["emit_seconds"] = time.monotonic() - started
        drain(time.monotonic())

    def drain(since: float) -> None:
        busy = [s for s in subscriptions() if len(s.queue) or s.queue.in_flight]
        if busy and time.monotonic() - since < 30:
            reactor.callLater(0.05, drain, since)
            return
        result["drain_seconds"] = time.monotonic() - since
        result["sent"] = sent[0]
        result["cpu_seconds"] = time.process_time() - cpu0
        result["dropped_by_publishers"] = sum(s.queue.total_dropped for s in subscriptions())
        print(json.dumps(result), flush=True)
        reactor.stop()

    reactor.callWhenRunning(wait_subscribed)
    reactor.run()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
