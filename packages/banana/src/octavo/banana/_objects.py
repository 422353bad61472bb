"""The object table: what ``reference`` sequences of a message refer to.

Every OPEN of a message has an object number (0, 1, 2, ... in the order they arrive,
counted by the decoder). A sequence whose object may be shared (a list, tuple, dict,
set, or a custom one) records it here under its number as it starts, and a
``reference`` sequence names that number. The table is cleared after each top-level
object: references do not cross messages.

A tuple cannot exist before its CLOSE, so while it is open its number maps to a
placeholder: the :class:`~octavo.banana.TupleUnslicer` reading it (a reference then gets
the tuple's :class:`~octavo.banana.Pending`), or :data:`OPEN_TUPLE` while the decoder's
fast reader builds it (which hands a reference to it over to the general path, where
the reader's open containers become unslicers).
"""

from __future__ import annotations

from ._errors import BananaError
from ._pending import Pending
from ._unslicers import TupleUnslicer

__all__ = ["NOT_READY", "OPEN_TUPLE", "ObjectTable"]


class _Marker:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


#: stands in the table for a tuple the fast reader is building
OPEN_TUPLE = _Marker("OPEN_TUPLE")
#: what :meth:`ObjectTable.ready` returns for a number without a finished object
NOT_READY = _Marker("NOT_READY")


class ObjectTable:
    """The objects made by the OPEN sequences of the message being decoded, by number.

    ``set(count, obj)`` and ``clear()`` are the underlying dict's own methods;
    ``by_number`` is that dict, for the fast reader to store into directly (once per
    container: a subscript store costs less than a call).
    """

    __slots__ = ("by_number", "clear", "set")

    def __init__(self) -> None:
        #: the table itself (number -> object); outside this class only the decoder's
        #: fast reader writes it
        self.by_number: dict[int, object] = {}
        #: record ``obj`` as the object of OPEN number ``count``
        self.set = self.by_number.__setitem__
        #: forget every object (after each top-level object)
        self.clear = self.by_number.clear

    def open_tuple(self, count: int, unslicer: TupleUnslicer) -> None:
        """``count`` is a tuple still being decoded by ``unslicer``: a reference to it
        gets ``unslicer.pending()`` until it is complete (see TupleUnslicer)."""
        self.by_number[count] = unslicer

    def get(self, count: int) -> object:
        """The object of OPEN number ``count`` (a Pending for an unfinished tuple).

        Raises BananaError if no such object was recorded in this message.
        """
        obj = self.by_number.get(count, NOT_READY)
        if obj is NOT_READY:
            raise BananaError(f"dangling reference {count}")
        if isinstance(obj, TupleUnslicer):
            return obj.pending()
        if obj is OPEN_TUPLE:  # pragma: no cover - the fast reader never lets this out
            raise AssertionError("a reference to a tuple the fast reader holds")
        return obj

    def ready(self, count: int) -> object:
        """The finished object of OPEN number ``count``, or NOT_READY (none, or a
        tuple still open, or a value still pending): what the fast reader may take
        itself. Anything else is for :meth:`get` on the general path to decide."""
        obj = self.by_number.get(count, NOT_READY)
        if obj is OPEN_TUPLE or isinstance(obj, TupleUnslicer) or type(obj) is Pending:
            return NOT_READY
        return obj

    def __len__(self) -> int:
        return len(self.by_number)
