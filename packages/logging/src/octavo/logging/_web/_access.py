"""Who may use the viewer (sans-IO): loopback by default, a token everywhere else."""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from dataclasses import dataclass

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


class AccessError(ValueError):
    """The interface or token given to the viewer is unusable; the message says why."""


def is_loopback(interface: str) -> bool:
    """True when *interface* is a loopback address or ``localhost``."""
    if interface.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(interface).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    """A fresh random token for the URL (URL-safe, 192 bits)."""
    return secrets.token_urlsafe(24)


def check_token_text(token: str) -> str:
    """*token* when usable in a URL as it is; else an AccessError."""
    if not 16 <= len(token) <= 256:
        raise AccessError("--token must be 16 to 256 characters long")
    if not all(c.isascii() and (c.isalnum() or c in "-_.~") for c in token):
        raise AccessError("--token may only hold letters, digits and - _ . ~")
    return token


@dataclass(frozen=True)
class AccessPolicy:
    """The token requests must carry (None: none needed) and the hosts they may name."""

    token: str | None
    allowed_hosts: frozenset[str] | None

    def allows(self, token: str | None, host: str | None) -> bool:
        """True when a request carrying *token* and Host header *host* may be served."""
        if self.token is not None:
            return token is not None and hmac.compare_digest(
                token.encode("utf-8", "replace"), self.token.encode("utf-8")
            )
        if self.allowed_hosts is None:
            return True
        return host is not None and host.lower() in self.allowed_hosts


def choose_policy(interface: str, port: int, token: str | None) -> AccessPolicy:
    """The policy for serving on *interface*:*port*.

    Off loopback a token is required (a new one when *token* is None). On loopback a given
    token is required too; without one, requests must name a loopback host in their Host
    header (so a page from elsewhere cannot reach the viewer through DNS rebinding).
    """
    if token is not None:
        return AccessPolicy(check_token_text(token), None)
    if not is_loopback(interface):
        return AccessPolicy(new_token(), None)
    hosts = {f"{name}:{port}" for name in ("localhost", "127.0.0.1", "[::1]")}
    return AccessPolicy(None, frozenset(hosts))


def viewer_url(interface: str, port: int, token: str | None) -> str:
    """The URL to open: the interface (127.0.0.1 for a wildcard), port and token."""
    host = interface
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    url = f"http://{host}:{port}/"
    return url + f"?token={token}" if token is not None else url
