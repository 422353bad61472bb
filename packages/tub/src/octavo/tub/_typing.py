"""Typed wrappers over the few untyped Twisted calls the connection side uses."""

from __future__ import annotations

from typing import Any

from twisted.python.failure import Failure

__all__ = ["failure_check", "failure_of", "failure_type_name"]


def failure_of(exc: BaseException) -> Failure:
    """A Failure wrapping ``exc``."""
    return Failure(exc)  # type: ignore[no-untyped-call,unused-ignore]


def failure_check(f: Failure, *types: type[BaseException]) -> bool:
    """True if ``f`` wraps one of ``types``."""
    result: Any = f.check(*types)  # type: ignore[no-untyped-call,unused-ignore]
    return result is not None


def failure_type_name(f: Failure) -> str:
    """The class name of the exception ``f`` wraps."""
    return f.type.__name__ if f.type is not None else "Exception"
