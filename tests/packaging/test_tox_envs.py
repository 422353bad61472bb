"""tox's envs come from packages.toml: each installs its package and the siblings it declares.

The configuration is read as tox resolves it (`tox config`, `tox -l`, with toxfile.py loaded),
and checked against the packages' own pyproject.toml files, read here independently.
"""

from __future__ import annotations

import configparser
import os
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from ._support import PACKAGES, ROOT, TIMEOUT, load_dev_module

NAMES = [p.name for p in PACKAGES]
TOOL_ENVS = ["interop", "lint", "typecheck", "build", "fuzz", "docs"]
VARIANTS = {"banana-nofast": "banana", "tub-nofast": "tub", "tub-compiled": "tub"}
NOFAST = {variant: base for variant, base in VARIANTS.items() if variant.endswith("-nofast")}
TEST_DEPS = ["pytest>=8", "hypothesis>=6.100"]
#: Extras a package env installs its own package with.
EXTRAS = {"tub": "[tor]"}
#: Test deps a package env adds to TEST_DEPS (logging: its browser test drives Chromium;
#: tub-compiled: its build of octavo-tub's compiled wheel).
EXTRA_TEST_DEPS = {"logging": ["playwright>=1.45"], "tub-compiled": ["hatch-mypyc>=0.16"]}


def tox(*args: str, workdir: Path) -> str:
    """Run this environment's tox on the repository with *args*; return its stdout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOX_")}
    proc = subprocess.run(
        [sys.executable, "-m", "tox", "--workdir", os.fspath(workdir), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def tox_workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The work dir the `tox config` below is given (instead of .tox/)."""
    return tmp_path_factory.mktemp("tox")


@pytest.fixture(scope="module")
def config(tox_workdir: Path) -> dict[str, dict[str, list[str]]]:
    """env name -> key -> lines, for every env tox knows, as `tox config` prints them."""
    out = tox(
        "config",
        "-e",
        "ALL",
        "-k",
        "deps",
        "set_env",
        "commands",
        "commands_pre",
        "env_tmp_dir",
        workdir=tox_workdir,
    )
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(out)
    return {
        section.removeprefix("testenv:"): {
            key: [line.strip() for line in value.strip().splitlines()]
            for key, value in parser[section].items()
        }
        for section in parser.sections()
        if section.startswith("testenv:")
    }


def declared_siblings(name: str) -> set[str]:
    """Folders under packages/ whose distributions packages/NAME/pyproject.toml requires."""
    projects = {
        p.parent.name: tomllib.loads(p.read_text("utf-8"))["project"]
        for p in ROOT.glob("packages/*/pyproject.toml")
    }
    by_dist = {canonicalize_name(project["name"]): n for n, project in projects.items()}
    requirements = [Requirement(r) for r in projects[name].get("dependencies", [])]
    return {by_dist[d] for r in requirements if (d := canonicalize_name(r.name)) in by_dist}


def needed(name: str) -> set[str]:
    """*name* and every package it requires, directly or through another."""
    found, todo = set(), [name]
    while todo:
        current = todo.pop()
        if current not in found:
            found.add(current)
            todo.extend(declared_siblings(current))
    return found


def junit_report(env: str, config: dict[str, dict[str, list[str]]]) -> str:
    """Where *env*'s pytest writes its JUnit XML: junit.xml in the env's tmp dir."""
    (env_tmp_dir,) = config[env]["env_tmp_dir"]
    return os.fspath(Path(env_tmp_dir) / "junit.xml")


def installed_packages(deps: list[str]) -> list[str]:
    """The `-e ./packages/X[extras]` lines of *deps*, as X[extras]."""
    return [d.removeprefix("-e ./packages/") for d in deps if d.startswith("-e ./packages/")]


def test_default_env_list_is_the_packages_their_variants_then_the_tools(
    tmp_path: Path,
) -> None:
    """`tox -l`: the package envs in list order, the variants after tub, the tools."""
    listed = tox("-l", workdir=tmp_path).split()
    assert listed == [
        "furl",
        "banana",
        "reconnector",
        "tub",
        "banana-nofast",
        "tub-nofast",
        "tub-compiled",
        "logging",
        "octavo",
        *TOOL_ENVS,
    ]
    assert [n for n in listed if n not in VARIANTS and n not in TOOL_ENVS] == NAMES


@pytest.mark.parametrize("env", [*NAMES, *VARIANTS])
def test_each_package_env_installs_its_package_and_the_siblings_it_needs(
    env: str, config: dict[str, dict[str, list[str]]]
) -> None:
    """Besides pytest and hypothesis, an env installs its package and what it requires: no more."""
    name = VARIANTS.get(env, env)
    deps = config[env]["deps"]
    assert [d for d in deps if not d.startswith("-e ")] == TEST_DEPS + EXTRA_TEST_DEPS.get(
        env, EXTRA_TEST_DEPS.get(name, [])
    )
    in_list_order = [n for n in NAMES if n in needed(name)]
    assert in_list_order[-1] == name
    assert installed_packages(deps) == [*in_list_order[:-1], name + EXTRAS.get(name, "")]
    (command,) = config[env]["commands"]
    assert command.split() == [
        "pytest",
        "-p",
        "no:cacheprovider",
        f"--junitxml={junit_report(env, config)}",
        f"tests/{name}",
    ]


