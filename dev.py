#!/usr/bin/env python3
"""Octavo's developer entry point: `python3 dev.py demo` and `python3 dev.py test`.

It needs only python3 and pip. It makes a private virtual environment in `.venv/`
(with the standard `venv` module, or, where a distribution strips `ensurepip`, a
bare venv that the system pip fills through `pip --python`), installs what the
command needs into it, and runs:

* ``demo``: installs the ``octavo`` distribution (and the five it brings) from this tree
  and runs ``examples/quickstart.py``: Tubs on loopback TLS calling each other (a typed
  service, a Copyable, a callback, latency and throughput), then the application server
  and client.
* ``test``: installs tox and tox-uv and runs every tox environment (the whole suite), then
  adds up the JUnit XML reports the envs' pytest runs wrote (``.tox/ENV/tmp/junit.xml``).

Extra arguments after ``test`` are handed to tox (``python3 dev.py test -e furl``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"

#: what ``demo`` installs (the octavo distribution and its siblings, from this tree) and runs
DEMO_PACKAGES = (
    "./packages/furl",
    "./packages/banana",
    "./packages/reconnector",
    "./packages/tub",
    "./packages/logging",
    "./packages/octavo",
)
DEMO_SCRIPT = ROOT / "examples" / "quickstart.py"


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
    """Install octavo (and its siblings) and run the Quick start program."""
    _ensure_venv()
    _pip_install(*DEMO_PACKAGES)
    print(f"$ python {DEMO_SCRIPT.relative_to(ROOT)}", flush=True)
    run = subprocess.run(
        [os.fspath(PY), os.fspath(DEMO_SCRIPT)], check=False, cwd=ROOT, timeout=300
    )
    return run.returncode


#: Where tox.ini has each env's pytest write its JUnit XML report (--junitxml={env_tmp_dir}/...).
REPORTS = ".tox/*/tmp/junit.xml"


def reports(root: Path = ROOT) -> list[Path]:
    """The JUnit XML reports of the tox envs under *root*."""
    return sorted(root.glob(REPORTS))


def count_reports(paths: Iterable[Path]) -> dict[str, int]:
    """Add up the ``<testsuite>`` counts of pytest's JUnit XML reports at *paths*.

    ``passed`` is tests minus failures, errors and skipped; ``failed`` is failures plus errors
    (pytest's "failed" and "error"); ``skipped`` includes xfailed tests, which JUnit XML
    reports as skipped. Raises ValueError naming a file that is not XML.
    """
    totals = {"passed": 0, "failed": 0, "skipped": 0}
    for path in paths:
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError as exc:
            raise ValueError(f"{path} is not a JUnit XML report ({exc})") from exc
        for suite in root.iter("testsuite"):
            tests, failures, errors, skipped = (
                int(suite.get(key, "0")) for key in ("tests", "failures", "errors", "skipped")
            )
            totals["passed"] += tests - failures - errors - skipped
            totals["failed"] += failures + errors
            totals["skipped"] += skipped
    return totals


def test(tox_args: list[str]) -> int:
    """Run the whole test suite through tox (every environment, or those named).

    tox's output is passed through; at the end one line adds up what pytest reported in every
    environment this run tested: ``tests: N passed, N failed, N skipped``. The numbers come
    from the JUnit XML reports, removed before the run so that only this run's are counted.
    """
    _ensure_venv()
    _pip_install("tox>=4.29", "tox-uv>=1.0")
    for stale in reports():
        stale.unlink()
    tox = subprocess.run([os.fspath(BIN / "tox"), *tox_args], cwd=ROOT, check=False)
    try:
        totals = count_reports(reports())
    except ValueError as exc:
        print(f"dev.py: cannot add up the tests: {exc}", file=sys.stderr)
        return tox.returncode or 1
    passed, failed, skipped = totals["passed"], totals["failed"], totals["skipped"]
    print(f"tests: {passed} passed, {failed} failed, {skipped} skipped", flush=True)
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
