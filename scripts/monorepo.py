#!/usr/bin/env python3
"""The distributions of this monorepo, as packages.toml lists them and their own files say.

packages.toml names each folder under ``packages/`` once, in dependency order. What else the
tools need is read from the package's own files, so that no other copy exists:

* ``dist_name``: ``[project] name`` of ``packages/NAME/pyproject.toml``;
* ``module``: the one package folder under ``packages/NAME/src/octavo/`` (``octavo.MODULE``);
* ``siblings``: the listed packages that ``[project] dependencies`` names;
* ``needs``: those siblings and every sibling they need in turn, in list order.

:func:`read_packages` refuses (:class:`MonorepoError`) a list that disagrees with the tree: a
folder under ``packages/`` that is not listed or a listed name without a folder, a package
listed before a sibling it depends on, a package without exactly one module folder.

scripts/release.py and scripts/build_all.py import this module (run as scripts, they have
``scripts/`` on ``sys.path``); toxfile.py and tests/packaging load it by its path. It needs
Python 3.11+ and ``packaging``.

Run as a script, it tells the release workflow which package a tag releases::

    python scripts/monorepo.py tag octavo-tub-v0.2.0

prints ``package=tub``, ``dist=octavo-tub`` and ``version=0.2.0``, one per line (the format of
``$GITHUB_OUTPUT``). A tag that is not ``octavo-NAME-vVERSION`` for exactly one listed NAME and a
public PEP 440 VERSION is refused: exit status 2 and one line on stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import tomllib
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
LIST_FILE = "packages.toml"

EXIT_REFUSED = 2


class MonorepoError(Exception):
    """packages.toml, the packages/ tree or a release tag do not fit; the message says how."""


@dataclass(frozen=True)
class Package:
    """One distribution of the monorepo, in the checkout at *root*."""

    #: The checkout holding ``packages/`` and ``packages.toml``.
    root: Path
    #: Its folder under ``packages/``; also its tox env and its name for scripts/release.py.
    name: str
    #: Its distribution name on PyPI.
    dist_name: str
    #: The module under ``octavo.`` it provides (the meta package's is ``api``).
    module: str
    #: Its ``[project] dependencies``.
    requirements: tuple[Requirement, ...]
    #: The listed packages it requires directly, in list order.
    siblings: tuple[Package, ...]
    #: Every listed package it requires, directly or through another, in list order.
    needs: tuple[Package, ...]

    @property
    def directory(self) -> Path:
        """The project folder holding its pyproject.toml."""
        return self.root / "packages" / self.name

    @property
    def file_stem(self) -> str:
        """How its wheel and sdist file names start."""
        return canonicalize_name(self.dist_name).replace("-", "_")

    @property
    def version_file(self) -> Path:
        """The file that single-sources its version."""
        return self.directory / "src" / "octavo" / self.module / "_version.py"

    @property
    def changelog(self) -> Path:
        """Its CHANGELOG.md."""
        return self.directory / "CHANGELOG.md"

    @property
    def tag_prefix(self) -> str:
        """What its release tags start with: ``octavo-NAME-v``."""
        return f"octavo-{self.name}-v"

    def tag(self, version: Version | str) -> str:
        """The git tag of its release *version*."""
        return f"{self.tag_prefix}{version}"

    def requirement_on(self, sibling: Package) -> Requirement | None:
        """Its requirement naming *sibling*'s distribution, if it has one."""
        wanted = canonicalize_name(sibling.dist_name)
        return next((r for r in self.requirements if canonicalize_name(r.name) == wanted), None)

    def third_party(self) -> tuple[Requirement, ...]:
        """Its requirements that name no listed package."""
        siblings = {canonicalize_name(p.dist_name) for p in self.siblings}
        return tuple(r for r in self.requirements if canonicalize_name(r.name) not in siblings)


def package_names(root: Path = ROOT) -> list[str]:
    """The names packages.toml lists, in its order."""
    path = root / LIST_FILE
    try:
        with path.open("rb") as stream:
            names = tomllib.load(stream).get("packages")
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise MonorepoError(f"cannot read {path}: {exc}") from exc
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise MonorepoError(f'{path} must say packages = ["NAME", ...]')
    if len(set(names)) != len(names):
        raise MonorepoError(f"{path} lists a package twice")
    return names


