"""A pickle-free tagged form for inert object graphs, and a structural comparison.

The tagged form is plain JSON data, so golden vectors can be committed and rebuilt
without pickle or Foolscap. Every node is a list whose first item names its type:

- ``["none"]``, ``["bool", true]``, ``["int", "123"]`` (decimal text, any size),
  ``["float", "0x1.8p+0"]`` (``float.hex``), ``["bytes", "6162"]`` (hex),
  ``["str", "text"]``, ``["decimal", "1.5E+3"]`` (``str(Decimal)``);
- ``["list", [items]]``, ``["tuple", [items]]``, ``["dict", [[key, value], ...]]``,
  ``["set", [items]]``, ``["frozenset", [items]]``, each optionally with a third
  item: an integer id that later ``["ref", id]`` nodes point back to (sharing and
  cycles, including cycles that pass through a tuple).

Nodes are visited depth first in item order (dict: key then value), the same order in
which Banana sends them, so a reference always comes after its target started.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

__all__ = ["assert_same_graph", "canonical", "from_tagged", "tags_used", "to_tagged"]

# Containers Foolscap tracks for sharing (it never shares frozensets, str, Decimal).
TRACKED = (list, tuple, dict, set)


def _children(value: object) -> Iterator[object]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield item
    elif isinstance(value, (list, tuple, set, frozenset)):
        yield from value


def to_tagged(value: object) -> list[Any]:
    """Describe ``value`` in the tagged form, marking every container met twice."""
    seen: dict[int, int] = {}
    keep: list[object] = []
    stack = [value]
    while stack:  # count appearances of tracked containers, walking each one once
        node = stack.pop()
        if type(node) in TRACKED:
            seen[id(node)] = seen.get(id(node), 0) + 1
            if seen[id(node)] > 1:
                continue
            keep.append(node)
        stack.extend(_children(node))
    shared = {key for key, count in seen.items() if count > 1}
    ids: dict[int, int] = {}

    def walk(node: Any) -> list[Any]:
        kind = type(node)
        if kind in TRACKED and id(node) in ids:
            return ["ref", ids[id(node)]]
        if node is None:
            return ["none"]
        if kind is bool:
            return ["bool", node]
        if kind is int:
            return ["int", str(node)]
        if kind is float:
            return ["float", node.hex()]
        if kind is bytes:
            return ["bytes", node.hex()]
        if kind is str:
            return ["str", node]
        if kind is Decimal:
            return ["decimal", str(node)]
        tail: list[Any] = []
        if kind in TRACKED and id(node) in shared:
            ids[id(node)] = len(ids)
            tail = [ids[id(node)]]
        if kind is dict:
            pairs = [[walk(k), walk(v)] for k, v in node.items()]
            return ["dict", pairs, *tail]
        if kind in (list, tuple, set, frozenset):
            return [kind.__name__, [walk(item) for item in node], *tail]
        raise TypeError(f"no tagged form for {kind.__name__}")

    return walk(value)


class _Pending:
    """Stands for a tuple whose items are still being built (a cycle through it)."""

    def __init__(self, ref: int) -> None:
        self.ref = ref


def from_tagged(node: list[Any]) -> object:
    """Rebuild the object graph that ``to_tagged`` described."""
    built: dict[int, object] = {}
    fixups: dict[int, list[tuple[Any, Any]]] = {}

    def register(ref: int | None, obj: object) -> None:
        if ref is None:
            return
        built[ref] = obj
        for container, slot in fixups.pop(ref, []):
            container[slot] = obj

    def child(item: list[Any], container: Any, slot: Any) -> object:
        value = build(item)
        if isinstance(value, _Pending):
            fixups.setdefault(value.ref, []).append((container, slot))
        return value

    def build(node: list[Any]) -> object:
        tag = node[0]
        ref = node[2] if len(node) > 2 else None
        if tag == "ref":
            return built.get(node[1], _Pending(node[1]))
        if tag == "none":
            return None
        if tag == "bool":
            return bool(node[1])
        if tag == "int":
            return int(node[1])
        if tag == "float":
            return float.fromhex(node[1])
        if tag == "bytes":
            return bytes.fromhex(node[1])
        if tag == "str":
            return str(node[1])
        if tag == "decimal":
            return Decimal(node[1])
        if tag == "list":
            out: list[object] = []
            register(ref, out)
            for index, item in enumerate(node[1]):
                out.append(None)
                out[index] = child(item, out, index)
            return out
        if tag == "dict":
            mapping: dict[object, object] = {}
            register(ref, mapping)
            for key_node, value_node in node[1]:
                key = build(key_node)
                if isinstance(key, _Pending):
                    raise ValueError("a dict key cannot be an unfinished tuple")
                mapping[key] = child(value_node, mapping, key)
            return mapping
        if tag == "tuple":
            items: list[object] = []
            for index, item in enumerate(node[1]):
                items.append(None)
                items[index] = child(item, items, index)
            if any(isinstance(item, _Pending) for item in items):
                raise ValueError("a tuple cannot directly contain an unfinished tuple")
            result = tuple(items)
            register(ref, result)
            return result
        if tag in ("set", "frozenset"):
            members = [build(item) for item in node[1]]
            if any(isinstance(item, _Pending) for item in members):
                raise ValueError("a set cannot contain an unfinished tuple")
            made: object = set(members) if tag == "set" else frozenset(members)
            register(ref, made)
            return made
        raise ValueError(f"unknown tag {tag!r}")

    value = build(node)
    if fixups:
        raise ValueError(f"references to unknown ids {sorted(fixups)}")
    return value


def tags_used(node: list[Any]) -> set[str]:
    """All the tags that appear in a tagged node."""
    found = {node[0]}
    if node[0] in ("list", "tuple", "set", "frozenset"):
        for item in node[1]:
            found |= tags_used(item)
    elif node[0] == "dict":
        for key, value in node[1]:
            found |= tags_used(key) | tags_used(value)
    return found


def canonical(value: Any) -> object:
    """A hashable, type-strict key for a hashable inert value (1, 1.0, True differ)."""
    kind = type(value)
    if kind is float:
        return ("float", struct.pack("!d", value))
    if kind is Decimal:
        return ("decimal", value.as_tuple())
    if kind is tuple:
        return ("tuple", tuple(canonical(item) for item in value))
    if kind is frozenset:
        return ("frozenset", frozenset(canonical(item) for item in value))
    return (kind.__name__, value)


def assert_same_graph(got: object, want: object) -> None:
    """Fail unless ``got`` has the types, values, sharing and cycles of ``want``.

    Types are strict (True is not 1, -0.0 is not 0.0), NaN equals NaN, Decimals keep
    their exponent, dict order is free (Foolscap sends keys sorted), and wherever
    ``want`` holds the same list/dict/set/tuple twice ``got`` must hold one object there
    too (for mutable containers the mapping must be one-to-one).
    """
    forward: dict[int, object] = {}
    backward: dict[int, object] = {}
    keep: list[object] = []

    def same(a: Any, b: Any, path: str) -> None:
        if type(a) is not type(b):
            raise AssertionError(f"{path}: type {type(a).__name__} != {type(b).__name__}")
        kind = type(a)
        if kind in TRACKED:
            if id(b) in forward:
                if forward[id(b)] is not a:
                    raise AssertionError(f"{path}: sharing differs (want one object here)")
                return
            if kind is not tuple and id(a) in backward and backward[id(a)] is not b:
                raise AssertionError(f"{path}: sharing differs (want distinct objects)")
            forward[id(b)] = a
            backward[id(a)] = b
            keep.extend((a, b))
        if kind in (list, tuple):
            if len(a) != len(b):
                raise AssertionError(f"{path}: length {len(a)} != {len(b)}")
            for index, (x, y) in enumerate(zip(a, b, strict=True)):
                same(x, y, f"{path}[{index}]")
        elif kind is dict:
            if len(a) != len(b):
                raise AssertionError(f"{path}: {len(a)} keys != {len(b)}")
            by_key = {canonical(k): (k, v) for k, v in a.items()}
            for kb, vb in b.items():
                if canonical(kb) not in by_key:
                    raise AssertionError(f"{path}: key {kb!r} missing")
                ka, va = by_key[canonical(kb)]
                same(ka, kb, f"{path}.key({kb!r})")
                same(va, vb, f"{path}[{kb!r}]")
        elif kind in (set, frozenset):
            got_keys = {canonical(x) for x in a}
            want_keys = {canonical(y) for y in b}
            if got_keys != want_keys:
                raise AssertionError(f"{path}: {a!r} != {b!r}")
        elif kind is float:
            if struct.pack("!d", a) != struct.pack("!d", b):
                raise AssertionError(f"{path}: {a!r} != {b!r}")
        elif kind is Decimal:
            if a.as_tuple() != b.as_tuple():
                raise AssertionError(f"{path}: {a!r} != {b!r}")
        elif a != b:
            raise AssertionError(f"{path}: {a!r} != {b!r}")

    same(got, want, "value")
