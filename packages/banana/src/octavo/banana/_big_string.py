"""The body of a large STRING token, collected as it arrives.

The body goes into one ``BytesIO`` as it comes (CPython grows its buffer by
``realloc`` with 1/8 headroom). Once 45% of it is here the buffer is resized to the
token's exact size in one step, and the rest is written straight in; the finished
buffer becomes the ``bytes`` object without another copy.

Why the one step: with glibc, a buffer grown by small ``realloc`` steps all the way
can land, in some histories of the heap, where malloc's dynamic mmap and trim
thresholds never rise; each freed string is then handed back to the kernel and the
next one faults in every page afresh (measured: a server Tub receiving 10 MB
arguments at 74% of its 1 MB speed in one fresh process of six; in memory, 1 MB
strings built from 16 KiB records at 0.63 ms per MiB and 258 page faults per MiB,
against 0.085 ms and none with the step). One large request of the final size is
what those thresholds follow. A body of 32 MiB or more keeps growing by small
steps: glibc always maps those (its thresholds stop there), ``realloc`` remaps
their pages without copying, and the step would only add a pass of zeros over the
part not yet here.

Memory: the buffer is at most ~0.5x the size until 45% has arrived, then the size
(a ``realloc`` that has to move holds both for the copy: ~1.5x at that moment); a
peer is never given more than 2.2 times what it has sent.
"""

from __future__ import annotations

import io

#: bodies at least this long grow by small steps to the end (see above)
ALWAYS_MAPPED = 32 << 20


class BigString:
    """Collects the body of one STRING of ``size`` bytes (see the module docstring)."""

    __slots__ = ("_buffer", "_held", "size")

    def __init__(self, size: int, first: bytes | memoryview) -> None:
        self.size = size
        self._buffer = io.BytesIO()
        #: bytes written so far, until the buffer has its final size (then -1)
        self._held = -1 if size >= ALWAYS_MAPPED or not size else 0
        self.write(first)

    def write(self, data: bytes | memoryview) -> None:
        """Add the next bytes of the body (never past its end)."""
        held = self._held
        if held >= 0:
            if 20 * (held + len(data)) >= 9 * self.size:  # 45% with these
                buffer = self._buffer
                buffer.seek(self.size - 1)
                buffer.write(b"\0")  # the final size, in one step
                buffer.seek(held)
                self._held = -1
            else:
                self._held = held + len(data)
        self._buffer.write(data)

    def value(self) -> bytes:
        """The finished body (all ``size`` bytes written)."""
        return self._buffer.getvalue()  # exact size: the buffer itself, not a copy
