"""Foolscap's ``foolscap.api.serialize`` / ``unserialize``: Banana storage without a Tub.

Both answer with a Deferred, as Foolscap's do. What can be stored: inert values
(numbers, strings, bytes, lists, tuples, dicts, sets, None, booleans) and Copyables
(read back through the process-wide registry of copytypes). Unlike Foolscap, an
instance of an arbitrary class is never stored by its class name and rebuilt on
reading (that is pickle's weakness); make such a class Copyable. References need a
Tub: use ``Tub.serialize`` / ``Tub.unserialize``.
"""

from __future__ import annotations

from twisted.internet.defer import Deferred, fail, succeed

from octavo.banana import serialize as banana_serialize
from octavo.banana import unserialize as banana_unserialize
from octavo.tub import copyable_slicers, copyable_unslicers

__all__ = ["serialize", "unserialize"]

# made once: both learn of copytypes and copiers registered later
_SLICERS = copyable_slicers()
_UNSLICERS = copyable_unslicers()


def serialize(obj: object) -> Deferred[bytes]:
    """``obj`` as Banana storage bytes (a Deferred; Violation if it cannot be stored)."""
    try:
        data = banana_serialize(obj, slicers=_SLICERS)
    except Exception as e:
        return fail(e)
    return succeed(data)


def unserialize(data: bytes) -> Deferred[object]:
    """The object stored in ``data`` (a Deferred; BananaError or Violation if bad)."""
    try:
        obj = banana_unserialize(data, unslicers=_UNSLICERS)
    except Exception as e:
        return fail(e)
    return succeed(obj)
