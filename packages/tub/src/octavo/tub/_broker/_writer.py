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
- **Half a window: sliced.** When a read brings answers to our calls, the Broker
  tells the writer how many calls we have in flight (:meth:`CorkedWriter.handling`:
  those still awaited plus those just answered); once the burst holds half that
  many messages they are written, and the rest at the end of the read as before. A
  client keeping 100 calls in flight whose 100 answers arrive in one read would
  otherwise send the 100 calls their callbacks make in one write at the read's end:
  then the server works while the client waits, then the client while the server
  does, in lockstep, each idle half the time. In halves the far side starts on the
  first while this side makes the second, and both stay busy (100 no-op calls in
  flight on one connection: 1.46x-2.05x the calls/s, for one more write per window).
  Slices are never under half the window, so they do not shrink as they go back and
  forth; a read is sliced once; a side awaiting no answers (a server) does not
  slice; nothing is sliced while the send buffer is full. Windows under
  ``2 * SLICE_MIN`` are sliced only while the connection is the only one of the
  process getting answers (from ``2 * SLICE_MIN_ALONE``): with 10 calls in flight
  per connection, slicing gained 1.43x-1.84x on one connection but lost 21-29% when
  every client process had 5 to 250 busy connections, where the far side has other
  work anyway and the extra writes only cost CPU.
- **Same turn: together.** A write outside a burst goes out at once, *alone*. A
  write that follows an alone one with no input between and within ``TURN_WINDOW``
  (0.2 ms: the same reactor turn, in practice) opens a *turn*: it and the writes
  after it, until the reactor's next turn (``clock.callLater(0)``), are held and
  leave together then. N calls made in one turn from outside any input are one
  write of the first and one of the rest. A lone write schedules nothing: a serial
  call (its answer is input) pays no timer and no extra reactor turn. A burst
  (input arriving for the connection) ends a turn early, the timer cancelled: what
  the turn holds leaves with the burst's writes, and the next write is alone
  again, as is the first write after a turn's end. (Writes further apart than the
  window with no input between, say answers made ready on different turns, are
  each alone; closer than it they share a turn, one reactor turn later.)
- **Send blocked: held.** While the transport's send buffer is past its high-water
  mark (``send_blocked``, the Broker's flow control) writes are held to the end of
  the turn (or of a burst), then handed over as one piece (the reactor sends it as
  the socket drains).

Past ``FLUSH_AT`` held bytes (64 KiB) are written at once, so that bulk data does not
wait and the transport's buffer, which flow control watches, sees it. Big pieces (a
large byte string the encoder did not copy) are written as they are
rather than joined, which would copy them.

