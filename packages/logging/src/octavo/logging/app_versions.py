"""The versions this process reports (Foolscap's ``foolscap.logging.app_versions``).

``versions`` names each component and its version: flogfile headers carry it (``octavo-log
dump --verbose`` and ``flogtool dump`` show it) and a logport's ``get_versions`` answers
with it. An application adds its own with ``add_version("myapp", "1.2")``.
"""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version

import twisted

from ._version import __version__

__all__ = ["add_version", "versions"]


def _installed(dist: str) -> str | None:
    try:
        return version(dist)
    except PackageNotFoundError:
        return None


#: component name -> version string
versions: dict[str, str] = {
    "twisted": twisted.__version__,
    "python": platform.python_version(),
    "octavo-logging": __version__,
}
for _dist in ("octavo-tub", "octavo-banana", "octavo-furl"):
    _found = _installed(_dist)
    if _found is not None:
        versions[_dist] = _found


def add_version(name: str, version: object) -> None:
    """Report ``version`` for ``name`` from now on (in new flogfiles and to followers)."""
    versions[name] = str(version)
