"""The installed octavo-furl distribution matches its source."""

from importlib.metadata import version

from octavo.furl import __version__


def test_installed_version_matches_module() -> None:
    """The version in the installed metadata is the one the module declares."""
    assert version("octavo-furl") == __version__
