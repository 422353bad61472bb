#!/usr/bin/env python3
"""Release one Octavo distribution: bump, build, check in a fresh venv, commit and tag.

Usage: python scripts/release.py PACKAGE VERSION [--dry-run] [--no-tag] [--date YYYY-MM-DD]
       python scripts/release.py PACKAGE VERSION --check-tag

PACKAGE is a name from packages.toml (furl, banana, ..., octavo). The script

1. refuses (exit status 2, one line on stderr) a dirty working tree, an existing tag
   ``octavo-PACKAGE-vVERSION``, a VERSION that is not a PEP 440 public version greater than
   the package's current version (and every earlier tag of that package), or a changelog
   without entries under ``## Unreleased``;
2. writes VERSION into ``packages/NAME/src/octavo/MOD/_version.py`` and turns the changelog's
   ``## Unreleased`` into ``## VERSION (DATE)`` under a fresh, empty ``## Unreleased``;
3. builds the package's sdist and wheel with ``python -m build`` (and, for a package with
   sibling dependencies, the siblings' wheels into a private wheelhouse);
4. installs the wheel into a fresh virtual environment (siblings only from that wheelhouse,
   never from an index; a package without third-party dependencies with ``--no-index``),
   imports it there and checks its installed version;
5. copies the sdist and wheel into ``dist/``, commits the bump and tags it.

If a step after the bump fails, the version file and changelog are restored (exit status 1).
``--dry-run`` does steps 1-4 and then restores the files; ``--no-tag`` commits without
tagging. ``--check-tag`` only checks that HEAD carries the tag and that the tree says VERSION
(the release workflow runs it). Needs Python 3.11+, git, ``packaging`` (versions and
requirements are parsed and compared by it) and ``build`` for building:
``pip install packaging build``.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

try:
    from packaging.version import InvalidVersion, Version

    # scripts/monorepo.py, next to this file: the packages of packages.toml (needs packaging too)
    from monorepo import MonorepoError, Package, read_packages
except ModuleNotFoundError as missing:
    if missing.name != "packaging":
        raise
    print(
        f"release.py: refused: 'packaging' is not installed for {sys.executable}: "
        "pip install packaging build",
        file=sys.stderr,
    )
    sys.exit(2)

ROOT = Path(__file__).resolve().parent.parent

EXIT_REFUSED = 2
EXIT_FAILED = 1


class RefusedError(Exception):
    """A precondition does not hold; the message is the one-line reason."""


class StepError(Exception):
    """A release step (build, install, import) failed; the message says which."""


# --- PEP 440 versions (packaging) --------------------------------------------------------


def parse_version(text: str) -> Version:
    """*text* as a PEP 440 public version; RefusedError naming it if it is not one.

    Local versions (``1.0+local``) are refused too: PyPI does not accept them.
    """
    try:
        version = Version(text)
    except InvalidVersion:
        version = None
    if version is None or version.local is not None:
        raise RefusedError(f"{text!r} is not a PEP 440 public version (e.g. 1.2.0, 1.3.0rc1)")
    return version


# --- the package tree ---------------------------------------------------------------------

_VERSION_LINE = re.compile(r'^__version__ = "(?P<version>[^"\n]*)"$', re.MULTILINE)


def load_package(root: Path, name: str) -> Package:
    """The package *name* of packages.toml in the checkout at *root*."""
    try:
        packages = {p.name: p for p in read_packages(root)}
    except MonorepoError as exc:
        raise RefusedError(str(exc)) from exc
    if name not in packages:
        choices = ", ".join(repr(n) for n in packages)
        raise RefusedError(f"argument package: invalid choice: {name!r} (choose from {choices})")
    return packages[name]


def current_version(package: Package) -> Version:
    """The version *package*'s version file declares now."""
    return parse_version(read_version_text(package.version_file.read_text("utf-8")))


def sibling_closure(package: Package) -> list[Package]:
    """Every sibling *package* needs, directly or through other siblings, in list order."""
    return list(package.needs)


def read_version_text(source: str) -> str:
    """The string assigned to ``__version__`` in a _version.py source."""
    found = _VERSION_LINE.findall(source)
    if len(found) != 1:
        raise RefusedError('the version file must hold exactly one line __version__ = "..."')
    return str(found[0])


def bump_version_source(source: str, version: Version) -> str:
    """*source* of a _version.py with its version replaced by *version*."""
    read_version_text(source)
    return _VERSION_LINE.sub(f'__version__ = "{version}"', source)


