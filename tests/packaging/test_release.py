"""scripts/release.py, run in a throwaway clone: its refusals and a full release of furl."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ._support import RELEASE_SCRIPT, ROOT, TIMEOUT, version_in

FURL_DIR = Path("packages/furl")
FURL_VERSION = FURL_DIR / "src/octavo/furl/_version.py"
FURL_CHANGELOG = FURL_DIR / "CHANGELOG.md"


def git(repo: Path, *args: str) -> str:
    """Run git in *repo*; return stripped stdout."""
    proc = subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, timeout=TIMEOUT, check=True
    )
    return proc.stdout.strip()


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A fresh clone of this repository's HEAD (without its tags), with a committer set."""
    repo = tmp_path / "repo"
    subprocess.run(
        ["git", "clone", "--quiet", "--no-tags", os.fspath(ROOT), os.fspath(repo)],
        check=True,
        capture_output=True,
        timeout=TIMEOUT,
    )
    for key, value in (
        ("user.name", "Octavo release test"),
        ("user.email", "release-test@octavo.invalid"),
        ("commit.gpgsign", "false"),
        ("tag.gpgsign", "false"),
    ):
        git(repo, "config", key, value)
    return repo


def release(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run this tree's scripts/release.py against the clone *repo*."""
    return subprocess.run(
        [sys.executable, os.fspath(RELEASE_SCRIPT), *args, "--root", os.fspath(repo)],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def furl_version(repo: Path) -> str:
    """octavo-furl's version in *repo*."""
    return version_in((repo / FURL_VERSION).read_text("utf-8"))


def next_minor(version: str) -> str:
    """The next minor release after *version* (a plain X.Y.Z)."""
    major, minor = (int(part) for part in version.split(".")[:2])
    return f"{major}.{minor + 1}.0"


def snapshot(repo: Path) -> tuple[str, str, str]:
    """HEAD, the tag list and the status of *repo*, to show a refusal changed nothing."""
    return git(repo, "rev-parse", "HEAD"), git(repo, "tag", "--list"), git(repo, "status", "-s")


def assert_refused(proc: subprocess.CompletedProcess[str], reason: str) -> None:
    """Exit status 2 and exactly one line on stderr that gives *reason*."""
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert reason in lines[0], lines[0]


@pytest.mark.parametrize("how", ["untracked", "modified", "staged"])
def test_refuses_a_dirty_tree(clone: Path, how: str) -> None:
    """An untracked, modified or staged file makes release.py refuse and change nothing."""
    if how == "untracked":
        (clone / "stray.txt").write_text("stray\n")
    else:
        with (clone / "README.md").open("a") as stream:
            stream.write("\nedited\n")
        if how == "staged":
            git(clone, "add", "README.md")
    before = snapshot(clone)
    proc = release(clone, "furl", next_minor(furl_version(clone)))
    assert_refused(proc, "working tree is dirty")
    assert snapshot(clone) == before


def test_refuses_an_existing_tag(clone: Path) -> None:
    """If octavo-furl-vVERSION exists already, release.py refuses and changes nothing."""
    version = next_minor(furl_version(clone))
    git(clone, "tag", f"octavo-furl-v{version}")
    before = snapshot(clone)
    assert_refused(release(clone, "furl", version), f"tag octavo-furl-v{version} already exists")
    assert snapshot(clone) == before


@pytest.mark.parametrize("relative", ["same", "same-padded", "lower", "pre-release", "dev"])
def test_refuses_a_version_that_does_not_increase(clone: Path, relative: str) -> None:
    """The current version, an equal spelling, a lower one or its pre/dev release is refused."""
    current = furl_version(clone)
    candidate = {
        "same": current,
        "same-padded": f"{current}.0",
        "lower": "0.0.1",
        "pre-release": f"{current}rc1",
        "dev": f"{current}.dev3",
    }[relative]
    before = snapshot(clone)
    assert_refused(release(clone, "furl", candidate), "does not increase")
    assert snapshot(clone) == before


def test_refuses_a_version_below_an_existing_release_tag(clone: Path) -> None:
    """A version above _version.py but not above an existing tag of the package is refused."""
    current = furl_version(clone)
    git(clone, "tag", f"octavo-furl-v{next_minor(next_minor(current))}")
    proc = release(clone, "furl", next_minor(current))
    assert_refused(proc, "does not increase on tagged version")


@pytest.mark.parametrize("bad", ["banana", "1.0+local", "1..0", ""])
def test_refuses_a_version_that_is_not_pep440(clone: Path, bad: str) -> None:
    """A version string that is not a PEP 440 public version is refused."""
    assert_refused(release(clone, "furl", bad), "not a PEP 440 public version")


def test_refuses_a_changelog_without_unreleased_entries(clone: Path) -> None:
    """A release with nothing under '## Unreleased' is refused."""
    changelog = clone / FURL_CHANGELOG
    changelog.write_text("# Changelog of octavo-furl\n\n## Unreleased\n\n## 0.0.1\n\n- Old.\n")
    git(clone, "commit", "--quiet", "-am", "Empty the changelog")
    before = snapshot(clone)
    assert_refused(release(clone, "furl", next_minor(furl_version(clone))), "section is empty")
    assert snapshot(clone) == before


def test_refuses_a_sibling_outside_the_declared_range(clone: Path) -> None:
    """Releasing tub while the tree's furl is outside tub's range for it is refused."""
    (clone / FURL_VERSION).write_text('"""Version."""\n\n__version__ = "9.0.0"\n', "utf-8")
    git(clone, "commit", "--quiet", "-am", "Move furl out of tub's range")
    tub_version = version_in((clone / "packages/tub/src/octavo/tub/_version.py").read_text("utf-8"))
    before = snapshot(clone)
    proc = release(clone, "tub", next_minor(tub_version))
    assert_refused(proc, "octavo-tub requires octavo-furl")
    assert "but packages/furl is at 9.0.0" in proc.stderr
    assert snapshot(clone) == before


def test_full_release_of_furl(clone: Path) -> None:
    """A release bumps version and changelog, builds, checks a fresh venv, commits and tags."""
    old = furl_version(clone)
    new = next_minor(old)
    old_head = git(clone, "rev-parse", "HEAD")
    proc = release(clone, "furl", new, "--date", "2026-01-02")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"octavo.furl {new} imports in a fresh venv" in proc.stdout

    assert furl_version(clone) == new
    changelog = (clone / FURL_CHANGELOG).read_text("utf-8")
    assert f"## Unreleased\n\n## {new} (2026-01-02)\n\n- " in changelog
    assert changelog.count("## Unreleased") == 1

    assert (clone / "dist" / f"octavo_furl-{new}-py3-none-any.whl").is_file()
    assert (clone / "dist" / f"octavo_furl-{new}.tar.gz").is_file()

    tag = f"octavo-furl-v{new}"
    assert git(clone, "rev-parse", f"{tag}^{{commit}}") == git(clone, "rev-parse", "HEAD")
    assert git(clone, "cat-file", "-t", tag) == "tag"
    assert git(clone, "rev-parse", "HEAD~1") == old_head
    assert git(clone, "log", "-1", "--format=%s") == f"Release octavo-furl {new}"
    changed = git(clone, "diff", "--name-only", "HEAD~1", "HEAD").splitlines()
    assert sorted(changed) == sorted([FURL_VERSION.as_posix(), FURL_CHANGELOG.as_posix()])
    assert git(clone, "status", "--porcelain") == ""

    check = release(clone, "furl", new, "--check-tag")
    assert check.returncode == 0, check.stderr
    again = release(clone, "furl", new)
    assert_refused(again, f"tag {tag} already exists")


def test_dry_run_builds_and_checks_but_changes_nothing(clone: Path) -> None:
    """--dry-run goes through build and the venv check, then leaves the clone as it was."""
    before = snapshot(clone)
    new = next_minor(furl_version(clone))
    proc = release(clone, "furl", new, "--dry-run")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"octavo.furl {new} imports in a fresh venv" in proc.stdout
    assert snapshot(clone) == before
    assert not (clone / "dist").exists()


def test_check_tag_refuses_a_tag_that_is_not_head(clone: Path) -> None:
    """--check-tag (the release workflow's guard) refuses a missing tag or one not at HEAD."""
    current = furl_version(clone)
    assert_refused(release(clone, "furl", current, "--check-tag"), "does not exist")
    git(clone, "tag", f"octavo-furl-v{current}")
    assert release(clone, "furl", current, "--check-tag").returncode == 0
    git(clone, "commit", "--quiet", "--allow-empty", "-m", "Later work")
    assert_refused(release(clone, "furl", current, "--check-tag"), "does not point at HEAD")


def test_no_tag_commits_the_bump_without_tagging(clone: Path) -> None:
    """--no-tag leaves the release commit for a person to tag; --check-tag then accepts it."""
    new = next_minor(furl_version(clone))
    proc = release(clone, "furl", new, "--no-tag")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert git(clone, "log", "-1", "--format=%s") == f"Release octavo-furl {new}"
    assert git(clone, "tag", "--list") == ""
    assert_refused(release(clone, "furl", new, "--check-tag"), "does not exist")
    git(clone, "tag", f"octavo-furl-v{new}")
    assert release(clone, "furl", new, "--check-tag").returncode == 0


def test_without_packaging_says_what_to_install(tmp_path: Path) -> None:
    """Where `packaging` cannot be imported (no site-packages), release.py says what to install."""
    proc = subprocess.run(
        [sys.executable, "-S", os.fspath(RELEASE_SCRIPT), "furl", "1.0", "--root", os.fspath(ROOT)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert_refused(proc, "pip install packaging build")


def test_refuses_an_unknown_package(clone: Path) -> None:
    """A package name outside the six is refused in one line, naming the choices."""
    assert_refused(release(clone, "twisted", "1.0"), "invalid choice: 'twisted'")
