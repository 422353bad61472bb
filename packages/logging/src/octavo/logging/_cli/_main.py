"""``octavo-log``: one subcommand per module of this package, like ``flogtool``.

Each module named in :data:`COMMANDS` has ``add_parser(subparsers)``, which adds its
subcommand and sets ``func(args) -> int`` on it. Bad input ends the program with a
non-zero status and a one-line reason on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from octavo.logging._version import __version__

from ._common import CLIError

__all__ = ["COMMANDS", "build_parser", "main"]

#: the modules of octavo.logging._cli that each add one or more subcommands
COMMANDS: tuple[str, ...] = (
    "dump",
    "filter",
    "classify_incident",
)


def build_parser() -> argparse.ArgumentParser:
    """The parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="octavo-log",
        description="Read, filter and classify Foolscap-compatible log files (flogfiles).",
    )
    parser.add_argument("--version", action="version", version=f"octavo-log {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        module = importlib.import_module(f"{__package__}.{name}")
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``octavo-log`` with ``argv`` (default: the process's); the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.func(args)
    except CLIError as e:
        print(f"octavo-log {args.command}: error: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # `octavo-log dump FILE | less`, quit early: not an error worth a traceback
        sys.stderr.close()
        return 1
    except KeyboardInterrupt:
        return 130
    return status


if __name__ == "__main__":
    sys.exit(main())
