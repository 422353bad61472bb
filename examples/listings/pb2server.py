"""pb2server: a math service (add, subtract) published under a FURL.

The behaviour of Foolscap's doc/listings/pb2server.py, written for Octavo: the
object is registered as "math-service" and its FURL printed (and written to
``--furlfile``). It listens on 127.0.0.1 only. Unlike the listing it can stop by
itself: ``--calls N`` after answering N calls, ``--timeout S`` after S seconds.

    python pb2server.py --calls 1 --furlfile math.furl
"""

from __future__ import annotations

import argparse
from typing import Any

from twisted.internet import defer, task

from octavo.api import Referenceable, Tub


class MathServer(Referenceable):
    """add and subtract, counting the calls it answers."""

    def __init__(self, answered: Any) -> None:
        self.answered = answered

    def remote_add(self, a: int, b: int) -> int:
        self.answered()
        return a + b

    def remote_subtract(self, a: int, b: int) -> int:
        self.answered()
        return a - b


def options() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", default="0", help="TCP port on 127.0.0.1 (0: any free one)")
    p.add_argument("--certfile", help="keep the Tub's certificate (and so its FURL) here")
    p.add_argument("--furlfile", help="also write the FURL to this file")
    p.add_argument("--calls", type=int, help="stop after answering this many calls")
    p.add_argument("--timeout", type=float, help="stop after this many seconds")
    return p.parse_args()


async def main(reactor: Any, opts: argparse.Namespace) -> None:
    done: defer.Deferred[None] = defer.Deferred()
    count = [0]

    def stop() -> None:
        if not done.called:
            done.callback(None)

    def answered() -> None:
        count[0] += 1
        if opts.calls is not None and count[0] >= opts.calls:
            # a moment for the answer to leave before the Tub closes its connections
            reactor.callLater(0.2, stop)

    if opts.timeout is not None:
        reactor.callLater(opts.timeout, stop)
    tub = Tub(certFile=opts.certfile) if opts.certfile else Tub()
    tub.startService()
    listener = tub.listenOn(f"tcp:{opts.port}:interface=127.0.0.1")
    tub.setLocation(f"127.0.0.1:{listener.getPortnum()}")
    url = tub.registerReference(MathServer(answered), "math-service", furlFile=opts.furlfile)
    print("the object is available at:", url, flush=True)
    await done
    await tub.stopService()
    print(f"stopped after {count[0]} calls", flush=True)


if __name__ == "__main__":
    args = options()
    task.react(lambda reactor: defer.ensureDeferred(main(reactor, args)))