def test_only_logging_and_tub_compiled_run_a_script_first(
    config: dict[str, dict[str, list[str]]],
) -> None:
    """logging runs scripts/ensure_chromium.py before its tests, tub-compiled
    scripts/compiled_build.py (into its tmp dir); no other env runs anything first."""
    assert config["logging"]["commands_pre"] == ["python scripts/ensure_chromium.py"]
    (env_tmp_dir,) = config["tub-compiled"]["env_tmp_dir"]
    compiled = os.fspath(Path(env_tmp_dir) / "compiled")
    want = f"python scripts/compiled_build.py {compiled}"
    assert config["tub-compiled"]["commands_pre"] == [want]
    first = {"logging", "tub-compiled"}
    assert [env for env in config if env not in first and config[env]["commands_pre"]] == []


def test_tub_compiled_is_tub_on_the_compiled_build(
    config: dict[str, dict[str, list[str]]],
) -> None:
    """tub-compiled: tub's deps and the hook's, tub's tests, with the compiled wheel
    unpacked first on PYTHONPATH and OCTAVO_EXPECT_COMPILED=1
    (tests/tub/test_compiled_build.py)."""
    tub_deps = config["tub"]["deps"]
    assert config["tub-compiled"]["deps"] == [*tub_deps[:2], "hatch-mypyc>=0.16", *tub_deps[2:]]
    base_report, report = junit_report("tub", config), junit_report("tub-compiled", config)
    assert config["tub-compiled"]["commands"] == [
        c.replace(base_report, report) for c in config["tub"]["commands"]
    ]
    (env_tmp_dir,) = config["tub-compiled"]["env_tmp_dir"]
    set_env = config["tub-compiled"]["set_env"]
    assert f"PYTHONPATH={os.fspath(Path(env_tmp_dir) / 'compiled')}" in set_env
    assert "OCTAVO_EXPECT_COMPILED=1" in set_env
    assert not any(line.startswith("OCTAVO_") for line in config["tub"]["set_env"])


@pytest.mark.parametrize(("variant", "base"), NOFAST.items())
def test_a_nofast_variant_is_its_base_env_with_the_fast_paths_off(
    variant: str, base: str, config: dict[str, dict[str, list[str]]]
) -> None:
    """banana-nofast and tub-nofast: the base env's deps and tests, and OCTAVO_FAST_PATHS=0."""
    assert config[variant]["deps"] == config[base]["deps"]
    base_report, variant_report = junit_report(base, config), junit_report(variant, config)
    assert config[variant]["commands"] == [
        c.replace(base_report, variant_report) for c in config[base]["commands"]
    ]
    assert "OCTAVO_FAST_PATHS=0" in config[variant]["set_env"]
    assert not any(line.startswith("OCTAVO_FAST_PATHS") for line in config[base]["set_env"])


@pytest.mark.parametrize(
    ("env", "packages"),
    [
        ("interop", NAMES),
        ("typecheck", NAMES),
        ("bench", NAMES),
        ("docs", NAMES),
        ("fuzz", ["furl", "banana", "reconnector", "tub"]),
        ("lint", []),
        ("build", []),
    ],
)
def test_tool_envs_install_the_packages_they_use(
    env: str, packages: list[str], config: dict[str, dict[str, list[str]]]
) -> None:
    """interop, typecheck, bench and docs get every package; fuzz tub (and what it needs, banana
    among them); lint and build none."""
    assert installed_packages(config[env]["deps"]) == packages


def test_interop_adds_foolscap_and_typecheck_covers_every_package(
    config: dict[str, dict[str, list[str]]],
) -> None:
    """interop talks to Foolscap 24.9.0; mypy checks every packages/NAME/src of the list,
    and the typed examples (examples/README.md) with the ported listings."""
    assert "foolscap==24.9.0" in config["interop"]["deps"]
    src_dirs = [f"packages/{n}/src" for n in NAMES]
    typed = ["typed_calls.py", "echo.py", "calculator.py", "chat.py", "filestore.py"]
    typed += ["quickstart.py", "listings"]
    want = " ".join(["mypy", *src_dirs, *(f"examples/{e}" for e in typed)])
    assert config["typecheck"]["commands"] == [want]
    assert f"MYPYPATH={os.pathsep.join(src_dirs)}" in config["typecheck"]["set_env"]


@pytest.mark.parametrize("name", NAMES)
def test_a_package_factor_selects_its_env_and_its_variants(name: str, tmp_path: Path) -> None:
    """`tox -f NAME` (the release workflow's test job) runs NAME's env and its variants only."""
    expected = [name, *(v for v, base in VARIANTS.items() if base == name)]
    assert tox("-f", name, "-l", workdir=tmp_path).split() == expected


def test_every_pytest_run_writes_the_report_dev_py_adds_up(
    config: dict[str, dict[str, list[str]]], tox_workdir: Path
) -> None:
    """Each env that runs pytest writes JUnit XML where `dev.py test` looks for it."""
    pattern = load_dev_module().REPORTS
    runs_pytest = [e for e, keys in config.items() if any("pytest" in c for c in keys["commands"])]
    assert set(runs_pytest) == {*NAMES, *VARIANTS, "interop", "build", "docs"}
    for env in runs_pytest:
        assert any(f"--junitxml={junit_report(env, config)}" in c for c in config[env]["commands"])
        default_place = Path(".tox") / Path(junit_report(env, config)).relative_to(tox_workdir)
        assert default_place.match(pattern), (env, default_place)
