"""The GitHub workflows: one tag-triggered release for the package a tag names, and CI.

The workflows are parsed as YAML. The release steps' shell lines are run with bash as GitHub
runs them, for every package's tag, with `python`, `tox` and `pip` replaced by stand-ins that
record their arguments (except the step that runs scripts/monorepo.py, which runs for real).
"""

from __future__ import annotations

import fnmatch
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from ._support import PACKAGES, ROOT, TIMEOUT, Pkg

WORKFLOWS = ROOT / ".github" / "workflows"
IDS = [p.name for p in PACKAGES]
VERSION = "1.2.3rc1"

Workflow = dict[str, Any]


class StepError(Exception):
    """A `run:` step exited non-zero; the message holds its line and output."""


def workflow(name: str) -> Workflow:
    """.github/workflows/NAME.yml, parsed."""
    data = yaml.safe_load((WORKFLOWS / f"{name}.yml").read_text("utf-8"))
    assert isinstance(data, dict)
    return data


def triggers(data: Workflow) -> Any:
    """The `on:` block (YAML 1.1 reads the bare key `on` as True)."""
    return data["on"] if "on" in data else data[True]


def expand(text: str, values: Mapping[str, str]) -> str:
    """*text* with its ${{ expressions }} replaced from *values*; any other is an error."""

    def one(match: re.Match[str]) -> str:
        assert match[1] in values, f"unexpected expression ${{{{ {match[1]} }}}} in {text!r}"
        return values[match[1]]

    return re.sub(r"\$\{\{\s*([^}]*?)\s*\}\}", one, text)


def run_steps(
    job: Workflow, values: Mapping[str, str], tag: str, tmp_path: Path, *, real: str = ""
) -> tuple[list[list[str]], dict[str, str]]:
    """Run the `run:` steps of *job* as GitHub does; return the recorded commands and outputs.

    They run with bash in a stand-in checkout whose scripts/ is this tree's. `python`, `tox`
    and `pip` are stand-ins that record their arguments, except that a step whose line
    contains *real* runs with this interpreter as `python`.
    """
    shims, log, output = tmp_path / "shims", tmp_path / "commands.log", tmp_path / "output"
    checkout = tmp_path / "checkout"
    checkout.mkdir(parents=True, exist_ok=True)
    if not (checkout / "scripts").exists():
        (checkout / "scripts").symlink_to(ROOT / "scripts")
    shims.mkdir(exist_ok=True)
    for tool in ("python", "tox", "pip"):
        shim = shims / tool
        shim.write_text(
            '#!/bin/sh\n{ printf %s "$(basename "$0")"; for a in "$@"; do printf "\\t%s" "$a"; '
            'done; printf "\\n"; } >> "$SHIM_LOG"\n'
        )
        shim.chmod(0o755)
    real_python = tmp_path / "real"
    real_python.mkdir(exist_ok=True)
    if not (real_python / "python").exists():
        (real_python / "python").symlink_to(sys.executable)
    log.write_text("")
    output.write_text("")
    job_env = {k: expand(str(v), values) for k, v in job.get("env", {}).items()}
    for step in job["steps"]:
        if "run" not in step:
            continue
        line = step["run"]
        first = real_python if real and real in line else shims
        env = {
            **os.environ,
            **job_env,
            "PATH": f"{first}{os.pathsep}{os.environ['PATH']}",
            "GITHUB_REF_NAME": tag,
            "GITHUB_OUTPUT": os.fspath(output),
            "SHIM_LOG": os.fspath(log),
        }
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", line],
            cwd=checkout,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        if proc.returncode != 0:
            raise StepError(f"{line}\n{proc.stdout}{proc.stderr}")
    commands = [entry.split("\t") for entry in log.read_text().splitlines()]
    outputs = dict(entry.split("=", 1) for entry in output.read_text().splitlines())
    return commands, outputs


# --- release.yml: the tag names the package ------------------------------------------------


