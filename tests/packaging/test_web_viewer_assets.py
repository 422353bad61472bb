"""octavo-logging's wheel and sdist ship the web viewer's page (package data, no build step)."""

from __future__ import annotations

import tarfile
import zipfile

from ._support import BY_NAME, built

STATIC = ("index.html", "app.js", "style.css")


def test_the_wheel_ships_the_page() -> None:
    """octavo/logging/_web/static/ holds the page's three files, as the source tree has them."""
    (wheel,) = built(BY_NAME["logging"], ".whl")
    source = BY_NAME["logging"].version_file.parent / "_web" / "static"
    with zipfile.ZipFile(wheel) as archive:
        for name in STATIC:
            assert (
                archive.read(f"octavo/logging/_web/static/{name}") == (source / name).read_bytes()
            )


def test_the_sdist_ships_the_page() -> None:
    """The sdist has them under src/, so a wheel built from it has them too."""
    (sdist,) = built(BY_NAME["logging"], ".tar.gz")
    top = sdist.name.removesuffix(".tar.gz")
    with tarfile.open(sdist) as archive:
        names = set(archive.getnames())
    for name in STATIC:
        assert f"{top}/src/octavo/logging/_web/static/{name}" in names
