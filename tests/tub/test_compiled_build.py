"""The suite runs on the build it was asked to: tox -e tub-compiled on the compiled wheel
(OCTAVO_EXPECT_COMPILED=1), every other env on the pure Python source."""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
from pathlib import Path

import octavo.tub

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "compiled_build.py"


def hook_modules() -> list[str]:
    """The modules packages/tub/pyproject.toml has its mypyc hook compile, as
    scripts/compiled_build.py reads them."""
    spec = importlib.util.spec_from_file_location("compiled_build", SCRIPT)
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return [p.removesuffix(".py").replace("/", ".") for p in script.compiled_modules()]


def is_compiled(module: str) -> bool:
    """Whether ``module`` was loaded from an extension module."""
    origin = importlib.import_module(module).__file__
    assert origin is not None
    return origin.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))


def test_the_hook_compiles_the_path_of_every_call() -> None:
    """The hook lists the modules every call and answer goes through, sans-IO wire and
    the Broker's writer, requests and delivery; none that subclasses Twisted's."""
    assert hook_modules() == [
        "octavo.tub._wire._fast_decoder",
        "octavo.tub._wire._fast_encoder",
        "octavo.tub._wire._connection",
        "octavo.tub._wire._admission",
        "octavo.tub._wire._inbound",
        "octavo.tub._broker._writer",
        "octavo.tub._broker._requests",
        "octavo.tub._broker._delivery",
    ]


def test_the_modules_are_compiled_only_where_asked() -> None:
    """Each listed module is an extension module exactly when this env asked for the
    compiled build, and the rest of octavo.tub is Python either way."""
    expected = os.environ.get("OCTAVO_EXPECT_COMPILED") == "1"
    assert [is_compiled(m) for m in hook_modules()] == [expected] * len(hook_modules())
    assert not is_compiled("octavo.tub._broker._broker")
    assert not is_compiled("octavo.tub._wire._events")
    assert not is_compiled(octavo.tub.__name__)
