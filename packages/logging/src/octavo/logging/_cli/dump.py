"""``octavo-log dump FILE``: a flogfile as text, in ``flogtool dump``'s layout, or JSON."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from octavo.logging._events import FORMAT_TIME_MODES, format_message, format_time

from ._common import add_progress_option, read_records

__all__ = ["EventPrinter", "add_parser", "run"]


def add_parser(subparsers: Any) -> None:
    """Add ``dump``."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "dump",
        help="show the events of a flogfile",
        description="Show the events of a flogfile (.flog or .flog.bz2) as flogtool dump does.",
    )
    p.add_argument("dumpfile", metavar="FILE", help="the flogfile")
    p.add_argument(
        "-t",
        "--timestamps",
        choices=FORMAT_TIME_MODES,
        default="short-local",
        help="format for timestamps (default: short-local)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="show all event arguments")
    p.add_argument("-n", "--just-numbers", action="store_true", help="show only event numbers")
    p.add_argument(
        "-r", "--rx-time", action="store_true", help="show receipt time as well as emit time"
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print each record (the header first) as one JSON line, for jq",
    )
    add_progress_option(p)
    p.set_defaults(func=run)


def _num(d: dict[str, Any]) -> str:
    num = d.get("num")
    return str(num) if isinstance(num, int) else repr(num)


class EventPrinter:
    """Prints records as ``flogtool dump`` does; remembers an incident's trigger."""

    def __init__(
        self,
        out: TextIO,
        timestamps: str = "short-local",
        verbose: bool = False,
        just_numbers: bool = False,
        rx_time: bool = False,
    ) -> None:
        self.out = out
        self.timestamps = timestamps
        self.verbose = verbose
        self.just_numbers = just_numbers
        self.rx_time = rx_time
        self.trigger: tuple[Any, Any] | None = None

    def record(self, r: dict[str, Any]) -> None:
        """Print one record (a header or an event wrapper)."""
        if "header" in r:
            self.header(r)
        if "d" in r:
            self.event(r)

    def header(self, r: dict[str, Any]) -> None:
        """The header: versions and pid (or the whole record with --verbose)."""
        h = r["header"]
        trigger = h.get("trigger")
        if h.get("type") == "incident" and isinstance(trigger, dict):
            self.trigger = (trigger.get("incarnation"), trigger.get("num"))
        if self.verbose:
            print(str(r), file=self.out)
        if self.just_numbers or self.verbose:
            return
        versions = h.get("versions")
        if isinstance(versions, dict):
            print("Application versions (embedded in logfile):", file=self.out)
            width = max([len(str(name)) for name in versions] + [0])
            for name in sorted(versions, key=str):
                print(f"{name!s:>{width}}: {versions[name]}", file=self.out)
        if "pid" in h:
            print(f"PID: {h['pid']}", file=self.out)
        print("", file=self.out)

    def _time(self, when: object) -> str:
        if isinstance(when, int | float):
            return format_time(when, self.timestamps)
        return f"(no time: {when!r})"

    def event(self, r: dict[str, Any]) -> None:
        """One event: ``TUBID#NUM TIME: TEXT``, then its failure if it has one."""
        d = r["d"]
        when = self._time(d.get("time"))
        if self.just_numbers:
            print(when, _num(d), file=self.out)
            return
        line = f"{str(r.get('from', ''))[:8]}#{_num(d)} "
        if self.rx_time:
            line += f"rx({self._time(r.get('rx_time'))}) emit({when})"
        else:
            line += when
        line += f": {format_message(d)}"
        if self.verbose:
            line += f": {d!r}"
        if self.trigger is not None and (d.get("incarnation"), d.get("num")) == self.trigger:
            line += " [INCIDENT-TRIGGER]"
        print(line, file=self.out)
        if "failure" in d:
            f = d["failure"]
            text = f.get("str", f) if isinstance(f, dict) else f
            print(" FAILURE:", file=self.out)
            for part in str(text).split("\n"):
                print(f" {part}", file=self.out)


def run(args: argparse.Namespace) -> int:
    """Dump ``args.dumpfile`` to stdout."""
    out = sys.stdout
    records = read_records(args.dumpfile, args.progress)
    if args.json:
        for r in records:
            print(json.dumps(r), file=out)
        return 0
    printer = EventPrinter(out, args.timestamps, args.verbose, args.just_numbers, args.rx_time)
    for r in records:
        printer.record(r)
    return 0
