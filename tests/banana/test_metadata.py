"""The installed octavo-banana distribution matches its source."""

from importlib.metadata import version

from octavo.banana import __version__


def test_installed_version_matches_module() -> None:
    """The version in the installed metadata is the one the module declares."""
    assert version("octavo-banana") == __version__
