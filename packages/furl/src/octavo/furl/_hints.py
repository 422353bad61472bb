"""Location hints: one typed, immutable value per hint, keeping its text verbatim.

Parsing follows what Foolscap 24.9 does when it connects (``convert_legacy_hint``
and the tcp, tor and i2p hint handlers), written as plain string scanning so that
no input can make it backtrack.  A hint of a known type that does not fit its
grammar becomes an :class:`InvalidHint` (kept, with the reason), as Foolscap keeps
such a FURL and only skips the hint when connecting.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import ClassVar, TypeAlias

from ._errors import shorten as _show

__all__ = [
    "I2PHint",
    "InvalidHint",
    "LocationHint",
    "TCPHint",
    "TorHint",
    "UnknownHint",
    "parse_hint",
]

_ASCII_DIGITS = frozenset("0123456789")
# Foolscap's DNS_NAME_RESTR: letters, digits, dots and dashes (a dotted quad fits too).
_DNS_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-")
_HEX_COLON = frozenset("0123456789ABCDEFabcdef:")
_ZONE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.")
_TYPE_FIRST = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_TYPE_CHARS = _TYPE_FIRST | frozenset("0123456789+-._")

MAX_PORT = 65535


@dataclass(frozen=True, slots=True)
class TCPHint:
    """A ``tcp:HOST:PORT`` hint, or the legacy ``HOST:PORT`` form (``legacy=True``).

    ``host`` is a DNS name, a dotted quad, or an IPv6 address without its brackets
    (possibly with a ``%zone`` id); ``text`` is the hint exactly as written.
    """

    host: str
    port: int
    text: str
    legacy: bool = False
    hint_type: ClassVar[str] = "tcp"

    @property
    def is_ipv6(self) -> bool:
        """True when the host was written as a bracketed IPv6 literal."""
        return ":" in self.host

    def normalized(self) -> str:
        """The ``tcp:HOST:PORT`` form Foolscap connects with (legacy hints converted)."""
        if not self.legacy:
            return self.text
        return f"tcp:{self.host}:{self.port}"

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class TorHint:
    """A ``tor:HOST:PORT`` hint (HOST a DNS or ``.onion`` name or a dotted quad)."""

    host: str
    port: int
    text: str
    hint_type: ClassVar[str] = "tor"

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class I2PHint:
    """An ``i2p:ADDR[:PORT]`` hint; ``port`` is None when the hint has none."""

    address: str
    port: int | None
    text: str
    hint_type: ClassVar[str] = "i2p"

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class UnknownHint:
    """A ``TYPE:BODY`` hint of a type this package does not know; kept, never dropped."""

    hint_type: str
    body: str
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class InvalidHint:
    """A hint no connection handler can use; ``reason`` says what is wrong with it.

    Foolscap accepts a FURL holding such a hint and skips the hint when it
    connects; this value keeps it so it can be reported and re-encoded.
    """

    text: str
    reason: str
    hint_type: ClassVar[None] = None

    def __str__(self) -> str:
        return self.text


LocationHint: TypeAlias = TCPHint | TorHint | I2PHint | UnknownHint | InvalidHint


class _HintError(Exception):
    """Internal: a hint of a known type does not fit its grammar."""


def _port(digits: str, text: str) -> int:
    """Parse a port written in ASCII digits and check it is within 1..65535."""
    if not digits:
        raise _HintError(f"missing port in hint {_show(text)}")
    if not all(c in _ASCII_DIGITS for c in digits):
        raise _HintError(f"port {_show(digits)} in hint {_show(text)} is not a decimal number")
    significant = digits.lstrip("0")
    if len(significant) > 5 or not 1 <= int(significant or "0") <= MAX_PORT:
        shown = digits if len(digits) <= 12 else f"{digits[:12]}... ({len(digits)} digits)"
        raise _HintError(f"port {shown} in hint {_show(text)} is out of range 1-{MAX_PORT}")
    return int(significant)


def _is_dns_name(host: str) -> bool:
    """Foolscap's DNS name or dotted quad: letters, digits, dots, dashes; not empty."""
    return bool(host) and all(c in _DNS_CHARS for c in host)


def _is_dotted_quad_tail(s: str) -> bool:
    """Whether ``s`` is four groups of 1-3 ASCII digits separated by dots."""
    parts = s.split(".")
    return len(parts) == 4 and all(
        1 <= len(p) <= 3 and all(c in _ASCII_DIGITS for c in p) for p in parts
    )


