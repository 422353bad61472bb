"""pb2client: asks the pb2server math service to add 1+2.

The behaviour of Foolscap's doc/listings/pb2client.py: given the server's FURL (as
an argument, or ``--furlfile``), get a RemoteReference, call ``add(a=1, b=2)`` and
print the answer. It gives up after ``--timeout`` seconds (default 30).

    python pb2client.py FURL
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from twisted.internet import defer, task

from octavo.api import Tub


def options() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("furl", nargs="?", help="the FURL the server printed")
    p.add_argument("--furlfile", help="read the FURL from this file instead")
    p.add_argument("--timeout", type=float, default=30.0, help="give up after this many seconds")
    opts = p.parse_args()
    if not opts.furl and not opts.furlfile:
        p.error("Usage: pb2client.py URL (or --furlfile FILE)")
    return opts


async def run(opts: argparse.Namespace) -> int:
    url = opts.furl or Path(opts.furlfile).read_text().strip()
    tub = Tub()
    tub.startService()
    try:
        try:
            remote = await tub.getReference(url)
        except Exception as e:
            print("unable to get the RemoteReference:", e)
            return 1
        print("got a RemoteReference")
        print("asking it to add 1+2")
        try:
            answer = await remote.callRemote("add", a=1, b=2)
        except Exception as e:
            print("unable to invoke the remote method:", e)
            return 1
        print("the answer is", answer)
        return 0
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
