"""tox's per-package environments, made from packages.toml (tox loads this file as a plugin).

tox.ini says what the environments share and what the tool envs do. Whatever depends on the
list of packages comes from here, as configuration keys that tox.ini uses by name (``{key}``):

In ``[tox]``:

``octavo_package_envs``
    One env per package of packages.toml, in its order; each env of ``octavo_variants`` comes
    right after the last package env that a variant of its factor is built on.
``octavo_variants``
    Set in tox.ini: envs ``NAME-FACTOR`` that are package NAME's env with the ``FACTOR:``
    lines of ``[testenv]`` (``banana-nofast``). One line adds one.
``octavo_src_dirs``, ``octavo_mypy_path``
    ``packages/NAME/src`` of every package, as a list (mypy's files) and joined with
    ``os.pathsep`` (``MYPYPATH``).

In every env:

``octavo_suite``
    The folder under ``tests/`` the env runs: its name up to the first ``-``.
``octavo_package``
    The package the env installs with every sibling it needs: its suite, if that names a
    package (``furl``; ``banana-nofast`` -> ``banana``); tool envs set it in tox.ini.
``octavo_extras``
    Extras to install ``octavo_package`` with (tox.ini gives tub's envs ``tor``).
``octavo_deps``
    ``-e ./packages/X`` for ``octavo_package`` and each package it needs, in list order: the
    siblings come from the package's ``[project] dependencies`` (scripts/monorepo.py), editable
    from this tree, so that none is fetched from an index.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from tox.config.types import EnvList
from tox.plugin import impl
from tox.report import HandledError

if TYPE_CHECKING:
    from tox.config.main import Config
    from tox.config.sets import ConfigSet, EnvConfigSet
    from tox.session.state import State

ROOT = Path(__file__).resolve().parent


def _load_monorepo() -> ModuleType:
    name = "monorepo"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / "monorepo.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


monorepo = _load_monorepo()


@functools.cache
def _packages() -> dict[str, Any]:
    try:
        return {p.name: p for p in monorepo.read_packages(ROOT)}
    except monorepo.MonorepoError as exc:
        raise HandledError(f"toxfile.py: {exc}") from exc


def package_envs(names: list[str], variants: list[str]) -> list[str]:
    """The package envs *names* with each of *variants* after the last base of its factor."""
    by_factor: dict[str, list[str]] = {}
    for variant in variants:
        base, dash, factor = variant.partition("-")
        if not dash or not factor or base not in names:
            raise HandledError(f"octavo_variants: {variant} is not PACKAGE-FACTOR")
        by_factor.setdefault(factor, []).append(variant)
    last = {
        factor: max(names.index(v.partition("-")[0]) for v in group)
        for factor, group in by_factor.items()
    }
    envs = []
    for index, name in enumerate(names):
        envs.append(name)
        for factor, group in by_factor.items():
            if last[factor] == index:
                envs.extend(group)
    return envs


@impl
def tox_add_core_config(core_conf: ConfigSet, state: State) -> None:
    """Add the keys of [tox] that come from packages.toml (see the module docstring)."""
    names = list(_packages())
    src_dirs = [f"packages/{name}/src" for name in names]
    core_conf.add_config(
        keys=["octavo_variants"],
        of_type=EnvList,
        default=EnvList([]),
        desc="envs NAME-FACTOR: package NAME's env with the FACTOR lines of [testenv]",
    )

    def envs(conf: Config, env_name: str | None) -> EnvList:
        return EnvList(package_envs(names, core_conf["octavo_variants"].envs))

    core_conf.add_config(
        keys=["octavo_package_envs"],
        of_type=EnvList,
        default=envs,
        desc="one env per package of packages.toml, each variant after its last base",
    )
    core_conf.add_config(
        keys=["octavo_src_dirs"],
        of_type=str,
        default=" ".join(src_dirs),
        desc="packages/NAME/src of every package",
    )
    core_conf.add_config(
        keys=["octavo_mypy_path"],
        of_type=str,
        default=os.pathsep.join(src_dirs),
        desc="packages/NAME/src of every package, joined for MYPYPATH",
    )


@impl
def tox_add_env_config(env_conf: EnvConfigSet, state: State) -> None:
    """Add the per-env keys that come from packages.toml (see the module docstring)."""
    packages = _packages()

    def suite(conf: Config, env_name: str | None) -> str:
        return env_conf.name.partition("-")[0]

    def package(conf: Config, env_name: str | None) -> str:
        name = env_conf["octavo_suite"]
        return name if name in packages else ""

    def deps(conf: Config, env_name: str | None) -> list[str]:
        name = env_conf["octavo_package"]
        if not name:
            return []
        if name not in packages:
            raise HandledError(f"{env_conf.name}: octavo_package = {name} is not in packages.toml")
        chosen = packages[name]
        extras = ",".join(env_conf["octavo_extras"])
        lines = [f"-e ./packages/{p.name}" for p in chosen.needs]
        lines.append(f"-e ./packages/{name}" + (f"[{extras}]" if extras else ""))
        return lines

    env_conf.add_config(
        keys=["octavo_suite"],
        of_type=str,
        default=suite,
        desc="the folder under tests/ this env runs",
    )
    env_conf.add_config(
        keys=["octavo_package"],
        of_type=str,
        default=package,
        desc="the package of packages.toml this env installs, with the siblings it needs",
    )
    env_conf.add_config(
        keys=["octavo_extras"],
        of_type=list[str],
        default=[],
        desc="extras to install octavo_package with",
    )
    env_conf.add_config(
        keys=["octavo_deps"],
        of_type=list[str],
        default=deps,
        desc="-e ./packages/X for octavo_package and every sibling it needs",
    )
