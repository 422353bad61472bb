"""Reading a flogfile that keeps growing: each call returns the records of its new lines."""

from __future__ import annotations

import json
import os
from typing import IO, Any

from octavo.logging._flogfile import MAGIC, FlogFileError, open_flogfile

__all__ = ["MAGIC", "FlogTail", "TailError"]
#: The longest line taken; longer ones are skipped and counted.
MAX_LINE = 4 * 1024 * 1024


class TailError(Exception):
    """The followed file is not a plain flogfile (or is gone); the message says which."""


class FlogTail:
    """The complete JSON lines added to the flogfile at *path* since the last read.

    Lines that are not JSON objects, or longer than MAX_LINE, are skipped and counted in
    ``skipped``. A file that shrinks or is replaced is read again from its start.
    """

    def __init__(self, path: str, max_line: int = MAX_LINE) -> None:
        if path.endswith(".bz2"):
            raise TailError(f"{path}: a .bz2 flogfile cannot be followed as it grows")
        self.path = path
        self.max_line = max_line
        self.skipped = 0
        self._file: IO[bytes] | None = None
        self._buffer = b""
        self._discarding = False
        self._offset = 0

    def _open(self) -> IO[bytes]:
        try:
            handle = open_flogfile(self.path)
        except FlogFileError as exc:
            raise TailError(str(exc)) from None
        except OSError as exc:
            raise TailError(f"{self.path}: {exc.strerror or exc}") from None
        self._offset = len(MAGIC)
        return handle

    def _replaced(self, handle: IO[bytes]) -> bool:
        """True when the path now names another file, or this one shrank."""
        try:
            now = os.stat(self.path)
        except OSError as exc:
            raise TailError(f"{self.path}: {exc.strerror or exc}") from None
        return now.st_ino != os.fstat(handle.fileno()).st_ino or now.st_size < self._offset

    def read(self) -> list[dict[str, Any]]:
        """The records of the complete lines written since the last call."""
        if self._file is not None and self._replaced(self._file):
            self.close()
            self._buffer, self._discarding = b"", False
        if self._file is None:
            self._file = self._open()
        chunk = self._file.read()
        self._offset += len(chunk)
        return self._records(chunk)

    def _records(self, chunk: bytes) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        data = self._buffer + chunk
        lines = data.split(b"\n")
        self._buffer = lines.pop()
        for line in lines:
            if self._discarding:
                self._discarding = False
                continue
            if len(line) > self.max_line:
                self.skipped += 1
                continue
            self._take(line, records)
        if len(self._buffer) > self.max_line:
            if not self._discarding:
                self.skipped += 1
            self._buffer, self._discarding = b"", True
        return records

    def _take(self, line: bytes, records: list[dict[str, Any]]) -> None:
        if not line.strip():
            return
        try:
            record = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            self.skipped += 1
            return
        if isinstance(record, dict):
            records.append(record)
        else:
            self.skipped += 1

    def close(self) -> None:
        """Close the file (a later read opens it again)."""
        if self._file is not None:
            self._file.close()
            self._file = None