- **Bulk: a slice at a time.** A piece bigger than ``SPOOL_AT`` (one slice, 4 MiB) is
  handed to the transport ``SPOOL_SLICE`` bytes at a time (views, no copy, when the
  writer is the TLS layer), the next slice once the transport's buffer has drained
  (``when_writable``, the Broker's flow control), and every later write queues
  behind it. Handed over whole, a big argument is encrypted into the transport's
  buffer in one go (every TLS record of it held at once, then joined by the socket
  into one more buffer of its size as it sends: fresh memory, page-faulted, on every
  call) before a byte leaves, and the peer sits idle meanwhile; a slice at a time,
  encryption here overlaps decoding there and the sender holds ~2 slices. (Slices of
  512 KiB past 1 MiB cost more system calls and reactor turns than they saved. Until
  2026-12-03 only pieces past 16 MiB were spooled: a 10 MB argument sent whole cost
  the sender 2.4-4.3 ms of CPU per MB against 1.2-1.8 for 1 MB and 50 MB ones, and ran
  at 60-80% of the 1 MB figure's MB/s; in 4 MiB slices, 1.3-1.8 ms per MB. See
  benchmarks/README.md, "Large payloads".)

Once the transport is gone (:meth:`lost`) held and spooled writes are dropped and new
ones ignored; :meth:`write_out` writes what is held and spooled at once (before
``loseConnection``). Writes go into the TLS layer under the transport directly when
there is one (``_tls_write``), else to ``transport.write``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from octavo.reconnector import ClockLike
from octavo.tub._wire._fast_encoder import BIG_MESSAGE

from ._tls_write import direct_tls_writer

__all__ = [
    "FLUSH_AT",
    "SLICE_FROM",
    "SLICE_MIN",
    "SLICE_MIN_ALONE",
    "SPOOL_AT",
    "SPOOL_SLICE",
    "TURN_WINDOW",
    "CorkedWriter",
    "SendState",
]

#: held bytes past which they are written at once: waiting gains bulk data nothing,
#: and the transport's buffer (what flow control watches) must see them
FLUSH_AT = BIG_MESSAGE
#: the size of the slices a big piece is written in
SPOOL_SLICE = 4 * 1024 * 1024
#: a piece bigger than this (one slice) is written a slice at a time as the transport
#: drains
SPOOL_AT = SPOOL_SLICE
#: seconds after an alone write (no input since) within which the next write opens a
#: turn rather than going out alone: the same reactor turn, in practice
TURN_WINDOW = 0.0002
#: the smallest half window that is written before the read's end (see "Half a window")
SLICE_MIN = 8
#: the same while this connection is the only one of the process getting answers
SLICE_MIN_ALONE = 2
#: the smallest window the Broker reports (:meth:`CorkedWriter.handling`)
SLICE_FROM = 2 * SLICE_MIN_ALONE
#: windows reported so far in this process, by every connection: whether a connection
#: is the only one getting answers (:meth:`CorkedWriter.handling`)
_answer_batches = [0]


class SendState(Protocol):
    """Whether the transport's send buffer is full (the Broker's ``FlowControl``)."""

    send_blocked: bool


class _NeverBlocked:
    send_blocked = False


def _no_wait() -> Any:
    return None


class CorkedWriter:
    """The write side of one connection's transport.

    :param clock: whose ``callLater(0)`` ends a turn.
    :param flow: its ``send_blocked`` says when the send buffer is full (default:
        never).
    :param when_writable: a Deferred firing once the send buffer is no longer full
        (None: no flow control; the slices of a big piece are written one after
        another at once).
    """

    __slots__ = (
        "_clock",
        "_flow",
        "_held",
        "_held_bytes",
        "_last_batch",
        "_lone_at",
        "_raw_write",
        "_spool",
        "_turn",
        "_views",
        "_waiting",
        "_when_writable",
        "corked",
        "gone",
        "slice_at",
    )

    def __init__(
        self,
        clock: ClockLike,
        flow: SendState | None = None,
        when_writable: Callable[[], Any] = _no_wait,
    ) -> None:
        self._clock = clock
        self._flow: SendState = flow if flow is not None else _NeverBlocked()
        self._when_writable = when_writable
        #: what waits behind a big piece being written a slice at a time (its rest
        #: first, as a memoryview), in order
        self._spool: deque[bytes | memoryview] = deque()
        self._waiting = False  # a when_writable() Deferred will resume the spool
        self._views = False  # the raw writer takes memoryviews (the TLS layer)
        #: True while a burst holds writes back (set by :meth:`cork`; the Broker's
        #: ``dataReceived`` sets and clears it itself, the same way)
        self.corked = False
        self._held: list[bytes] = []
        self._held_bytes = 0
        #: the end of the current turn (a pending ``callLater(0)``), or None
        self._turn: Any = None
        #: when a write last went out alone, or None if input (a burst) or the end of
        #: a turn came since
        self._lone_at: float | None = None
        #: the transport's write (it takes memoryviews too when it is the TLS layer)
        self._raw_write: Callable[[Any], object] | None = None
        #: True once the transport is gone: writes are dropped
        self.gone = False
        #: held messages that are written at once, half a window (0: none; see
        #: :meth:`handling`)
        self.slice_at = 0
        self._last_batch = -1  # our last batch of answers, in _answer_batches' count

    def attach(self, transport: Any) -> None:
        """Write to ``transport`` from now on."""
        direct = direct_tls_writer(transport)
        self._views = direct is not None
        self._raw_write = direct or transport.write

    @property
    def spooled(self) -> int:
        """Bytes waiting behind a big piece being written a slice at a time."""
        return sum(map(len, self._spool))

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
        self._lone_at = None
        if self._turn is not None:
            self.end_turn_early()
        return True

    def handling(self, in_flight: int) -> None:
        """The Broker hands the callbacks of answers to our calls, with ``in_flight``
        calls of ours out (it reports windows from SLICE_FROM): what the burst holds
        goes out once it is half that many (at least SLICE_MIN; SLICE_MIN_ALONE if no
        other connection of the process reported a window since this one last did)."""
        batch = _answer_batches[0] + 1
        _answer_batches[0] = batch
        least = SLICE_MIN_ALONE if self._last_batch == batch - 1 else SLICE_MIN
        self._last_batch = batch
        self.slice_at = in_flight >> 1 if in_flight >= 2 * least else 0

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
                held = self._held
                held.append(data)  # type: ignore[arg-type]
                self._held_bytes += len(data)
                if self._held_bytes > FLUSH_AT:
                    self.flush()  # bulk: nothing to gain by waiting
                elif 0 < self.slice_at <= len(held) and not self._flow.send_blocked:
                    self.slice_at = 0  # half a window, once (see the module docstring)
                    self.flush()
            elif data:
                self._write_first([data])  # type: ignore[list-item]
        elif self.corked or self._turn is not None:
            self._held.extend(data)
            self.flush()  # a big message: nothing to gain by waiting
        else:
            self._write_first(data)

    def _write_first(self, pieces: list[bytes]) -> None:
        """A write outside a burst and a turn: alone, at once, unless it follows an
        alone write closely (or sending is blocked): then it opens a turn and waits
        for its end, with the writes after it."""
        write = self._raw_write
        if write is None or self.gone:
            return
        now = self._clock.seconds()
        lone_at = self._lone_at
        blocked = self._flow.send_blocked
        if blocked or (lone_at is not None and now - lone_at < TURN_WINDOW):
            self._held.extend(pieces)
            self._held_bytes = sum(map(len, pieces))
            self._turn = self._clock.callLater(0, self._end_turn)
            if self._held_bytes > FLUSH_AT and not blocked:
                self.flush()  # bulk: nothing to gain by waiting
            return
        for piece in pieces:
            if self._spool or len(piece) > SPOOL_AT:
                self._out(piece)
            else:
                write(piece)  # self._out(piece), inline
        self._lone_at = now

    def _end_turn(self) -> None:
        self._turn = None
        self._lone_at = None
        if self._held and not self.corked:
            self.flush()

    def flush(self) -> None:
        """Write everything held now, as one write, but big pieces as they are."""
        held, self._held = self._held, []
        self._held_bytes = 0
        if not held or self._raw_write is None or self.gone:
            return
        write = self._out
        if len(held) == 1:
            piece = held[0]
            if not piece:
                return
            if self._spool or len(piece) > SPOOL_AT:
                write(piece)
            else:
                self._raw_write(piece)  # self._out(piece), inline
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

    def _out(self, piece: bytes) -> None:
        """Hand ``piece`` to the transport, behind whatever is spooled; a piece past
        SPOOL_AT is spooled itself, to go a slice at a time."""
        if self._spool:
            self._spool.append(piece)
        elif len(piece) > SPOOL_AT:
            self._spool.append(memoryview(piece))
            self._drain()
        else:
            write = self._raw_write
            assert write is not None
            write(piece)

    def _resume(self, _: object) -> None:
        """The transport is writable again: go on with the spool."""
        self._waiting = False
        self._drain()

    def _drain(self) -> None:
        """Write spooled slices until the transport's buffer is past its high-water
        mark (then again once it is writable) or the spool is empty."""
        spool = self._spool
        write = self._raw_write
        while spool and write is not None and not self.gone:
            if self._flow.send_blocked:
                if self._waiting:
                    return  # (one wait at a time)
                waiter = self._when_writable()
                if waiter is not None:
                    self._waiting = True
                    waiter.addCallback(self._resume)
                    return
            head = spool[0]
            if type(head) is memoryview:
                piece = head[:SPOOL_SLICE]
                if len(head) > SPOOL_SLICE:
                    spool[0] = head[SPOOL_SLICE:]
                else:
                    spool.popleft()
                write(piece if self._views else bytes(piece))
            else:
                write(spool.popleft())

    def write_out(self) -> None:
        """Write everything held and spooled now, whatever the transport's buffer
        holds (before ``loseConnection``: nothing may stay behind)."""
        self.flush()
        spool, self._spool = self._spool, deque()
        write = self._raw_write
        if write is None or self.gone:
            return
        for piece in spool:
            write(piece if self._views or type(piece) is bytes else bytes(piece))

    def lost(self) -> None:
        """The transport is gone: drop what is held, write nothing more."""
        self.gone = True
        self._held = []
        self._held_bytes = 0
        self._spool.clear()
        turn, self._turn = self._turn, None
        if turn is not None and turn.active():
            turn.cancel()
