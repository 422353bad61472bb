"""``octavo-log classify-incident``."""

from __future__ import annotations

from pathlib import Path

import pytest

from ._cli_support import event, run, write


def _incident(tmp_path: Path, name: str, message: str) -> str:
    trigger = event(1, message, level=30)
    return write(tmp_path / name, [trigger], "incident", trigger=trigger)


def test_classify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """FILE: CATEGORIES per file; -v shows the trigger of unknown ones."""
    plugins = tmp_path / "c"
    plugins.mkdir()
    (plugins / "classify_disk.py").write_text(
        "def classify_incident(t):\n    return 'disk' if 'disk' in t['message'] else None\n"
    )
    disk = _incident(tmp_path, "a.flog.bz2", "disk full")
    other = _incident(tmp_path, "b.flog.bz2", "strange")
    status, out, err = run(capsys, "classify-incident", "-c", str(plugins), "-v", disk, other)
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"{disk}: disk"
    assert lines[1] == f"{other}: unknown"
    assert lines[2] == "strange"
    assert lines[3].startswith('{"num": 1, "message": "strange"')


def test_classify_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A missing classifier directory or a file that is no incident: one line, exit 1."""
    inc = _incident(tmp_path, "a.flog.bz2", "x")
    status, _, err = run(capsys, "classify-incident", "-c", str(tmp_path / "none"), inc)
    assert status == 1 and "cannot list classifier directory" in err
    plain = write(tmp_path / "p.flog", [event(0, "a")])
    status, _, err = run(capsys, "classify-incident", "-c", str(tmp_path), plain)
    assert status == 1 and "not an incident file" in err and err.count("\n") == 1
    missing = str(tmp_path / "missing.flog.bz2")
    status, _, err = run(capsys, "classify-incident", "-c", str(tmp_path), missing)
    assert status == 1 and "cannot read" in err
