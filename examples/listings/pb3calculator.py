"""pb3calculator: a stack calculator that reports each operation to its observers.

The behaviour of Foolscap's doc/listings/pb3calculator.py: a ``Calculator``
(push, add, subtract, pop) registered as "calculator"; callers may pass an observer
(a Referenceable of their own) to ``addObserver``, and every operation is sent to
each observer as ``event(msg=...)``. The listing ran under twistd forever; this one
is a plain program on 127.0.0.1 that stops after ``--calls N`` answered calls or
``--timeout S`` seconds.

    python pb3calculator.py --calls 6 --furlfile calc.furl
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from twisted.internet import defer, task

from octavo.api import Referenceable, Tub


class Calculator(Referenceable):
    """An RPN stack; each operation is logged to the observers, then done."""

    def __init__(self, answered: Callable[[], None]) -> None:
        self.stack: list[int] = []
        self.observers: list[Any] = []
        self.answered = answered

    def log(self, msg: str) -> None:
        self.answered()
        for o in self.observers:
            # nobody waits for the observers; one that went away is skipped
            o.callRemote("event", msg=msg).addErrback(lambda _f: None)

    def remote_addObserver(self, observer: Any) -> None:
        self.answered()
        self.observers.append(observer)

    def remote_removeObserver(self, observer: Any) -> None:
        self.answered()
        self.observers.remove(observer)

    def remote_push(self, num: int) -> None:
        self.log(f"push({num})")
        self.stack.append(num)

    def remote_add(self) -> None:
        self.log("add")
        top, below = self.stack.pop(), self.stack.pop()
        self.stack.append(below + top)

    def remote_subtract(self) -> None:
        self.log("subtract")
        top, below = self.stack.pop(), self.stack.pop()
        self.stack.append(below - top)

    def remote_pop(self) -> int:
        self.log("pop")
        return self.stack.pop()


def options() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", default="0", help="TCP port on 127.0.0.1 (0: any free one)")
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
    tub = Tub()
    tub.startService()
    listener = tub.listenOn(f"tcp:{opts.port}:interface=127.0.0.1")
    tub.setLocation(f"127.0.0.1:{listener.getPortnum()}")
    url = tub.registerReference(Calculator(answered), "calculator", furlFile=opts.furlfile)
    print("the object is available at:", url, flush=True)
    await done
    await tub.stopService()
    print(f"stopped after {count[0]} calls", flush=True)


if __name__ == "__main__":
    args = options()
    task.react(lambda reactor: defer.ensureDeferred(main(reactor, args)))
