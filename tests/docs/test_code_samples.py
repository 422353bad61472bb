"""Every Python code block of the user guide (docs/**/*.md) runs, each in a fresh process.

A block is a MyST fence opened by a line of exactly three backticks and ``python``; other
fences (``console``, ``text``, ``ini``, ``{eval-rst}``) are not Python and are not run.
Each block runs alone (no state carries over from the block before it), in an empty
temporary directory, with a timeout; samples that need a reactor start and stop it
themselves (``task.react``) and use 127.0.0.1 only.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
FENCE = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)
TIMEOUT = 60


def code_samples() -> list[tuple[str, str]]:
    """(id, source) of every Python block: id is `page.md:line`."""
    samples = []
    for page in sorted(DOCS.rglob("*.md")):
        if "_build" in page.parts:
            continue
        text = page.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            samples.append((f"{page.relative_to(DOCS)}:{line}", match.group(1)))
    return samples


SAMPLES = code_samples()


def test_the_guide_has_code_samples() -> None:
    """The extraction finds the blocks (a fence spelled differently would hide them all)."""
    assert len(SAMPLES) >= 10
    assert {where.partition(":")[0] for where, _ in SAMPLES} >= {"tutorial.md", "concepts.md"}


def distributions() -> list[tuple[str, str]]:
    """(folder, distribution name) of every package of packages.toml."""
    found = []
    for name in tomllib.loads((ROOT / "packages.toml").read_text("utf-8"))["packages"]:
        pyproject = (ROOT / "packages" / name / "pyproject.toml").read_text("utf-8")
        found.append((name, tomllib.loads(pyproject)["project"]["name"]))
    return found


@pytest.mark.parametrize(("folder", "dist"), distributions())
def test_each_distribution_has_a_page_with_its_install_line(folder: str, dist: str) -> None:
    """docs/api/FOLDER.md exists, says `pip install DIST`, and the index links to it."""
    page = DOCS / "api" / f"{folder}.md"
    assert f"pip install {dist}\n" in page.read_text(encoding="utf-8")
    assert f"api/{folder}\n" in (DOCS / "index.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(("where", "source"), SAMPLES, ids=[w for w, _ in SAMPLES])
def test_code_sample_runs(where: str, source: str, tmp_path: Path) -> None:
    """The block exits 0 within TIMEOUT seconds."""
    try:
        result = subprocess.run(
            [sys.executable, "-c", source],
            check=False,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"{where}: still running after {TIMEOUT} s\n{e.stdout}\n{e.stderr}")
    assert result.returncode == 0, f"{where} failed:\n{result.stdout}\n{result.stderr}"
