"""octavo.tub's import graph: no cycles, and only the package itself imports the Tub."""

from __future__ import annotations

import ast
from pathlib import Path

import octavo.tub

PACKAGE = Path(octavo.tub.__file__).parent
ROOT = PACKAGE.parent.parent


def module_name(path: Path) -> str:
    name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    return name.removesuffix(".__init__")


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def _statements(body: list[ast.stmt]):
    """Statements run at import time (not under ``if TYPE_CHECKING``, not in functions)."""
    for node in body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from _statements(node.orelse)
            continue
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        yield node
        for field in ("body", "orelse", "finalbody"):
            yield from _statements(getattr(node, field, []))
        for handler in getattr(node, "handlers", []):
            yield from _statements(handler.body)


def runtime_imports(name: str) -> set[str]:
    """The octavo.tub modules that importing ``name`` imports directly."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _statements(ast.parse(path.read_text()).body):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the package, up level - 1 packages
                parts = package.split(".")
                base = parts[: len(parts) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{a.name}" for a in node.names)
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: runtime_imports(name) for name in MODULES}


def reachable(start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for nxt in GRAPH[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_graph_sees_the_modules():
    """The graph knows the modules and their imports (the parser is not silently blind)."""
    assert "octavo.tub._connections" in GRAPH
    assert "octavo.tub._broker._tub_protocol" in GRAPH["octavo.tub._connections"]
    assert "octavo.tub._tub" in GRAPH["octavo.tub"]


def test_no_import_cycles():
    """No octavo.tub module imports itself through others at import time."""
    cycles = sorted(name for name in GRAPH if name in reachable(name))
    assert cycles == []


def test_only_the_package_imports_the_tub():
    """Negotiation, the network, the Broker and the ConnectionManager never import _tub."""
    importers = sorted(name for name in GRAPH if "octavo.tub._tub" in GRAPH[name])
    assert importers == ["octavo.tub"]


def test_connection_manager_needs_no_concrete_broker_or_connector():
    """The ConnectionManager works through Protocols: it imports no Broker, connector or Tub."""
    below = reachable("octavo.tub._connections")
    for concrete in (
        "octavo.tub._tub",
        "octavo.tub._broker._broker",
        "octavo.tub._broker._loopback",
        "octavo.tub._net._connectors",
        "octavo.tub._net._listener",
    ):
        assert concrete not in below, concrete
