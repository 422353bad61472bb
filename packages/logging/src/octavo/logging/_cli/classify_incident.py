"""``octavo-log classify-incident FILE...``: the categories of incident files."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from octavo.logging._events import format_message
from octavo.logging._flogfile import FlogFileError, FlogLineError
from octavo.logging._incidents import IncidentClassifier, IncidentClassifierError

from ._common import CLIError

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> None:
    """Add ``classify-incident``."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "classify-incident",
        help="sort incident files into categories",
        description=(
            "Print FILE: CATEGORIES for each incident file, using the classify_incident() "
            "function of each classify_*.py in the classifier directory (Python code you "
            "trust: it is run)."
        ),
    )
    p.add_argument("files", metavar="FILE", nargs="+", help="incident files (.flog.bz2)")
    p.add_argument(
        "-c",
        "--classifier-directory",
        default=".",
        metavar="DIR",
        help="directory with classify_*.py files (default: .)",
    )
    p.add_argument(
        "-v", "--verbose", action="store_true", help="show the trigger of unclassified incidents"
    )
    p.set_defaults(func=run)


def _warn_line(err: FlogLineError) -> None:
    print(f"octavo-log: warning: {err}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    """Classify each file of ``args.files``."""
    out = sys.stdout
    classifier = IncidentClassifier()
    try:
        classifier.add_classify_files(args.classifier_directory)
        for f in args.files:
            try:
                incident = classifier.load_incident(f, _warn_line)
            except FlogFileError as e:
                raise CLIError(str(e)) from None
            except OSError as e:
                raise CLIError(f"cannot read {f}: {e.strerror or e}") from None
            categories = classifier.classify_incident(incident)
            print(f"{f}: {','.join(sorted(categories))}", file=out)
            if categories == {"unknown"} and args.verbose:
                trigger = incident[0]["trigger"]
                print(format_message(trigger), file=out)
                print(json.dumps(trigger), file=out)
                if "failure" in trigger:
                    print(" FAILURE:", file=out)
                    for line in str(trigger["failure"]).split("\n"):
                        print(f" {line}", file=out)
                print("", file=out)
    except IncidentClassifierError as e:
        raise CLIError(str(e)) from None
    return 0
