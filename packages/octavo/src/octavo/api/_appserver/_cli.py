"""``octavo-server``: create, add, list, start, stop, restart (flappserver's commands)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import IO

from ._admin import add_service, create_basedir, list_services
from ._daemon import start, stop
from ._errors import AppServerError


def _umask(text: str) -> int:
    try:
        value = int(text, 8)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an octal umask: {text!r}") from None
    if not 0 <= value <= 0o777:
        raise argparse.ArgumentTypeError(f"umask out of range: {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="octavo-server",
        description="Serve files and commands at secret FURLs (Foolscap's flappserver).",
    )
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("create", help="create a new server directory")
    c.add_argument("--port", "-p", default="tcp:3116", help="endpoint to listen on")
    c.add_argument("--location", "-l", required=True, help="location hints of the FURLs")
    c.add_argument("--umask", type=_umask, default=None, help="octal umask of the server")
    c.add_argument("--quiet", "-q", action="store_true")
    c.add_argument("basedir")
    a = sub.add_parser(
        "add",
        help="add a service",
        description="Service types: upload-file [--allow-subdirectories] [--mode M] "
        "[--max-size BYTES] TARGETDIR; run-command [--accept-stdin] [--no-stdout] "
        "[--no-stderr] [--single-instance] TARGETDIR COMMAND...",
    )
    a.add_argument("--comment", "-c", default=None)
    a.add_argument("--quiet", "-q", action="store_true")
    a.add_argument("basedir")
    a.add_argument("service_type")
    a.add_argument("service_args", nargs=argparse.REMAINDER)
    ls = sub.add_parser("list", help="list the services")
    ls.add_argument("basedir")
    for name in ("start", "restart"):
        s = sub.add_parser(name, help=f"{name} the server (in the background by default)")
        s.add_argument("--nodaemon", "-n", action="store_true", help="run in the foreground")
        s.add_argument("basedir")
    st = sub.add_parser("stop", help="stop the server running in the background")
    st.add_argument("--quiet", "-q", action="store_true")
    st.add_argument("basedir")
    return p


def run(argv: Sequence[str], stdout: IO[str], stderr: IO[str]) -> int:
    """Run one octavo-server command; the exit code."""
    ns = _parser().parse_args(list(argv))
    try:
        if ns.command == "create":
            tubid = create_basedir(ns.basedir, ns.port, ns.location, ns.umask)
            if not ns.quiet:
                print(f"Octavo application server created in {ns.basedir}", file=stdout)
                print(f"TubID {tubid}, listening on port {ns.port}", file=stdout)
                print(f"Now launch it with 'octavo-server start {ns.basedir}'", file=stdout)
            return 0
        if ns.command == "add":
            furl, folder = add_service(ns.basedir, ns.service_type, ns.service_args, ns.comment)
            if not ns.quiet:
                print(f"Service added in {folder}", file=stdout)
                print(f"FURL is {furl}", file=stdout)
            return 0
        if ns.command == "list":
            for s in list_services(ns.basedir):
                print(f"\n{s.swissnum}:", file=stdout)
                print(f" {s.type} {' '.join(s.args)}", file=stdout)
                if s.comment:
                    print(f" # {s.comment}", file=stdout)
                print(f" {s.furl}\n {s.folder}", file=stdout)
            print(file=stdout)
            return 0
        if ns.command == "stop":
            return stop(ns.basedir, stderr, quiet=ns.quiet)
        if ns.command == "restart":
            stop(ns.basedir, stderr, quiet=True)
        return start(ns.basedir, ns.nodaemon, stderr)
    except AppServerError as e:
        print(f"octavo-server: error: {e}", file=stderr)
        return 1


def main() -> None:
    """The ``octavo-server`` console script."""
    sys.exit(run(sys.argv[1:], sys.stdout, sys.stderr))


if __name__ == "__main__":
    main()
