"""``octavo-log web-viewer``: its options, its one-line errors, the URL it prints first."""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from octavo.logging._cli import web_viewer

from ._web_records import event, record, write_flogfile

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60


def run_viewer(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the command in a subprocess (it must exit by itself)."""
    return subprocess.run(
        [sys.executable, "-m", "octavo.logging._cli.web_viewer", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def test_add_parser_adds_web_viewer_with_its_options() -> None:
    """The command parses every option and sets func."""
    parser = argparse.ArgumentParser()
    web_viewer.add_parser(parser.add_subparsers())
    argv = ["web-viewer", "a.flog", "--port", "8080", "--interface", "0.0.0.0"]
    args = parser.parse_args(
        [*argv, "--token", "t" * 16, "--open", "--follow", "--max-events", "10"]
    )
    assert args.func is web_viewer.run
    options = web_viewer.options_of(args)
    assert (options.source, options.port, options.interface, options.token) == (
        "a.flog",
        8080,
        "0.0.0.0",
        "t" * 16,
    )
    assert (options.follow, options.catch_up, options.limit, args.open) == (True, False, 10, True)


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (
            ["pb://tub@tcp:127.0.0.1:1/x", "--follow"],
            "--follow is for a growing file; a FURL is always followed",
        ),
        (["a.flog", "--catch-up"], "--catch-up is for a FURL source, not a file"),
        (["a.flog", "--token", "short"], "--token must be 16 to 256 characters long"),
        (["a.flog", "--max-events", "0"], "--max-events 0 must be at least 1"),
    ],
)
def test_contradictory_options_fail_before_anything_starts(
    argv: list[str], reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exit 1 and one line on stderr, without running the reactor."""
    assert web_viewer.main(argv) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"octavo-log web-viewer: error: {reason}\n"


def test_a_missing_file_is_one_line_and_exit_1(tmp_path: Path) -> None:
    """The real command, on a file that is not there."""
    done = run_viewer(str(tmp_path / "nope.flog"))
    assert done.returncode == 1
    assert done.stdout == ""
    assert (
        done.stderr == f"octavo-log web-viewer: error: {tmp_path / 'nope.flog'}: no such flogfile\n"
    )


def test_a_file_that_is_no_flogfile_is_one_line_and_exit_1(tmp_path: Path) -> None:
    """A FURL file given by mistake, say."""
    notes = tmp_path / "logport.furl"
    notes.write_text("pb://abc@tcp:127.0.0.1:1/x\n", "utf-8")
    done = run_viewer(str(notes), "--follow")
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert "holds a FURL, not log events" in done.stderr


def test_the_url_is_the_first_line_on_stdout(tmp_path: Path) -> None:
    """It is printed at once; the viewer then serves until stopped."""
    flog = write_flogfile(tmp_path / "a.flog", [record(event(1, "x"))])
    proc = subprocess.Popen(
        [sys.executable, "-m", "octavo.logging._cli.web_viewer", str(flog)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("http://127.0.0.1:") and line.endswith("/\n")
    finally:
        proc.terminate()
        proc.wait(timeout=TIMEOUT)


def load_ensure_chromium() -> object:
    """scripts/ensure_chromium.py as a module."""
    spec = importlib.util.spec_from_file_location(
        "ensure_chromium", ROOT / "scripts" / "ensure_chromium.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ensure_chromium_does_nothing_when_the_browser_is_there(tmp_path: Path) -> None:
    """An existing binary: no apt-get, nothing installed."""
    module = load_ensure_chromium()
    present = tmp_path / "chromium"
    present.write_text("", "utf-8")
    assert module.ensure(present) is False  # type: ignore[attr-defined]


def test_ensure_chromium_explains_why_it_cannot_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without apt-get, a one-line reason (EnsureError) names what is missing."""
    module = load_ensure_chromium()
    monkeypatch.setattr(module.shutil, "which", lambda name: None)  # type: ignore[attr-defined]
    with pytest.raises(module.EnsureError, match="no apt-get"):  # type: ignore[attr-defined]
        module.ensure(tmp_path / "chromium")  # type: ignore[attr-defined]
