"""The pure parts of scripts/release.py: PEP 440 order, the bumps, and sibling closure."""

from __future__ import annotations

import datetime
import itertools

import pytest
from packaging.version import Version

from ._support import ROOT, load_release_module

release = load_release_module()

VERSIONS = [
    "0.0.1",
    "0.1",
    "0.1.0",
    "0.1.0.0",
    "0.1.0.dev0",
    "0.1.0.dev1",
    "0.1.0a0",
    "0.1.0a1.dev0",
    "0.1.0a1",
    "0.1.0a1.post1",
    "0.1.0b1",
    "0.1.0rc1",
    "0.1.0rc1.post0.dev2",
    "0.1.0rc1.post0",
    "0.1.0.post0.dev0",
    "0.1.0.post0",
    "0.1.0.post1",
    "0.1.1",
    "0.2.0",
    "0.10.0",
    "1.0",
    "1.0.0-1",
    "1.0.0.post2",
    "1.2.3.4.5",
    "2!0.1.0",
    "1!9.9",
    "V1.0",
    "1.0ALPHA2",
    "1.0-beta.3",
    "1.0c4",
    "1.0pre5",
    "1.0preview6",
    "1.0-rev7",
    "1.0r8",
    "1.0_dev",
    "01.002.0003",
    " 1.1 ",
]


@pytest.mark.parametrize("text", VERSIONS)
def test_normalized_form_matches_packaging(text: str) -> None:
    """ReleaseVersion prints the same normalized version as packaging.version.Version."""
    assert str(release.ReleaseVersion.parse(text)) == str(Version(text))


def test_order_matches_packaging_for_every_pair() -> None:
    """<, ==, > of every pair agree with packaging's PEP 440 ordering."""
    for left, right in itertools.product(VERSIONS, repeat=2):
        ours = release.ReleaseVersion.parse(left), release.ReleaseVersion.parse(right)
        theirs = Version(left), Version(right)
        assert (ours[0] < ours[1]) == (theirs[0] < theirs[1]), (left, right)
        assert (ours[0] == ours[1]) == (theirs[0] == theirs[1]), (left, right)
        assert (ours[0] > ours[1]) == (theirs[0] > theirs[1]), (left, right)
        assert (ours[0] <= ours[1]) == (theirs[0] <= theirs[1]), (left, right)
        if ours[0] == ours[1]:
            assert hash(ours[0]) == hash(ours[1])


@pytest.mark.parametrize("text", ["", "1.", ".1", "1..0", "1.0+local", "one", "1.0-", "1.0a-b"])
def test_rejects_what_is_not_a_public_version(text: str) -> None:
    """Malformed versions and local versions (not uploadable) raise ValueError."""
    with pytest.raises(ValueError, match="not a PEP 440 public version"):
        release.ReleaseVersion.parse(text)


def test_changelog_bump_releases_unreleased_and_opens_a_fresh_one() -> None:
    """'## Unreleased' becomes '## VERSION (DATE)' under a new, empty '## Unreleased'."""
    text = "# Changelog\n\n## Unreleased\n\n- New thing.\n\n## 0.1.0 (2026-01-01)\n\n- First.\n"
    out = release.bump_changelog(
        text, release.ReleaseVersion.parse("0.2.0"), datetime.date(2026, 2, 3)
    )
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
        release.bump_changelog(text, release.ReleaseVersion.parse("1.0"), datetime.date.today())


def test_version_source_bump_replaces_only_the_version() -> None:
    """The version file keeps its docstring; only the assigned string changes."""
    source = '"""Version."""\n\n__version__ = "0.1.0"\n'
    out = release.bump_version_source(source, release.ReleaseVersion.parse("0.1.1rc1"))
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
    package = release.Package(ROOT, name)
    assert [p.name for p in release.sibling_closure(package)] == siblings
