"""Build every distribution under packages/ (sdist and wheel) into one folder.

Usage: python scripts/build_all.py [OUTDIR]   (default: dist)

The packages are those of packages.toml, built in its order. Earlier builds of them are removed
from OUTDIR first, so that it holds exactly one sdist and one wheel of each, at the versions the
tree declares now. Needs ``build`` and ``packaging`` (through scripts/monorepo.py).
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from monorepo import ROOT, Package, read_packages


def stale_artifacts(out: Path, packages: Iterable[Package]) -> list[Path]:
    """Earlier sdists and wheels of *packages* in *out*."""
    found: list[Path] = []
    for package in packages:
        found += out.glob(f"{package.file_stem}-*.whl")
        found += out.glob(f"{package.file_stem}-*.tar.gz")
    return sorted(set(found))


def main(argv: list[str]) -> int:
    """Build each package with `python -m build` into the folder named in argv."""
    packages = read_packages(ROOT)
    out = Path(argv[0] if argv else "dist").resolve()
    out.mkdir(parents=True, exist_ok=True)
    for old in stale_artifacts(out, packages):
        old.unlink()
    installer = []
    if importlib.util.find_spec("uv") is not None or shutil.which("uv"):
        installer = ["--installer", "uv"]
    for package in packages:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "build",
                *installer,
                "--outdir",
                str(out),
                str(package.directory),
            ],
            check=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
