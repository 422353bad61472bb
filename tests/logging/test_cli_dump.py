"""``octavo-log dump``: flogtool's text layout, its options, JSON lines, bad input."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from octavo.logging._flogfile import MAGIC

from ._cli_support import event, run, write


def test_dump_layout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Versions, pid, a blank line, then TUBID8#NUM TIME: TEXT and failures."""
    path = write(
        tmp_path / "a.flog",
        [
            event(0, "hello %s", args=["x"]),
            event(1, "", format="%(who)s here", who="bob"),
            event(2, "oops", failure={"@": "Failure", "str": "line one\nline two"}),
        ],
    )
    status, out, err = run(capsys, "dump", "-t", "utc", path)
    assert (status, err) == (0, "")
    assert out.splitlines() == [
        "Application versions (embedded in logfile):",
        "    app: 1.0",
        "twisted: 24.0",
        "PID: 4242",
        "",
        "tubid123#0 2024-09-01_12:00:00.250000Z: hello ['x']",
        "tubid123#1 2024-09-01_12:00:01.250000Z: bob here",
        "tubid123#2 2024-09-01_12:00:02.250000Z: oops",
        " FAILURE:",
        " line one",
        " line two",
    ]


def test_dump_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--just-numbers, --rx-time, --verbose and epoch timestamps."""
    path = write(tmp_path / "a.flog.bz2", [event(7, "m")])
    assert run(capsys, "dump", "-n", "-t", "epoch", path)[1].splitlines() == ["1725192007.250 7"]
    out = run(capsys, "dump", "--rx-time", "-t", "epoch", path)[1]
    assert out.splitlines()[-1] == "tubid123#7 rx(1725192007.750) emit(1725192007.250): m"
    out = run(capsys, "dump", "-v", "-t", "epoch", path)[1].splitlines()
    assert out[0].startswith("{'header': {'type': 'log-file-observer'")
    assert out[1].startswith("tubid123#7 1725192007.250: m: {'num': 7")


def test_incident_trigger_is_marked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """In an incident file the trigger event ends with [INCIDENT-TRIGGER]."""
    trigger = event(1, "bad", level=40)
    path = write(tmp_path / "i.flog.bz2", [event(0, "a"), trigger], "incident", trigger=trigger)
    lines = run(capsys, "dump", "-t", "epoch", path)[1].splitlines()
    assert lines[-2:] == [
        "tubid123#0 1725192000.250: a",
        "tubid123#1 1725192001.250: bad [INCIDENT-TRIGGER]",
    ]


def test_json_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--json prints each record as it is stored, the header first."""
    path = write(tmp_path / "a.flog", [event(0, "a"), event(1, "b")])
    records = [json.loads(line) for line in run(capsys, "dump", "--json", path)[1].splitlines()]
    assert records[0]["header"]["type"] == "log-file-observer"
    assert [r["d"]["message"] for r in records[1:]] == ["a", "b"]


def test_bad_lines_are_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A garbage line is one warning on stderr; the events around it are dumped."""
    path = tmp_path / "g.flog"
    write(path, [event(0, "a")])
    with open(path, "ab") as f:
        f.write(b"garbage\n")
        f.write(json.dumps({"from": "x", "rx_time": 1, "d": event(1, "b")}).encode() + b"\n")
    status, out, err = run(capsys, "dump", "-t", "epoch", str(path))
    assert status == 0
    assert [line.split(": ", 1)[1] for line in out.splitlines()[5:]] == ["a", "b"]
    assert err.count("\n") == 1 and "line 4: not JSON" in err


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (pickle.dumps({"a": 1}, protocol=0), "old pickle-based flogfile"),
        (b"pb://tubid@tcp:h:1/name\n", "did you mean 'octavo-log tail'"),
        (b"just text\n", "not a flogfile"),
    ],
)
def test_bad_files_give_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, reason: str
) -> None:
    """A file that is no flogfile: exit 1 and one line saying why, no traceback."""
    path = tmp_path / "bad.flog"
    path.write_bytes(content)
    status, out, err = run(capsys, "dump", str(path))
    assert status == 1 and out == ""
    assert err.count("\n") == 1 and reason in err and err.startswith("octavo-log dump: error:")


def test_missing_file_and_bad_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A missing file, an unknown timestamp style, no command: non-zero and a reason."""
    status, _, err = run(capsys, "dump", str(tmp_path / "none.flog"))
    assert status == 1 and "cannot read" in err and "No such file" in err
    status, _, err = run(capsys, "dump", "-t", "martian", str(tmp_path / "x"))
    assert status == 2 and "invalid choice: 'martian'" in err
    status, _, err = run(
        capsys,
    )
    assert status == 2 and "required: COMMAND" in err


def test_help_everywhere(capsys: pytest.CaptureFixture[str]) -> None:
    """--help works for the tool and every command."""
    for argv in (
        ["--help"],
        ["dump", "--help"],
        ["filter", "--help"],
        ["classify-incident", "--help"],
    ):
        status, out, _ = run(capsys, *argv)
        assert status == 0 and out.startswith("usage: octavo-log")


def test_progress_bar_on_request(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--progress shows a bar on stderr even when it is not a terminal; not without."""
    path = write(tmp_path / "big.flog", [event(i, "x" * 50) for i in range(5000)])
    _, _, err = run(capsys, "dump", "-n", path)
    assert err == ""
    _, _, err = run(capsys, "dump", "-n", "--progress", path)
    assert "big.flog" in err and "B/s" in err


def test_console_script_runs(tmp_path: Path) -> None:
    """The installed entry point's module runs as a program."""
    path = tmp_path / "a.flog"
    path.write_bytes(MAGIC)
    done = subprocess.run(
        [sys.executable, "-m", "octavo.logging._cli._main", "dump", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0 and done.stdout == "" and done.stderr == ""
