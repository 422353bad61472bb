"""Records and flogfiles for the web viewer's tests, written the way Foolscap writes them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MAGIC = "# foolscap flogfile v1\n"
TUBID = "ck2ln2dfnqoamjk2sjtd5wr7kpzabjwv"
INCARNATION = "0123456789abcdef"


def event(num: int, message: str, **fields: Any) -> dict[str, Any]:
    """An event dict ``d`` numbered *num*, OPERATIONAL unless *fields* says otherwise."""
    d: dict[str, Any] = {
        "num": num,
        "time": 1_700_000_000.0 + num,
        "level": 20,
        "incarnation": [INCARNATION, None],
        "message": message,
    }
    d.update(fields)
    return d


def record(d: dict[str, Any], tubid: str = TUBID) -> dict[str, Any]:
    """The flogfile wrapper of event *d*, received from *tubid*."""
    return {"from": tubid, "rx_time": 1_700_000_000.25, "d": d}


def header(**fields: Any) -> dict[str, Any]:
    """A flogfile header record (a log-file-observer unless *fields* gives a type)."""
    return {"header": {"type": "log-file-observer", "threshold": 0, "pid": 4242, **fields}}


def line(rec: dict[str, Any]) -> str:
    """One flogfile line of *rec*."""
    return json.dumps(rec) + "\n"


def write_flogfile(path: Path, records: list[dict[str, Any]]) -> Path:
    """Write *records* to a new flogfile at *path*."""
    path.write_text(MAGIC + "".join(line(r) for r in records), "utf-8")
    return path


def append(path: Path, records: list[dict[str, Any]]) -> None:
    """Append *records* to the flogfile at *path*."""
    with path.open("a", encoding="utf-8") as f:
        f.write("".join(line(r) for r in records))
        f.flush()
