"""``octavo-log web-viewer FILE_OR_FURL``: serve a live web page of a flogfile or a log port.

The first line on stdout is the URL served (flushed at once). Without ``octavo-log`` at
hand, ``python -m octavo.logging._cli.web_viewer FILE_OR_FURL [options]`` runs the same
command.
"""

from __future__ import annotations

import argparse
import sys
import webbrowser
from collections.abc import Sequence
from typing import Any

from twisted.internet import defer

from octavo.logging._web import RunningViewer, ViewerError, ViewerOptions, start_viewer
from octavo.logging._web._app import check_options
from octavo.logging._web._store import DEFAULT_LIMIT

PROG = "octavo-log web-viewer"


def add_parser(subparsers: Any) -> None:
    """Add the ``web-viewer`` command to *subparsers* (it sets ``func``)."""
    parser = subparsers.add_parser(
        "web-viewer",
        help="serve a live web page of a flogfile or a log port",
        description="Serve a web page showing the events of a flogfile or of a log port "
        "(FURL), following new ones live. Binds to 127.0.0.1; any other interface needs "
        "a token in the URL (--token, or a generated one).",
    )
    parser.add_argument(
        "source", metavar="FILE_OR_FURL", help="a flogfile (.flog or .flog.bz2), or a pb:// FURL"
    )
    parser.add_argument("--port", type=int, default=0, help="TCP port (default: any free one)")
    parser.add_argument(
        "--interface", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    parser.add_argument("--token", help="token the URL must carry (default: none on loopback)")
    parser.add_argument("--open", action="store_true", help="open the page in a web browser")
    parser.add_argument(
        "--follow",
        action="store_true",
        help="keep reading the file as it grows (like tail -f); a .bz2 file's new events "
        "show once a whole bzip2 block (about 900 kB of log) or stream is written",
    )
    parser.add_argument(
        "--catch-up", action="store_true", help="with a FURL: first get the port's past events"
    )
    parser.add_argument(
        "--max-events",
        type=int,
        default=DEFAULT_LIMIT,
        help=f"events kept in memory; older ones are dropped (default: {DEFAULT_LIMIT})",
    )
    parser.set_defaults(func=run)


def options_of(args: argparse.Namespace) -> ViewerOptions:
    """The ViewerOptions of parsed arguments."""
    return ViewerOptions(
        source=args.source,
        interface=args.interface,
        port=args.port,
        token=args.token,
        follow=args.follow,
        catch_up=args.catch_up,
        limit=args.max_events,
    )


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; 1 with a one-line reason on stderr when it cannot start."""
    options = options_of(args)
    try:
        check_options(options)
    except ViewerError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    from twisted.internet import reactor as installed  # noqa: PLC0415 - installs the reactor

    reactor: Any = installed

    outcome = {"code": 0}

    def started(viewer: RunningViewer) -> None:
        print(viewer.url, flush=True)
        reactor.addSystemEventTrigger("before", "shutdown", viewer.stop)
        if args.open:
            webbrowser.open(viewer.url)

    def failed(failure: Any) -> None:
        reason = failure.value if failure.check(ViewerError) else repr(failure.value)
        print(f"{PROG}: error: {reason}", file=sys.stderr, flush=True)
        outcome["code"] = 1
        reactor.stop()

    def go() -> None:
        d = defer.Deferred.fromCoroutine(start_viewer(reactor, options))
        d.addCallbacks(started, failed)

    reactor.callWhenRunning(go)
    reactor.run()
    return outcome["code"]


def main(argv: Sequence[str] | None = None) -> int:
    """The command alone: ``python -m octavo.logging._cli.web_viewer FILE_OR_FURL ...``."""
    parser = argparse.ArgumentParser(prog="octavo-log")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["web-viewer", *(sys.argv[1:] if argv is None else argv)])
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
