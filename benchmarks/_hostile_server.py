"""Hostile benchmark server: ``python _hostile_server.py SYSTEM [--options JSON]``.

One Tub (Foolscap 24.9 or Octavo) listening on 127.0.0.1 with one Referenceable,
``bench``: ``ping()``, ``echo(value)``, ``take(value)`` (returns None), ``slow()`` (a
Deferred that never fires: only the RPC system holds the call), ``fresh()`` (a new
Referenceable each time) and ``stats()`` (its RSS, its connections, the calls it has
run but ``ping()``). ``--options`` are Tub options
(``setOption``). Prints one JSON line (``port``, ``pid``, ``furl``), then serves until
its stdin closes or ``--max-seconds`` pass, so it always stops by itself.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from _rpc_common import SERVER_CERT, global_reactor, load_certificates, rss_kib, tub_classes
from twisted.internet import defer, protocol, stdio
from twisted.python.failure import Failure

reactor = global_reactor()


def make_service(base: type, tub: Any) -> Any:
    """The ``bench`` object: a Referenceable subclass of ``base``."""

    class Fresh(base):  # type: ignore[misc]
        """What ``fresh()`` hands out: a new object for the peer to hold."""

    class Service(base):  # type: ignore[misc]
        calls = 0

        def remote_ping(self) -> None:
            """Not counted: the well-behaved client calls it all the time."""

        def remote_echo(self, value: object) -> object:
            self.calls += 1
            return value

        def remote_take(self, value: object) -> None:
            self.calls += 1

        def remote_slow(self) -> defer.Deferred[None]:
            self.calls += 1
            return defer.Deferred()

        def remote_fresh(self) -> Any:
            self.calls += 1
            return Fresh()

        def remote_stats(self) -> dict[str, int]:
            return {"calls": self.calls, "rss_kib": rss_kib(), "brokers": len(tub.brokers)}

    return Service()


class _StopOnEOF(protocol.Protocol):
    """Stops the reactor when the parent closes our stdin."""

    def connectionLost(self, reason: Failure | None = None) -> None:
        if reactor.running:
            reactor.stop()


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, start serving, announce, and run the reactor."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("system", choices=["foolscap", "octavo"])
    parser.add_argument("--options", default="{}", help="Tub options as a JSON object")
    parser.add_argument("--max-seconds", type=float, default=300.0)
    args = parser.parse_args(argv)
    certs = load_certificates()
    if len(certs) <= SERVER_CERT:
        parser.error("no cached certificates; bench_hostile.py makes them first")
    tub_class, referenceable = tub_classes(args.system)
    tub = tub_class(certData=certs[SERVER_CERT])
    for name, value in json.loads(args.options).items():
        tub.setOption(name, value)
    tub.startService()
    portnum = tub.listenOn("tcp:0:interface=127.0.0.1").getPortnum()
    tub.setLocation(f"tcp:127.0.0.1:{portnum}")
    furl = tub.registerReference(make_service(referenceable, tub), "bench")
    print(json.dumps({"port": portnum, "furl": furl, "pid": os.getpid()}), flush=True)
    stdio.StandardIO(_StopOnEOF())  # type: ignore[no-untyped-call]
    reactor.callLater(args.max_seconds, reactor.stop)
    reactor.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
