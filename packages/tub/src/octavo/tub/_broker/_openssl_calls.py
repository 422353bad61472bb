"""OpenSSL's read and write calls on a pyOpenSSL connection, without pyOpenSSL's
wrapper around each.

Every ``recv``, ``send``, ``bio_read`` and ``bio_write`` of a pyOpenSSL ``Connection``
is one OpenSSL call inside a Python method that checks its arguments, asks three
callback helpers for problems and turns the result into an exception (a
``WantReadError`` ends every read of a memory BIO). On a busy connection that costs
more than the cryptography: measured on 300-byte records, a read's decryption took
8.6 us through ``recv`` and 3.6 us through the OpenSSL calls themselves, a record's
encryption 3.5 us against 1.5-2 us.

:func:`openssl_calls` gives the direct reader (:mod:`._tls_read`) and writer
(:mod:`._tls_write`) those calls, reached through pyOpenSSL's own binding of
OpenSSL: ``SSL_read``, ``SSL_write``, ``SSL_get_error`` and the two memory BIOs'
``BIO_read`` and ``BIO_write``. They are used only in the plain connected state (the
handshake done) and only for what always succeeds or asks for more input there: a
record read or written, the BIO emptied or filled. Any other outcome (a
close_notify, a TLS error, anything unusual) leaves the error where OpenSSL put it
and repeats the step through pyOpenSSL's method, which meets the same state and
raises its usual exception: what is refused, and how, stays pyOpenSSL's. The callback
helpers are not asked: past the handshake of TLS 1.3 (the only version read this
way) no verify, ALPN or OCSP callback runs.

The binding and the connection's OpenSSL objects are pyOpenSSL's private names,
looked for once per connection: without them (another pyOpenSSL), or with the fast
paths off (``OCTAVO_FAST_PATHS=0``), there are no direct calls and pyOpenSSL's
methods are used.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from OpenSSL import SSL

from octavo.banana import fast_paths_default

__all__ = ["OpenSSLCalls", "openssl_calls"]

#: the binding's functions used here
_FUNCTIONS = ("SSL_read", "SSL_write", "SSL_get_error", "BIO_read", "BIO_write")


class OpenSSLCalls(NamedTuple):
    """The OpenSSL objects of one pyOpenSSL connection and the calls made on them."""

    #: the connection itself (it owns the objects below: kept alive with them)
    connection: SSL.Connection
    #: ``SSL *``
    ssl: Any
    #: the memory BIO OpenSSL reads records from (``bio_write`` fills it)
    into_ssl: Any
    #: the memory BIO OpenSSL writes records to (``bio_read`` empties it)
    from_ssl: Any
    ssl_read: Any
    ssl_write: Any
    ssl_get_error: Any
    bio_read: Any
    bio_write: Any
    #: ``SSL_ERROR_WANT_READ``: a read that needs more records
    want_read: int
    #: ``new("char[]", n)``: a buffer, not zeroed (every byte used is written first)
    new_buffer: Any
    #: ``buffer(cdata, n)``: a view of a buffer's first ``n`` bytes
    view: Any
    #: ``from_buffer(data)``: a buffer-protocol object as ``char *``
    from_buffer: Any


def openssl_calls(conn: SSL.Connection, *, fast_paths: bool | None = None) -> OpenSSLCalls | None:
    """The direct calls on ``conn``, or None if pyOpenSSL's binding or ``conn`` lacks a
    part of them, ``conn`` has no memory BIOs, or the fast paths are off (``fast_paths``
    None: the process default, octavo.banana's ``fast_paths_default()``)."""
    if fast_paths is None:
        fast_paths = fast_paths_default()
    if not fast_paths:
        return None
    lib = getattr(SSL, "_lib", None)
    ffi = getattr(SSL, "_ffi", None)
    ssl = getattr(conn, "_ssl", None)
    into_ssl = getattr(conn, "_into_ssl", None)
    from_ssl = getattr(conn, "_from_ssl", None)
    if lib is None or ffi is None or ssl is None or into_ssl is None or from_ssl is None:
        return None
    if not all(callable(getattr(lib, name, None)) for name in _FUNCTIONS):
        return None
    want_read = getattr(lib, "SSL_ERROR_WANT_READ", None)
    new_allocator = getattr(ffi, "new_allocator", None)
    if type(want_read) is not int or not callable(new_allocator):
        return None
    try:
        new_buffer = new_allocator(should_clear_after_alloc=False)
    except TypeError:  # pragma: no cover - a cffi without the option
        return None
    return OpenSSLCalls(
        conn,
        ssl,
        into_ssl,
        from_ssl,
        lib.SSL_read,
        lib.SSL_write,
        lib.SSL_get_error,
        lib.BIO_read,
        lib.BIO_write,
        want_read,
        new_buffer,
        ffi.buffer,
        ffi.from_buffer,
    )
