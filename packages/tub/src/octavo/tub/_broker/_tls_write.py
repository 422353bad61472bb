"""Write straight into the TLS layer under a transport, and on to the socket at once.

Twisted's TLS transports (``BufferingTLSTransport``) hold every write until the next
reactor turn so that many small writes become one TLS record, and a socket sends
what it is given only when the reactor next finds it writable: two reactor turns
on every message. The Broker already gathers what it writes during a burst (all it
sends while handling one chunk of input) and hands it over once, so for it those
turns only add latency and work to every round trip.

:func:`direct_tls_writer` returns a function that writes to the TLS layer at once
(``TLSMemoryBIOProtocol.write``, the public method of the unbuffered base class),
after pushing out anything the buffering layer still holds (the last negotiation
block), so that bytes never overtake each other; then, for a socket of the reactor
(a ``FileDescriptor``), it lets the socket send right away (``doWrite``, what the
reactor calls when the socket is writable). From then on every write of the
connection must go through it.

Anything else (plain TCP, a loopback or test transport, a TLS layer of another
shape) gets ``None``: the caller uses ``transport.write``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet.abstract import FileDescriptor
from twisted.protocols.tls import TLSMemoryBIOProtocol

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

    def write_now(data: bytes) -> None:
        if transport.connected:
            write(tls, data)
            if send_now is not None and len(data) <= SEND_NOW_LIMIT and not transport.disconnecting:
                # What the reactor does when the socket is writable. Whatever does
                # not fit stays buffered with the socket still registered for
                # writing, and an error leaves it registered too, so the reactor
                # meets it on its next turn and closes the connection as usual.
                send_now()

    return write_now
