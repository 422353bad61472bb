"""The well-behaved client of the hostile benchmark: ``python _hostile_probe.py SYSTEM``.

The server's announcement (JSON with its ``furl``) comes as the first line on stdin.
A real client Tub of SYSTEM connects, calls ``ping()`` a few times, prints ``{"ready":
...}`` and then calls ``ping()`` one call after another, one every ``--interval``
seconds, each given up after ``--timeout`` seconds (a late answer is ignored), and
``stats()`` (the server's RSS and connection count) once a second. When its stdin
closes, or after ``--max-seconds``, it prints one JSON line: every ping as ``[sent,
latency or null]`` and every stats answer as ``[time, stats]`` (times from
``time.monotonic()``, the same clock as the attacker's).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from _rpc_common import CLIENT_CERT, global_reactor, load_certificates, stdin_line, tub_classes
from twisted.internet import defer, protocol, stdio
from twisted.python.failure import Failure

reactor = global_reactor()
TIMED_OUT = object()


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


class _StopOnEOF(protocol.Protocol):
    def __init__(self, stop: defer.Deferred[None]) -> None:
        self.stop = stop

    def connectionLost(self, reason: Failure | None = None) -> None:
        if not self.stop.called:
            self.stop.callback(None)


async def probe(args: argparse.Namespace) -> dict[str, Any]:
    """Connect, announce, then ping until told to stop."""
    tub_class, _ = tub_classes(args.system)
    tub = tub_class(certData=load_certificates()[CLIENT_CERT])
    tub.startService()
    ref = await within(tub.getReference(args.furl), 30)
    if ref is TIMED_OUT or isinstance(ref, Failed):
        return {"error": f"could not connect: {ref}"}
    for _ in range(5):
        await ref.callRemote("ping")
    stop: defer.Deferred[None] = defer.Deferred()
    stdio.StandardIO(_StopOnEOF(stop))  # type: ignore[no-untyped-call]
    reactor.callLater(args.max_seconds, lambda: stop.called or stop.callback(None))
    print(json.dumps({"ready": time.monotonic()}), flush=True)
    naps: list[defer.Deferred[None]] = []

    def nap(seconds: float) -> defer.Deferred[None]:
        """Sleep ``seconds``, or until told to stop."""
        d: defer.Deferred[None] = defer.Deferred()
        naps.append(d)
        reactor.callLater(seconds, lambda: d.called or d.callback(None))
        return d

    def wake(_: object) -> None:
        for d in naps:
            if not d.called:
                d.callback(None)

    stop.addCallback(wake)
    pings: list[tuple[float, float | None]] = []
    stats: list[tuple[float, Any]] = []

    async def pinger() -> None:
        while not stop.called:
            sent = time.monotonic()
            got = await within(ref.callRemote("ping"), args.timeout)
            done = time.monotonic()
            ok = got is not TIMED_OUT and not isinstance(got, Failed)
            pings.append((round(sent, 4), round(done - sent, 5) if ok else None))
            wait = args.interval - (done - sent)
            if wait > 0 and not stop.called:
                await nap(wait)

    async def statser() -> None:
        while not stop.called:
            got = await within(ref.callRemote("stats"), args.timeout)
            if got is not TIMED_OUT and not isinstance(got, Failed):
                stats.append((round(time.monotonic(), 4), got))
            if not stop.called:
                await nap(1.0)

    running = [defer.ensureDeferred(pinger()), defer.ensureDeferred(statser())]
    await stop
    # The loops end at their next turn; a hung call is not waited for.
    await within(defer.DeferredList(running, consumeErrors=True), args.timeout + 1)
    await within(tub.stopService(), 3)
    return {"pings": pings, "stats": stats}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("system", choices=["foolscap", "octavo"])
    parser.add_argument("--interval", type=float, default=0.1)
    parser.add_argument("--timeout", type=float, default=2.0)
    parser.add_argument("--max-seconds", type=float, default=300.0)
    args = parser.parse_args(argv)
    line = stdin_line()
    if not line:
        return 1  # the orchestrator gave up before the server announced itself
    args.furl = json.loads(line)["furl"]
    box: list[Any] = []

    def begin() -> None:
        d = defer.ensureDeferred(probe(args))
        d.addErrback(lambda f: {"error": f.getErrorMessage()})
        d.addCallback(box.append)
        d.addBoth(lambda _: reactor.stop())

    reactor.callWhenRunning(begin)
    reactor.run()
    print(json.dumps(box[0] if box else {"error": "no result"}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
