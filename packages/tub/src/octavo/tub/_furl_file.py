"""furlFiles: a FURL kept in a file, so a registered object keeps its name across runs."""

from __future__ import annotations

from octavo.furl import SturdyRef

from ._errors import WrongNameError, WrongTubIdError
from ._net._identity import write_private_file

__all__ = ["name_for_furl_file", "write_furl_file"]


def name_for_furl_file(furl_file: str | None, tubid: str, name: str | None) -> str | None:
    """The name to register under: ``name``, or else the one in ``furl_file``'s FURL.

    A missing or empty file leaves ``name`` as it is. A FURL of another Tub raises
    WrongTubIdError; a ``name`` other than the FURL's raises WrongNameError.
    """
    if not furl_file:
        return name
    try:
        with open(furl_file) as f:
            old_furl = f.read().strip()
    except FileNotFoundError:
        return name
    if not old_furl:
        return name
    old = SturdyRef(old_furl)
    if name is None:
        name = old.name
    if old.tubID != tubid:
        raise WrongTubIdError(
            f"I cannot keep using the old FURL from {furl_file} because it does not "
            f"have the same TubID as I do ({tubid})"
        )
    if name != old.name:
        raise WrongNameError(
            f"I cannot keep using the old FURL from {furl_file} because you called "
            f"registerReference with a new name ({name})"
        )
    return name


def write_furl_file(furl_file: str, furl: str) -> None:
    """Write ``furl`` to ``furl_file`` (atomically; mode 0600 when new)."""
    write_private_file(furl_file, (furl + "\n").encode("utf-8"))
