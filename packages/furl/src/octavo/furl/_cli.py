"""The ``octavo-furl`` command: ``octavo-furl parse FURL [--json] [--strict]``."""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Sequence
from typing import TextIO

from ._errors import BadFURLError
from ._furl import FURL, parse_furl
from ._hints import I2PHint, LocationHint, TCPHint, TorHint, UnknownHint

__all__ = ["main"]


def hint_to_dict(hint: LocationHint) -> dict[str, object]:
    """A JSON-ready description of one hint."""
    if isinstance(hint, TCPHint):
        return {
            "type": "tcp",
            "text": hint.text,
            "host": hint.host,
            "port": hint.port,
            "ipv6": hint.is_ipv6,
            "legacy": hint.legacy,
        }
    if isinstance(hint, TorHint):
        return {"type": "tor", "text": hint.text, "host": hint.host, "port": hint.port}
    if isinstance(hint, I2PHint):
        return {"type": "i2p", "text": hint.text, "address": hint.address, "port": hint.port}
    if isinstance(hint, UnknownHint):
        return {"type": hint.hint_type, "text": hint.text, "known": False, "body": hint.body}
    return {"type": None, "text": hint.text, "invalid": hint.reason}


def furl_to_dict(furl: FURL) -> dict[str, object]:
    """A JSON-ready description of a FURL."""
    return {
        "furl": str(furl),
        "tubid": furl.tubid,
        "tubid_extension": furl.tubid_extension,
        "hints": [hint_to_dict(h) for h in furl.hints],
        "name": furl.name,
    }


def _describe(hint: LocationHint) -> str:
    if isinstance(hint, TCPHint):
        host = f"[{hint.host}]" if hint.is_ipv6 else hint.host
        family = "IPv6" if hint.is_ipv6 else "host"
        note = " (legacy HOST:PORT form)" if hint.legacy else ""
        return f"tcp  {family} {host} port {hint.port}{note}"
    if isinstance(hint, TorHint):
        return f"tor  host {hint.host} port {hint.port}"
    if isinstance(hint, I2PHint):
        port = "default port" if hint.port is None else f"port {hint.port}"
        return f"i2p  address {hint.address} {port}"
    if isinstance(hint, UnknownHint):
        return f"unknown hint type {hint.hint_type!r}: {hint.text}"
    return f"unusable: {hint.reason}"


def _print_text(furl: FURL, out: TextIO) -> None:
    out.write(f"tubid:  {furl.tubid}\n")
    if furl.tubid_extension:
        out.write(f"tubid extension: {furl.tubid_extension}\n")
    if not furl.hints:
        out.write("hints:  (none: reachable only through an existing connection)\n")
    for i, hint in enumerate(furl.hints):
        label = "hints:" if i == 0 else ""
        out.write(f"{label:<7} {i + 1}. {_describe(hint)}\n")
    out.write(f"name:   {furl.name}\n")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="octavo-furl", description="Parse and check Foolscap FURLs."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    parse = commands.add_parser("parse", help="print the parts of a FURL")
    parse.add_argument("furl", help="pb://TUBID@HINT,HINT/NAME")
    parse.add_argument("--json", action="store_true", help="print one JSON object")
    parse.add_argument(
        "--strict", action="store_true", help="treat a hint no handler can use as an error"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return the exit status (2 for a bad FURL)."""
    for stream in (sys.stdout, sys.stderr):
        # Command-line text that is not valid UTF-8 arrives as lone surrogates; show
        # them escaped rather than failing to print them.
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    args = _parser().parse_args(argv)
    try:
        furl = parse_furl(args.furl, strict=args.strict)
    except BadFURLError as e:
        sys.stderr.write(f"octavo-furl: bad FURL: {e}\n")
        return 2
    if args.json:
        sys.stdout.write(json.dumps(furl_to_dict(furl), indent=2, ensure_ascii=False) + "\n")
    else:
        _print_text(furl, sys.stdout)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
