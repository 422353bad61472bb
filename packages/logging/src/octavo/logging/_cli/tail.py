"""``octavo-log tail TARGET``: print a Tub's log events as they happen (``flogtool tail``).

TARGET is a logport FURL, a file holding one, or a directory holding
``logport.furl``. The output is Foolscap's: ``Connected (to pid N)``, the
remote versions, then one line per event, ``TIME L<level> []#<num> <text>``
(``--verbose``: the whole event dict), with `` FAILURE:`` lines after an event
that carries a failure. ``--save-to FILE`` also writes the events to a flogfile
with a ``tail`` header; ``--catch-up`` starts with the events the Tub still
holds; ``--level`` shows only events at or above a level (name or number).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import IO, Any

from twisted.internet.defer import Deferred

from octavo.logging._events import format_message
from octavo.logging._flogfile import FlogWriter
from octavo.logging._follower import LogFollower
from octavo.logging._levels import OPERATIONAL, level_from_name

__all__ = ["FORMAT_TIME_MODES", "TailPrinter", "add_parser", "format_time", "resolve_target"]

FORMAT_TIME_MODES = ["short-local", "long-local", "utc", "epoch"]


class TargetError(ValueError):
    """The tail target is not a FURL, a FURL file or a directory with logport.furl."""


def format_time(when: float, mode: str) -> str:
    """An event time as ``flogtool`` shows it in ``mode`` (one of FORMAT_TIME_MODES)."""
    if mode == "short-local":
        return time.strftime("%H:%M:%S", time.localtime(when)) + f".{int(1000 * (when % 1)):03d}"
    if mode == "long-local":
        lt = time.localtime(when)
        frac = f".{int(1000000 * (when % 1)):06d}"
        return time.strftime("%Y-%m-%d_%H:%M:%S", lt) + frac + time.strftime("%z", lt)
    if mode == "utc":
        frac = f".{int(1000000 * (when % 1)):06d}"
        return time.strftime("%Y-%m-%d_%H:%M:%S", time.gmtime(when)) + frac + "Z"
    if mode == "epoch":
        return f"{when:.03f}"
    raise ValueError(f"unknown time format {mode!r} (one of {', '.join(FORMAT_TIME_MODES)})")


def resolve_target(target: str) -> str:
    """The logport FURL that ``target`` names (see the module docstring)."""
    if target.startswith("pb:"):
        return target
    path = os.path.join(target, "logport.furl") if os.path.isdir(target) else target
    try:
        with open(path, encoding="utf-8") as f:
            furl = f.read(64 * 1024).strip()
    except (OSError, UnicodeDecodeError) as e:
        raise TargetError(f"can't use tail target {target!r}: {e}") from None
    if not furl.startswith("pb:"):
        raise TargetError(f"can't use tail target {target!r}: {path} holds no FURL")
    return furl


class TailPrinter:
    """Prints (and optionally saves) the events a LogFollower delivers."""

    def __init__(
        self,
        output: IO[str],
        *,
        verbose: bool = False,
        timestamps: str = "short-local",
        min_level: int | None = None,
        save_to: str | None = None,
    ) -> None:
        self.output = output
        self.verbose = verbose
        self.timestamps = timestamps
        self.min_level = min_level
        self.save_to = save_to
        self._saver: FlogWriter | None = None

    def connected(self, pid: int | None, versions: dict[str, str]) -> None:
        """Print what ``flogtool tail`` prints on connecting; start the save file."""
        if pid is None:
            print("Connected (unable to get pid)", file=self.output)
        else:
            print(f"Connected (to pid {pid})", file=self.output)
        print("Remote Versions:", file=self.output)
        for k in sorted(versions):
            print(f" {k}: {versions[k]}", file=self.output)
        self.output.flush()
        if self.save_to:
            self._saver = FlogWriter(self.save_to, "tail", versions=versions, pid=pid)

    def __call__(self, tubid: str, event: dict[str, Any]) -> None:
        """One event: save it, and print it if it passes the level filter."""
        if self._saver is not None:
            self._saver.write_event(event, from_=tubid[:8], rx_time=time.time())
            self._saver.flush()
        level = event.get("level", OPERATIONAL)
        if self.min_level is not None and isinstance(level, int) and level < self.min_level:
            return
        print(self.format(event), file=self.output, flush=True)

    def format(self, event: dict[str, Any]) -> str:
        """The text for one event (Foolscap's layout)."""
        if self.verbose:
            return str(event)
        when = event.get("time")
        time_s = format_time(when, self.timestamps) if isinstance(when, int | float) else "?"
        level = event.get("level", OPERATIONAL)
        line = f"{time_s} L{level} []#{event.get('num', '?')} {format_message(event)}"
        if "failure" in event:
            line += "\n FAILURE:" + "".join(f"\n {x}" for x in str(event["failure"]).split("\n"))
        return line

    def close(self) -> None:
        """Finish the save file."""
        if self._saver is not None:
            self._saver.close()
            self._saver = None


def _level(text: str) -> int:
    try:
        return level_from_name(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def add_parser(subparsers: Any) -> None:
    """Add ``tail`` to the ``octavo-log`` command line."""
    p = subparsers.add_parser(
        "tail",
        help="follow a Tub's log events live",
        description="Print the log events of the Tub whose logport TARGET names "
        "(a FURL, a file holding one, or a directory with logport.furl).",
    )
    p.add_argument("target", help="logport FURL, FURL file, or directory with logport.furl")
    p.add_argument("-v", "--verbose", action="store_true", help="show all event arguments")
    p.add_argument("-c", "--catch-up", action="store_true", help="catch up with recent events")
    p.add_argument("-s", "--save-to", metavar="FILE", help="also save events to this flogfile")
    p.add_argument(
        "-t", "--timestamps", choices=FORMAT_TIME_MODES, default="short-local",
        help="format of timestamps (default: short-local)",
    )  # fmt: skip
    p.add_argument(
        "-l", "--level", type=_level, default=None, metavar="LEVEL",
        help="show only events at or above LEVEL (a name like UNUSUAL, or a number)",
    )  # fmt: skip
    p.set_defaults(func=run)


async def follow(tub: Any, furl: str, printer: TailPrinter, catch_up: bool) -> LogFollower:
    """Connect ``printer`` to the logport at ``furl``; returns the running follower."""
    follower = LogFollower(tub, furl, printer, catch_up=catch_up, on_connected=printer.connected)
    print("Connecting..", file=printer.output)
    await follower.start()
    return follower


def run(args: argparse.Namespace, output: IO[str] | None = None) -> int:
    """Run ``tail`` until the logport goes away (or Ctrl-C); returns the exit status."""
    from twisted.internet import reactor as global_reactor  # noqa: PLC0415 - only the command runs a reactor

    reactor: Any = global_reactor

    from octavo.tub import Tub  # noqa: PLC0415

    out = output or sys.stdout
    try:
        furl = resolve_target(args.target)
    except TargetError as e:
        print(f"octavo-log tail: {e}", file=sys.stderr)
        return 1
    printer = TailPrinter(
        out,
        verbose=args.verbose,
        timestamps=args.timestamps,
        min_level=args.level,
        save_to=args.save_to,
    )
    status = [0]
    tub = Tub()
    tub.startService()

    async def main() -> None:
        try:
            follower = await follow(tub, furl, printer, args.catch_up)
            await follower.when_disconnected()
            print("Disconnected", file=out)
        except Exception as e:
            print(f"octavo-log tail: {e}", file=sys.stderr)
            status[0] = 1
        finally:
            printer.close()
            await tub.stopService()
            if reactor.running:
                reactor.stop()

    reactor.callWhenRunning(lambda: Deferred.fromCoroutine(main()))
    reactor.run()
    return status[0]
