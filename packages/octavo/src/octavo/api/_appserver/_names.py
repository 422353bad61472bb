"""Where an uploaded file goes: names checked, folders opened without following links."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import Any

from ._errors import BadFilenameError, BadRequestError

MAX_NAME_LENGTH = 4096
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)


def split_name(name: Any, allow_subdirectories: bool) -> list[str]:
    """The path components of an upload name, or a refusal naming what is wrong.

    Foolscap's flappclient sends the name as UTF-8 bytes; a str is taken too.
    """
    if isinstance(name, bytes):
        try:
            name = name.decode("utf-8")
        except UnicodeDecodeError:
            raise BadFilenameError("file name is not UTF-8") from None
    if not isinstance(name, str):
        raise BadRequestError(f"a file name must be bytes or str, not {type(name).__name__}")
    if len(name) > MAX_NAME_LENGTH:
        raise BadFilenameError(f"file name longer than {MAX_NAME_LENGTH} characters")
    shown = name if len(name) <= 80 else name[:77] + "..."
    if not name:
        raise BadFilenameError("empty file name")
    if "\x00" in name or "\\" in name:
        raise BadFilenameError(f"file name with a NUL or backslash: {shown!r}")
    if name.startswith("/"):
        raise BadFilenameError(f"absolute file name refused: {shown!r}")
    parts = name.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise BadFilenameError(f"file name with an empty, '.' or '..' part: {shown!r}")
    if len(parts) > 1 and not allow_subdirectories:
        raise BadFilenameError(f"subdirectories are not allowed here: {shown!r}")
    return parts


@dataclass
class Destination:
    """An open folder inside the target directory and the file name to write in it."""

    dir_fd: int
    name: str

    def close(self) -> None:
        os.close(self.dir_fd)


def open_destination(targetdir: str, parts: list[str]) -> Destination:
    """Open (making them as needed) the folders of ``parts`` under ``targetdir``.

    Each folder is opened relative to its parent with O_NOFOLLOW, so a symbolic link
    planted inside the target directory cannot lead a write outside it.
    """
    fd = os.open(targetdir, _DIR_FLAGS)
    try:
        for part in parts[:-1]:
            with contextlib.suppress(FileExistsError):
                os.mkdir(part, 0o755, dir_fd=fd)
            try:
                child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except OSError:
                raise BadFilenameError(f"'{part}' is not a folder inside the target") from None
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return Destination(fd, parts[-1])
