"""copyable-receive: fetches a user record from copyable-send and shows it.

The behaviour of Foolscap's doc/listings/copyable-receive.py: ``RemoteUserRecord``
(a RemoteCopy for "unique-string-UserRecord") rebuilds the copy from the state sent
(name and age; the shoe size was withheld), and ``display`` prints it. Asks for
"alice" unless ``--name`` says otherwise; gives up after ``--timeout`` seconds.

    python copyable-receive.py FURL
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from twisted.internet import defer, task

from octavo.api import RemoteCopy, Tub


class RemoteUserRecord(RemoteCopy):
    """The receiving side's class for "unique-string-UserRecord" (made without arguments)."""

    copytype = "unique-string-UserRecord"

    def setCopyableState(self, state: dict[str, Any]) -> None:
        self.name = state["name"]
        self.age = state["age"]
        self.shoe_size = "they wouldn't tell us"

    def display(self) -> None:
        print("Name:", self.name)
        print("Age:", self.age)
        print("Shoe Size:", self.shoe_size)


def options() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("furl", nargs="?", help="the FURL the database printed")
    p.add_argument("--furlfile", help="read the FURL from this file instead")
    p.add_argument("--name", default="alice", help="the user to fetch")
    p.add_argument("--timeout", type=float, default=30.0, help="give up after this many seconds")
    opts = p.parse_args()
    if not opts.furl and not opts.furlfile:
        p.error("give the database's FURL (or --furlfile FILE)")
    return opts


async def run(opts: argparse.Namespace) -> int:
    url = opts.furl or Path(opts.furlfile).read_text().strip()
    tub = Tub()
    tub.startService()
    try:
        rref = await tub.getReference(url)
        record = await rref.callRemote("getuser", name=opts.name)
        print("got a", type(record).__name__)
        record.display()
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
