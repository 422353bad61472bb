"""copyable-send: a user database whose records are sent by value (Copyables).

The behaviour of Foolscap's doc/listings/copyable-send.py: a ``Database``
registered as "database" answers ``getuser(name)`` with a ``UserRecord``, a Copyable
of type "unique-string-UserRecord" whose copy carries the name and age but not the
shoe size. Listens on 127.0.0.1; stops after ``--calls N`` answered calls or
``--timeout S`` seconds.

    python copyable-send.py --calls 1 --furlfile db.furl
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from twisted.internet import defer, task

from octavo.api import Copyable, Referenceable, Tub


class UserRecord(Copyable):
    """One user; copies of it leave the shoe size behind."""

    typeToCopy = "unique-string-UserRecord"

    def __init__(self, name: str, age: int, shoe_size: int) -> None:
        self.name = name
        self.age = age
        self.shoe_size = shoe_size  # a secret

    def getStateToCopy(self) -> dict[str, Any]:
        return {"name": self.name, "age": self.age}


class Database(Referenceable):
    """Users by name; ``getuser`` sends a copy of one."""

    def __init__(self, answered: Callable[[], None]) -> None:
        self.users: dict[str, UserRecord] = {}
        self.answered = answered

    def addUser(self, name: str, age: int, shoe_size: int) -> None:
        self.users[name] = UserRecord(name, age, shoe_size)

    def remote_getuser(self, name: str) -> UserRecord:
        self.answered()
        return self.users[name]


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
    db = Database(answered)
    db.addUser("alice", 34, 8)
    db.addUser("bob", 25, 9)
    tub = Tub()
    tub.startService()
    listener = tub.listenOn(f"tcp:{opts.port}:interface=127.0.0.1")
    tub.setLocation(f"127.0.0.1:{listener.getPortnum()}")
    url = tub.registerReference(db, "database", furlFile=opts.furlfile)
    print("the database is at:", url, flush=True)
    await done
    await tub.stopService()
    print(f"stopped after {count[0]} calls", flush=True)


if __name__ == "__main__":
    args = options()
    task.react(lambda reactor: defer.ensureDeferred(main(reactor, args)))
