"""Foolscap's flogfiles: ``# foolscap flogfile v1`` then one JSON record per line.

The first record is a header ``{"header": {"type": ..., ...}}``; each later one wraps
an event as ``{"from": tubid, "rx_time": seconds, "d": event}``. A name ending in
``.bz2`` means the whole file (magic line included) is bzip2-compressed; so does a
file of any name that starts with bzip2's own header (``BZh`` and a block). Values JSON
cannot hold are written as Foolscap writes them: a Failure as ``{"@": "Failure", "str",
"repr", "traceback"}``, anything else (bytes included) as ``{"@": "UnJSONable", ...,
"repr"}``.

Reading never unpickles: the pickle flogfiles of Foolscap before 0.13 are refused with
:class:`PickleFlogFileError`. A line that cannot be read (bad JSON, not a record, too
long, a truncated or corrupt end) is reported to ``on_error`` as a
:class:`FlogLineError` and skipped; the records before and after it are still given.
"""

from __future__ import annotations

import bz2
import json
import re
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import IO, Any

from twisted.python import failure

from .app_versions import add_version, versions

__all__ = [
    "MAGIC",
    "MAX_LINE_BYTES",
    "FlogFileError",
    "FlogFileWarning",
    "FlogLineError",
    "FlogWriter",
    "FurlFileError",
    "NotAFlogFileError",
    "PickleFlogFileError",
    "add_version",
    "check_magic",
    "encode_record",
    "is_bz2",
    "open_flogfile",
    "read_flogfile",
    "versions",
]

MAGIC = b"# foolscap flogfile v1\n"
#: a line longer than this is reported and skipped, never held in memory whole
MAX_LINE_BYTES = 16 * 1024 * 1024
_MAX_DEPTH = 100


class FlogFileError(Exception):
    """A flogfile could not be read."""


class NotAFlogFileError(FlogFileError):
    """The file does not start with the flogfile magic line."""


class PickleFlogFileError(NotAFlogFileError):
    """An old pickle-based flogfile: refused, as loading it could run any code."""


class FurlFileError(NotAFlogFileError):
    """The file holds a FURL (a logport.furl, say), not log events."""


class FlogLineError(FlogFileError):
    """One line of a flogfile is unreadable; ``lineno`` counts the magic line as 1."""

    def __init__(self, path: str, lineno: int, reason: str) -> None:
        super().__init__(f"{path}: line {lineno}: {reason}")
        self.path = path
        self.lineno = lineno
        self.reason = reason


class FlogFileWarning(UserWarning):
    """Warned (by default) for each unreadable line of a flogfile."""


# --- writing ----------------------------------------------------------------------

_UNJSONABLE = (
    "log.msg() was given an object that could not be encoded into JSON. "
    "I've replaced it with this UnJSONable object. The object's repr is in .repr"
)
_UNREPRABLE = (
    "log.msg() was given an object that could not be encoded into JSON, and when I "
    "tried to repr() it I got an error too. I've put the repr of the exception in "
    ".exception_repr"
)
_REALLY_UNREPRABLE = (
    "log.msg() was given an object that could not be encoded into JSON, and when I "
    "tried to repr() it I got an error too. That exception wasn't repr()able either."
)


def _stand_in(o: object) -> dict[str, Any]:
    """What Foolscap writes in place of a value that JSON cannot hold."""
    if isinstance(o, failure.Failure):
        return {"@": "Failure", "str": str(o), "repr": repr(o), "traceback": o.getTraceback()}
    try:
        return {"@": "UnJSONable", "message": _UNJSONABLE, "repr": repr(o)}
    except Exception as e:
        try:
            return {"@": "Unreprable", "message": _UNREPRABLE, "exception_repr": repr(e)}
        except Exception:
            return {"@": "ReallyUnreprable", "message": _REALLY_UNREPRABLE}


class _Encoder(json.JSONEncoder):
    def default(self, o: object) -> object:
        return _stand_in(o)


