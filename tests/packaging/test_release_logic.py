"""The pure parts of scripts/release.py: versions through packaging, the bumps, sibling closure."""

from __future__ import annotations

import datetime

import pytest
from packaging.version import Version

from ._support import ROOT, load_release_module

release = load_release_module()

#: Spellings PEP 440 accepts, normalized by packaging as wheel names and metadata carry them.
PUBLIC_VERSIONS = [
    "0.1",
    "0.1.0.dev1",
    "0.1.0a1.post1",
    "0.1.0rc1.post0.dev2",
    "1.0.0-1",
    "2!0.1.0",
    "V1.0",
    "1.0ALPHA2",
    "1.0-beta.3",
    "1.0c4",
    "1.0preview6",
    "1.0-rev7",
    "1.0_dev",
    "01.002.0003",
    " 1.1 ",
]


@pytest.mark.parametrize("text", PUBLIC_VERSIONS)
def test_public_versions_are_packaging_versions(text: str) -> None:
    """release.py takes a public version as packaging does and writes its normalized form."""
    version = release.parse_version(text)
    assert version == Version(text)
    assert str(version) == str(Version(text))


@pytest.mark.parametrize("text", ["", "1.", ".1", "1..0", "1.0+local", "one", "1.0-", "1.0a-b"])
def test_rejects_what_is_not_a_public_version(text: str) -> None:
    """Malformed versions and local versions (not uploadable) are refused with one reason."""
    with pytest.raises(release.RefusedError, match="not a PEP 440 public version"):
        release.parse_version(text)


def test_changelog_bump_releases_unreleased_and_opens_a_fresh_one() -> None:
    """'## Unreleased' becomes '## VERSION (DATE)' under a new, empty '## Unreleased'."""
    text = "# Changelog\n\n## Unreleased\n\n- New thing.\n\n## 0.1.0 (2026-01-01)\n\n- First.\n"
    out = release.bump_changelog(text, release.parse_version("0.2.0"), datetime.date(2026, 2, 3))
    assert out == (
        "# Changelog\n\n## Unreleased\n\n## 0.2.0 (2026-02-03)\n\n- New thing.\n\n"
        "## 0.1.0 (2026-01-01)\n\n- First.\n"
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("# Changelog\n\n## 0.1.0\n\n- First.\n", "exactly one '## Unreleased'"),
        ("# C\n\n## Unreleased\n\n- a\n\n## Unreleased\n\n- b\n", "exactly one '## Unreleased'"),
        ("# Changelog\n\n## Unreleased\n\n\n## 0.1.0\n\n- First.\n", "section is empty"),
    ],
)
def test_changelog_bump_refuses_a_missing_or_empty_section(text: str, reason: str) -> None:
    """No Unreleased heading, two of them, or nothing under it is refused with a reason."""
    with pytest.raises(release.RefusedError, match=reason):
        release.bump_changelog(text, release.parse_version("1.0"), datetime.date.today())


def test_version_source_bump_replaces_only_the_version() -> None:
    """The version file keeps its docstring; only the assigned string changes."""
    source = '"""Version."""\n\n__version__ = "0.1.0"\n'
    out = release.bump_version_source(source, release.parse_version("0.1.1rc1"))
    assert out == '"""Version."""\n\n__version__ = "0.1.1rc1"\n'


@pytest.mark.parametrize(
    ("name", "siblings"),
    [
        ("furl", []),
        ("banana", []),
        ("reconnector", []),
        ("tub", ["furl", "banana", "reconnector"]),
        ("logging", ["furl", "banana", "reconnector", "tub"]),
        ("octavo", ["furl", "banana", "reconnector", "tub", "logging"]),
    ],
)
def test_sibling_closure_follows_declared_dependencies(name: str, siblings: list[str]) -> None:
    """The wheels release.py builds next to a package are exactly its sibling closure."""
    package = release.load_package(ROOT, name)
    assert [p.name for p in release.sibling_closure(package)] == siblings
