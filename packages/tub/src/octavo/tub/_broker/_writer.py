"""Writing a connection's bytes: held back during a burst, then written at once.

Everything a Broker writes while it handles one chunk of input (answers, calls
made by the code that handles it, error answers) is held (:meth:`CorkedWriter.cork`)
and leaves in one write when the chunk is done (:meth:`CorkedWriter.uncork`): one
TLS record and one system call instead of one per message. Big pieces (a large
byte string the encoder did not copy) are written as they are rather than joined,
which would copy them. Outside a burst every write goes out at once.

Writes go into the TLS layer under the transport directly when there is one
(``_tls_write``), else to ``transport.write``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from octavo.tub._wire._fastwire import BIG_MESSAGE

from ._tls_write import direct_tls_writer

__all__ = ["CorkedWriter"]


class CorkedWriter:
    """The write side of one connection's transport."""

    __slots__ = ("_corked", "_raw_write", "gone")

    def __init__(self) -> None:
        self._corked: list[bytes] | None = None
        self._raw_write: Callable[[bytes], object] | None = None
        #: True once the transport is gone: writes are dropped
        self.gone = False

    def attach(self, transport: Any) -> None:
        """Write to ``transport`` from now on."""
        self._raw_write = direct_tls_writer(transport) or transport.write

    @property
    def corked(self) -> bool:
        """True while writes are held back."""
        return self._corked is not None

    def cork(self) -> bool:
        """Hold writes back until :meth:`uncork` (a burst begins). True if this call
        corked the writer; False if it already was (an outer burst is running, and
        the outer caller uncorks)."""
        if self._corked is None:
            self._corked = []
            return True
        return False

    def write(self, data: bytes) -> None:
        """Write ``data`` (held back while corked)."""
        corked = self._corked
        if corked is not None:
            corked.append(data)
            return
        write = self._raw_write
        if write is None or self.gone or not data:
            return
        write(data)

    def write_message(self, data: bytes | list[bytes]) -> None:
        """Write one encoded message (a big one comes in pieces)."""
        if type(data) is list:
            for piece in data:
                self.write(piece)
        else:
            self.write(data)  # type: ignore[arg-type]

    def uncork(self) -> None:
        """Write what was held back, as one write, but big pieces as they are."""
        corked, self._corked = self._corked, None
        if not corked:
            return
        if len(corked) == 1:
            self.write(corked[0])
            return
        if sum(map(len, corked)) <= BIG_MESSAGE:
            self.write(b"".join(corked))
            return
        run: list[bytes] = []
        for piece in corked:
            if len(piece) > BIG_MESSAGE:
                if run:
                    self.write(b"".join(run))
                    run = []
                self.write(piece)
            else:
                run.append(piece)
        if run:
            self.write(b"".join(run))