def _plain(o: object, depth: int = 0) -> object:
    """A JSON-safe copy of ``o``: for values ``json`` refuses (cycles, odd keys)."""
    if depth > _MAX_DEPTH:
        return _stand_in(o)
    if o is None or isinstance(o, str | int | float | bool):
        return o
    if isinstance(o, Mapping):
        out: dict[str, object] = {}
        for k, v in o.items():
            key = k if isinstance(k, str) else repr(k)
            out[key] = _plain(v, depth + 1)
        return out
    if isinstance(o, list | tuple):
        return [_plain(v, depth + 1) for v in o]
    return _stand_in(o)


#: json.dumps(..., cls=_Encoder) without making an encoder for every line
_encode = _Encoder().encode


def encode_record(record: Mapping[str, Any]) -> bytes:
    """One record as a JSON line (newline included), as Foolscap writes it."""
    try:
        text = _encode(record)
    except (TypeError, ValueError, RecursionError):
        text = _encode(_plain(record))
    return text.encode("utf-8") + b"\n"


class FlogWriter:
    """Writes a flogfile: the magic line and a header, then event records.

    ``FlogWriter(path, "log-file-observer", pid=..., threshold=...)``; a path ending in
    ``.bz2`` is compressed (``compress=`` decides otherwise). No header if the type is
    None; ``versions`` go into the header unless given.
    """

    def __init__(
        self, path: str, header_type: str | None, *, compress: bool | None = None, **header: Any
    ) -> None:
        self.path = path
        if compress is None:
            compress = path.endswith(".bz2")
        self._file: IO[bytes] = bz2.BZ2File(path, "wb") if compress else open(path, "wb")  # noqa: SIM115
        self._file.write(MAGIC)
        if header_type is not None:
            header.setdefault("versions", dict(versions))
            self.write_record({"header": {"type": header_type, **header}})

    def write_record(self, record: Mapping[str, Any]) -> None:
        """Write one record (a header or an event wrapper) as it is."""
        self._file.write(encode_record(record))

    def write_event(
        self, event: Mapping[str, Any], from_: str = "local", rx_time: float | None = None
    ) -> None:
        """Write ``event`` wrapped with the tubid it came from and when it arrived."""
        when = time.time() if rx_time is None else rx_time
        self.write_record({"from": from_, "rx_time": when, "d": event})

    def flush(self) -> None:
        """Push what is written to the file (a ``.bz2`` file only at close)."""
        if not isinstance(self._file, bz2.BZ2File):
            self._file.flush()

    def close(self) -> None:
        """Finish the file."""
        self._file.close()

    def __enter__(self) -> FlogWriter:
        return self

    def __exit__(
        self, t: type[BaseException] | None, v: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


# --- reading ----------------------------------------------------------------------


def _warn(err: FlogLineError) -> None:
    warnings.warn(str(err), FlogFileWarning, stacklevel=3)


#: how a bzip2 stream starts: "BZh", the block size, then the first block's magic
_BZ2_HEAD = re.compile(rb"BZh[1-9](1AY&SY|\x17rE8P\x90)")


def is_bz2(path: str, head: bytes) -> bool:
    """Whether the file ``path``, which starts with ``head`` (10 bytes will do), is bzip2."""
    return path.endswith(".bz2") or _BZ2_HEAD.match(head) is not None


def check_magic(path: str, start: bytes) -> None:
    """Raise the right :class:`NotAFlogFileError` unless ``start`` is the magic line."""
    if start == MAGIC:
        return
    if start.startswith(b"(dp0"):
        raise PickleFlogFileError(
            f"{path}: an old pickle-based flogfile, which cannot be loaded safely"
        )
    if start.startswith(b"pb:"):
        raise FurlFileError(f"{path}: holds a FURL, not log events (try 'tail')")
    raise NotAFlogFileError(f"{path}: not a flogfile (it starts with {start[:30]!r})")


def open_flogfile(path: str, raw: IO[bytes] | None = None) -> IO[bytes]:
    """Open ``path`` (bz2 if its name ends in ``.bz2`` or it starts as bzip2 does) after
    checking its magic line.

    ``raw``: the file already opened (binary, seekable) to read from. Raises
    :class:`PickleFlogFileError`, :class:`FurlFileError` or :class:`NotAFlogFileError`,
    and ``OSError`` if it cannot be opened.
    """
    if raw is None:
        raw = open(path, "rb")  # noqa: SIM115 - closed by the caller
    f: IO[bytes] = raw
    try:
        head = raw.read(10)
        raw.seek(-len(head), 1)
        if is_bz2(path, head):
            f = bz2.BZ2File(raw, "rb")
        try:
            start = f.read(len(MAGIC))
        except (OSError, EOFError) as e:
            raise NotAFlogFileError(f"{path}: cannot be read as a flogfile: {e}") from None
        check_magic(path, start)
    except BaseException:
        f.close()
        raw.close()
        raise
    return f


def _check(record: object) -> str | None:
    """Why ``record`` is not a flogfile record, or None."""
    if not isinstance(record, dict):
        return f"not a JSON object but {type(record).__name__}"
    if "header" in record:
        return None if isinstance(record["header"], dict) else "'header' is not an object"
    if "d" in record:
        return None if isinstance(record["d"], dict) else "'d' (the event) is not an object"
    return "neither a header nor an event record"


def read_flogfile(
    path: str,
    on_error: Callable[[FlogLineError], object] | None = None,
    progress: Callable[[int], object] | None = None,
) -> Iterator[dict[str, Any]]:
    """The records of the flogfile ``path``: the header first, then event wrappers.

    Each unreadable line goes to ``on_error`` (default: a :class:`FlogFileWarning`)
    and is skipped. A compressed file that ends early or is corrupt stops after the
    records that could be read, reporting the rest as one bad line. ``progress(n)``
    is called now and then with how many more bytes of the file (as stored, so
    compressed bytes for ``.bz2``) have been read.
    """
    report = _warn if on_error is None else on_error
    raw = open(path, "rb")  # noqa: SIM115 - closed below
    with raw, open_flogfile(path, raw) as f:
        lineno = 1
        done = 0
        while True:
            lineno += 1
            if progress is not None and lineno % 1024 == 0:
                done = _tell_progress(raw, done, progress)
            try:
                line = f.readline(MAX_LINE_BYTES + 1)
            except (OSError, EOFError) as e:
                report(FlogLineError(path, lineno, f"the file ends early or is corrupt: {e}"))
                return
            if not line:
                if progress is not None:
                    _tell_progress(raw, done, progress)
                return
            if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
                report(FlogLineError(path, lineno, f"longer than {MAX_LINE_BYTES} bytes"))
                if not _skip_rest_of_line(f, path, lineno, report):
                    return
                continue
            try:
                record = json.loads(line.decode("utf-8"))
            except (ValueError, RecursionError) as e:
                why = "truncated" if not line.endswith(b"\n") else "not JSON"
                report(FlogLineError(path, lineno, f"{why}: {e}"))
                continue
            problem = _check(record)
            if problem is not None:
                report(FlogLineError(path, lineno, problem))
                continue
            yield record


def _tell_progress(raw: IO[bytes], done: int, progress: Callable[[int], object]) -> int:
    now = raw.tell()
    if now > done:
        progress(now - done)
    return max(now, done)


def _skip_rest_of_line(
    f: IO[bytes], path: str, lineno: int, report: Callable[[FlogLineError], object]
) -> bool:
    """Read past the end of an over-long line; False at the end of the file."""
    try:
        while True:
            chunk = f.readline(1024 * 1024)
            if not chunk:
                return False
            if chunk.endswith(b"\n"):
                return True
    except (OSError, EOFError) as e:
        report(FlogLineError(path, lineno, f"the file ends early or is corrupt: {e}"))
        return False
