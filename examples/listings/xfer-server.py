"""xfer-server: receives files from xfer-client into one target directory.

The behaviour of Foolscap's doc/listings/xfer-server.py: whoever holds the FURL can
put files into TARGETDIR and nowhere else (a least-privilege stand-in for scp). The
Tub's certificate (``tub.pem``) and the FURL (``receiver.furl``) are kept in
``--basedir``, so the FURL stays the same from one run to the next; uploaded files
get ``--mode`` (octal). Loopback only: it listens and advertises 127.0.0.1 where the
listing guessed its address. Stops after ``--calls N`` uploads or ``--timeout S``.

    python xfer-server.py --basedir ~/private 0 ~/targetdir --calls 1
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from twisted.internet import defer, task

from octavo.api import Referenceable, Tub


class BadFilenameError(Exception):
    """A name that would leave the target directory."""


class FileReceiver(Referenceable):
    """``putfile(name, data)``: writes data to TARGETDIR/name."""

    def __init__(self, targetdir: Path, mode: int, answered: Callable[[], None]) -> None:
        self.targetdir = targetdir
        self.mode = mode
        self.answered = answered

    def remote_putfile(self, name: str, data: bytes) -> None:
        self.answered()
        if "/" in name or os.sep in name or name in ("", ".", ".."):
            raise BadFilenameError(name)
        target = self.targetdir / name
        target.write_bytes(data)
        target.chmod(self.mode)


def options() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("port", help="TCP port on 127.0.0.1 (0: any free one)")
    p.add_argument("targetdir", type=Path, help="where uploaded files go")
    p.add_argument("--basedir", "-b", default="~/.xfer-server", help="certificate, FURL")
    p.add_argument("--mode", "-m", default="0644", help="(octal) mode of the uploaded files")
    p.add_argument("--quiet", "-q", action="store_true", help="do not print the FURL")
    p.add_argument("--calls", type=int, help="stop after this many uploads")
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
    basedir = Path(opts.basedir).expanduser()
    basedir.mkdir(parents=True, exist_ok=True)
    mode = int(opts.mode, 8) if opts.mode.startswith("0") else int(opts.mode)
    receiver = FileReceiver(opts.targetdir.resolve(), mode, answered)
    tub = Tub(certFile=str(basedir / "tub.pem"))
    tub.startService()
    listener = tub.listenOn(f"tcp:{opts.port}:interface=127.0.0.1")
    tub.setLocation(f"127.0.0.1:{listener.getPortnum()}")
    furl = tub.registerReference(receiver, furlFile=str(basedir / "receiver.furl"))
    if not opts.quiet:
        print("Server is listening on:")
        print(" " + furl, flush=True)
    await done
    await tub.stopService()
    print(f"stopped after {count[0]} uploads", flush=True)


if __name__ == "__main__":
    args = options()
    task.react(lambda reactor: defer.ensureDeferred(main(reactor, args)))
