"""``octavo-log filter IN [OUT]``: copy the events of a flogfile that pass the options."""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from octavo.logging._flogfile import FlogWriter
from octavo.logging._levels import level_from_name

from ._common import CLIError, add_progress_option, read_records

__all__ = ["EventFilter", "add_parser", "run"]


def _level(text: str) -> int:
    try:
        return level_from_name(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def add_parser(subparsers: Any) -> None:
    """Add ``filter``."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "filter",
        help="copy the events of a flogfile that match",
        description=(
            "Copy the header and the matching events of OLDFILE into NEWFILE (.bz2: "
            "compressed), as flogtool filter does; without NEWFILE, OLDFILE is rewritten."
        ),
    )
    p.add_argument("oldfile", metavar="OLDFILE")
    p.add_argument("newfile", metavar="NEWFILE", nargs="?")
    p.add_argument("--after", type=float, help="only events after this time (epoch seconds)")
    p.add_argument("--before", type=float, help="only events before this time (epoch seconds)")
    p.add_argument(
        "--above",
        type=_level,
        metavar="LEVEL",
        help="only events at LEVEL (number or name) or above",
    )
    p.add_argument(
        "--from", dest="from_", metavar="TUBID", help="only events from this tubid prefix"
    )
    p.add_argument("--facility", metavar="PREFIX", help="only events whose facility starts so")
    p.add_argument(
        "--strip-facility", metavar="PREFIX", help="drop events whose facility starts so"
    )
    p.add_argument("-v", "--verbose", action="store_true", help="print each event number read")
    add_progress_option(p)
    p.set_defaults(func=run)


class EventFilter:
    """The test ``flogtool filter`` applies to each event record."""

    def __init__(
        self,
        *,
        after: float | None = None,
        before: float | None = None,
        above: int | None = None,
        from_: str | None = None,
        facility: str | None = None,
        strip_facility: str | None = None,
    ) -> None:
        self.after = after
        self.before = before
        self.above = above
        self.from_ = from_
        self.facility = facility
        self.strip_facility = strip_facility

    def keep(self, r: dict[str, Any]) -> bool:
        """True if the record is a header or an event that passes every option."""
        if "d" not in r:
            return True
        d = r["d"]
        when = d.get("time")
        if self.before is not None and (not _number(when) or when >= self.before):
            return False
        if self.after is not None and (not _number(when) or when <= self.after):
            return False
        level = d.get("level")
        if self.above is not None and (not _number(level) or level < self.above):
            return False
        if self.from_ is not None and not str(r.get("from", "")).startswith(self.from_):
            return False
        facility = d.get("facility")
        facility = facility if isinstance(facility, str) else ""
        if self.facility is not None and not facility.startswith(self.facility):
            return False
        return not (self.strip_facility is not None and facility.startswith(self.strip_facility))


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def run(args: argparse.Namespace) -> int:
    """Filter ``args.oldfile`` into ``args.newfile`` (written whole, then moved in place)."""
    out = sys.stdout
    newfile = args.newfile or args.oldfile
    if newfile == args.oldfile:
        print("modifying event file in place", file=out)
    if args.after is not None:
        print(f" --after: removing events before {time.ctime(args.after)}", file=out)
    if args.before is not None:
        print(f" --before: removing events after {time.ctime(args.before)}", file=out)
    if args.above is not None:
        print(f" --above: removing events below level {args.above}", file=out)
    if args.from_ is not None:
        print(f" --from: retaining events only from tubid prefix {args.from_}", file=out)
    if args.facility is not None:
        print(f" --facility: retaining events only for {args.facility} and children", file=out)
    if args.strip_facility is not None:
        print(f"--strip-facility: removing events for {args.strip_facility} and children", file=out)
    test = EventFilter(
        after=args.after,
        before=args.before,
        above=args.above,
        from_=args.from_,
        facility=args.facility,
        strip_facility=args.strip_facility,
    )
    tmp = newfile + ".tmp"
    try:
        writer = FlogWriter(tmp, None, compress=newfile.endswith(".bz2"))
    except OSError as e:
        raise CLIError(f"cannot write {newfile}: {e.strerror or e}") from None
    total = copied = 0
    try:
        with writer:
            for r in read_records(args.oldfile, args.progress):
                if args.verbose:
                    print(str(r["d"].get("num")) if "d" in r else "HEADER", file=out)
                total += 1
                if test.keep(r):
                    copied += 1
                    writer.write_record(r)
        os.replace(tmp, newfile)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    print(f"copied {copied} of {total} events into new file", file=out)
    return 0
