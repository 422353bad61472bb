"""The typed-caller example (examples/typed_calls.py) runs: typed calls work, and the
call mypy refuses is refused at run time too, before anything is sent."""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from typing import Any

from twisted.internet import defer, reactor
from twisted.trial import unittest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "typed_calls.py"


@functools.cache  # once: its RemoteInterface name may be declared only once
def load_example() -> Any:
    spec = importlib.util.spec_from_file_location("typed_calls", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class TypedCalls(unittest.TestCase):
    async def test_the_example_runs(self) -> None:
        """rref.call(RICalculator.add, 1, 2) answers 3; the bad call is a local Violation."""
        printed: list[str] = []
        module = load_example()
        self.addCleanup(delattr, module, "print")
        module.print = lambda *args, **kwargs: printed.append(" ".join(map(str, args)))
        await defer.ensureDeferred(module.run(reactor))
        assert printed[0].startswith("refused before sending:") and "not a number" in printed[0]
        assert printed[1] == "result: 9"

    def test_method_names(self) -> None:
        """call() takes a RemoteInterface's method, or a remote_* function."""
        from octavo.tub._schema._interface import remote_method_name

        module = load_example()
        assert remote_method_name(module.RICalculator.add) == "add"
        assert remote_method_name(module.Calculator.remote_describe) == "describe"

    async def test_local_reference_call(self) -> None:
        """LocalReferenceable offers the same typed call (no schema check: local)."""
        from octavo.tub import LocalReferenceable

        module = load_example()
        local = LocalReferenceable(module.Calculator())
        assert await local.call(module.RICalculator.add, 2, 3) == 5
