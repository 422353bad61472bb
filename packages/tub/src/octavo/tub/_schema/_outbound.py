"""The caller's side of a schema: check a call before anything is sent.

Foolscap's rule: a RemoteReference whose far object announced a RemoteInterface we
know (by name, in this process's registry) checks the method name and every
argument against that interface before sending; a Violation fails the call locally
and nothing leaves. ``_useSchema=False`` skips the argument check (the name is
still looked up); ``_methodConstraint`` replaces the method's schema. The schema's
response constraint is what the answer must then satisfy.

A RemoteInterface keeps, per method called through it (``_outbound_checks``, filled
here), the schema's quick check and its response constraint, so a typed call whose
arguments pass the quick check looks nothing up. The quick check is
:meth:`~._method.RemoteMethodSchema.quick_accepts`, the fast path in front of
``checkAllArgs`` (True only where ``checkAllArgs`` surely takes the call); anything
else takes the general path below, which decides and says why it refuses. Only
schemas of exactly that class whose every argument has a quick check are kept (so
none with the fast paths off).
"""

from __future__ import annotations

from typing import Any

from octavo.banana import Constraint, Violation

from ._method import RemoteMethodSchema

__all__ = ["NOT_GIVEN", "check_outbound_call"]

#: a special keyword the caller did not give (None is a value for some of them)
NOT_GIVEN: Any = object()


def check_outbound_call(
    iface: Any,
    rref: object,
    name: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    *,
    method_constraint: Any,
    use_schema: bool,
) -> Constraint | None:
    """Check a call to ``iface.name`` (Violation, located at the method and the
    argument); return the constraint its answer must satisfy (None: any)."""
    known = None
    if method_constraint is NOT_GIVEN and use_schema:
        known = getattr(iface, "_outbound_checks", None)  # (None without an iface)
        if known is not None and type(args) is tuple:
            kept = known.get(name)
            if kept is not None and kept[0](args, kwargs):
                return kept[1]  # type: ignore[no-any-return]
    iname = getattr(iface, "__remote_name__", None)
    schema = None
    if iface is not None:
        schema = iface.get(name)
        if schema is None or not hasattr(schema, "checkAllArgs"):
            raise Violation(f"{iname}({rref!r}) does not offer {name}")
    if method_constraint is not NOT_GIVEN:
        schema = method_constraint
    if not use_schema or schema is None:
        return None
    try:
        schema.checkAllArgs(args, kwargs, False)
    except Violation as v:
        v.setLocation(f"{iname}.{name}({v.getLocation()})")
        raise
    response: Constraint | None = schema.getResponseConstraint()
    if known is not None and type(schema) is RemoteMethodSchema and schema.quick_complete:
        known[name] = (schema.quick_accepts, response)  # (a name the interface has)
    return response
