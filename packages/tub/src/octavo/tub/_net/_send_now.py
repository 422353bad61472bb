"""Send what a negotiating connection wrote now, not on the reactor's next turns.

Twisted holds a write to a socket until the reactor finds it writable on its next
turn, and a write into its TLS layer (``BufferingTLSTransport``) until the turn after
that. During negotiation each block we send is followed by work the peer could do at
the same time as ours (the 101 by our TLS set-up, the decision block by our Broker's),
so :func:`send_written_now` puts the bytes on the socket straight away: what the
reactor would do (the TLS layer's ``flush``, then the socket's ``doWrite``), earlier.
The Broker's own writes take the same short cut (``_broker/_tls_write.py``).
"""

from __future__ import annotations

from typing import Any

from twisted.internet.abstract import FileDescriptor
from twisted.protocols.tls import TLSMemoryBIOProtocol

__all__ = ["send_written_now"]


def send_written_now(transport: Any) -> None:
    """Put on the socket now what was written to ``transport`` (through its TLS layer,
    if it has one) instead of on the reactor's next turns.

    For negotiation, whose every block is followed by work the peer could do at the
    same time (the 101 by our TLS set-up, the decision block by our Broker's). Only
    for a socket of the reactor that is connected and not closing; anything else is
    left to the reactor, and so are bytes the socket cannot take at once.
    """
    if not isinstance(transport, FileDescriptor):
        return
    sock: Any = transport  # FileDescriptor's methods are not annotated
    if not sock.connected or sock.disconnecting:
        return
    if getattr(sock, "TLS", False):
        tls = getattr(sock, "protocol", None)
        if not isinstance(tls, TLSMemoryBIOProtocol):
            return  # a TLS layer of another shape: leave its writes to it
        held = tls.__dict__.get("_aggregator")  # None: an unbuffered TLS layer
        if held is not None:
            flush = getattr(held, "flush", None)
            if not callable(flush):
                return
            flush()
        if sock.disconnecting:  # the TLS layer gave up: the reactor closes it
            return
    if not (sock._tempDataLen or sock.offset < len(sock.dataBuffer)):
        return
    failed = sock.doWrite()
    if failed is not None or sock._tempDataLen or sock.dataBuffer:
        sock.startWriting()  # the reactor sends the rest, or meets the error
