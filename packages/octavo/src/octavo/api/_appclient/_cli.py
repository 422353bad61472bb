"""``octavo-client [--furl F | --furlfile FILE] (upload-file FILES... | run-command)``."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence
from typing import Any

from twisted.internet import defer, task

from octavo.tub import RemoteException, Tub

from ._command import run_command
from ._furl import ClientUsageError, choose_furl
from ._upload import upload_files


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="octavo-client",
        description="Use a service of an octavo-server or a Foolscap flappserver.",
    )
    p.add_argument("--furl", help="FURL of the service")
    p.add_argument("--furlfile", "-f", help="file holding the FURL (a pb:// line)")
    sub = p.add_subparsers(dest="command", required=True)
    u = sub.add_parser("upload-file", help="upload files to an upload-file service")
    u.add_argument(
        "--keep-paths",
        action="store_true",
        help="send relative paths as given (the service needs --allow-subdirectories)",
    )
    u.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    u.add_argument("files", nargs="+")
    r = sub.add_parser("run-command", help="run a run-command service's command")
    r.add_argument("--stdin", action="store_true", help="send our stdin to the command")
    return p


def _describe(error: BaseException) -> str:
    """One line for an error, a remote one as ``Type: message`` of the far side."""
    copied = error.args[0] if isinstance(error, RemoteException) and error.args else error
    type_name = getattr(copied, "type_name", None)
    if isinstance(type_name, str):
        lines = str(getattr(copied, "value", "")).strip().splitlines()
        return f"{type_name.rsplit('.', 1)[-1]}: {lines[-1] if lines else ''}".rstrip(": ")
    lines = str(error).strip().splitlines()
    return lines[-1] if lines else type(error).__name__


async def _session(reactor: Any, ns: argparse.Namespace, furl: str) -> int:
    tub = Tub()
    tub.startService()
    try:
        rref = await tub.getReference(furl)
        if ns.command == "upload-file":
            return await upload_files(
                rref,
                ns.files,
                sys.stdout,
                sys.stderr,
                keep_paths=ns.keep_paths,
                progress=False if ns.no_progress else None,
            )
        stdin = sys.stdin.buffer if ns.stdin else None
        return await run_command(rref, sys.stdout.buffer, sys.stderr.buffer, stdin, reactor)
    finally:
        await tub.stopService()


def run(argv: Sequence[str]) -> int:
    """Run one octavo-client command with the reactor; the exit code."""
    ns = _parser().parse_args(list(argv))
    try:
        furl = choose_furl(ns.furl, ns.furlfile)
    except ClientUsageError as e:
        print(f"octavo-client: error: {e}", file=sys.stderr)
        return 1
    codes: list[int] = []

    async def main(reactor: Any) -> None:
        try:
            codes.append(await _session(reactor, ns, furl))
        except Exception as e:
            print(f"octavo-client: error: {_describe(e)}", file=sys.stderr)
            codes.append(1)

    def go(reactor: Any) -> defer.Deferred[None]:
        return defer.ensureDeferred(main(reactor))

    with contextlib.suppress(SystemExit):
        task.react(go)
    return codes[0] if codes else 1


def main() -> None:
    """The ``octavo-client`` console script."""
    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
