"""Benchmark server process: ``python _rpc_server.py SYSTEM`` (echo, foolscap or octavo).

Listens on 127.0.0.1 (a free port), prints one JSON line (``port``, ``pid`` and, for a
Tub, the service's ``furl``), then serves until its stdin closes or ``--max-seconds``
pass, whichever comes first, so it always stops by itself.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import sys
import time
from typing import Any

from _rpc_common import (
    SERVER_CERT,
    SERVER_MAX_TOKEN_SIZE,
    TYPED_NAME,
    global_reactor,
    has_schemas,
    load_certificates,
    rss_kib,
    tub_classes,
    tub_keys,
    typed_interface,
)
from _rpc_syscalls import ServerSyscalls
from twisted.internet import protocol, stdio
from twisted.python.failure import Failure

reactor = global_reactor()
SYSCALLS = ServerSyscalls()


def make_service(base: type) -> Any:
    """An instance of a Referenceable subclass of ``base`` with the benchmark methods."""

    class Service(base):  # type: ignore[misc]
        """Counts every call it answers (checked by the load run)."""

        calls = 0

        def remote_noop(self) -> None:
            self.calls += 1

        def remote_take(self, value: object) -> None:
            self.calls += 1

        def remote_echo(self, value: object) -> object:
            self.calls += 1
            return value

        def remote_store(self, n: int, items: list[bytes]) -> None:
            self.calls += 1

        def remote_stats(self, syscalls: bool | None = None) -> dict[str, Any]:
            """Calls answered so far, read with this process's own clock and CPU time
            at the same moment (a rate over two readings is then the server's own,
            whatever the calls' round trip), with its RSS and minor page faults so far;
            ``syscalls`` switches perf's counting on or off right after, the total so
            far under "syscalls"."""
            out: dict[str, Any] = {"calls": self.calls, "time": time.monotonic()}
            out["cpu"] = time.process_time()
            out["rss_kib"] = rss_kib()
            out["faults"] = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            if syscalls is not None:
                out["syscalls"] = SYSCALLS.switch(syscalls)
            return out

        def remote_cpu(self) -> float:
            """This process's CPU seconds so far (user + system)."""
            return time.process_time()

        def remote_syscalls(self, on: bool) -> int | None:
            """perf's counting of our system calls on or off; the total so far."""
            return SYSCALLS.switch(on)

    return Service()


def make_typed_service(system: str, base: type) -> Any:
    """The same service, declaring the RemoteInterface of the schema figure."""
    from zope.interface import implementer

    service = make_service(base)
    return implementer(typed_interface(system))(type(service))()


class _StopOnEOF(protocol.Protocol):
    """Stops the reactor when the parent closes our stdin."""

    def connectionLost(self, reason: Failure | None = None) -> None:
        if reactor.running:
            reactor.stop()


def start(system: str, cert: str) -> dict[str, object]:
    """Start serving ``system``; return what the client needs to reach it."""
    if system == "echo":
        from _rpc_echo import EchoServer, tls_options

        factory = protocol.Factory.forProtocol(EchoServer)
        port = reactor.listenSSL(0, factory, tls_options(cert), interface="127.0.0.1")
        return {"port": port.getHost().port}
    tub_class, referenceable = tub_classes(system)
    tub = tub_class(certData=cert)
    if system == "octavo":  # the 50 MB row: Foolscap has no token size limit
        with contextlib.suppress(KeyError):  # (a baseline from before the option)
            tub.setOption("max-token-size", SERVER_MAX_TOKEN_SIZE)
    tub.startService()
    portnum = tub.listenOn("tcp:0:interface=127.0.0.1").getPortnum()
    tub.setLocation(f"tcp:127.0.0.1:{portnum}")
    furl = tub.registerReference(make_service(referenceable), "bench")
    if has_schemas(system):
        tub.registerReference(make_typed_service(system, referenceable), TYPED_NAME)
    return {"port": portnum, "furl": furl}


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, start serving, announce, and run the reactor."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("system", choices=["echo", "foolscap", "octavo"])
    parser.add_argument("--max-seconds", type=float, default=600.0)
    args = parser.parse_args(argv)
    certs = load_certificates(tub_keys(args.system))
    if len(certs) <= SERVER_CERT:
        parser.error("no cached certificates; bench_rpc.py makes them first")
    info = start(args.system, certs[SERVER_CERT])
    info["pid"] = os.getpid()
    print(json.dumps(info), flush=True)
    stdio.StandardIO(_StopOnEOF())  # type: ignore[no-untyped-call]
    reactor.callLater(args.max_seconds, reactor.stop)
    reactor.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
