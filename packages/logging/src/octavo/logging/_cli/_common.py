"""What the file commands share: errors, reading with a progress bar, warnings."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from typing import Any, TextIO

from tqdm import tqdm  # type: ignore[import-untyped,unused-ignore]

from octavo.logging._flogfile import (
    FlogFileError,
    FlogLineError,
    FurlFileError,
    PickleFlogFileError,
    read_flogfile,
)

__all__ = ["CLIError", "add_progress_option", "read_records"]


class CLIError(Exception):
    """Bad input to a command: printed as one line, exit status 1."""


def add_progress_option(parser: argparse.ArgumentParser) -> None:
    """``--progress``: show the progress bar even when stderr is not a terminal."""
    parser.add_argument(
        "--progress",
        action="store_true",
        help="show a progress bar on stderr (shown anyway when stderr is a terminal)",
    )


def _warn_line(err: FlogLineError) -> None:
    print(f"octavo-log: warning: {err}", file=sys.stderr)


def read_records(
    path: str, progress: bool = False, stderr: TextIO | None = None
) -> Iterator[dict[str, Any]]:
    """The records of ``path``; a bad line is a warning on stderr, a bad file a CLIError.

    A progress bar of the bytes read goes to stderr when it is a terminal or when
    ``progress`` is true.
    """
    err = sys.stderr if stderr is None else stderr
    try:
        size = os.stat(path).st_size
    except OSError as e:
        raise CLIError(f"cannot read {path}: {e.strerror or e}") from None
    show = progress or err.isatty()
    bar = tqdm(
        total=size,
        unit="B",
        unit_scale=True,
        desc=os.path.basename(path),
        file=err,
        disable=not show,
        leave=False,
    )
    try:
        yield from read_flogfile(path, _warn_line, bar.update)
    except PickleFlogFileError:
        raise CLIError(
            f"{path} is an old pickle-based flogfile, which cannot be loaded safely"
        ) from None
    except FurlFileError:
        raise CLIError(f"{path} holds a FURL: did you mean 'octavo-log tail'?") from None
    except FlogFileError as e:
        raise CLIError(str(e)) from None
    except OSError as e:
        raise CLIError(f"cannot read {path}: {e.strerror or e}") from None
    finally:
        bar.close()
