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
RELEASE_SCRIPT = ROOT / "scripts" / "release.py"

#: Seconds any one subprocess of these tests may take (builds, venvs, pip).
TIMEOUT = 300


@dataclass(frozen=True)
class Pkg:
    """One distribution of the monorepo."""

    name: str
    module: str

    @property
    def dist_name(self) -> str:
        """Its name on PyPI."""
        return "octavo" if self.name == "octavo" else f"octavo-{self.name}"

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


PACKAGES = (
    Pkg("furl", "furl"),
    Pkg("banana", "banana"),
    Pkg("reconnector", "reconnector"),
    Pkg("tub", "tub"),
    Pkg("logging", "logging"),
    Pkg("octavo", "api"),
)
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


def load_release_module() -> ModuleType:
    """Import scripts/release.py as a module (scripts/ is not a package)."""
    name = "octavo_release_script"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, RELEASE_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


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
