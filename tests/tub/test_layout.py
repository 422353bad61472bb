"""The layers of octavo.tub, checked from the source: who may import whom.

- no import cycle among the package's modules (imports made when a module loads;
  imports under ``if TYPE_CHECKING:`` and inside functions do not count);
- ``_wire`` (the sans-IO PB protocol) imports no Twisted and nothing of the package
  outside ``_wire`` but the errors module;
- ``_negotiation`` and ``_net`` know nothing of the Broker or the Tub;
- only the package's ``__init__`` imports the Tub, and the ConnectionManager works
  through Protocols (no concrete Broker, connector or Tub below it);
- modules stay small: at most 600 lines, no function over 150.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import octavo.tub

PACKAGE = Path(octavo.tub.__file__).resolve().parent
SRC = PACKAGE.parent.parent  # .../src


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(SRC).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def _runtime_imports(name: str, path: Path) -> set[str]:
    """Every module name imported when ``name`` loads (absolute; outside ones too)."""
    tree = ast.parse(path.read_text("utf-8"))
    here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.If):
                test = node.test
                if isinstance(test, ast.Name) and test.id == "TYPE_CHECKING":
                    visit(node.orelse)
                    continue
                visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                for block in (node.body, node.orelse, node.finalbody):
                    visit(block)
                for handler in node.handlers:
                    visit(handler.body)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here[: len(here) - (node.level - 1)]
                    module = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    module = node.module or ""
                found.add(module)
                found.update(f"{module}.{a.name}" for a in node.names)

    visit(tree.body)
    return found


IMPORTS = {name: _runtime_imports(name, path) for name, path in MODULES.items()}


GRAPH = {n: {m for m in IMPORTS[n] if m in MODULES and m != n} for n in MODULES}


def reachable(start: str) -> set[str]:
    """Every module of the package that importing ``start`` loads."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        for nxt in GRAPH[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_graph_sees_the_modules() -> None:
    """The parser is not silently blind: it sees known imports."""
    assert "octavo.tub._broker._tub_protocol" in GRAPH["octavo.tub._connections"]
    assert "octavo.tub._tub" in GRAPH["octavo.tub"]
    assert "octavo.tub._wire._admission" in GRAPH["octavo.tub._wire._fast_decoder"]


def test_no_import_cycles() -> None:
    """The modules of octavo.tub import each other without a cycle."""
    graph = GRAPH
    done: set[str] = set()
    path: list[str] = []

    def walk(n: str) -> None:
        if n in done:
            return
        assert n not in path, f"import cycle: {' -> '.join([*path[path.index(n) :], n])}"
        path.append(n)
        for m in sorted(graph[n]):
            walk(m)
        path.pop()
        done.add(n)

    for n in sorted(graph):
        walk(n)


def test_only_the_package_imports_the_tub() -> None:
    """Negotiation, the network, the Broker and the ConnectionManager never import _tub."""
    importers = sorted(name for name in GRAPH if "octavo.tub._tub" in GRAPH[name])
    assert importers == ["octavo.tub"]


def test_connection_manager_needs_no_concrete_broker_or_connector() -> None:
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


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("octavo.tub._wire")))
def test_the_wire_layer_is_sans_io(name: str) -> None:
    """_wire imports no Twisted, and of octavo.tub only _wire and the errors."""
    for imported in IMPORTS[name]:
        assert not imported.startswith("twisted"), f"{name} imports {imported}"
        if imported.startswith("octavo.tub") and imported in MODULES:
            assert imported.startswith("octavo.tub._wire") or imported in ("octavo.tub._errors",), (
                f"{name} imports {imported}"
            )


@pytest.mark.parametrize(
    "name",
    sorted(n for n in MODULES if n.startswith(("octavo.tub._negotiation", "octavo.tub._net"))),
)
def test_connecting_knows_nothing_of_brokers_or_the_tub(name: str) -> None:
    """Negotiation and the network layer work through their own Protocols."""
    for imported in IMPORTS[name]:
        assert not imported.startswith(("octavo.tub._broker", "octavo.tub._tub")), (
            f"{name} imports {imported}"
        )


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_and_functions_stay_small(name: str) -> None:
    """At most 600 lines a module and 150 a function."""
    text = MODULES[name].read_text("utf-8")
    assert text.count("\n") <= 600, f"{name} has {text.count(chr(10))} lines"
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            assert node.end_lineno is not None
            length = node.end_lineno - node.lineno + 1
            assert length <= 150, f"{name}.{node.name} has {length} lines"


def _all_imports(name: str, path: Path) -> set[str]:
    """Every module of the package that ``name`` imports anywhere (TYPE_CHECKING too)."""
    here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = here[: len(here) - (node.level - 1)] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.add(module)
            found.update(f"{module}.{a.name}" for a in node.names)
    return {m for m in found if m in MODULES and m != name}


def test_no_two_modules_import_each_other_even_for_types() -> None:
    """Type-only imports count too: no module imports one that imports it back (what
    a helper needs of its owner is a Protocol, e.g. _broker/_roles.py, _wire/_context.py)."""
    uses = {n: _all_imports(n, p) for n, p in MODULES.items()}
    pairs = sorted((a, b) for a in uses for b in uses[a] if a < b and a in uses[b])
    assert pairs == []
