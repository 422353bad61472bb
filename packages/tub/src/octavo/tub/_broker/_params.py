"""The parameters negotiation decides, as a Broker reads them."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["WIRE_PARAMS", "param_int", "wire_params_agree"]

#: the parameters a Broker's wire depends on (the others are bookkeeping)
WIRE_PARAMS = ("banana-decision-version", "initial-vocab-table-index")


def param_int(value: object) -> int | None:
    """A parameter's value as an int (negotiation gives ints or strings), or None."""
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if isinstance(value, (int, str)):
        try:
            return int(value)
        except ValueError:
            return None
    return None


def wire_params_agree(ours: Mapping[str, object], decided: Mapping[str, object]) -> bool:
    """Whether a Broker built with ``ours`` reads and writes the wire as ``decided`` asks."""
    return all(ours.get(key) == decided.get(key) for key in WIRE_PARAMS)
