"""The GitHub workflows: one tag-triggered release per package, and CI for the whole suite."""

from __future__ import annotations

import fnmatch
import re

import pytest

from ._support import PACKAGES, ROOT, Pkg

WORKFLOWS = ROOT / ".github" / "workflows"
IDS = [p.name for p in PACKAGES]


def workflow(name: str) -> str:
    """The text of .github/workflows/NAME.yml."""
    return (WORKFLOWS / f"{name}.yml").read_text("utf-8")


def tag_patterns(text: str) -> list[str]:
    """The tag globs under `on: push: tags:` of a workflow."""
    block = re.search(r"^on:\n((?:[ \t]+.*\n|\n)+)", text, re.MULTILINE)
    assert block is not None
    return re.findall(r'^\s+- "([^"]+)"$', block[1], re.MULTILINE)


@pytest.mark.parametrize("pkg", PACKAGES, ids=IDS)
def test_release_workflow_runs_only_on_its_package_tag(pkg: Pkg) -> None:
    """release-NAME.yml triggers on tag pushes octavo-NAME-v* and nothing else."""
    text = workflow(f"release-{pkg.name}")
    on_block = text.split("\non:\n", 1)[1].split("\npermissions:", 1)[0]
    assert re.sub(r"\s+", " ", on_block).strip() == f'push: tags: - "octavo-{pkg.name}-v*"'
    assert tag_patterns(text) == [f"octavo-{pkg.name}-v*"]


def test_each_tag_starts_exactly_one_release_workflow() -> None:
    """A tag made by release.py for one package matches no other package's workflow."""
    patterns = {p.name: tag_patterns(workflow(f"release-{p.name}")) for p in PACKAGES}
    for pkg in PACKAGES:
        tag = f"octavo-{pkg.name}-v1.2.3"
        matching = [
            n for n, globs in patterns.items() if any(fnmatch.fnmatch(tag, g) for g in globs)
        ]
        assert matching == [pkg.name]


@pytest.mark.parametrize("pkg", PACKAGES, ids=IDS)
def test_release_workflow_tests_builds_and_publishes_only_its_package(pkg: Pkg) -> None:
    """It runs the package's tox env, builds packages/NAME alone and publishes via OIDC."""
    text = workflow(f"release-{pkg.name}")
    assert re.findall(r"run: tox -e (\S+)", text) == [pkg.name]
    assert re.findall(r"packages/(\w+)", text) == [pkg.name]
    assert f"python -m build --outdir dist packages/{pkg.name}" in text
    assert (
        f'scripts/release.py {pkg.name} "${{GITHUB_REF_NAME#octavo-{pkg.name}-v}}" --check-tag'
        in text
    )
    assert "uses: pypa/gh-action-pypi-publish@release/v1" in text
    publish = text.split("\n  publish:\n", 1)[1]
    assert "id-token: write" in publish
    assert f"name: pypi-{pkg.dist_name}\n" in publish
    assert "password:" not in text and "secrets." not in text


def test_ci_workflow_runs_the_whole_suite_on_pushes_and_pull_requests() -> None:
    """ci.yml runs `python3 dev.py test` on Python 3.11 for pushes and pull requests."""
    text = workflow("ci")
    on_block = text.split("\non:\n", 1)[1].split("\npermissions:", 1)[0]
    assert "  push:" in on_block
    assert "  pull_request:" in on_block
    assert 'python-version: "3.11"' in text
    assert "run: python3 dev.py test" in text


def test_only_the_expected_workflows_exist() -> None:
    """The workflows folder holds ci.yml and one release workflow per package, no more."""
    expected = {"ci.yml"} | {f"release-{p.name}.yml" for p in PACKAGES}
    assert {p.name for p in WORKFLOWS.iterdir()} == expected
