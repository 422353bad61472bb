"""The octavo-furl command prints the parts of a FURL, or one error line and exit 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from octavo.furl._cli import main

TUBID = "ubnnhm7ehvhobtpdgrjonymzd3eopy6u"
DEMO = f"pb://{TUBID}@tcp:127.0.0.1:46529,tcp:[::1]:46529/calculator"


def test_parse_prints_the_parts(capsys: pytest.CaptureFixture[str]) -> None:
    """The README demo prints the tubid, each hint on its own line, and the name."""
    assert main(["parse", DEMO]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out == (
        f"tubid:  {TUBID}\n"
        "hints:  1. tcp  host 127.0.0.1 port 46529\n"
        "        2. tcp  IPv6 [::1] port 46529\n"
        "name:   calculator\n"
    )


def test_parse_describes_every_kind_of_hint(capsys: pytest.CaptureFixture[str]) -> None:
    """Legacy, tor, i2p, unknown and unusable hints each get a line saying what they are."""
    furl = f"pb://{TUBID}ext@h:1,tor:x.onion:2,i2p:y.i2p,i2p:z:3,unix:s,tcp:h:0/n"
    assert main(["parse", furl]) == 0
    out = capsys.readouterr().out
    assert "tubid extension: ext" in out
    assert "tcp  host h port 1 (legacy HOST:PORT form)" in out
    assert "tor  host x.onion port 2" in out
    assert "i2p  address y.i2p default port" in out
    assert "i2p  address z port 3" in out
    assert "unknown hint type 'unix': unix:s" in out
    assert "unusable: port 0" in out


def test_parse_without_hints(capsys: pytest.CaptureFixture[str]) -> None:
    """A FURL with no hints says so."""
    assert main(["parse", f"pb://{TUBID}@/n"]) == 0
    assert "hints:  (none" in capsys.readouterr().out


def test_parse_json(capsys: pytest.CaptureFixture[str]) -> None:
    """--json prints one JSON object with every part and each hint's fields."""
    assert main(["parse", DEMO, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["furl"] == DEMO
    assert data["tubid"] == TUBID
    assert data["name"] == "calculator"
    assert data["hints"][1] == {
        "type": "tcp",
        "text": "tcp:[::1]:46529",
        "host": "::1",
        "port": 46529,
        "ipv6": True,
        "legacy": False,
    }


def test_parse_json_other_hints(capsys: pytest.CaptureFixture[str]) -> None:
    """--json describes tor, i2p, unknown and unusable hints too."""
    assert main(["parse", f"pb://{TUBID}@tor:x:2,i2p:y,unix:s,zz/n", "--json"]) == 0
    hints = json.loads(capsys.readouterr().out)["hints"]
    assert hints[0] == {"type": "tor", "text": "tor:x:2", "host": "x", "port": 2}
    assert hints[1] == {"type": "i2p", "text": "i2p:y", "address": "y", "port": None}
    assert hints[2] == {"type": "unix", "text": "unix:s", "known": False, "body": "s"}
    assert hints[3]["type"] is None
    assert "no TYPE: prefix" in hints[3]["invalid"]


@pytest.mark.parametrize(
    "argv",
    [
        ["parse", "pb://nope"],
        ["parse", f"pb://{TUBID}@h:1/n\nmore"],
        ["parse", "--json", "http://x"],
        ["parse", "--strict", f"pb://{TUBID}@tcp:h:0/n"],
    ],
)
def test_bad_furl_is_one_line_and_exit_2(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad FURL prints exactly one line on stderr, nothing on stdout, and returns 2."""
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("octavo-furl: bad FURL: ")
    assert err.count("\n") == 1
    assert err.endswith("\n")


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """Missing arguments are a usage error (argparse's exit status 2)."""
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2
    capsys.readouterr()


def test_runs_as_a_program() -> None:
    """The command runs in its own process with the real exit status."""
    ok = subprocess.run(
        [sys.executable, "-m", "octavo.furl._cli", "parse", DEMO],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ok.returncode == 0
    assert "calculator" in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "octavo.furl._cli", "parse", "pb://x"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert len(bad.stderr.splitlines()) == 1


def test_undecodable_command_line_bytes_are_shown_escaped() -> None:
    """A FURL argument that is not UTF-8 is printed escaped, not a crash."""
    import os

    arg = os.fsencode(f"pb://{TUBID}@tcp:h:1/") + b"\xff"
    result = subprocess.run(
        [os.fsencode(sys.executable), b"-m", b"octavo.furl._cli", b"parse", arg, b"--json"],
        capture_output=True,
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
    assert result.returncode == 0, result.stderr
    assert b"\\udcff" in result.stdout
