"""Build every distribution under packages/ (sdist and wheel) into one folder.

Usage: python scripts/build_all.py [OUTDIR]   (default: dist)

Earlier builds of these six distributions are removed from OUTDIR first, so that it holds
exactly one sdist and one wheel of each, at the versions the tree declares now.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("furl", "banana", "reconnector", "tub", "logging", "octavo")


def file_stem(name: str) -> str:
    """How the distribution of packages/NAME starts its wheel and sdist file names."""
    return "octavo" if name == "octavo" else f"octavo_{name}"


def stale_artifacts(out: Path) -> list[Path]:
    """Earlier sdists and wheels of our distributions in *out*."""
    found: list[Path] = []
    for name in PACKAGES:
        stem = file_stem(name)
        found += out.glob(f"{stem}-*.whl")
        found += out.glob(f"{stem}-*.tar.gz")
    return sorted(set(found))


def main(argv: list[str]) -> int:
    """Build each package with `python -m build` into the folder named in argv."""
    out = Path(argv[0] if argv else "dist").resolve()
    out.mkdir(parents=True, exist_ok=True)
    for old in stale_artifacts(out):
        old.unlink()
    installer = []
    if importlib.util.find_spec("uv") is not None or shutil.which("uv"):
        installer = ["--installer", "uv"]
    for name in PACKAGES:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "build",
                *installer,
                "--outdir",
                str(out),
                str(ROOT / "packages" / name),
            ],
            check=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
