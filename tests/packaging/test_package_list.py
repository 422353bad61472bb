"""packages.toml is the one list of packages, and it agrees with the packages/ tree."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import tomllib
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from ._support import PACKAGES, ROOT, monorepo

NAMES = [p.name for p in PACKAGES]


def declared_siblings(name: str) -> set[str]:
    """The packages/ folders whose distributions packages/NAME/pyproject.toml depends on."""
    by_dist = {}
    for pyproject in ROOT.glob("packages/*/pyproject.toml"):
        project = tomllib.loads(pyproject.read_text("utf-8"))["project"]
        by_dist[canonicalize_name(project["name"])] = pyproject.parent.name
    project = tomllib.loads((ROOT / "packages" / name / "pyproject.toml").read_text("utf-8"))
    requirements = [Requirement(r) for r in project["project"].get("dependencies", [])]
    return {by_dist[n] for r in requirements if (n := canonicalize_name(r.name)) in by_dist}


def test_the_list_names_every_package_folder_once() -> None:
    """packages.toml lists each folder of packages/ that has a pyproject.toml, and nothing else."""
    folders = sorted(p.parent.name for p in ROOT.glob("packages/*/pyproject.toml"))
    assert sorted(NAMES) == folders
    assert len(set(NAMES)) == len(NAMES)
    assert tomllib.loads((ROOT / "packages.toml").read_text("utf-8"))["packages"] == NAMES


def test_the_list_is_in_dependency_order() -> None:
    """Every package comes after each sibling its pyproject.toml depends on."""
    for index, name in enumerate(NAMES):
        assert declared_siblings(name) <= set(NAMES[:index]), name


@pytest.mark.parametrize("name", NAMES)
def test_siblings_are_those_the_pyproject_declares(name: str) -> None:
    """monorepo.py's direct siblings are the octavo-* dependencies of the package's pyproject."""
    package = {p.name: p for p in monorepo.read_packages(ROOT)}[name]
    assert {p.name for p in package.siblings} == declared_siblings(name)
    needs = {p.name for p in package.needs}
    assert declared_siblings(name) <= needs
    for sibling in package.siblings:
        assert {p.name for p in sibling.needs} <= needs


def tree_copy(tmp_path: Path) -> Path:
    """A copy of packages.toml and packages/*/{pyproject.toml,src} to break in a test."""
    root = tmp_path / "tree"
    shutil.copytree(ROOT / "packages", root / "packages", ignore=shutil.ignore_patterns("*.md"))
    shutil.copy(ROOT / "packages.toml", root / "packages.toml")
    return root


def set_list(root: Path, names: list[str]) -> None:
    """Write *names* as the list of packages.toml under *root*."""
    quoted = ", ".join(f'"{n}"' for n in names)
    (root / "packages.toml").write_text(f"packages = [{quoted}]\n", "utf-8")


def test_the_copy_reads_like_the_tree(tmp_path: Path) -> None:
    """The test copy of the tree is a valid package list (so the refusals below are real)."""
    assert [p.name for p in monorepo.read_packages(tree_copy(tmp_path))] == NAMES


@pytest.mark.parametrize(
    ("names", "reason"),
    [
        (NAMES[:-1], "not listed ['octavo']"),
        ([*NAMES, "extra"], "no folder ['extra']"),
        ([NAMES[-1], *NAMES[:-1]], "lists octavo before"),
        ([*NAMES, NAMES[0]], "lists a package twice"),
    ],
    ids=["unlisted-folder", "missing-folder", "dependency-order", "twice"],
)
def test_a_list_that_disagrees_with_the_tree_is_refused(
    tmp_path: Path, names: list[str], reason: str
) -> None:
    """A folder left out, a name without a folder, a package before its sibling: refused."""
    root = tree_copy(tmp_path)
    set_list(root, names)
    with pytest.raises(monorepo.MonorepoError, match=reason.replace("[", r"\[")):
        monorepo.read_packages(root)


@pytest.mark.parametrize("name", NAMES)
def test_each_release_tag_names_exactly_its_package(name: str) -> None:
    """octavo-NAME-vVERSION maps to NAME and VERSION, for every package."""
    package, version = monorepo.package_of_tag(
        monorepo.read_packages(ROOT), f"octavo-{name}-v1.2.3rc1"
    )
    assert package.name == name
    assert str(version) == "1.2.3rc1"


@pytest.mark.parametrize(
    "tag", ["octavo-nope-v1.0", "octavo-tub-1.0", "octavo-tub-v", "octavo-tub-v1.0+local", "v1.0"]
)
def test_a_tag_of_no_package_is_refused(tag: str) -> None:
    """An unknown package, a missing -v, or a version that is not public starts no release."""
    with pytest.raises(monorepo.MonorepoError):
        monorepo.package_of_tag(monorepo.read_packages(ROOT), tag)
