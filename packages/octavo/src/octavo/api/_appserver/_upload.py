"""The upload-file service: Foolscap's ``putfile(name, source)``, pulled block by block.

The client passes a reference to an object with ``read(size)``; the server asks for
1 MiB at a time, asking for the next block before writing the last (an empty
answer ends the file), writes each block to a temporary file next to the target
and renames it into place once the file is complete. At most two blocks are held
per upload, whatever the file's size.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger

from octavo.tub import ByteStringConstraint, Referenceable

from ._errors import BadFilenameError, BadRequestError, BusyError, QuotaExceededError
from ._names import Destination, open_destination, split_name
from ._options import UploadOptions

BLOCKSIZE = 1024 * 1024
MAX_UPLOADS = 64  # at once per service: at most 2 x 64 blocks held in memory
_log = Logger()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class FileUploader(Referenceable):
    """Writes the files clients send into one target directory."""

    def __init__(
        self, options: UploadOptions, blocksize: int = BLOCKSIZE, max_uploads: int = MAX_UPLOADS
    ) -> None:
        self.options = options
        self.blocksize = blocksize
        self.max_uploads = max_uploads
        self.uploading = 0

    def remote_putfile(self, name: Any, source: Any) -> defer.Deferred[None]:
        """Store the file ``source`` reads as ``name`` in the target directory."""
        parts = split_name(name, self.options.allow_subdirectories)
        if not callable(getattr(source, "callRemote", None)):
            raise BadRequestError("the source must be a reference with a read(size) method")
        if self.uploading >= self.max_uploads:
            raise BusyError(f"this service takes {self.max_uploads} uploads at once; try later")
        self.uploading += 1
        d = defer.ensureDeferred(self._receive(parts, source))
        d.addBoth(self._ended)
        return d

    def _ended(self, result: Any) -> Any:
        self.uploading -= 1
        return result

    async def _receive(self, parts: list[str], source: Any) -> None:
        try:
            dest = open_destination(self.options.targetdir, parts)
        except FileNotFoundError:
            raise BadFilenameError(
                f"the target directory {self.options.targetdir} is missing"
            ) from None
        try:
            await self._receive_into(dest, source)
        finally:
            dest.close()

    async def _receive_into(self, dest: Destination, source: Any) -> None:
        tmp = f".{dest.name}.{secrets.token_hex(4)}.partial"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(tmp, flags, 0o600, dir_fd=dest.dir_fd)
        done = False
        asked: list[defer.Deferred[Any]] = []
        constraint = ByteStringConstraint(self.blocksize)

        def ask() -> None:
            asked.append(source.callRemote("read", self.blocksize, _resultConstraint=constraint))

        try:
            written = 0
            limit = self.options.max_size
            ask()
            while True:
                ask()  # the next block is on its way while this one is written
                data = await asked.pop(0)
                if not isinstance(data, bytes) or len(data) > self.blocksize:
                    raise BadRequestError("read(size) must answer at most size bytes")
                if not data:
                    break
                written += len(data)
                if limit is not None and written > limit:
                    raise QuotaExceededError(
                        f"'{dest.name}' is larger than this service's limit of {limit} bytes"
                    )
                _write_all(fd, data)
            os.fchmod(fd, self.options.mode)
            os.close(fd)
            done = True
            try:
                os.replace(tmp, dest.name, src_dir_fd=dest.dir_fd, dst_dir_fd=dest.dir_fd)
            except IsADirectoryError:
                raise BadFilenameError(f"'{dest.name}' is a folder in the target") from None
            _log.info("upload-file: stored {name} ({n} bytes)", name=dest.name, n=written)
        except BaseException:
            if not done:
                os.close(fd)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp, dir_fd=dest.dir_fd)
            raise
        finally:
            for d in asked:  # asked past the end or the failure: answers nobody needs
                d.addErrback(lambda _: None)
