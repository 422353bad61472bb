"""Placeholders for values that are not complete yet."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["Pending"]

_UNSET = object()


class Pending:
    """A value that is not available yet (a tuple still being decoded, or a
    custom unslicer's result that arrives later, like a gift reference).

    Containers that receive a Pending put a placeholder in its slot and fill it
    in when ``resolve`` is called.
    """

    __slots__ = ("_callbacks", "_value")

    def __init__(self) -> None:
        self._callbacks: list[Callable[[object], object]] = []
        self._value: object = _UNSET

    @property
    def resolved(self) -> bool:
        """True once ``resolve`` has been called."""
        return self._value is not _UNSET

    @property
    def value(self) -> object:
        """The resolved value (raises LookupError before ``resolve``)."""
        if self._value is _UNSET:
            raise LookupError("Pending value not resolved yet")
        return self._value

    def add_callback(self, fn: Callable[[object], object]) -> None:
        """Call ``fn(value)`` on resolution (at once if already resolved)."""
        if self._value is _UNSET:
            self._callbacks.append(fn)
        else:
            fn(self._value)

    def resolve(self, value: object) -> None:
        """Provide the value and run the callbacks, in order, once."""
        if self._value is not _UNSET:
            raise RuntimeError("Pending resolved twice")
        self._value = value
        callbacks, self._callbacks = self._callbacks, []
        for fn in callbacks:
            fn(value)
