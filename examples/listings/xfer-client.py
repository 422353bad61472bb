"""xfer-client: sends one file to xfer-server.

The behaviour of Foolscap's doc/listings/xfer-client.py: given the server's FURL
(``--furl``, or ``--furlfile``) and a local file, it calls ``putfile`` with the
file's last path component and its contents. Gives up after ``--timeout`` seconds.

    python xfer-client.py --furlfile ~/private/receiver.furl notes.txt
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from twisted.internet import defer, task

from octavo.api import Tub


def options() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("localfile", type=Path, help="the file to send")
    p.add_argument("--furl", "-f", help="the server's FURL")
    p.add_argument("--furlfile", "-l", help="a file holding the server's FURL")
    p.add_argument("--quiet", "-q", action="store_true", help="do not announce success")
    p.add_argument("--timeout", type=float, default=30.0, help="give up after this many seconds")
    opts = p.parse_args()
    if not opts.furl and not opts.furlfile:
        p.error("you must either provide --furl or --furlfile")
    if not opts.localfile.exists():
        p.error(f"local file '{opts.localfile}' doesn't exist")
    return opts


async def run(opts: argparse.Namespace) -> int:
    furl = opts.furl or Path(opts.furlfile).expanduser().read_text().strip()
    remotename = opts.localfile.name
    tub = Tub()
    tub.startService()
    try:
        rref = await tub.getReference(furl)
        await rref.callRemote("putfile", remotename, opts.localfile.read_bytes())
    except Exception as e:
        print("error while transferring file:")
        print(e)
        return 1
    finally:
        await tub.stopService()
    if not opts.quiet:
        print(f"file transferred to {remotename}")
    return 0


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
