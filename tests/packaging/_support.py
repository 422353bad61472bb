"""Shared helpers: where things are, reading versions, and making throwaway venvs."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "dist"
SCRIPTS = ROOT / "scripts"
RELEASE_SCRIPT = SCRIPTS / "release.py"

#: Seconds any one subprocess of these tests may take (builds, venvs, pip).
TIMEOUT = 300


def load_script(name: str, module_name: str | None = None) -> ModuleType:
    """Import scripts/NAME.py (scripts/ is not a package) as *module_name* (default NAME)."""
    module_name = module_name or name
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, SCRIPTS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


#: scripts/monorepo.py, under the name release.py and build_all.py import it by.
monorepo = load_script("monorepo")


@dataclass(frozen=True)
class Pkg:
    """One distribution of the monorepo (names from packages.toml and its pyproject.toml)."""

    name: str
    module: str
    dist_name: str

    @property
    def file_stem(self) -> str:
        """How its wheel and sdist file names start."""
        return self.dist_name.replace("-", "_")

    @property
    def version_file(self) -> Path:
        """Its single-sourced version file in this tree."""
        return ROOT / "packages" / self.name / "src" / "octavo" / self.module / "_version.py"

    def declared_version(self) -> str:
        """The version its _version.py declares."""
        return version_in(self.version_file.read_text("utf-8"))


PACKAGES = tuple(Pkg(p.name, p.module, p.dist_name) for p in monorepo.read_packages(ROOT))
BY_NAME = {p.name: p for p in PACKAGES}
BY_DIST = {p.dist_name: p for p in PACKAGES}


def version_in(source: str) -> str:
    """The string assigned to __version__ in a _version.py source."""
    found = re.findall(r'^__version__ = "([^"\n]*)"$', source, re.MULTILINE)
    assert len(found) == 1, source
    return str(found[0])


def built(pkg: Pkg, suffix: str) -> list[Path]:
    """The files in dist/ of *pkg* ending in *suffix* (.whl or .tar.gz), any version."""
    assert DIST.is_dir(), "dist/ is missing: run `python scripts/build_all.py dist` first"
    return sorted(DIST.glob(f"{pkg.file_stem}-*{suffix}"))


def load_dev_module() -> ModuleType:
    """Import the root's dev.py as a module."""
    name = "octavo_dev_script"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "dev.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_release_module() -> ModuleType:
    """Import scripts/release.py as a module (its `import monorepo` finds the one above)."""
    return load_script("release", "octavo_release_script")


def offline_env() -> dict[str, str]:
    """The environment without any pip configuration: no index, no find-links."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def make_venv(where: Path) -> Path:
    """Create a fresh venv with `python -m venv` at *where*; return its python."""
    subprocess.run(
        [sys.executable, "-m", "venv", os.fspath(where)],
        check=True,
        capture_output=True,
        timeout=TIMEOUT,
    )
    return where / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def install_offline(python: Path, *wheels: Path) -> None:
    """pip-install exactly *wheels* into the venv of *python*, with no index at all."""
    proc = subprocess.run(
        [os.fspath(python), "-m", "pip", "install", "--isolated", "--no-index", "--quiet"]
        + [os.fspath(w) for w in wheels],
        env=offline_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def run_in(python: Path, code: str, *args: str) -> str:
    """Run *code* in isolated mode with the venv's python; return stdout."""
    proc = subprocess.run(
        [os.fspath(python), "-I", "-c", code, *args],
        cwd=python.parent,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def venv_distributions(python: Path) -> set[str]:
    """Names of every distribution installed in the venv of *python*."""
    code = (
        "import importlib.metadata as m, json; "
        "print(json.dumps(sorted(d.metadata['Name'] for d in m.distributions())))"
    )
    return set(json.loads(run_in(python, code)))
