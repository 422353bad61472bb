"""octavo.furl imports nothing outside the standard library."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json, sys
before = set(sys.modules)
import octavo.furl
from octavo.furl import _cli
octavo.furl.parse_furl("pb://ubnnhm7ehvhobtpdgrjonymzd3eopy6u@tcp:[::1]:1/n")
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def test_imports_only_the_standard_library() -> None:
    """Every module loaded by importing and using octavo.furl is stdlib or octavo.furl."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    loaded = json.loads(result.stdout)
    assert "octavo.furl" in loaded
    foreign = [
        m
        for m in loaded
        if m.split(".")[0] not in sys.stdlib_module_names
        and m != "octavo"
        and not m.startswith("octavo.furl")
    ]
    assert foreign == []
