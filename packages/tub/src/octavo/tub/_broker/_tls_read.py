"""Cork a connection's writer for a whole socket read, not one TLS record.

Twisted's TLS layer (``TLSMemoryBIOProtocol.dataReceived``) hands the protocol each
TLS record of a socket read by itself. A peer that sends its calls one record each
(one ``callRemote`` at a time) would then get one answer, one record and one
``send`` per call even when a read carried fifty of them, and the calls would stay
that finely cut for as long as the connection is busy. :func:`cork_tls_reads` wraps
the TLS layer's ``dataReceived`` of one connection so the writer is corked from the
first record of a read to the last: everything the records make us send leaves in
one write once the read is handled, with no added latency.

Given the Broker's ``dataReceived``, a TLS 1.3 connection past its handshake is also
read without Twisted's layers in between (:func:`_receiver`): the read goes into the
TLS connection's memory BIO and the plaintext of all its records straight to the
Broker, in one piece (a record holds at most 16 KiB, so a burst of calls spans
several, and a message cut at a record's end would otherwise reach the Broker in two
parts, which the whole-message fast path leaves to the general decoder: about one
message in forty with 100 calls of ~420 bytes in flight). That is the
work of ``TLSMemoryBIOProtocol.dataReceived`` less the wrappers around the Broker
(the TLS layer's, the endpoint's and negotiation's) and the empty read of the send
BIO that ends every read there (an exception from pyOpenSSL each time). What TLS 1.3
may write while reading (a KeyUpdate's answer) stays in the send BIO, in order, and
leaves with the next write; the peer never waits for it. A close_notify or a TLS
error, a handshake, held data or a lost connection are left to Twisted's path. The
records are decrypted with OpenSSL's own calls where pyOpenSSL's binding allows
(:mod:`._openssl_calls`), with no exception ending the read then.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from OpenSSL import SSL
from twisted.protocols.tls import TLSMemoryBIOProtocol

from ._openssl_calls import openssl_calls
from ._tls_layer import pyopenssl_connection
from ._writer import CorkedWriter

__all__ = ["cork_tls_reads"]


def cork_tls_reads(
    transport: Any, writer: CorkedWriter, deliver: Callable[[bytes], None] | None = None
) -> bool:
    """Cork ``writer`` around each read of the TLS layer under ``transport``, and
    hand the plaintext straight to ``deliver`` when it can. False (nothing done) when
    there is no TLS layer of Twisted's."""
    if not getattr(transport, "TLS", False):
        return False
    tls = getattr(transport, "protocol", None)
    if not isinstance(tls, TLSMemoryBIOProtocol) or "dataReceived" in tls.__dict__:
        return False
    received: Any = tls.dataReceived
    direct = _receiver(tls, deliver) if deliver is not None else None

    def data_received(data: bytes) -> None:
        outer = writer.cork()
        try:
            if direct is None or not direct(data):
                received(data)
        finally:
            if outer:
                writer.uncork()

    tls.dataReceived = data_received  # type: ignore[method-assign]
    return True


#: plaintext asked for a record at a time (a TLS record holds at most 16 KiB)
_READ_SIZE = 1 << 15


def _receiver(
    tls: Any, deliver: Callable[[bytes], None], *, fast_paths: bool | None = None
) -> Callable[[bytes], bool] | None:
    """``receive(data) -> bool``: decrypt a read and hand its plaintext to ``deliver``;
    False (nothing done) when the TLS layer is not in its plain connected state. None
    unless ``tls`` is of the shape known here, over TLS 1.3. The records are read with
    OpenSSL's own calls (:mod:`._openssl_calls`) when they can be (``fast_paths`` None:
    the process default), else with pyOpenSSL's methods."""
    conn = pyopenssl_connection(tls, "_aborted", "_flushReceiveBIO")
    if conn is None or conn.get_protocol_version_name() != "TLSv1.3":
        return None
    bio_write = conn.bio_write
    recv = conn.recv

    def read_rest(pieces: list[bytes]) -> bool:
        # pyOpenSSL's reading: each record after ``pieces`` (the plaintext read so far),
        # then the exception that ends the read
        while True:
            try:
                pieces.append(recv(_READ_SIZE))
            except SSL.WantReadError:
                deliver_all(pieces)
                return True  # every whole record read
            except SSL.Error:
                # a close_notify or a TLS error: the records before it are delivered,
                # then Twisted's reading meets it again and shuts the connection down
                if deliver_all(pieces):
                    tls._flushReceiveBIO()
                return True

    def deliver_all(pieces: list[bytes]) -> bool:
        """The plaintext read so far, in one piece; False if the connection is going
        (nothing more is to be delivered or read then)."""
        if pieces:
            deliver(pieces[0] if len(pieces) == 1 else b"".join(pieces))
        return not (tls._lostTLSConnection or tls._aborted)

    calls = openssl_calls(conn, fast_paths=fast_paths)
    if calls is None:

        def receive(data: bytes) -> bool:
            if (
                not tls._handshakeDone
                or tls._appSendBuffer
                or tls._lostTLSConnection
                or tls._aborted
            ):
                return False
            bio_write(data)
            return read_rest([])

        return receive

    ssl = calls.ssl
    into_ssl = calls.into_ssl
    raw_bio_write = calls.bio_write
    ssl_read = calls.ssl_read
    get_error = calls.ssl_get_error
    want_read = calls.want_read
    new_buffer = calls.new_buffer
    view = calls.view

    def receive_direct(data: bytes) -> bool:
        if not tls._handshakeDone or tls._appSendBuffer or tls._lostTLSConnection or tls._aborted:
            return False
        put = raw_bio_write(into_ssl, data, len(data))
        if put != len(data):  # (a memory BIO takes all but for lack of memory)
            bio_write(data[max(put, 0) :])  # pyOpenSSL's: the rest, or why not
        buf = new_buffer("char[]", _READ_SIZE)
        pieces: list[bytes] = []
        while True:
            n = ssl_read(ssl, buf, _READ_SIZE)
            if n > 0:
                pieces.append(view(buf, n)[:])
                continue
            if get_error(ssl, n) == want_read:  # (asked first, before any delivery runs)
                deliver_all(pieces)
                return True  # every whole record read
            # anything else: pyOpenSSL's reading meets the same state first and acts on
            # it, after the records read so far are delivered
            return read_rest(pieces)

    return receive_direct