def read_packages(root: Path = ROOT) -> tuple[Package, ...]:
    """Every listed package of the checkout at *root*, in list order (see the module doc)."""
    names = package_names(root)
    folders = {p.name for p in (root / "packages").iterdir() if p.is_dir()}
    if set(names) != folders:
        unlisted = sorted(folders - set(names))
        missing = sorted(set(names) - folders)
        raise MonorepoError(
            f"{LIST_FILE} and packages/ disagree: not listed {unlisted}, no folder {missing}"
        )
    projects = {name: _project(root, name) for name in names}
    by_dist = {canonicalize_name(str(projects[n]["name"])): n for n in names}
    done: dict[str, Package] = {}
    for name in names:
        requirements = _requirements(root, name, projects[name])
        dists = [canonicalize_name(r.name) for r in requirements]
        sibling_names = {by_dist[d] for d in dists if d in by_dist}
        late = sorted(sibling_names - set(done))
        if late:
            raise MonorepoError(f"{LIST_FILE} lists {name} before {late[0]}, which it depends on")
        needed = set(sibling_names)
        for sibling in sibling_names:
            needed.update(p.name for p in done[sibling].needs)
        done[name] = Package(
            root=root,
            name=name,
            dist_name=str(projects[name]["name"]),
            module=_module(root, name),
            requirements=tuple(requirements),
            siblings=tuple(done[s] for s in names if s in sibling_names),
            needs=tuple(done[s] for s in names if s in needed),
        )
    return tuple(done.values())


def package_of_tag(packages: Sequence[Package], tag: str) -> tuple[Package, Version]:
    """The package whose release tag *tag* is, and the version it names."""
    matches = [p for p in packages if tag.startswith(p.tag_prefix)]
    if len(matches) != 1:
        names = ", ".join(p.name for p in packages)
        raise MonorepoError(f"tag {tag!r} is not octavo-NAME-vVERSION for one of {names}")
    (package,) = matches
    text = tag.removeprefix(package.tag_prefix)
    try:
        version = Version(text)
    except InvalidVersion:
        version = None
    if version is None or version.local is not None:
        raise MonorepoError(f"tag {tag!r}: {text!r} is not a PEP 440 public version")
    return package, version


def _project(root: Path, name: str) -> dict[str, object]:
    path = root / "packages" / name / "pyproject.toml"
    try:
        with path.open("rb") as stream:
            project = tomllib.load(stream).get("project")
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise MonorepoError(f"cannot read {path}: {exc}") from exc
    if not isinstance(project, dict) or not isinstance(project.get("name"), str):
        raise MonorepoError(f"{path} has no [project] name")
    return project


def _requirements(root: Path, name: str, project: dict[str, object]) -> list[Requirement]:
    items = project.get("dependencies", [])
    assert isinstance(items, list)
    try:
        return [Requirement(str(item)) for item in items]
    except InvalidRequirement as exc:
        raise MonorepoError(f"packages/{name}/pyproject.toml: {exc}") from exc


def _module(root: Path, name: str) -> str:
    namespace = root / "packages" / name / "src" / "octavo"
    found = sorted(init.parent.name for init in namespace.glob("*/__init__.py"))
    if len(found) != 1:
        raise MonorepoError(f"{namespace} must hold exactly one package folder, not {found}")
    return found[0]


def main(argv: Sequence[str]) -> int:
    """``tag TAG``: print package=, dist= and version= of the release TAG starts."""
    if len(argv) != 2 or argv[0] != "tag":
        print("usage: python scripts/monorepo.py tag TAG", file=sys.stderr)
        return EXIT_REFUSED
    try:
        package, version = package_of_tag(read_packages(ROOT), argv[1])
    except MonorepoError as exc:
        print(f"monorepo.py: refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    print(f"package={package.name}\ndist={package.dist_name}\nversion={version}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
