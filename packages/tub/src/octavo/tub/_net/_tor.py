"""Connection hints through Tor, with txtorcon (the optional ``tor`` extra).

``Tub.addConnectionHintHandler("tor", tor_handler())`` routes ``tor:HOST:PORT``
hints through a Tor SOCKS port (127.0.0.1:9050 unless told otherwise); it may
also be registered for ``"tcp"`` to send every TCP hint through Tor.
"""

from __future__ import annotations

import importlib
import ipaddress
from collections.abc import Callable
from typing import Any

from twisted.internet.endpoints import TCP4ClientEndpoint
from zope.interface import implementer  # type: ignore[import-untyped,unused-ignore]

from octavo.furl import InvalidHint, TCPHint, TorHint, parse_hint
from octavo.tub._errors import InvalidHintError

from ._hints import IConnectionHintHandler

__all__ = ["TorHintHandler", "is_non_public_numeric_address", "tor_handler"]

DEFAULT_SOCKS_PORT = 9050


def is_non_public_numeric_address(host: str) -> bool:
    """True for numeric addresses no Tor exit can reach (private, loopback, IPv6...)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # a name: let Tor resolve it
    if address.version != 4:
        return True
    return bool(
        address.is_loopback
        or address.is_multicast
        or address.is_private
        or address.is_reserved
        or address.is_unspecified
    )


def _txtorcon() -> Any:
    try:
        return importlib.import_module("txtorcon")
    except ImportError as e:
        raise ImportError(
            "Tor connection hints need txtorcon: pip install 'octavo-tub[tor]'"
        ) from e


@implementer(IConnectionHintHandler)
class TorHintHandler:
    """Turns ``tor:`` (and ``tcp:``) hints into txtorcon TorClientEndpoints."""

    def __init__(self, socks_endpoint: Any = None, *, socks_port: int = DEFAULT_SOCKS_PORT) -> None:
        self._txtorcon = _txtorcon()
        self._socks_endpoint = socks_endpoint
        self._socks_port = socks_port

    def hint_to_endpoint(
        self, hint: str, reactor: Any, update_status: Callable[[str], None]
    ) -> tuple[Any, str]:
        """Return ``(TorClientEndpoint, host)`` for a tor: or tcp: hint."""
        parsed = parse_hint(hint)
        if isinstance(parsed, InvalidHint):
            raise InvalidHintError(parsed.reason)
        if not isinstance(parsed, (TorHint, TCPHint)):
            raise InvalidHintError(f"unrecognized TCP/Tor hint {hint!r}")
        if is_non_public_numeric_address(parsed.host):
            raise InvalidHintError(f"ignoring non-Tor-able ipaddr {parsed.host}")
        socks = self._socks_endpoint
        if socks is None:
            socks = TCP4ClientEndpoint(reactor, "127.0.0.1", self._socks_port)
        update_status("connecting through Tor")
        endpoint = self._txtorcon.TorClientEndpoint(parsed.host, parsed.port, socks_endpoint=socks)
        return endpoint, parsed.host

    def describe(self) -> str:
        """Return ``"tor"``."""
        return "tor"


def tor_handler(socks_endpoint: Any = None, *, socks_port: int = DEFAULT_SOCKS_PORT) -> Any:
    """A hint handler using Tor's SOCKS port (raises ImportError without txtorcon)."""
    return TorHintHandler(socks_endpoint, socks_port=socks_port)
