"""Writing a connection's bytes: at once when alone, together when many.

Adaptive corking, so that a lone message keeps its latency and many messages share
one TLS record and one system call:

- **Alone: at once.** A write made when nothing else waits goes into TLS and onto the
  socket immediately (one round trip of a serial call pays no timer and no reactor
  turn).
- **A burst: one write.** While input is handled (:meth:`CorkedWriter.cork` ...
  :meth:`CorkedWriter.uncork`; for TLS the cork spans the whole socket read, every
  record in it, see ``_tls_read``) everything written is held and leaves in one write
  at the end: the answers to every call of the read, the calls their callbacks make.
- **Same turn: together.** A write outside a burst goes out at once and opens a
  *turn*: the writes after it, until the reactor's next turn
  (``clock.callLater(0)``), are held and leave together then. N calls made in one
  turn from outside any input are one write of the first and one of the rest.
  A burst (input arriving for the connection) ends its turn early, the timer
  cancelled: what the turn holds leaves with the burst's writes, and a write after
  the burst is the first of a new turn.
- **Send blocked: held.** While the transport's send buffer is past its high-water
  mark (``send_blocked``, the Broker's flow control) writes are held to the end of
  the turn (or of a burst), then handed over as one piece (the reactor sends it as
  the socket drains).

Past ``FLUSH_AT`` held bytes (64 KiB) are written at once, so that bulk data does not
wait and the transport's buffer, which flow control watches, sees it. Big pieces (a
large byte string the encoder did not copy) are written as they are
rather than joined, which would copy them. Once the transport is gone (:meth:`lost`)
held writes are dropped and new ones ignored; :meth:`flush` writes what is held at
once (before ``loseConnection``). Writes go into the TLS layer under the transport
directly when there is one (``_tls_write``), else to ``transport.write``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from octavo.reconnector import ClockLike
from octavo.tub._wire._fastwire import BIG_MESSAGE

from ._tls_write import direct_tls_writer

__all__ = ["FLUSH_AT", "CorkedWriter", "SendState"]

#: held bytes past which they are written at once: waiting gains bulk data nothing,
#: and the transport's buffer (what flow control watches) must see them
FLUSH_AT = BIG_MESSAGE


class SendState(Protocol):
    """Whether the transport's send buffer is full (the Broker's ``FlowControl``)."""

    send_blocked: bool


class _NeverBlocked:
    send_blocked = False


class CorkedWriter:
    """The write side of one connection's transport.

    :param clock: whose ``callLater(0)`` ends a turn.
    :param flow: its ``send_blocked`` says when the send buffer is full (default:
        never).
    """

    __slots__ = (
        "_clock",
        "_flow",
        "_held",
        "_held_bytes",
        "_raw_write",
        "_turn",
        "corked",
        "gone",
    )

    def __init__(self, clock: ClockLike, flow: SendState | None = None) -> None:
        self._clock = clock
        self._flow: SendState = flow if flow is not None else _NeverBlocked()
        #: True while a burst holds writes back (set by :meth:`cork`; the Broker's
        #: ``dataReceived`` sets and clears it itself, the same way)
        self.corked = False
        self._held: list[bytes] = []
        self._held_bytes = 0
        #: the end of the current turn (a pending ``callLater(0)``), or None
        self._turn: Any = None
        self._raw_write: Callable[[bytes], object] | None = None
        #: True once the transport is gone: writes are dropped
        self.gone = False

    def attach(self, transport: Any) -> None:
        """Write to ``transport`` from now on."""
        self._raw_write = direct_tls_writer(transport) or transport.write

    @property
    def holding(self) -> int:
        """How many writes are held (for tests and debugging)."""
        return len(self._held)

    def cork(self) -> bool:
        """Hold writes back until :meth:`uncork` (a burst begins). True if this call
        corked the writer; False if it already was (the outer caller uncorks)."""
        if self.corked:
            return False
        self.corked = True
        if self._turn is not None:
            self.end_turn_early()
        return True

    def end_turn_early(self) -> None:
        """A burst begins (input arrived) during a turn: the turn ends here. What it
        holds leaves with the burst's writes at :meth:`uncork`; a write after the
        burst is the first of a new turn. (Its timer would find nothing left to do.)"""
        turn, self._turn = self._turn, None
        if turn is not None:
            turn.cancel()

    def uncork(self) -> None:
        """The burst is over: write what is held, as one write."""
        self.corked = False
        if self._held:
            self.flush()

    def write(self, data: bytes) -> None:
        """Write ``data``: at once if nothing else waits, else with the others."""
        if self.corked or self._turn is not None:
            self._held.append(data)
            self._held_bytes += len(data)
            if self._held_bytes > FLUSH_AT:
                self.flush()
        elif data:
            self._write_first([data])

    def write_message(self, data: bytes | list[bytes]) -> None:
        """Write one encoded message (a big one comes in pieces)."""
        if type(data) is not list:
            # self.write(data), inline (every message comes here)
            if self.corked or self._turn is not None:
                self._held.append(data)  # type: ignore[arg-type]
                self._held_bytes += len(data)
                if self._held_bytes > FLUSH_AT:
                    self.flush()
            elif data:
                self._write_first([data])  # type: ignore[list-item]
        elif self.corked or self._turn is not None:
            self._held.extend(data)
            self.flush()  # a big message: nothing to gain by waiting
        else:
            self._write_first(data)

    def _write_first(self, pieces: list[bytes]) -> None:
        """The first write of a turn: at once (unless sending is blocked); the
        writes after it wait for the end of the turn."""
        write = self._raw_write
        if write is None or self.gone:
            return
        if self._flow.send_blocked:
            self._held.extend(pieces)
            self._held_bytes = sum(map(len, pieces))
        else:
            for piece in pieces:
                write(piece)
        self._turn = self._clock.callLater(0, self._end_turn)

    def _end_turn(self) -> None:
        self._turn = None
        if self._held and not self.corked:
            self.flush()

    def flush(self) -> None:
        """Write everything held now, as one write, but big pieces as they are."""
        held, self._held = self._held, []
        self._held_bytes = 0
        write = self._raw_write
        if not held or write is None or self.gone:
            return
        if len(held) == 1:
            if held[0]:
                write(held[0])
            return
        if sum(map(len, held)) <= BIG_MESSAGE:
            write(b"".join(held))
            return
        run: list[bytes] = []
        for piece in held:
            if len(piece) > BIG_MESSAGE:
                if run:
                    write(b"".join(run))
                    run = []
                write(piece)
            elif piece:
                run.append(piece)
        if run:
            write(b"".join(run))

    def lost(self) -> None:
        """The transport is gone: drop what is held, write nothing more."""
        self.gone = True
        self._held = []
        self._held_bytes = 0
        turn, self._turn = self._turn, None
        if turn is not None and turn.active():
            turn.cancel()