def test_release_runs_on_release_tags_only() -> None:
    """release.yml runs on pushes of tags octavo-*-v* and nothing else."""
    assert triggers(workflow("release")) == {"push": {"tags": ["octavo-*-v*"]}}


def test_only_release_yml_runs_on_tags() -> None:
    """ci.yml runs for branches and pull requests; release-package.yml only when called."""
    assert set(triggers(workflow("ci"))) == {"push", "pull_request"}
    assert set(triggers(workflow("ci"))["push"]) == {"branches"}
    assert set(triggers(workflow("release-package"))) == {"workflow_call"}


def tag_job_outputs(tag: str, tmp_path: Path) -> dict[str, str]:
    """What release.yml's tag job outputs for *tag*, its steps run for real."""
    job = workflow("release")["jobs"]["tag"]
    _, outputs = run_steps(job, {}, tag, tmp_path, real="scripts/monorepo.py")
    values = {f"steps.tag.outputs.{key}": value for key, value in outputs.items()}
    return {key: expand(value, values) for key, value in job["outputs"].items()}


@pytest.mark.parametrize("pkg", PACKAGES, ids=IDS)
def test_each_package_tag_starts_a_release_of_that_package(pkg: Pkg, tmp_path: Path) -> None:
    """octavo-NAME-vVERSION matches the trigger, and the tag job says NAME and its dist name."""
    tag = f"octavo-{pkg.name}-v{VERSION}"
    (pattern,) = triggers(workflow("release"))["push"]["tags"]
    assert fnmatch.fnmatchcase(tag, pattern)
    assert tag_job_outputs(tag, tmp_path) == {"package": pkg.name, "dist": pkg.dist_name}


@pytest.mark.parametrize("tag", ["octavo-nope-v1.0", "octavo-tub-v1.0+local", "octavo-furl-vx"])
def test_a_tag_of_no_package_stops_at_the_tag_job(tag: str, tmp_path: Path) -> None:
    """A tag that names no listed package (or no public version) fails before any other job."""
    with pytest.raises(StepError, match=r"monorepo\.py: refused"):
        tag_job_outputs(tag, tmp_path)


def test_the_release_calls_the_package_workflow_once_then_publishes() -> None:
    """Three jobs: the tag, one call of release-package.yml for its package, the publish."""
    jobs = workflow("release")["jobs"]
    assert list(jobs) == ["tag", "test-and-build", "publish"]
    call = jobs["test-and-build"]
    assert call == {
        "needs": "tag",
        "uses": "./.github/workflows/release-package.yml",
        "with": {"package": "${{ needs.tag.outputs.package }}"},
    }
    assert sorted(jobs["publish"]["needs"]) == ["tag", "test-and-build"]


# --- release-package.yml: that package alone -----------------------------------------------


@pytest.mark.parametrize("pkg", PACKAGES, ids=IDS)
def test_the_package_workflow_tests_and_builds_only_its_package(pkg: Pkg, tmp_path: Path) -> None:
    """Its jobs run `tox -f NAME`, check the tag, build packages/NAME alone and twine-check it."""
    data = workflow("release-package")
    assert triggers(data)["workflow_call"]["inputs"]["package"]["required"] is True
    assert list(data["jobs"]) == ["test", "build"]
    assert data["jobs"]["build"]["needs"] == "test"
    values = {"inputs.package": pkg.name}
    tag = f"octavo-{pkg.name}-v{VERSION}"
    test_commands, _ = run_steps(data["jobs"]["test"], values, tag, tmp_path / "test")
    assert test_commands[-1] == ["tox", "-f", pkg.name]
    assert [c for c in test_commands if c[0] == "tox"] == [["tox", "-f", pkg.name]]
    build_commands, _ = run_steps(data["jobs"]["build"], values, tag, tmp_path / "build")
    assert [c for c in build_commands if "pip" not in c] == [
        ["python", "scripts/release.py", pkg.name, VERSION, "--check-tag"],
        ["python", "-m", "build", "--outdir", "dist", f"packages/{pkg.name}"],
        ["python", "-m", "twine", "check", "--strict", "dist/*"],
    ]
    (install,) = [c for c in build_commands if "pip" in c]
    assert {"packaging>=24", "build>=1.2", "twine>=5"} <= set(install)
    assert build_commands.index(install) == 0, "packaging must be there before release.py runs"


