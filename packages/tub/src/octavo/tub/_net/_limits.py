"""How many inbound connections a Tub takes: the limits, and refusing past them.

A Listener asks before it starts negotiating with a new connection. Past either
limit the connection is refused during negotiation: its request is answered with
an HTTP 500 naming the limit, so the peer's ``getReference`` fails saying why, and
the Tub goes on serving the connections it has. The first refusal is logged, and
the end of a run of refusals with how many there were; nothing in between.
"""

from __future__ import annotations

from collections.abc import Callable

from twisted.logger import Logger

__all__ = ["ConnectionLimits"]

_log = Logger(namespace="octavo.tub.limits")


class ConnectionLimits:
    """Decides whether one more inbound connection may negotiate.

    :param max_connections: connections at once, established or negotiating.
    :param max_negotiating: inbound connections negotiating at once.
    """

    def __init__(self, max_connections: Callable[[], int], max_negotiating: Callable[[], int]):
        self._max_connections = max_connections
        self._max_negotiating = max_negotiating
        self._refusing: str | None = None
        self._refused = 0

    def refusal(self, established: int, negotiating: int) -> str | None:
        """Why a new connection must be refused now (None: take it)."""
        reason = None
        limit = self._max_negotiating()
        if negotiating >= limit:
            reason = f"too many connections negotiating (limit {limit})"
        else:
            limit = self._max_connections()
            if established + negotiating >= limit:
                reason = f"too many connections (limit {limit})"
        if reason is not None:
            if self._refusing is None:
                _log.info("refusing new connections: {reason}", reason=reason)
            self._refusing = reason
            self._refused += 1
        elif self._refusing is not None:
            _log.info(
                "taking new connections again, after refusing {n} ({reason})",
                n=self._refused,
                reason=self._refusing,
            )
            self._refusing = None
            self._refused = 0
        return reason
