"""The package README's examples show what the code really does."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from octavo.furl._cli import main

README = Path(__file__).resolve().parents[2] / "packages" / "furl" / "README.md"


def test_readme_command_output_is_real(capsys: pytest.CaptureFixture[str]) -> None:
    """The console block in the README is exactly what the command prints."""
    text = README.read_text(encoding="utf-8")
    block = text.split("```console\n", 1)[1].split("```", 1)[0]
    command, *expected = block.splitlines()
    argv = shlex.split(command.removeprefix("$ "))
    assert argv[0] == "octavo-furl"
    assert main(argv[1:]) == 0
    assert capsys.readouterr().out.splitlines() == expected


def test_readme_python_example_is_real() -> None:
    """The Python example's commented results are what the code returns."""
    from octavo.furl import BadFURLError, TCPHint, parse_furl

    furl = parse_furl(
        "pb://ubnnhm7ehvhobtpdgrjonymzd3eopy6u@tcp:127.0.0.1:46529,tcp:[::1]:46529/calculator"
    )
    text = README.read_text(encoding="utf-8")
    assert f"# {furl.hints[1]!r}\n" in text
    assert isinstance(furl.hints[1], TCPHint)
    with pytest.raises(BadFURLError) as info:
        parse_furl("pb://abc@tcp:h:1/x")
    assert f"# {info.value}\n" in text
