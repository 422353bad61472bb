"""``AttributeDictConstraint``: the schema of a RemoteCopy's state (Foolscap's).

A RemoteCopy class may set ``stateSchema`` to one of these: each attribute name maps
to an octavo.banana constraint, checked on the attribute's tokens as they arrive
(before the state reaches ``setCopyableState``). Attributes the schema does not name
are refused (a Violation), dropped (``ignoreUnknown=True``) or taken unchecked
(``acceptUnknown=True``); every attribute not wrapped in ``Optional`` must be present.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from octavo.banana import Constraint, OpenerConstraint, Optional, Violation, adapt_constraint

__all__ = ["AttributeDictConstraint"]


class AttributeDictConstraint(OpenerConstraint):
    """A dict of short string keys, each value with its own constraint.

    ``AttributeDictConstraint(("x", int), ("name", StringConstraint(100)))`` or
    ``AttributeDictConstraint(attributes={"x": int})``; shorthands (``int``,
    ``bytes``, ``str``, ``bool``, ``float``, ``None``, tuples) are adapted as in
    octavo.banana.
    """

    opentypes: list[tuple[str, ...]] = [("attrdict",)]
    name = "AttributeDictConstraint"

    def __init__(
        self,
        *attrTuples: tuple[str, object],
        ignoreUnknown: bool = False,
        acceptUnknown: bool = False,
        attributes: Mapping[str, object] | None = None,
    ) -> None:
        self.ignoreUnknown = ignoreUnknown
        self.acceptUnknown = acceptUnknown
        self.keys: dict[str, Constraint] = {}
        for name, spec in [*attrTuples, *(attributes or {}).items()]:
            if not isinstance(name, str):
                raise TypeError(f"attribute names are str, not {type(name).__name__}")
            if name in self.keys:
                raise ValueError(f"attribute {name!r} named twice")
            self.keys[name] = adapt_constraint(spec)

    def getAttrConstraint(self, attrname: str) -> tuple[bool, Constraint | None]:
        """(keep it?, its constraint) for an arriving attribute; Violation if unknown."""
        c = self.keys.get(attrname)
        if c is not None:
            if isinstance(c, Optional):
                c = c.constraint
            return True, c
        if self.ignoreUnknown:
            return False, None
        if self.acceptUnknown:
            return True, None
        raise Violation(f"unknown attribute {attrname[:100]!r}")

    def missing(self, names: Iterable[str]) -> list[str]:
        """The required attributes (not ``Optional``) absent from ``names``."""
        present = set(names)
        return [k for k, c in self.keys.items() if k not in present and not isinstance(c, Optional)]

    def checkObject(self, obj: object, inbound: bool) -> None:
        """Check a whole attribute dict (outbound, or a shared reference to one)."""
        if type(obj) is not dict:
            raise Violation(f"{type(obj).__name__} is not a dict of attributes")
        for k, v in obj.items():
            c = self.keys.get(k)
            if c is None:
                if not (self.ignoreUnknown or self.acceptUnknown):
                    raise Violation(f"key {str(k)[:100]!r} not in schema")
                continue
            c.checkObject(v, inbound)
        absent = self.missing(obj)
        if absent:
            raise Violation(f"object is missing required keys: {','.join(absent)}")
