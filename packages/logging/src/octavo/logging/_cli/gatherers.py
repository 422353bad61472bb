"""``octavo-log create-gatherer``, ``create-incident-gatherer`` and ``run-gatherer``.

As ``flogtool``: ``create-gatherer DIR --location HINTS [--port ENDPOINT]``
makes a gatherer directory (``port``, ``location``, ``gatherer.json`` and a
``gatherer.tac``), which runs with ``(cd DIR && twistd -y gatherer.tac)``;
``run-gatherer DIR`` runs it in the foreground instead, until interrupted.
``--rotate SECONDS`` / ``--rotate-size BYTES`` start a new file that often
or that big, ``--bzip`` compresses finished files. ``create-incident-gatherer``
is the same for incidents (classifiers: ``classify_*.py`` files in DIR).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import IO, Any

from octavo.logging._gatherer_service import CONFIG_FILE, GathererConfigError, GathererService

__all__ = ["TAC", "add_parser", "create", "run_gatherer"]

TAC = """\
# -*- python -*-
# An octavo-logging {kind} gatherer: run it with '(cd DIR && twistd -y gatherer.tac)'.
import os

from twisted.application import service

from octavo.logging._gatherer_service import GathererService

application = service.Application("octavo-log-{kind}-gatherer")
GathererService(os.path.dirname(os.path.abspath(__file__))).setServiceParent(application)
"""

INCIDENT_TAC_NOTE = """
# To classify incidents, put classify_*.py files beside this one, each with a
# function classify_incident(trigger) returning a category name (or None):
#
#   def classify_incident(trigger):
#       if "connection lost" in trigger.get("message", ""):
#           return "lost-connections"
"""


class CreateError(ValueError):
    """The create-* arguments are unusable."""


def create(args: argparse.Namespace, kind: str, out: IO[str]) -> None:
    """Make the gatherer directory ``args.basedir``."""
    port: str = args.port
    if port.startswith("ssl:") or port in ("tcp:0", "0"):
        raise CreateError(f"--port {port!r}: give a fixed TCP port (the FURL must stay valid)")
    basedir = args.basedir
    os.makedirs(basedir, exist_ok=True)
    config: dict[str, Any] = {"kind": kind}
    if kind == "log":
        config.update(rotate=args.rotate, rotate_size=args.rotate_size, bzip=args.bzip)
    files = {
        "port": port + "\n",
        "location": args.location + "\n",
        CONFIG_FILE: json.dumps(config, indent=1) + "\n",
        "gatherer.tac": TAC.format(kind=kind) + (INCIDENT_TAC_NOTE if kind == "incident" else ""),
    }
    for name, text in files.items():
        with open(os.path.join(basedir, name), "w", encoding="utf-8") as f:
            f.write(text)
    if not args.quiet:
        what = "Gatherer" if kind == "log" else "Incident Gatherer"
        print(f"{what} created in directory {basedir}", file=out)
        print(f"Now run '(cd {basedir} && twistd -y gatherer.tac)' to launch the daemon", file=out)
        print(f"(or 'octavo-log run-gatherer {basedir}' to run it in the foreground)", file=out)


def _positive(kind: type) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text!r} must be more than 0")
        return value

    return parse


def _create_command(kind: str) -> Any:
    def run(args: argparse.Namespace) -> int:
        try:
            create(args, kind, sys.stdout)
        except (CreateError, OSError) as e:
            print(f"octavo-log: {e}", file=sys.stderr)
            return 1
        return 0

    return run


def run_gatherer(args: argparse.Namespace) -> int:
    """Run the gatherer in ``args.basedir`` until interrupted."""
    from twisted.internet import reactor as global_reactor  # noqa: PLC0415 - only this command runs a reactor

    reactor: Any = global_reactor

    try:
        gatherer = GathererService(args.basedir)
    except GathererConfigError as e:
        print(f"octavo-log run-gatherer: {e}", file=sys.stderr)
        return 1
    reactor.callWhenRunning(gatherer.startService)
    reactor.addSystemEventTrigger("before", "shutdown", gatherer.stopService)
    reactor.run()
    return 0


def add_parser(subparsers: Any) -> None:
    """Add the gatherer commands to the ``octavo-log`` command line."""
    for kind, name, default_port in (
        ("log", "create-gatherer", "tcp:3117"),
        ("incident", "create-incident-gatherer", "tcp:3118"),
    ):
        what = "log gatherer" if kind == "log" else "incident gatherer"
        p = subparsers.add_parser(
            name, help=f"make a {what} directory", description=__doc__.split("\n\n")[1]
        )
        p.add_argument("basedir", metavar="DIR", help="the directory to make")
        p.add_argument(
            "-p", "--port", default=default_port,
            help=f"endpoint to listen on (default: {default_port})",
        )  # fmt: skip
        p.add_argument(
            "-l", "--location", required=True,
            help="location hints for the FURL, e.g. tcp:example.org:3117",
        )  # fmt: skip
        p.add_argument("-q", "--quiet", action="store_true", help="don't print instructions")
        if kind == "log":
            p.add_argument(
                "-r", "--rotate", type=_positive(float), metavar="SECONDS",
                help="start a new file every SECONDS",
            )  # fmt: skip
            p.add_argument(
                "--rotate-size", type=_positive(int), metavar="BYTES",
                help="start a new file once one holds BYTES",
            )  # fmt: skip
            p.add_argument(
                "-b", "--bzip", action="store_true", help="compress each finished file with bzip2"
            )
        p.set_defaults(func=_create_command(kind))
    p = subparsers.add_parser(
        "run-gatherer", help="run a (log or incident) gatherer in the foreground"
    )
    p.add_argument("basedir", metavar="DIR", help="a directory made by create-*gatherer")
    p.set_defaults(func=run_gatherer)
