"""Connection hints: the IConnectionHintHandler interface and the TCP handler.

A hint is ``TYPE:...`` (``tcp:HOST:PORT``, ``tor:HOST:PORT``...); for
compatibility ``HOST:PORT`` means ``tcp:HOST:PORT``. A handler turns a hint
into ``(endpoint, hostname)``, where hostname goes in the negotiation's
``Host:`` header.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet.endpoints import HostnameEndpoint
from zope.interface import (  # type: ignore[import-untyped,unused-ignore]
    Interface,
    implementer,
)

from octavo.furl import InvalidHint, TCPHint, parse_hint

__all__ = [
    "DefaultTCP",
    "IConnectionHintHandler",
    "InvalidHintError",
    "convert_legacy_hint",
    "hint_type",
]


class InvalidHintError(Exception):
    """A location hint could not be understood or turned into an endpoint."""


class IConnectionHintHandler(Interface):  # type: ignore[misc,unused-ignore]
    """Turns location hints of one type into client endpoints."""

    def hint_to_endpoint(  # type: ignore[misc,empty-body,unused-ignore]
        hint: str,  # noqa: N805 (zope.interface methods take no self)
        reactor: Any,
        update_status: Callable[[str], None],
    ) -> Any:
        """Return ``(endpoint, hostname)`` or a Deferred firing with it.

        Raise InvalidHintError (or fail the Deferred with it) for a hint this
        handler cannot use. ``update_status(text)`` reports progress.
        """

    def describe() -> str:  # type: ignore[misc,empty-body,unused-ignore]
        """A short name for this handler, like ``"tcp"`` or ``"tor"``."""


def convert_legacy_hint(location: str) -> str:
    """Rewrite an old-style ``HOST:PORT`` hint as ``tcp:HOST:PORT``."""
    hint = parse_hint(location)
    if isinstance(hint, TCPHint):
        return hint.normalized()
    return location


def hint_type(hint: str) -> str:
    """Return the TYPE of a hint, or raise InvalidHintError saying what is wrong."""
    parsed = parse_hint(hint)
    if isinstance(parsed, InvalidHint):
        raise InvalidHintError(parsed.reason)
    return parsed.hint_type


@implementer(IConnectionHintHandler)
class DefaultTCP:
    """The built-in handler for ``tcp:HOST:PORT`` (IPv4, [IPv6] and DNS names).

    It uses HostnameEndpoint, which resolves the name and tries every address.
    """

    def hint_to_endpoint(
        self, hint: str, reactor: Any, update_status: Callable[[str], None]
    ) -> tuple[Any, str]:
        """Return a HostnameEndpoint for a ``tcp:`` hint."""
        parsed = parse_hint(hint)
        if isinstance(parsed, InvalidHint):
            raise InvalidHintError(parsed.reason)
        if not isinstance(parsed, TCPHint):
            raise InvalidHintError(f"unrecognized TCP hint {hint!r}")
        return HostnameEndpoint(reactor, parsed.host, parsed.port), parsed.host

    def describe(self) -> str:
        """Return ``"tcp"``."""
        return "tcp"
