"""dist/ holds a correct sdist and wheel of every package, at the versions the tree declares."""

from __future__ import annotations

import email.parser
import tarfile
import zipfile
from email.message import Message
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from ._support import BY_DIST, BY_NAME, PACKAGES, Pkg, built

IDS = [p.name for p in PACKAGES]


def wheel_of(pkg: Pkg) -> Path:
    """The single wheel of *pkg* in dist/."""
    wheels = built(pkg, ".whl")
    assert len(wheels) == 1, wheels
    return wheels[0]


def sdist_of(pkg: Pkg) -> Path:
    """The single sdist of *pkg* in dist/."""
    sdists = built(pkg, ".tar.gz")
    assert len(sdists) == 1, sdists
    return sdists[0]


def wheel_metadata(pkg: Pkg) -> Message:
    """The parsed METADATA of *pkg*'s wheel."""
    wheel = wheel_of(pkg)
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return email.parser.BytesParser().parsebytes(archive.read(name))


@pytest.mark.parametrize("pkg", PACKAGES, ids=IDS)
def test_one_wheel_and_one_sdist_at_the_declared_version(pkg: Pkg) -> None:
    """Each package has exactly one wheel and one sdist, named with its _version.py version."""
    version = pkg.declared_version()
    assert wheel_of(pkg).name == f"{pkg.file_stem}-{version}-py3-none-any.whl"
    assert sdist_of(pkg).name == f"{pkg.file_stem}-{version}.tar.gz"


@pytest.mark.parametrize("pkg", PACKAGES, ids=IDS)
def test_metadata_names_the_declared_version(pkg: Pkg) -> None:
    """The wheel's METADATA and the sdist's PKG-INFO carry the name and _version.py version."""
    meta = wheel_metadata(pkg)
    assert meta["Name"] == pkg.dist_name
    assert meta["Version"] == pkg.declared_version()
    sdist = sdist_of(pkg)
    with tarfile.open(sdist) as archive:
        top = sdist.name.removesuffix(".tar.gz")
        member = archive.extractfile(f"{top}/PKG-INFO")
        assert member is not None
        info = email.parser.BytesParser().parsebytes(member.read())
    assert info["Name"] == pkg.dist_name
    assert info["Version"] == pkg.declared_version()


@pytest.mark.parametrize("pkg", PACKAGES, ids=IDS)
def test_wheel_is_typed_and_a_pep420_namespace_portion(pkg: Pkg) -> None:
    """The wheel ships octavo/MOD/py.typed and never octavo/__init__.py."""
    with zipfile.ZipFile(wheel_of(pkg)) as archive:
        names = set(archive.namelist())
    assert f"octavo/{pkg.module}/py.typed" in names
    assert f"octavo/{pkg.module}/__init__.py" in names
    assert "octavo/__init__.py" not in names
    dist_info = f"{pkg.file_stem}-{pkg.declared_version()}.dist-info"
    assert {n.split("/")[0] for n in names} == {"octavo", dist_info}


@pytest.mark.parametrize("pkg", PACKAGES, ids=IDS)
def test_sdist_holds_sources_changelog_and_no_namespace_init(pkg: Pkg) -> None:
    """The sdist has the module, py.typed, README and CHANGELOG, and no octavo/__init__.py."""
    sdist = sdist_of(pkg)
    top = sdist.name.removesuffix(".tar.gz")
    with tarfile.open(sdist) as archive:
        names = {n.removeprefix(f"{top}/") for n in archive.getnames()}
    for expected in (
        f"src/octavo/{pkg.module}/__init__.py",
        f"src/octavo/{pkg.module}/py.typed",
        "README.md",
        "CHANGELOG.md",
        "pyproject.toml",
    ):
        assert expected in names
    assert "src/octavo/__init__.py" not in names


@pytest.mark.parametrize("name", ["furl", "banana"])
def test_stdlib_only_wheels_require_nothing(name: str) -> None:
    """octavo-furl and octavo-banana declare no dependency at all."""
    assert wheel_metadata(BY_NAME[name]).get_all("Requires-Dist") is None


def next_breaking(version: Version) -> Version:
    """The first version a compatible range must exclude (next minor for 0.x)."""
    if version.major == 0:
        return Version(f"0.{version.minor + 1}.0")
    return Version(f"{version.major + 1}.0.0")


def sibling_requirements(pkg: Pkg) -> dict[str, Requirement]:
    """Requires-Dist entries of *pkg*'s wheel that name sibling distributions."""
    out = {}
    for line in wheel_metadata(pkg).get_all("Requires-Dist") or []:
        requirement = Requirement(line)
        if requirement.name in BY_DIST:
            out[requirement.name] = requirement
    return out


@pytest.mark.parametrize(
    ("name", "siblings"),
    [
        ("tub", {"octavo-furl", "octavo-banana", "octavo-reconnector"}),
        ("logging", {"octavo-reconnector", "octavo-tub"}),
        (
            "octavo",
            {"octavo-furl", "octavo-banana", "octavo-reconnector", "octavo-tub", "octavo-logging"},
        ),
    ],
)
def test_sibling_dependencies_have_compatible_ranges(name: str, siblings: set[str]) -> None:
    """Sibling requirements accept the sibling's current version, not its next breaking one."""
    requirements = sibling_requirements(BY_NAME[name])
    assert set(requirements) == siblings
    for dist, requirement in requirements.items():
        current = Version(BY_DIST[dist].declared_version())
        assert requirement.marker is None
        assert current in requirement.specifier, (dist, str(requirement.specifier))
        assert next_breaking(current) not in requirement.specifier, (dist, requirement)
        assert Version("0.0.0") not in requirement.specifier, (dist, requirement)


def test_tub_wheel_requires_its_third_party_stack() -> None:
    """octavo-tub's wheel also declares Twisted, pyOpenSSL and zope.interface."""
    names = {
        canonicalize_name(Requirement(line).name)
        for line in wheel_metadata(BY_NAME["tub"]).get_all("Requires-Dist") or []
    }
    assert {"twisted", "pyopenssl", "zope-interface"} <= names
