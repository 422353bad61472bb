"""`python3 dev.py test` adds up pytest's JUnit XML reports for its closing line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from ._support import TIMEOUT, load_dev_module

dev = load_dev_module()

REPORT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="{errors}" failures="{failures}"
 skipped="{skipped}" tests="{tests}" time="0.1" timestamp="2026-01-01T00:00:00"
 hostname="h"></testsuite></testsuites>
"""


def report(
    where: Path, *, tests: int, failures: int = 0, errors: int = 0, skipped: int = 0
) -> Path:
    """Write a pytest-style JUnit XML report with these counts at *where*."""
    where.parent.mkdir(parents=True, exist_ok=True)
    counts = {"tests": tests, "failures": failures, "errors": errors, "skipped": skipped}
    where.write_text(REPORT.format(**counts), "utf-8")
    return where


def test_one_report_gives_passed_failed_and_skipped(tmp_path: Path) -> None:
    """Passed is what is neither failed, errored nor skipped; errors count as failed."""
    path = report(tmp_path / "r.xml", tests=10, failures=2, errors=1, skipped=3)
    assert dev.count_reports([path]) == {"passed": 4, "failed": 3, "skipped": 3}


def test_reports_of_several_envs_add_up(tmp_path: Path) -> None:
    """The closing line is the sum over every env's report."""
    paths = [
        report(tmp_path / "a.xml", tests=5),
        report(tmp_path / "b.xml", tests=7, failures=1, skipped=2),
    ]
    assert dev.count_reports(paths) == {"passed": 9, "failed": 1, "skipped": 2}


def test_a_bare_testsuite_root_is_read_too(tmp_path: Path) -> None:
    """Older pytest writes <testsuite> as the root element, without <testsuites>."""
    path = tmp_path / "old.xml"
    path.write_text('<testsuite tests="3" failures="1" errors="0" skipped="1"/>', "utf-8")
    assert dev.count_reports([path]) == {"passed": 1, "failed": 1, "skipped": 1}


def test_a_report_that_is_not_xml_is_named(tmp_path: Path) -> None:
    """A truncated report is not guessed at: the error names the file."""
    path = tmp_path / "cut.xml"
    path.write_text("<testsuites><testsuite tests=", "utf-8")
    with pytest.raises(ValueError, match=r"cut\.xml is not a JUnit XML report"):
        dev.count_reports([path])


def test_reports_are_found_in_each_env_tmp_dir(tmp_path: Path) -> None:
    """dev.py looks for .tox/ENV/tmp/junit.xml (and so removes stale ones before a run)."""
    wanted = [
        report(tmp_path / ".tox" / env / "tmp" / "junit.xml", tests=1) for env in ("a", "b-c")
    ]
    report(tmp_path / ".tox" / "a" / "junit.xml", tests=1)
    report(tmp_path / "elsewhere" / "tmp" / "junit.xml", tests=1)
    assert dev.reports(tmp_path) == wanted


SAMPLE_TESTS = """
import pytest

@pytest.fixture
def broken():
    raise RuntimeError("setup fails")

def test_pass_1(): pass
def test_pass_2(): pass
def test_pass_3(): pass
def test_fail_1(): assert False
def test_fail_2(): assert False
def test_error(broken): pass
@pytest.mark.skip(reason="shown")
def test_skip(): pass
@pytest.mark.parametrize("n", [1, 2])
def test_param(n): assert n == 1
"""


def test_counts_match_pytests_own_summary(tmp_path: Path) -> None:
    """On a real pytest run, the counts equal those of pytest's summary line."""
    (tmp_path / "test_sample.py").write_text(SAMPLE_TESTS, "utf-8")
    junit = tmp_path / "junit.xml"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--junitxml={junit}", "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    summary = proc.stdout.strip().splitlines()[-1]
    said = {word: int(n) for n, word in re.findall(r"(\d+) (passed|failed|skipped|error)", summary)}
    assert said == {"passed": 4, "failed": 3, "skipped": 1, "error": 1}, summary
    assert dev.count_reports([junit]) == {
        "passed": said["passed"],
        "failed": said["failed"] + said["error"],
        "skipped": said["skipped"],
    }
