"""``octavo-log filter``: the options of flogtool filter, and writing safely."""

from __future__ import annotations

from pathlib import Path

import pytest

from octavo.logging import read_flogfile

from ._cli_support import T0, event, run, write


def _nums(path: Path | str) -> list[int]:
    return [r["d"]["num"] for r in read_flogfile(str(path)) if "d" in r]


@pytest.fixture
def source(tmp_path: Path) -> str:
    events = [
        event(0, "a", level=10, facility="foolscap/negotiation"),
        event(1, "b", level=20, facility="app"),
        event(2, "c", level=30, facility="app/sub"),
        event(3, "d", level=40),
    ]
    return write(tmp_path / "in.flog", events)


@pytest.mark.parametrize(
    ("options", "kept"),
    [
        ([], [0, 1, 2, 3]),
        (["--above", "WEIRD"], [2, 3]),
        (["--above", "25"], [2, 3]),
        (["--after", str(T0 + 1)], [2, 3]),
        (["--before", str(T0 + 2)], [0, 1]),
        (["--strip-facility", "foolscap"], [1, 2, 3]),
        (["--facility", "app"], [1, 2]),
        (["--from", "tubid"], [0, 1, 2, 3]),
        (["--from", "other"], []),
    ],
)
def test_filter_options(
    tmp_path: Path,
    source: str,
    capsys: pytest.CaptureFixture[str],
    options: list[str],
    kept: list[int],
) -> None:
    """Each option keeps the events flogtool filter keeps; the header is always copied."""
    out = tmp_path / "out.flog.bz2"
    status, text, err = run(capsys, "filter", *options, source, str(out))
    assert (status, err) == (0, "")
    assert _nums(out) == kept
    assert next(read_flogfile(str(out)))["header"]["pid"] == 4242
    assert text.splitlines()[-1] == f"copied {len(kept) + 1} of 5 events into new file"


def test_filter_in_place(source: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Without NEWFILE the file is rewritten, as flogtool does."""
    status, text, _ = run(capsys, "filter", "--above", "BAD", source)
    assert status == 0 and text.startswith("modifying event file in place")
    assert _nums(source) == [3]


def test_filter_bad_level_and_unwritable_output(
    tmp_path: Path, source: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A level that is no level, or an output that cannot be written: one-line errors."""
    status, _, err = run(capsys, "filter", "--above", "LOUD", source, str(tmp_path / "o"))
    assert status == 2 and "unknown log level 'LOUD'" in err
    status, _, err = run(capsys, "filter", source, str(tmp_path / "no" / "dir" / "o.flog"))
    assert status == 1 and err.startswith("octavo-log filter: error: cannot write")


def test_filter_of_bad_input_leaves_no_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Refused input: no output file is left behind."""
    bad = tmp_path / "bad.flog"
    bad.write_bytes(b"nothing\n")
    out = tmp_path / "out.flog"
    status, _, err = run(capsys, "filter", str(bad), str(out))
    assert status == 1 and "not a flogfile" in err
    assert list(tmp_path.iterdir()) == [bad]
