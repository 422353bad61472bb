"""The arguments of each service type, as ``add`` takes them and services.json keeps them.

The flags and positional arguments are Foolscap 24.9's (``flappserver add BASEDIR
upload-file [--mode M] TARGETDIR``, ``run-command [flags] TARGETDIR COMMAND..``); the
Octavo additions are ``upload-file --allow-subdirectories`` (which Foolscap refuses),
``upload-file --max-size BYTES`` and ``run-command --single-instance``.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from typing import NoReturn

from ._errors import ServiceArgumentsError, UnknownServiceTypeError


@dataclass(frozen=True)
class UploadOptions:
    """How an upload-file service writes: where, with which mode, how big at most."""

    targetdir: str
    mode: int = 0o644
    allow_subdirectories: bool = False
    max_size: int | None = None


@dataclass(frozen=True)
class CommandOptions:
    """What a run-command service runs, where, and what it shares with the client."""

    targetdir: str
    command: tuple[str, ...]
    accept_stdin: bool = False
    send_stdout: bool = True
    send_stderr: bool = True
    log_stdin: bool = False
    log_stdout: bool = False
    log_stderr: bool = True
    single_instance: bool = False


ServiceOptions = UploadOptions | CommandOptions

SERVICE_TYPES = ("run-command", "upload-file")


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that raises ServiceArgumentsError instead of exiting."""

    def error(self, message: str) -> NoReturn:
        raise ServiceArgumentsError(f"{self.prog}: {message}")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise ServiceArgumentsError(f"{self.prog}: {message or 'stopped'}".strip())


def _mode(text: str) -> int:
    """Foolscap's reading of --mode: octal with a leading 0, decimal otherwise."""
    try:
        value = int(text, 8) if text.startswith("0") else int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a file mode: {text!r}") from None
    if not 0 <= value <= 0o7777:
        raise argparse.ArgumentTypeError(f"file mode out of range: {text!r}")
    return value


def _size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of bytes: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"a size cannot be negative: {text!r}")
    return value


def _upload_parser() -> _Parser:
    p = _Parser(prog="upload-file", add_help=False, allow_abbrev=False)
    p.add_argument("--allow-subdirectories", action="store_true")
    p.add_argument("--mode", type=_mode, default=0o644)
    p.add_argument("--max-size", type=_size, default=None)
    p.add_argument("targetdir")
    return p


def _command_parser() -> _Parser:
    p = _Parser(prog="run-command", add_help=False, allow_abbrev=False)
    for name, dest, value in [
        ("--accept-stdin", "accept_stdin", True),
        ("--no-stdin", "accept_stdin", False),
        ("--log-stdin", "log_stdin", True),
        ("--no-log-stdin", "log_stdin", False),
        ("--send-stdout", "send_stdout", True),
        ("--no-stdout", "send_stdout", False),
        ("--log-stdout", "log_stdout", True),
        ("--no-log-stdout", "log_stdout", False),
        ("--send-stderr", "send_stderr", True),
        ("--no-stderr", "send_stderr", False),
        ("--log-stderr", "log_stderr", True),
        ("--no-log-stderr", "log_stderr", False),
    ]:
        p.add_argument(name, dest=dest, action="store_const", const=value)
    p.add_argument("--single-instance", action="store_true")
    p.add_argument("targetdir")
    p.add_argument("command", nargs=argparse.REMAINDER)
    return p


def parse_service_args(service_type: str, args: list[str]) -> ServiceOptions:
    """The options of ``service_type`` given ``args``; ServiceArgumentsError if wrong."""
    if service_type == "upload-file":
        ns = _upload_parser().parse_args(args)
        return UploadOptions(
            targetdir=ns.targetdir,
            mode=ns.mode,
            allow_subdirectories=ns.allow_subdirectories,
            max_size=ns.max_size,
        )
    if service_type == "run-command":
        ns = _command_parser().parse_args(args)
        if not ns.command:
            raise ServiceArgumentsError("run-command: a COMMAND is required after TARGETDIR")
        defaults = CommandOptions(targetdir="", command=())
        flags = {
            k: (defaults.__dict__[k] if getattr(ns, k) is None else getattr(ns, k))
            for k in (
                "accept_stdin",
                "send_stdout",
                "send_stderr",
                "log_stdin",
                "log_stdout",
                "log_stderr",
            )
        }
        return CommandOptions(
            targetdir=ns.targetdir,
            command=tuple(ns.command),
            single_instance=ns.single_instance,
            **flags,
        )
    raise UnknownServiceTypeError(
        f"unknown service type {service_type!r} (known: {', '.join(SERVICE_TYPES)})"
    )


def check_for_add(options: ServiceOptions) -> None:
    """Refuse, at ``add`` time, a target directory that does not exist or is not usable."""
    target = options.targetdir
    if not os.path.isdir(target):
        raise ServiceArgumentsError(f"targetdir '{target}' must already exist")
    if isinstance(options, UploadOptions) and not os.access(target, os.W_OK):
        raise ServiceArgumentsError(f"targetdir '{target}' must be writeable")


def absolute_targetdir(service_type: str, args: list[str]) -> list[str]:
    """``args`` with TARGETDIR made absolute, so that it means the same to the daemon."""
    options = parse_service_args(service_type, args)
    absolute = os.path.abspath(options.targetdir)
    out = list(args)
    # TARGETDIR is the first positional argument: the first word not starting with "-".
    for i, word in enumerate(out):
        if not word.startswith("-") and not (i > 0 and out[i - 1] in ("--mode", "--max-size")):
            out[i] = absolute
            break
    return out
