"""What negotiation sees of a Tub: identity, duplicate-connection state, live connections.

A :class:`NegotiationView` is the ``TLSNegotiationState`` that the Tub's listeners and
connectors hand to every :class:`~octavo.tub._negotiation._machine.Negotiator`. It reads
the Tub on each use (the incarnation and the options may change), so one view serves
the Tub for its whole life.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, Protocol

from ._connections import ConnectionManager
from ._negotiation._machine import ExistingConnection
from ._net._identity import TubIdentity
from ._options import TubOptions

__all__ = ["NegotiationView", "ViewedTub"]


class ViewedTub(Protocol):
    """What the view reads of its Tub."""

    tubID: str
    incarnation_string: str
    master_table: dict[str, int]
    slave_table: dict[str, tuple[str, str]]
    _options: TubOptions
    _identity: TubIdentity
    _connections: ConnectionManager


class NegotiationView:
    """The view of a Tub that negotiation reads and updates."""

    def __init__(self, tub: ViewedTub) -> None:
        self._tub = tub

    @property
    def tubid(self) -> str:
        return self._tub.tubID

    @property
    def incarnation(self) -> str:
        return self._tub.incarnation_string

    @property
    def master_table(self) -> MutableMapping[str, int]:
        return self._tub.master_table

    @property
    def slave_table(self) -> MutableMapping[str, tuple[str, str]]:
        return self._tub.slave_table

    @property
    def handle_old_duplicate_connections(self) -> int | None:
        return self._tub._options.handle_old_duplicate_connections

    def existing_connection(self, tubid: str) -> ExistingConnection | None:
        return self._tub._connections.existing_connection(tubid)

    def context_factory(self) -> Any:
        return self._tub._identity.context_factory()
