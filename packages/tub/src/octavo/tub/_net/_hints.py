"""Connection hints: the IConnectionHintHandler interface and the TCP handler.

A hint is ``TYPE:...`` (``tcp:HOST:PORT``, ``tor:HOST:PORT``...); for
compatibility ``HOST:PORT`` means ``tcp:HOST:PORT``. A handler turns a hint
into ``(endpoint, hostname)``, where hostname goes in the negotiation's
``Host:`` header.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet.abstract import isIPAddress, isIPv6Address
from twisted.internet.endpoints import HostnameEndpoint, TCP4ClientEndpoint, TCP6ClientEndpoint
from zope.interface import (  # type: ignore[import-untyped,unused-ignore]
    Interface,
    implementer,
)

from octavo.furl import InvalidHint, TCPHint, parse_hint
from octavo.tub._errors import InvalidHintError

__all__ = [
    "DefaultTCP",
    "IConnectionHintHandler",
    "convert_legacy_hint",
    "hint_type",
]


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

    A DNS name goes through HostnameEndpoint, which resolves it and tries every
    address; an IP literal is dialled directly (no lookup thread, unlike Foolscap).
    """

    def hint_to_endpoint(
        self, hint: str, reactor: Any, update_status: Callable[[str], None]
    ) -> tuple[Any, str]:
        """Return the endpoint for a ``tcp:`` hint, and the host for ``Host:``."""
        parsed = parse_hint(hint)
        if isinstance(parsed, InvalidHint):
            raise InvalidHintError(parsed.reason)
        if not isinstance(parsed, TCPHint):
            raise InvalidHintError(f"unrecognized TCP hint {hint!r}")
        host, port = parsed.host, parsed.port
        if isIPAddress(host):
            return TCP4ClientEndpoint(reactor, host, port), host
        if isIPv6Address(host):
            return TCP6ClientEndpoint(reactor, host, port), host  # type: ignore[no-untyped-call]
        return HostnameEndpoint(reactor, host, port), host

    def describe(self) -> str:
        """Return ``"tcp"``."""
        return "tcp"
