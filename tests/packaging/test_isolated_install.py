"""The standard-library-only wheels, installed alone into a fresh venv, pull in nothing."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from ._support import (
    BY_NAME,
    TIMEOUT,
    built,
    install_offline,
    make_venv,
    run_in,
    venv_distributions,
)

#: What `python -m venv` itself puts into a new environment (setuptools only before 3.12).
VENV_SEED = {"pip", "setuptools"}

DEMO_TUBID = "ubnnhm7ehvhobtpdgrjonymzd3eopy6u"
DEMO_FURL = f"pb://{DEMO_TUBID}@tcp:127.0.0.1:46529/calculator"

_WHERE = """
import importlib, importlib.util, json, sys
module = importlib.import_module(sys.argv[1])
print(json.dumps({"file": module.__file__, "version": module.__version__,
                  "twisted": importlib.util.find_spec("twisted") is not None}))
"""


def _venv_with(name: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    (wheel,) = built(BY_NAME[name], ".whl")
    python = make_venv(tmp_path_factory.mktemp(f"venv-{name}") / "venv")
    install_offline(python, wheel)
    return python


@pytest.fixture(scope="module")
def furl_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding only the octavo-furl wheel (installed with --no-index)."""
    return _venv_with("furl", tmp_path_factory)


@pytest.fixture(scope="module")
def banana_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding only the octavo-banana wheel (installed with --no-index)."""
    return _venv_with("banana", tmp_path_factory)


@pytest.mark.parametrize("name", ["furl", "banana"])
def test_wheel_alone_brings_in_no_third_party_distribution(
    name: str, request: pytest.FixtureRequest
) -> None:
    """Besides the venv's own pip/setuptools, the only distribution present is the package."""
    python: Path = request.getfixturevalue(f"{name}_venv")
    dists = venv_distributions(python)
    assert BY_NAME[name].dist_name in dists
    assert dists - VENV_SEED == {BY_NAME[name].dist_name}


@pytest.mark.parametrize("name", ["furl", "banana"])
def test_wheel_alone_imports_from_the_venv_without_twisted(
    name: str, request: pytest.FixtureRequest
) -> None:
    """octavo.NAME imports from the venv's site-packages, at its version; Twisted is absent."""
    python: Path = request.getfixturevalue(f"{name}_venv")
    pkg = BY_NAME[name]
    report = json.loads(run_in(python, _WHERE, f"octavo.{pkg.module}"))
    venv_dir = python.parent.parent.resolve()
    assert venv_dir in Path(report["file"]).resolve().parents
    assert report["version"] == pkg.declared_version()
    assert report["twisted"] is False


def test_furl_command_parses_a_furl_in_the_furl_only_venv(furl_venv: Path) -> None:
    """`octavo-furl parse FURL`, installed from the wheel alone, exits 0 and shows the tubid."""
    tool = furl_venv.parent / ("octavo-furl.exe" if os.name == "nt" else "octavo-furl")
    proc = subprocess.run(
        [os.fspath(tool), "parse", DEMO_FURL],
        cwd=furl_venv.parent,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert DEMO_TUBID in proc.stdout
