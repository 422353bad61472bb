"""Build every distribution under packages/ (sdist and wheel) into one folder.

Usage: python scripts/build_all.py OUTDIR
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("furl", "banana", "reconnector", "tub", "logging", "octavo")


def main(argv: list[str]) -> int:
    """Build each package with `python -m build` into the folder named in argv."""
    out = Path(argv[0] if argv else "dist").resolve()
    out.mkdir(parents=True, exist_ok=True)
    for name in PACKAGES:
        subprocess.run(
            [sys.executable, "-m", "build", "--installer", "uv", "--outdir", str(out),
             str(ROOT / "packages" / name)],
            check=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
