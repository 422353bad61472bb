#!/usr/bin/env python3
"""Octavo's developer entry point: `python3 dev.py demo` and `python3 dev.py test`.

It needs only python3 and pip. It makes a private virtual environment in `.venv/`
(with the standard `venv` module, or, where a distribution strips `ensurepip`, a
bare venv that the system pip fills through `pip --python`), installs what the
command needs into it, and runs:

* ``demo``: installs octavo-furl alone and parses a FURL with the ``octavo-furl`` tool.
* ``test``: installs tox and tox-uv and runs every tox environment (the whole suite).

Extra arguments after ``test`` are handed to tox (``python3 dev.py test -e furl``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"

DEMO_FURL = "pb://ubnnhm7ehvhobtpdgrjonymzd3eopy6u@tcp:127.0.0.1:46529,tcp:[::1]:46529/calculator"


def _run(*argv: str | os.PathLike[str]) -> None:
    subprocess.run([os.fspath(a) for a in argv], check=True, cwd=ROOT)


def _ensure_venv() -> None:
    if PY.exists():
        return
    try:
        subprocess.run(
            [sys.executable, "-m", "venv", os.fspath(VENV)],
            check=True,
            capture_output=True,
        )
    except subprocess.CalledProcessError:
        # Debian without python3-venv: make the venv bare and let the system pip fill it.
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", os.fspath(VENV)], check=True)


def _pip_install(*requirements: str) -> None:
    if (BIN / "pip").exists():
        _run(PY, "-m", "pip", "install", "--quiet", "--upgrade", *requirements)
    else:
        _run(
            sys.executable,
            "-m",
            "pip",
            "--python",
            PY,
            "install",
            "--quiet",
            "--upgrade",
            *requirements,
        )


def demo() -> int:
    """Install octavo-furl alone and show what it makes of a FURL."""
    _ensure_venv()
    _pip_install("./packages/furl")
    tool = BIN / "octavo-furl"
    print(f"$ octavo-furl parse {DEMO_FURL}", flush=True)
    return subprocess.run([os.fspath(tool), "parse", DEMO_FURL], check=False, cwd=ROOT).returncode


_PYTEST_SUMMARY = re.compile(r"^=+ (?P<counts>.*\d+ (?:passed|failed|error).*) in [\d.]+s")
_COUNT = re.compile(r"(\d+) (passed|failed|skipped|errors?)")


def test(tox_args: list[str]) -> int:
    """Run the whole test suite through tox (every environment, or those named).

    tox's output is passed through as it comes; at the end one line adds up what
    pytest reported in every environment: ``tests: N passed, N failed, N skipped``.
    """
    _ensure_venv()
    _pip_install("tox>=4.11", "tox-uv>=1.0")
    totals = {"passed": 0, "failed": 0, "skipped": 0}
    with subprocess.Popen(
        [os.fspath(BIN / "tox"), *tox_args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    ) as tox:
        assert tox.stdout is not None
        for line in tox.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            summary = _PYTEST_SUMMARY.match(line.strip())
            if summary:
                for number, word in _COUNT.findall(summary["counts"]):
                    key = "failed" if word.startswith("error") else word
                    totals[key] += int(number)
    passed, failed, skipped = totals["passed"], totals["failed"], totals["skipped"]
    print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
    return tox.returncode


def main(argv: list[str]) -> int:
    """Dispatch `demo` or `test`."""
    if not argv or argv[0] not in {"demo", "test"}:
        print("usage: python3 dev.py demo | test [TOX-ARGS...]", file=sys.stderr)
        return 2
    if argv[0] == "demo":
        return demo()
    return test(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