def bump_changelog(text: str, version: Version, date: datetime.date) -> str:
    """The changelog with ``## Unreleased`` released as *version* and a fresh one opened."""
    lines = text.splitlines(keepends=True)
    heads = [i for i, line in enumerate(lines) if line.rstrip() == "## Unreleased"]
    if len(heads) != 1:
        raise RefusedError("the changelog must have exactly one '## Unreleased' heading")
    start = heads[0]
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    if not any(line.strip() for line in lines[start + 1 : end]):
        raise RefusedError("the changelog's '## Unreleased' section is empty: say what changed")
    fresh = ["## Unreleased\n", "\n", f"## {version} ({date.isoformat()})\n"]
    return "".join(lines[:start] + fresh + lines[start + 1 :])


# --- subprocesses -------------------------------------------------------------------------


def run(
    argv: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    what: str,
) -> str:
    """Run *argv*; return its stdout, or raise StepError with its output if it fails."""
    proc = subprocess.run(
        [os.fspath(arg) for arg in argv],
        cwd=cwd,
        env=None if env is None else dict(env),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        output = (proc.stdout + proc.stderr).strip()
        tail = "\n".join(output.splitlines()[-30:])
        raise StepError(f"{what} failed (exit status {proc.returncode}):\n{tail}")
    return proc.stdout


def git(root: Path, *args: str) -> str:
    """Run git in *root* and return its stdout (stripped)."""
    return run(["git", *args], cwd=root, what=f"git {args[0]}").strip()


def tag_exists(root: Path, tag: str) -> bool:
    """Whether the tag exists in the repository at *root*."""
    proc = subprocess.run(
        ["git", "rev-parse", "--quiet", "--verify", f"refs/tags/{tag}"],
        cwd=root,
        capture_output=True,
        check=False,
    )
    return proc.returncode == 0


def tagged_versions(package: Package) -> list[Version]:
    """Versions of *package* that already have a tag."""
    prefix = f"octavo-{package.name}-v"
    versions = []
    for tag in git(package.root, "tag", "--list", f"{prefix}*").splitlines():
        try:
            versions.append(parse_version(tag[len(prefix) :]))
        except RefusedError:
            continue
    return versions


# --- checks -------------------------------------------------------------------------------


def check_repository(root: Path) -> None:
    """Refuse unless *root* is the top of a git checkout with a clean working tree."""
    try:
        top = Path(git(root, "rev-parse", "--show-toplevel")).resolve()
    except StepError as exc:
        raise RefusedError(f"{root} is not a git checkout") from exc
    if top != root.resolve():
        raise RefusedError(f"{root} is not the top of its git checkout ({top} is)")
    dirty = git(root, "status", "--porcelain", "--untracked-files=normal").splitlines()
    if dirty:
        raise RefusedError(
            f"the working tree is dirty ({len(dirty)} changed or untracked paths, "
            f"first {dirty[0].strip()!r}): commit or stash first"
        )


def check_new_version(package: Package, version: Version) -> None:
    """Refuse an existing tag or a version that does not increase."""
    tag = package.tag(version)
    if tag_exists(package.root, tag):
        raise RefusedError(f"tag {tag} already exists")
    current = current_version(package)
    if not version > current:
        raise RefusedError(
            f"version {version} does not increase on {package.dist_name} {current} (PEP 440 order)"
        )
    later = [v for v in tagged_versions(package) if not version > v]
    if later:
        raise RefusedError(f"version {version} does not increase on tagged version {max(later)}")


def check_sibling_ranges(package: Package) -> None:
    """Refuse if a sibling's version in this tree is outside the range *package* declares for it.

    The fresh-venv check installs the siblings as this tree builds them; a range that excludes
    them would fail there with pip's resolver message instead of this one line.
    """
    for sibling in package.siblings:
        requirement = package.requirement_on(sibling)
        assert requirement is not None
        current = current_version(sibling)
        # requirement.specifier is a packaging.specifiers.SpecifierSet: PEP 440 range semantics
        if not requirement.specifier.contains(current, prereleases=True):
            raise RefusedError(
                f"{package.dist_name} requires {requirement} "
                f"but packages/{sibling.name} is at {current}"
            )


def check_wheel_layout(wheel: Path, package: Package) -> None:
    """Fail unless the wheel ships py.typed and no ``octavo/__init__.py`` (PEP 420)."""
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    if "octavo/__init__.py" in names:
        raise StepError(f"{wheel.name} ships octavo/__init__.py (octavo is PEP 420)")
    typed = f"octavo/{package.module}/py.typed"
    if typed not in names:
        raise StepError(f"{wheel.name} lacks {typed}")


# --- build and install --------------------------------------------------------------------


def build(package: Package, outdir: Path, *, sdist: bool = True) -> None:
    """Build *package*'s wheel (and sdist) into *outdir* with ``python -m build``."""
    argv: list[str | os.PathLike[str]] = [sys.executable, "-m", "build"]
    if importlib.util.find_spec("uv") is not None or shutil.which("uv"):
        argv += ["--installer", "uv"]
    if not sdist:
        argv.append("--wheel")
    argv += ["--outdir", outdir, package.directory]
    run(argv, cwd=package.root, what=f"building {package.dist_name}")


def artifact(outdir: Path, package: Package, version: Version, suffix: str) -> Path:
    """The built file of *package* at *version* ending in *suffix* (.whl or .tar.gz)."""
    if suffix == ".whl":
        pattern = f"{package.file_stem}-{version}-*.whl"
    else:
        pattern = f"{package.file_stem}-{version}.tar.gz"
    found = sorted(outdir.glob(pattern))
    if len(found) != 1:
        raise StepError(f"expected one {pattern} in {outdir}, found {len(found)}")
    return found[0]


_IMPORT_CHECK = """
import importlib, importlib.metadata as md, json, sys
module = importlib.import_module(sys.argv[1])
print(json.dumps({
    "version": md.version(sys.argv[2]),
    "file": module.__file__ or "",
    "dists": sorted(d.metadata["Name"] for d in md.distributions()),
}))
"""


def check_in_fresh_venv(
    package: Package, wheel: Path, sibling_wheels: Sequence[Path], workdir: Path
) -> str:
    """Install *wheel* into a new venv, import it there; return a one-line summary."""
    venv_dir = workdir / "venv"
    run([sys.executable, "-m", "venv", venv_dir], cwd=workdir, what="creating a venv")
    python = venv_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    wheelhouse = wheel.parent if not sibling_wheels else sibling_wheels[0].parent
    third_party = [str(r) for p in (package, *sibling_closure(package)) for r in p.third_party()]
    argv: list[str | os.PathLike[str]] = [python, "-m", "pip", "install", "--quiet"]
    env = dict(os.environ)
    if not third_party:
        # Nothing may come from anywhere but the wheels we just built.
        argv += ["--isolated", "--no-index"]
        env["PIP_CONFIG_FILE"] = os.devnull
        env = {k: v for k, v in env.items() if not k.startswith("PIP_") or k == "PIP_CONFIG_FILE"}
    argv += ["--find-links", wheelhouse, wheel, *sibling_wheels]
    run(argv, cwd=workdir, env=env, what=f"installing {wheel.name} into a fresh venv")
    report = json.loads(
        run(
            [python, "-I", "-c", _IMPORT_CHECK, f"octavo.{package.module}", package.dist_name],
            cwd=workdir,
            what=f"importing octavo.{package.module} in the fresh venv",
        )
    )
    module_file = Path(report["file"]).resolve()
    if venv_dir.resolve() not in module_file.parents:
        raise StepError(f"octavo.{package.module} was imported from {module_file}, not the venv")
    if not third_party:
        allowed = {"pip", "setuptools", package.dist_name}
        allowed |= {p.dist_name for p in sibling_closure(package)}
        extra = sorted(set(report["dists"]) - allowed)
        if extra:
            raise StepError(f"installing {wheel.name} brought in {', '.join(extra)}")
    return f"octavo.{package.module} {report['version']} imports in a fresh venv"


# --- the release --------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    """What the command line asked for."""

    package: Package
    version: Version
    date: datetime.date
    dry_run: bool
    tag: bool


def release(options: Options, say: Callable[[str], None]) -> None:
    """Check, bump, build, verify, then commit and tag (see the module docstring)."""
    package, version = options.package, options.version
    check_repository(package.root)
    check_new_version(package, version)
    check_sibling_ranges(package)
    old_version_source = package.version_file.read_text("utf-8")
    old_changelog = package.changelog.read_text("utf-8")
    new_version_source = bump_version_source(old_version_source, version)
    new_changelog = bump_changelog(old_changelog, version, options.date)
    if importlib.util.find_spec("build") is None:
        raise RefusedError(
            f"'build' is not installed for {sys.executable}: pip install packaging build"
        )

    keep = False
    staged = False
    paths: list[str] = []
    try:
        package.version_file.write_text(new_version_source, "utf-8")
        package.changelog.write_text(new_changelog, "utf-8")
        say(f"bumped {package.dist_name} to {version}")
        with tempfile.TemporaryDirectory(prefix=f"release-{package.name}-") as tmp:
            staging = Path(tmp) / "dist"
            wheelhouse = Path(tmp) / "siblings"
            build(package, staging)
            wheel = artifact(staging, package, version, ".whl")
            sdist = artifact(staging, package, version, ".tar.gz")
            check_wheel_layout(wheel, package)
            say(f"built {sdist.name} and {wheel.name}")
            sibling_wheels = []
            for sibling in sibling_closure(package):
                build(sibling, wheelhouse, sdist=False)
                sibling_wheels.append(
                    artifact(wheelhouse, sibling, current_version(sibling), ".whl")
                )
            if sibling_wheels:
                say("built sibling wheels " + ", ".join(w.name for w in sibling_wheels))
            say(check_in_fresh_venv(package, wheel, sibling_wheels, Path(tmp)))
            if options.dry_run:
                say(f"dry run: would commit and tag {package.tag(version)}; files restored")
                return
            dist = package.root / "dist"
            dist.mkdir(exist_ok=True)
            for built in (sdist, wheel):
                shutil.copy2(built, dist / built.name)
            say(f"copied {sdist.name} and {wheel.name} into {dist}")
        paths = [
            str(p.relative_to(package.root)) for p in (package.version_file, package.changelog)
        ]
        staged = True
        git(package.root, "add", "--", *paths)
        git(
            package.root, "commit", "--quiet", "-m", _commit_message(package, version), "--", *paths
        )
        keep = True
        say(f"committed {git(package.root, 'rev-parse', '--short', 'HEAD')}")
        tag = package.tag(version)
        if options.tag:
            git(package.root, "tag", "-a", tag, "-m", f"{package.dist_name} {version}")
            say(f"tagged {tag}; publish with: git push origin HEAD refs/tags/{tag}")
        else:
            say(f"not tagged (--no-tag); tag {tag} by hand to publish")
    finally:
        if not keep:
            package.version_file.write_text(old_version_source, "utf-8")
            package.changelog.write_text(old_changelog, "utf-8")
            if staged:
                subprocess.run(
                    ["git", "reset", "--quiet", "--", *paths],
                    cwd=package.root,
                    capture_output=True,
                    check=False,
                )


def _commit_message(package: Package, version: Version) -> str:
    return (
        f"Release {package.dist_name} {version}\n\n"
        f"Bump the version in {package.version_file.relative_to(package.root)} and move the\n"
        "Unreleased changelog entries under the new version (scripts/release.py).\n"
    )


def check_tag(package: Package, version: Version) -> None:
    """Refuse unless HEAD carries the package's tag for *version* and the tree says *version*."""
    tag = package.tag(version)
    if not tag_exists(package.root, tag):
        raise RefusedError(f"tag {tag} does not exist")
    tagged = git(package.root, "rev-parse", f"{tag}^{{commit}}")
    if tagged != git(package.root, "rev-parse", "HEAD"):
        raise RefusedError(f"tag {tag} does not point at HEAD")
    current = current_version(package)
    if str(current) != str(version):
        raise RefusedError(f"tag {tag} names {version} but the version file says {current}")


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one-line refusals."""

    def error(self, message: str) -> NoReturn:
        raise RefusedError(f"{message} (see --help)")


def parse_args(argv: Sequence[str]) -> tuple[Options, bool]:
    """Parse the command line into Options and whether only --check-tag was asked for."""
    parser = _Parser(prog="release.py", description="Release one Octavo distribution.")
    parser.add_argument("package", help="a name from packages.toml, e.g. furl")
    parser.add_argument("version", help="the new PEP 440 version, e.g. 0.2.0")
    parser.add_argument("--dry-run", action="store_true", help="check and build, change nothing")
    parser.add_argument("--no-tag", action="store_true", help="commit the bump but do not tag")
    parser.add_argument("--date", help="release date for the changelog (default: today, UTC)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to release from")
    parser.add_argument(
        "--check-tag", action="store_true", help="only check that HEAD is this release's tag"
    )
    args = parser.parse_args(argv)
    version = parse_version(args.version)
    try:
        date = (
            datetime.date.fromisoformat(args.date)
            if args.date
            else datetime.datetime.now(datetime.timezone.utc).date()
        )
    except ValueError as exc:
        raise RefusedError(f"--date {args.date!r} is not YYYY-MM-DD") from exc
    options = Options(
        package=load_package(args.root.resolve(), args.package),
        version=version,
        date=date,
        dry_run=args.dry_run,
        tag=not args.no_tag,
    )
    return options, args.check_tag


def main(argv: Iterable[str] | None = None) -> int:
    """Run the release; 0 on success, 2 when refused, 1 when a step failed."""
    try:
        options, only_check_tag = parse_args(list(sys.argv[1:] if argv is None else argv))
        if only_check_tag:
            check_tag(options.package, options.version)
            print(f"HEAD is {options.package.tag(options.version)}")
        else:
            release(options, lambda message: print(message, flush=True))
    except RefusedError as exc:
        print(f"release.py: refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except StepError as exc:
        print(f"release.py: failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return 0


if __name__ == "__main__":
    sys.exit(main())
