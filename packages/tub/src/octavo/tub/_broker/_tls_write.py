"""Write straight into the TLS layer under a transport, and on to the socket at once.

Twisted's TLS transports (``BufferingTLSTransport``) hold every write until the next
reactor turn so that many small writes become one TLS record, and a socket sends
what it is given only when the reactor next finds it writable: two reactor turns
on every message. The Broker already gathers what it writes (``_writer``) and hands
it over once, so for it those turns only add latency and work to every round trip.

:func:`direct_tls_writer` returns a function that writes to the TLS layer at once
(``TLSMemoryBIOProtocol.write``, the public method of the unbuffered base class),
after pushing out anything the buffering layer still holds (the last negotiation
block), so that bytes never overtake each other; then, for a socket of the reactor
(a ``FileDescriptor``) with nothing buffered, it lets the socket send right away
(``doWrite``, what the reactor calls when the socket is writable), registering the
socket for writing only if bytes stay behind. Writes to a socket still sending are
left in its buffer for the reactor. From then on every write of the connection
must go through it.

On an idle socket with the handshake done and nothing held by the TLS layer, the
bytes are encrypted and sent with no Twisted layer in between (:func:`_sender`): the
TLS connection's ``send`` into its memory BIO, one ``bio_read`` of the records, one
``send`` on the socket, whatever the socket does not take handed to
``transport.write`` (so the reactor sends it, or meets the socket's error and closes
the connection, as usual). That is what ``TLSMemoryBIOProtocol.write`` and the
socket's ``doWrite`` do, less about ten Python calls, a copy of the data and a
registration per message; in anything unusual (a TLS error, a handshake or a
shutdown under way, held application data) it steps aside and Twisted's path runs.
The records are made and read out with OpenSSL's own calls where pyOpenSSL's binding
allows (:mod:`._openssl_calls`), without pyOpenSSL's wrapper around each.

Anything else (plain TCP, a loopback or test transport, a TLS layer of another
shape) gets ``None``: the caller uses ``transport.write``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from OpenSSL import SSL
from twisted.internet.abstract import FileDescriptor
from twisted.protocols.tls import TLSMemoryBIOProtocol

from ._openssl_calls import openssl_calls
from ._tls_layer import pyopenssl_connection

__all__ = ["SEND_NOW_LIMIT", "direct_tls_writer"]

#: bursts up to this size go onto the socket at once; bigger ones (bulk data, where a
#: reactor turn costs nothing) are left to the reactor, which sends them as the
#: socket drains (sending them at once measured several times the kernel time)
SEND_NOW_LIMIT = 64 * 1024


def direct_tls_writer(transport: Any) -> Callable[[bytes], None] | None:
    """A ``write(data)`` into the TLS layer under ``transport``, or None if there is none."""
    if not getattr(transport, "TLS", False):
        return None
    tls = getattr(transport, "protocol", None)
    if not isinstance(tls, TLSMemoryBIOProtocol):
        return None
    held = tls.__dict__.get("_aggregator")
    if held is not None:
        flush = getattr(held, "flush", None)
        if not callable(flush):
            return None  # a buffering layer we do not know how to empty: stay on it
        flush()
    elif type(tls).write is not TLSMemoryBIOProtocol.write or "write" in tls.__dict__:
        return None  # some other wrapper of write(): stay on it
    write: Any = TLSMemoryBIOProtocol.write
    # a socket of the reactor: hand it the bytes now rather than on the next turn
    send_now: Any = transport.doWrite if isinstance(transport, FileDescriptor) else None
    direct = _sender(transport, tls) if send_now is not None else None

    def write_now(data: bytes) -> None:
        if not transport.connected:
            return
        if send_now is None or len(data) > SEND_NOW_LIMIT or transport.disconnecting:
            write(tls, data)
        elif transport._tempDataLen or transport.offset < len(transport.dataBuffer):
            # the socket is still sending earlier bytes: add these, the reactor
            # sends them with the rest when the socket is writable
            write(tls, data)
        elif direct is None or not direct(data):
            _send_idle(transport, tls, write, send_now, data)

    return write_now


#: room for the records' framing beyond the data itself (22 bytes a 16 KiB record in
#: TLS 1.3, 29 in TLS 1.2); more in the BIO (a rare TLS message of its own) is read on
_RECORD_ROOM = 1024


def _sender(
    transport: Any, tls: Any, *, fast_paths: bool | None = None
) -> Callable[[bytes], bool] | None:
    """``send(data) -> bool``: encrypt ``data`` and send it on ``transport``'s idle
    socket at once; False (nothing done) when the TLS layer is not in its plain
    connected state. None if ``tls`` or ``transport`` is not of the shape known here.
    The records are made with OpenSSL's own calls (:mod:`._openssl_calls`) when they
    can be (``fast_paths`` None: the process default), else with pyOpenSSL's methods."""
    conn = pyopenssl_connection(tls)
    sock = getattr(transport, "socket", None)
    if conn is None or not callable(getattr(sock, "send", None)):
        return None
    tls_send = conn.send
    bio_read = conn.bio_read
    sock_send: Any = sock.send  # type: ignore[union-attr]
    later: Any = transport.write  # buffers and registers the socket for writing
    tls_write: Any = TLSMemoryBIOProtocol.write
    calls = openssl_calls(conn, fast_paths=fast_paths)
    if calls is not None:
        ssl = calls.ssl
        from_ssl = calls.from_ssl
        ssl_write = calls.ssl_write
        raw_bio_read = calls.bio_read
        new_buffer = calls.new_buffer
        view = calls.view
        from_buffer = calls.from_buffer

    def send(data: bytes) -> bool:
        if (
            not tls._handshakeDone
            or tls._appSendBuffer
            or tls._lostTLSConnection
            or tls.disconnecting
        ):
            return False
        taken = 0
        if calls is not None:
            if type(data) is bytes:
                taken = ssl_write(ssl, data, len(data))
            else:
                with from_buffer(data) as pointer:
                    taken = ssl_write(ssl, pointer, len(data))
        if taken <= 0:  # (or refused: pyOpenSSL's send meets the same state and acts on it)
            try:
                taken = tls_send(data)  # into the memory BIO, a record (16 KiB) a call
            except SSL.Error:
                return False  # Twisted's path meets the same and acts on it
        while taken < len(data):
            try:
                taken += tls_send(memoryview(data)[taken:])
            except SSL.Error:
                break  # the records so far go out, then Twisted's path meets it
        size = taken + _RECORD_ROOM
        if calls is not None:
            buf = new_buffer("char[]", size)
            n = raw_bio_read(from_ssl, buf, size)
            records = view(buf, n)[:] if n > 0 else b""
        else:
            records = bio_read(size)
        if len(records) == size:  # more in the BIO than this data's records
            pieces = [records]
            try:
                while True:
                    pieces.append(bio_read(size))
            except SSL.WantReadError:
                records = b"".join(pieces)
        try:
            sent = sock_send(records)
        except OSError:  # EAGAIN, or an error the reactor meets and closes on
            sent = 0
        if sent < len(records):
            later(records[sent:])
        if taken < len(data):  # a TLS error after the first records
            tls_write(tls, data[taken:])
        return True

    return send


def _no_op() -> None:
    return None


def _send_idle(transport: Any, tls: Any, write: Any, send_now: Any, data: bytes) -> None:
    """Encrypt ``data`` and send it on a socket that has nothing buffered, without
    registering the socket for writing first (two ``epoll_ctl`` calls saved on every
    message): register it only when some bytes stay behind, or on an error, so the
    reactor meets them on its next turn as usual."""
    transport.startWriting = _no_op
    try:
        write(tls, data)
    finally:
        del transport.startWriting
    if transport.disconnecting:  # the TLS layer gave up: let the reactor close it
        transport.startWriting()
        return
    # What the reactor does when the socket is writable; nothing registered, so
    # its stopWriting() on success costs no system call.
    failed = send_now()
    if failed is not None or transport._tempDataLen or transport.dataBuffer:
        transport.startWriting()
