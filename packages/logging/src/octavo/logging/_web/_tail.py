"""Reading a flogfile that keeps growing: each call returns the records of its new lines.

A ``.bz2`` flogfile (or one that starts as bzip2 does) is followed too: its new
compressed bytes go through an incremental decompressor (one stream after another, as
``bzip2`` and ``cat`` make them). A bzip2 writer only puts out whole blocks (about
900 kB of log each) and the end of the stream at close, so such a file's new events
show in bursts, or once it is closed. At most ``max_read`` decompressed bytes are taken
per read, so a small file that expands hugely is read a piece at a time.
"""

from __future__ import annotations

import bz2
import json
import os
from typing import IO, Any

from octavo.logging._flogfile import MAGIC, FlogFileError, check_magic, is_bz2, open_flogfile

__all__ = ["MAGIC", "FlogTail", "TailError"]
#: The longest line taken; longer ones are skipped and counted.
MAX_LINE = 4 * 1024 * 1024
#: The most decompressed bytes one read of a compressed file gives.
MAX_READ = 16 * 1024 * 1024
#: Compressed bytes read from the file at a time.
RAW_CHUNK = 1024 * 1024


class _Bz2Stream:
    """Incremental bzip2 decompression of concatenated streams, output bounded per call."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._decompressor = bz2.BZ2Decompressor()
        #: why the data cannot be decompressed (then every later call says so)
        self.error: str | None = None

    @property
    def needs_input(self) -> bool:
        return self._decompressor.needs_input

    def decompress(self, data: bytes, limit: int) -> bytes:
        """Up to *limit* bytes of output for *data* (and what earlier input still holds)."""
        if self.error is not None:
            raise TailError(self.error)
        out = []
        size = 0
        while size < limit:
            try:
                piece = self._decompressor.decompress(data, limit - size)
            except (OSError, EOFError) as exc:
                self.error = f"{self.path}: corrupt bzip2 data: {exc}"
                raise TailError(self.error) from None
            data = b""
            out.append(piece)
            size += len(piece)
            if not self._decompressor.eof:
                if self._decompressor.needs_input or not piece:
                    break
                continue
            rest = self._decompressor.unused_data
            self._decompressor = bz2.BZ2Decompressor()
            if not rest:
                break
            data = rest
        return b"".join(out)


class TailError(Exception):
    """The followed file is not a plain flogfile (or is gone); the message says which."""


class FlogTail:
    """The complete JSON lines added to the flogfile at *path* since the last read.

    Lines that are not JSON objects, or longer than MAX_LINE, are skipped and counted in
    ``skipped``. A file that shrinks or is replaced is read again from its start.
    """

    def __init__(self, path: str, max_line: int = MAX_LINE, max_read: int = MAX_READ) -> None:
        self.path = path
        self.max_line = max_line
        self.max_read = max_read
        self.skipped = 0
        self._file: IO[bytes] | None = None
        self._bz2: _Bz2Stream | None = None
        #: a compressed file's first bytes until the magic line is whole (None: checked)
        self._head: bytes | None = b""
        self._buffer = b""
        self._discarding = False
        self._offset = 0

    def _open(self) -> IO[bytes]:
        try:
            raw = open(self.path, "rb")  # noqa: SIM115 - closed by close()
        except OSError as exc:
            raise TailError(f"{self.path}: {exc.strerror or exc}") from None
        try:
            head = raw.read(10)
            raw.seek(0)
            if is_bz2(self.path, head):
                self._bz2, self._head, self._offset = _Bz2Stream(self.path), b"", 0
                return raw
            raw.close()
            handle = open_flogfile(self.path)
        except FlogFileError as exc:
            raw.close()
            raise TailError(str(exc)) from None
        except OSError as exc:
            raw.close()
            raise TailError(f"{self.path}: {exc.strerror or exc}") from None
        self._bz2, self._offset = None, len(MAGIC)
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
        if self._bz2 is not None:
            return self._records(self._decompressed(self._file, self._bz2))
        chunk = self._file.read()
        self._offset += len(chunk)
        return self._records(chunk)

    def _decompressed(self, handle: IO[bytes], stream: _Bz2Stream) -> bytes:
        """The next (bounded) piece of a compressed file, after its magic line."""
        if stream.error is not None:
            raise TailError(stream.error)
        out = []
        size = 0
        while size < self.max_read:
            data = b""
            if stream.needs_input:
                data = handle.read(RAW_CHUNK)
                self._offset += len(data)
                if not data:
                    break
            piece = stream.decompress(data, self.max_read - size)
            out.append(piece)
            size += len(piece)
        text = b"".join(out)
        if self._head is not None:
            self._head += text
            if len(self._head) < len(MAGIC):
                if self._head != MAGIC[: len(self._head)]:
                    self._check_head()
                return b""
            self._check_head()
            text, self._head = self._head[len(MAGIC) :], None
        return text

    def _check_head(self) -> None:
        try:
            check_magic(self.path, (self._head or b"")[: len(MAGIC)])
        except FlogFileError as exc:
            raise TailError(str(exc)) from None

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
        self._bz2 = None
