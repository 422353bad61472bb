"""pb3user: drives the pb3calculator, watching it through an observer.

The behaviour of Foolscap's doc/listings/pb3user.py: it sends an ``Observer`` (a
Referenceable of its own) to ``addObserver``, pushes 2 and 3, adds, pops and prints
the result, then removes the observer; the calculator calls the observer back with
each operation, which prints it. Gives up after ``--timeout`` seconds (default 30).

    python pb3user.py FURL
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from twisted.internet import defer, task

from octavo.api import Referenceable, Tub


class Observer(Referenceable):
    """Called back by the calculator with each operation."""

    def remote_event(self, msg: str) -> None:
        print("event:", msg, flush=True)


def options() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("furl", nargs="?", help="the FURL the calculator printed")
    p.add_argument("--furlfile", help="read the FURL from this file instead")
    p.add_argument("--timeout", type=float, default=30.0, help="give up after this many seconds")
    opts = p.parse_args()
    if not opts.furl and not opts.furlfile:
        p.error("give the calculator's FURL (or --furlfile FILE)")
    return opts


async def run(opts: argparse.Namespace) -> int:
    url = opts.furl or Path(opts.furlfile).read_text().strip()
    tub = Tub()
    tub.startService()
    try:
        remote = await tub.getReference(url)
        o = Observer()
        await remote.callRemote("addObserver", observer=o)
        await remote.callRemote("push", num=2)
        await remote.callRemote("push", num=3)
        await remote.callRemote("add")
        print("the result is", await remote.callRemote("pop"), flush=True)
        await remote.callRemote("removeObserver", observer=o)
        return 0
    except Exception as e:
        print("got an error:", e)
        return 1
    finally:
        await tub.stopService()


async def main(reactor: Any, opts: argparse.Namespace) -> None:
    d = defer.ensureDeferred(run(opts))
    d.addTimeout(opts.timeout, reactor)
    try:
        code = await d
    except defer.TimeoutError:
        print(f"gave up after {opts.timeout} seconds")
        code = 1
    if code:
        raise SystemExit(code)


if __name__ == "__main__":
    args = options()
    task.react(lambda reactor: defer.ensureDeferred(main(reactor, args)))
