"""The switch that turns the codec's fast paths off, and its process-wide default.

A fast path is a second implementation of something the general path already does
(``Decoder``'s fast reader, ``Encoder``'s run of small ints, octavo-tub's whole-message
readers and writers). It must give the same bytes, values and refusals; running a
test suite with ``OCTAVO_FAST_PATHS=0`` runs the general path alone, so the two can
be compared (as msgpack runs its suite with and without its C extension).
"""

from __future__ import annotations

import os

__all__ = ["FAST_PATHS_ENV", "fast_paths_default"]

#: the environment variable read by :func:`fast_paths_default`
FAST_PATHS_ENV = "OCTAVO_FAST_PATHS"


def fast_paths_default() -> bool:
    """Whether codecs made without an explicit ``fast_paths=`` use their fast paths:
    True unless the environment variable ``OCTAVO_FAST_PATHS`` is ``0``.

    Read at each call (each new Decoder or Encoder), so a test may set it. This is the
    only place the variable is read; octavo-tub asks here for its own fast paths too.
    """
    return os.environ.get(FAST_PATHS_ENV) != "0"
