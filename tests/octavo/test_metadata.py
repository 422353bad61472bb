"""The installed octavo distribution matches its source."""

from importlib.metadata import version

from octavo.api import __version__


def test_installed_version_matches_module() -> None:
    """The version in the installed metadata is the one the module declares."""
    assert version("octavo") == __version__
