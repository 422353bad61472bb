"""The parts of Twisted's TLS layer (``TLSMemoryBIOProtocol``) that the direct TLS
reader (:mod:`._tls_read`) and writer (:mod:`._tls_write`) use. They are Twisted's
private names, looked for once per connection: a TLS layer without them (another
Twisted, another shape) gets no direct path, and Twisted's own path runs."""

from __future__ import annotations

from typing import Any

from OpenSSL import SSL

__all__ = ["PLAIN_STATE", "pyopenssl_connection"]

#: what tells the layer's plain connected state (handshake done, nothing held, not lost)
PLAIN_STATE = ("_tlsConnection", "_handshakeDone", "_appSendBuffer", "_lostTLSConnection")


def pyopenssl_connection(tls: Any, *more: str) -> SSL.Connection | None:
    """``tls``'s pyOpenSSL connection if ``tls`` has the parts named in
    :data:`PLAIN_STATE` and ``more``, else None."""
    if not all(hasattr(tls, name) for name in (*PLAIN_STATE, *more)):
        return None
    conn = tls._tlsConnection
    return conn if isinstance(conn, SSL.Connection) else None
