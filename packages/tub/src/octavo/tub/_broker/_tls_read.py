"""Cork a connection's writer for a whole socket read, not one TLS record.

Twisted's TLS layer (``TLSMemoryBIOProtocol.dataReceived``) hands the protocol each
TLS record of a socket read by itself. A peer that sends its calls one record each
(one ``callRemote`` at a time) would then get one answer, one record and one
``send`` per call even when a read carried fifty of them, and the calls would stay
that finely cut for as long as the connection is busy. :func:`cork_tls_reads` wraps
the TLS layer's ``dataReceived`` of one connection so the writer is corked from the
first record of a read to the last: everything the records make us send leaves in
one write once the read is handled, with no added latency.
"""

from __future__ import annotations

from typing import Any

from twisted.protocols.tls import TLSMemoryBIOProtocol

from ._writer import CorkedWriter

__all__ = ["cork_tls_reads"]


def cork_tls_reads(transport: Any, writer: CorkedWriter) -> bool:
    """Cork ``writer`` around each read of the TLS layer under ``transport``.
    False (nothing done) when there is no TLS layer of Twisted's."""
    if not getattr(transport, "TLS", False):
        return False
    tls = getattr(transport, "protocol", None)
    if not isinstance(tls, TLSMemoryBIOProtocol) or "dataReceived" in tls.__dict__:
        return False
    received: Any = tls.dataReceived

    def data_received(data: bytes) -> None:
        outer = writer.cork()
        try:
            received(data)
        finally:
            if outer:
                writer.uncork()

    tls.dataReceived = data_received  # type: ignore[method-assign]
    return True
