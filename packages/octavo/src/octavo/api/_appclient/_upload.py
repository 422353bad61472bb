"""``upload-file``: each file is offered as a ``read(size)`` source, read as the server asks.

The name travels as UTF-8 bytes, as flappclient sends it.

The file is never read whole: the server pulls one block per call. A tqdm progress
bar on stderr shows each file's bytes (shown only when stderr is a terminal).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import IO, Any

from tqdm import tqdm

from octavo.tub import Referenceable

MAX_READ = 16 * 1024 * 1024


class FileSource(Referenceable):
    """One open file the server reads with ``read(size)``."""

    def __init__(self, f: IO[bytes], bar: Any | None = None) -> None:
        self.f = f
        self.bar = bar

    def remote_read(self, size: Any) -> bytes:
        """Up to ``size`` bytes (1 to 16 MiB) of the file; b"" at its end."""
        if not isinstance(size, int) or isinstance(size, bool) or not 0 < size <= MAX_READ:
            raise ValueError(f"read size must be an int from 1 to {MAX_READ}")
        data = self.f.read(size)
        if self.bar is not None:
            self.bar.update(len(data))
        return data


def upload_name(path: str, keep_paths: bool) -> str:
    """The name the server gets: the base name, or the relative path as given."""
    if keep_paths:
        return "/".join(p for p in os.path.normpath(path).split(os.sep) if p)
    return os.path.basename(os.path.expanduser(path))


async def upload_files(
    rref: Any,
    paths: Sequence[str],
    stdout: IO[str],
    stderr: IO[str],
    *,
    keep_paths: bool = False,
    progress: bool | None = None,
) -> int:
    """Send each file in turn; print ``NAME: uploaded`` for each. Returns 0."""
    for path in paths:
        name = upload_name(path, keep_paths)
        with open(os.path.expanduser(path), "rb") as f:
            size = os.fstat(f.fileno()).st_size
            disable = (not stderr.isatty()) if progress is None else not progress
            with tqdm(
                total=size,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=name,
                file=stderr,
                disable=disable,
                leave=False,
            ) as bar:
                await rref.callRemote("putfile", name.encode("utf-8"), FileSource(f, bar))
        print(f"{name}: uploaded", file=stdout, flush=True)
    return 0
