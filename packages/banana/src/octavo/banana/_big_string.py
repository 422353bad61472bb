"""The body of a large STRING token, collected as it arrives.

The bytes of the first 45% are kept as they came (the feeds themselves, no copy).
Once 45% of the body is here, the whole buffer is allocated in one piece of the
token's exact size, the kept feeds are copied into it and the rest is written
straight in; the finished buffer becomes the ``bytes`` object without another copy.

Why not grow a buffer as the bytes come: with glibc, a buffer grown by ``realloc``
at the top of the heap never goes through ``mmap``, so the allocator never raises
its dynamic mmap and trim thresholds; each freed string is then handed back to
the kernel and the next one faults in every page afresh (measured: a server Tub
receiving 10 MB arguments ran at 74% of its 1 MB speed in some processes and not
in others). One allocation of the final size is what those thresholds were made
for: the first is mapped, its release raises the thresholds, and later strings
of that size reuse the heap. A body of 32 MiB or more is always mapped (glibc's
thresholds stop there), and there growing is the cheaper way: ``realloc`` of a
mapped buffer remaps its pages without copying them, and holding 45% of such a
body in feeds would grow the heap past its trim threshold instead.

Memory: at the peak, 45% of the body in feeds plus the full buffer (under 1.5x
the size with one 64 KiB feed in hand); a peer is never given more than 2.2 times
what it has sent.
"""

from __future__ import annotations

import io

#: bodies at least this long grow in one buffer from the start (see above)
ALWAYS_MAPPED = 32 << 20


class BigString:
    """Collects the body of one STRING of ``size`` bytes (see the module docstring)."""

    __slots__ = ("_buffer", "_held", "_parts", "size")

    def __init__(self, size: int, first: bytes) -> None:
        self.size = size
        self._parts: list[bytes] = []
        self._held = 0
        self._buffer: io.BytesIO | None = io.BytesIO() if size >= ALWAYS_MAPPED else None
        self.write(first)

    def write(self, data: bytes | memoryview) -> None:
        """Add the next bytes of the body (never past its end)."""
        buffer = self._buffer
        if buffer is None:
            held = self._held + len(data)
            if 20 * held < 9 * self.size:  # under 45%
                self._parts.append(data if type(data) is bytes else bytes(data))
                self._held = held
                return
            buffer = self._allocate()
        buffer.write(data)

    def value(self) -> bytes:
        """The finished body (all ``size`` bytes written)."""
        buffer = self._buffer if self._buffer is not None else self._allocate()
        return buffer.getvalue()  # exact size: the buffer itself, not a copy

    def _allocate(self) -> io.BytesIO:
        buffer = io.BytesIO()
        if self.size:
            buffer.seek(self.size - 1)
            buffer.write(b"\0")  # one allocation of the final size
            buffer.seek(0)
        for part in self._parts:
            buffer.write(part)
        self._parts = []
        self._buffer = buffer
        return buffer