def _ipv6_host(bracketed: str, text: str) -> str:
    """Check ``[ADDR]``, ``[ADDR%ZONE]`` or ``[::ffff:1.2.3.4]``; return ADDR without brackets."""
    inner = bracketed[1:-1]
    addr, percent, zone = inner.partition("%")
    if percent:
        if not zone or not all(c in _ZONE_CHARS for c in zone):
            raise _HintError(f"bad IPv6 zone id {_show(zone)} in hint {_show(text)}")
        hexpart = addr
    else:
        hexpart = addr
        # An IPv4-mapped tail: the last colon-separated field may be a dotted quad.
        head, colon, last = addr.rpartition(":")
        if colon and "." in last:
            if not _is_dotted_quad_tail(last):
                raise _HintError(
                    f"bad IPv4 tail {_show(last)} in IPv6 address in hint {_show(text)}"
                )
            hexpart = head + colon
    if not hexpart or not all(c in _HEX_COLON for c in hexpart):
        raise _HintError(f"bad IPv6 address {_show(bracketed)} in hint {_show(text)}")
    try:
        ipaddress.IPv6Address(inner)
    except ValueError:
        raise _HintError(f"{_show(inner)} in hint {_show(text)} is not an IPv6 address") from None
    return inner


def _host_port(body: str, text: str, *, allow_ipv6: bool) -> tuple[str, int]:
    """Split ``HOST:PORT`` at the last colon and check both parts."""
    host, colon, digits = body.rpartition(":")
    if not colon:
        raise _HintError(f"hint {_show(text)} needs HOST:PORT after its type")
    port = _port(digits, text)
    if allow_ipv6 and host.startswith("[") and host.endswith("]") and len(host) >= 2:
        return _ipv6_host(host, text), port
    if host.startswith("["):
        if allow_ipv6:
            raise _HintError(f"unterminated IPv6 literal {_show(host)} in hint {_show(text)}")
        raise _HintError(f"IPv6 host {_show(host)} is not allowed in hint {_show(text)}")
    if not _is_dns_name(host):
        raise _HintError(
            f"host {_show(host)} in hint {_show(text)} is not a DNS name, dotted quad or [IPv6]"
        )
    return host, port


def _legacy(text: str) -> TCPHint | None:
    """Foolscap's old-style implicit TCP hint: exactly ``DNSNAME:DIGITS``."""
    host, colon, digits = text.partition(":")
    if not (colon and _is_dns_name(host) and digits):
        return None
    if not all(c in _ASCII_DIGITS for c in digits):
        return None
    return TCPHint(host, _port(digits, text), text, legacy=True)


def parse_hint(text: str) -> LocationHint:
    """Parse one location hint; never raises for a str.

    Hints of an unknown ``TYPE:`` become :class:`UnknownHint`; hints that do not
    fit their type's grammar (or have no type) become :class:`InvalidHint`.
    """
    if not isinstance(text, str):
        raise TypeError(f"a location hint is a str, not {type(text).__name__}")
    try:
        legacy = _legacy(text)
        if legacy is not None:
            return legacy
        hint_type, colon, body = text.partition(":")
        if not colon:
            return InvalidHint(text, f"hint {_show(text)} has no TYPE: prefix and is not HOST:PORT")
        if hint_type == "tcp":
            host, port = _host_port(body, text, allow_ipv6=True)
            return TCPHint(host, port, text)
        if hint_type == "tor":
            host, port = _host_port(body, text, allow_ipv6=False)
            return TorHint(host, port, text)
        if hint_type == "i2p":
            address, colon, digits = body.partition(":")
            if not _is_dns_name(address):
                raise _HintError(f"bad I2P address {_show(address)} in hint {_show(text)}")
            return I2PHint(address, _port(digits, text) if colon else None, text)
        if hint_type.startswith("[") and "]" in text:
            return InvalidHint(text, f"hint {_show(text)}: an IPv6 host needs the tcp: prefix")
        if (
            not hint_type
            or hint_type[0] not in _TYPE_FIRST
            or not all(c in _TYPE_CHARS for c in hint_type)
        ):
            return InvalidHint(
                text, f"hint type {_show(hint_type)} in hint {_show(text)} is not a name"
            )
        return UnknownHint(hint_type, body, text)
    except _HintError as problem:
        return InvalidHint(text, str(problem))
