"""Two pyOpenSSL connections over memory BIOs with their handshake done (TLS 1.3
unless told), for the tests of octavo-tub's TLS glue."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from OpenSSL import SSL

from octavo.tub._net._identity import TubIdentity

_IDENTITY: list[TubIdentity] = []


def _context(version: int | None) -> SSL.Context:
    if not _IDENTITY:
        _IDENTITY.append(TubIdentity.generate())
    ident = _IDENTITY[0]
    ctx = SSL.Context(SSL.TLS_METHOD)
    ctx.use_certificate(ident.certificate.to_cryptography())
    ctx.use_privatekey(ident.private_key.to_cryptography_key())
    if version is not None:
        ctx.set_max_proto_version(version)
    return ctx


def pair(version: int | None = None) -> tuple[SSL.Connection, SSL.Connection]:
    """A client and a server TLS connection over memory BIOs, handshake done."""
    server = SSL.Connection(_context(version), None)
    server.set_accept_state()
    client = SSL.Connection(_context(version), None)
    client.set_connect_state()
    for _ in range(10):
        for conn in (client, server):
            with contextlib.suppress(SSL.WantReadError):
                conn.do_handshake()
        if not move(client, server) + move(server, client):
            break
    return client, server


def move(src: SSL.Connection, dst: SSL.Connection) -> int:
    """Carry what ``src`` wrote to ``dst``: the bytes carried."""
    moved = 0
    try:
        while True:
            chunk = src.bio_read(65536)
            dst.bio_write(chunk)
            moved += len(chunk)
    except SSL.WantReadError:
        return moved


def records(conn: SSL.Connection, *plaintexts: bytes) -> bytes:
    """The TLS records of ``plaintexts`` written by ``conn``, one record each."""
    out = []
    for data in plaintexts:
        conn.sendall(data)
        out.append(conn.bio_read(65536))
    return b"".join(out)


def plain(conn: SSL.Connection, data: bytes) -> bytes:
    """What the records in ``data`` decrypt to on ``conn``."""
    conn.bio_write(data)
    out = []
    try:
        while True:
            out.append(conn.recv(65536))
    except SSL.WantReadError:
        return b"".join(out)


def counted(used: list[str], name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    """``method``, noting ``name`` in ``used`` at each call (which pyOpenSSL methods a
    direct reader or writer calls)."""

    def call(*args: Any) -> Any:
        used.append(name)
        return method(*args)

    return call
