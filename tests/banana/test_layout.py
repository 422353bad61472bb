"""octavo.banana's modules never import each other both ways (type-only imports count)."""

from __future__ import annotations

import ast
from pathlib import Path

import octavo.banana

PACKAGE = Path(octavo.banana.__file__).resolve().parent


def _imports(path: Path) -> set[str]:
    """The sibling modules ``path`` imports anywhere, relative ones by their file stem."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            found.add(node.module)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("octavo.banana."):
            found.add(node.module.rsplit(".", 1)[1])  # type: ignore[union-attr]
    return found


def test_no_two_modules_import_each_other() -> None:
    """What an unslicer needs of the decoder is a Protocol (_unslicers.DecoderView)."""
    uses = {p.stem: _imports(p) for p in PACKAGE.glob("_*.py") if p.stem != "__init__"}
    pairs = sorted((a, b) for a in uses for b in uses[a] if a < b and a in uses.get(b, ()))
    assert pairs == []
