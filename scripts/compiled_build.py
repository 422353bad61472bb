"""Build octavo-tub's optional compiled wheel and unpack it where a test run imports it.

``python scripts/compiled_build.py DIR`` builds ``packages/tub``'s wheel with its mypyc
hook switched on (``HATCH_BUILD_HOOK_ENABLE_MYPYC=1``; the hook's settings are in
``packages/tub/pyproject.toml``), using the hatchling, hatch-mypyc and mypy installed
beside this Python (no isolated build environment), and unpacks it into DIR, emptied
first. The build works on copies (the package, and octavo-banana's source, whose types
mypyc reads): hatch-mypyc compiles beside the sources and sets pyproject.toml aside
while it runs, which must never happen to the tree itself. With DIR first on
``PYTHONPATH``, ``import octavo.tub`` is the compiled build (the other octavo packages
come from wherever they are installed); tox -e tub-compiled runs tests/tub so.
``--wheel DIR`` puts the wheel itself into DIR instead (to install elsewhere). Exits
non-zero, saying why, when the build fails or the wheel lacks a compiled module the
hook lists.
"""

from __future__ import annotations

import importlib.machinery
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "packages" / "tub"


def compiled_modules() -> list[str]:
    """The paths inside the wheel of the modules the mypyc hook compiles."""
    with open(PACKAGE / "pyproject.toml", "rb") as f:
        hook = tomllib.load(f)["tool"]["hatch"]["build"]["targets"]["wheel"]["hooks"]["mypyc"]
    return [path.removeprefix("src/") for path in hook["include"]]


def build(into: Path) -> Path:
    """Build the compiled wheel into the folder ``into`` (from copies made there); its
    path."""
    package = into / "packages" / "tub"
    shutil.copytree(PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__", ".*"))
    banana = ROOT / "packages" / "banana" / "src"
    shutil.copytree(
        banana, into / "packages" / "banana" / "src", ignore=shutil.ignore_patterns("__pycache__")
    )
    env = dict(os.environ, HATCH_BUILD_HOOK_ENABLE_MYPYC="1")
    command = [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", os.fspath(into)]
    subprocess.run(command, cwd=package, env=env, check=True)
    (wheel,) = into.glob("octavo_tub-*.whl")
    return wheel


def check(wheel: Path) -> None:
    """SystemExit unless ``wheel`` holds the compiled form of every module the hook lists."""
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    missing = [m for m in compiled_modules() if m.removesuffix(".py") + suffix not in names]
    if missing:
        raise SystemExit(f"{wheel.name} has no compiled form of {', '.join(missing)}")


def unpack(wheel: Path, target: Path) -> None:
    """Unpack the checked ``wheel`` into the emptied ``target``."""
    check(wheel)
    shutil.rmtree(target, ignore_errors=True)
    with zipfile.ZipFile(wheel) as z:
        z.extractall(target)


def main(argv: list[str]) -> int:
    keep = argv[:1] == ["--wheel"]
    if keep:
        argv = argv[1:]
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    target = Path(argv[0]).resolve()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = build(Path(tmp))
        if keep:
            target.mkdir(parents=True, exist_ok=True)
            check(wheel)
            shutil.copy2(wheel, target)
            print(f"compiled build of octavo-tub: {target / wheel.name}")
        else:
            unpack(wheel, target)
            print(f"compiled build of octavo-tub ({wheel.name}) unpacked into {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