def test_the_package_workflow_uploads_what_the_publish_job_downloads() -> None:
    """The artifact the build job uploads is the one publish downloads, for the same package."""
    (upload,) = [
        s
        for s in workflow("release-package")["jobs"]["build"]["steps"]
        if s.get("uses", "").startswith("actions/upload-artifact@")
    ]
    (download,) = [
        s
        for s in workflow("release")["jobs"]["publish"]["steps"]
        if s.get("uses", "").startswith("actions/download-artifact@")
    ]
    for pkg in PACKAGES:
        upload_name = expand(upload["with"]["name"], {"inputs.package": pkg.name})
        download_name = expand(
            download["with"]["name"],
            {"needs.tag.outputs.package": pkg.name, "needs.tag.outputs.dist": pkg.dist_name},
        )
        assert upload_name == download_name
    assert upload["with"]["if-no-files-found"] == "error"


# --- publishing: trusted publishing, OIDC only there ---------------------------------------


@pytest.mark.parametrize("pkg", PACKAGES, ids=IDS)
def test_publish_uses_trusted_publishing_from_the_package_environment(pkg: Pkg) -> None:
    """The publish job runs in pypi-DIST with the PyPI action and no password or secret."""
    publish = workflow("release")["jobs"]["publish"]
    values = {"needs.tag.outputs.package": pkg.name, "needs.tag.outputs.dist": pkg.dist_name}
    assert expand(publish["environment"]["name"], values) == f"pypi-{pkg.dist_name}"
    assert expand(publish["environment"]["url"], values) == (
        f"https://pypi.org/project/{pkg.dist_name}/"
    )
    (action,) = [s for s in publish["steps"] if "pypa/gh-action-pypi-publish" in s.get("uses", "")]
    assert action["uses"] == "pypa/gh-action-pypi-publish@release/v1"
    assert "with" not in action


def test_only_the_publish_job_gets_an_oidc_token() -> None:
    """id-token: write is granted to release.yml's publish job and nowhere else."""
    for name in ("ci", "release", "release-package"):
        data = workflow(name)
        assert data["permissions"] == {"contents": "read"}, name
        for job_name, job in data["jobs"].items():
            permissions = job.get("permissions", data["permissions"])
            if (name, job_name) == ("release", "publish"):
                assert permissions == {"id-token": "write"}
            else:
                assert "id-token" not in permissions, (name, job_name)
        text = (WORKFLOWS / f"{name}.yml").read_text("utf-8")
        assert "secrets" not in text and "password" not in text, name


# --- ci.yml and the folder ---------------------------------------------------------------


def test_ci_workflow_runs_the_whole_suite_on_pushes_and_pull_requests() -> None:
    """ci.yml runs `python3 dev.py test` on Python 3.11 for pushes and pull requests."""
    data = workflow("ci")
    assert triggers(data)["push"] == {"branches": ["**"]}
    assert "pull_request" in triggers(data)
    (job,) = data["jobs"].values()
    (setup,) = [s for s in job["steps"] if s.get("uses", "").startswith("actions/setup-python@")]
    assert setup["with"]["python-version"] == "3.11"
    assert [s["run"] for s in job["steps"] if "run" in s] == ["python3 dev.py test"]


def test_only_the_expected_workflows_exist() -> None:
    """The workflows folder holds ci.yml, release.yml and release-package.yml, no more."""
    expected = {"ci.yml", "release.yml", "release-package.yml"}
    assert {p.name for p in WORKFLOWS.iterdir()} == expected
