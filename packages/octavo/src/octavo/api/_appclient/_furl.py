"""Where the client finds its FURL: ``--furl`` or the first ``pb://`` line of ``--furlfile``."""

from __future__ import annotations

import os


class ClientUsageError(Exception):
    """The command line does not say which service to reach, or how."""


def read_furlfile(path: str) -> str:
    """The first line of ``path`` starting with ``pb://`` (others are comments)."""
    try:
        with open(os.path.expanduser(path), encoding="utf-8") as f:
            for line in f:
                if line.strip().startswith("pb://"):
                    return line.strip()
    except (OSError, UnicodeDecodeError) as e:
        raise ClientUsageError(f"cannot read the FURL file {path}: {e}") from None
    raise ClientUsageError(f"no pb:// line in the FURL file {path}")


def choose_furl(furl: str | None, furlfile: str | None) -> str:
    """The FURL to use, from exactly one of the two options."""
    if furl and furlfile:
        raise ClientUsageError("give --furl or --furlfile, not both")
    if furlfile:
        return read_furlfile(furlfile)
    if not furl:
        raise ClientUsageError("must provide --furl or --furlfile")
    return furl
