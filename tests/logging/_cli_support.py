"""Running ``octavo-log`` in-process and making small flogfiles for its tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from octavo.logging import FlogWriter
from octavo.logging._cli._main import main

T0 = 1_725_192_000.25  # 2024-09-01 12:00:00.25 UTC


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ``octavo-log ARGV``; argparse's exits included."""
    try:
        status = main(list(argv))
    except SystemExit as e:
        status = int(e.code or 0)
    out, err = capsys.readouterr()
    return status, out, err


def event(num: int, message: str, **kw: Any) -> dict[str, Any]:
    """An event as a Foolscap logger makes it."""
    return {
        "num": num,
        "message": message,
        "level": 20,
        "time": T0 + num,
        "incarnation": ["abcd", None],
        **kw,
    }


def write(
    path: Path,
    events: list[dict[str, Any]],
    header_type: str = "log-file-observer",
    from_: str = "tubid1234567",
    **header: Any,
) -> str:
    """A flogfile of ``events`` with a header of ``header_type``."""
    header.setdefault("versions", {"app": "1.0", "twisted": "24.0"})
    header.setdefault("pid", 4242)
    with FlogWriter(str(path), header_type, **header) as w:
        for ev in events:
            w.write_event(ev, from_, ev["time"] + 0.5)
    return str(path)
