"""The Quick start's demo (examples/two_tubs.py) runs: two Tubs call each other."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from twisted.internet import defer, reactor
from twisted.trial import unittest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "two_tubs.py"


def load_example() -> Any:
    spec = importlib.util.spec_from_file_location("two_tubs", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class TwoTubs(unittest.TestCase):
    async def test_the_demo_calls_across_tubs(self) -> None:
        """The demo's server answers add, describe and the callback, and both Tubs stop."""
        printed: list[str] = []
        module = load_example()
        module.print = lambda *args, **kwargs: printed.append(" ".join(map(str, args)))
        await defer.ensureDeferred(module.run(reactor))
        text = "\n".join(printed)
        assert "add(2, 3) -> 5" in text
        assert "add(a=40, b=2) -> 42" in text
        assert "the server got dict" in text
        assert "client's Listener heard: 'HELLO'" in text
        assert "'thanks'" in text
        assert "UnknownMethodError" in text
        assert text.endswith("both Tubs stopped.")
