"""ConnectionInfo: what is known about one connection (Foolscap's attributes)."""

from __future__ import annotations

__all__ = ["ConnectionInfo"]


class ConnectionInfo:
    """Status of a connection or connection attempt, as Foolscap reports it.

    ``connectorStatuses`` maps each location hint to a short status string,
    ``connectionHandlers`` maps each hint to the handler that took it,
    ``listenerStatus`` is ``(description, status)`` for inbound connections.
    """

    def __init__(self) -> None:
        self.connected = False
        self.connectorStatuses: dict[str, str] = {}
        self.connectionHandlers: dict[str, str | None] = {}
        self.listenerStatus: tuple[str | None, str | None] = (None, None)
        self.winningHint: str | None = None
        self.establishedAt: float | None = None
        self.lostAt: float | None = None

    def _set_connected(self, connected: bool) -> None:
        self.connected = connected

    def _set_connection_status(self, location: str, status: str) -> None:
        self.connectorStatuses[location] = status

    def _describe_connection_handler(self, location: str, description: str | None) -> None:
        self.connectionHandlers[location] = description

    def _set_established_at(self, when: float) -> None:
        self.establishedAt = when

    def _set_winning_hint(self, location: str) -> None:
        self.winningHint = location

    def _set_listener_description(self, description: str) -> None:
        self.listenerStatus = (description, self.listenerStatus[1])

    def _set_listener_status(self, status: str) -> None:
        self.listenerStatus = (self.listenerStatus[0], status)

    def _set_lost_at(self, when: float) -> None:
        self.lostAt = when
