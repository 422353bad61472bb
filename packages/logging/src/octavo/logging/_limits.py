"""Per-peer and total limits on what remote Tubs may make us hold (sans-IO).

A logport hands out subscriptions, and a gatherer subscribes to every logport it
is handed: each costs memory (a queue, an observer, a disconnect watcher) for as
long as it lives. :class:`PeerLimits` counts the live ones per peer (the TubID of
the connection, never a name the peer sends) and in all. :meth:`PeerLimits.acquire`
returns the function that gives the slot back, or raises
:class:`TooManySubscriptionsError`, a ``Violation``, so the peer is told why. The
first refusal of a peer is reported through ``report``; the next ones are only
counted, until that peer is under its limit again (likewise for the total).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from twisted.logger import Logger

from octavo.tub import Violation

__all__ = [
    "DEFAULT_MAX_PER_PEER",
    "DEFAULT_MAX_TOTAL",
    "LOCAL_PEER",
    "PeerLimits",
    "TooManySubscriptionsError",
    "peer_of",
]

#: live subscriptions one peer may hold at a logport (or logports it may hand a gatherer)
DEFAULT_MAX_PER_PEER = 10
#: live subscriptions a logport serves (or logports a gatherer follows) in all
DEFAULT_MAX_TOTAL = 1000
#: the peer name of a reference that is not remote (a local object)
LOCAL_PEER = "<local>"

_log = Logger()


def _warn(text: str) -> None:
    _log.warn("{text}", text=text)


class TooManySubscriptionsError(Violation):
    """A peer asked for more than :class:`PeerLimits` allows; the message says which limit."""


def peer_of(reference: object) -> str:
    """The TubID of the connection ``reference`` came over (``LOCAL_PEER`` if local)."""
    get = getattr(reference, "getRemoteTubID", None)
    if get is None:
        return LOCAL_PEER
    try:
        tubid = get()
    except Exception:
        return LOCAL_PEER
    return tubid if isinstance(tubid, str) else LOCAL_PEER


class PeerLimits:
    """Counts live slots per peer and in all; refuses past ``per_peer`` or ``total``."""

    def __init__(
        self,
        what: str,
        *,
        per_peer: int = DEFAULT_MAX_PER_PEER,
        total: int = DEFAULT_MAX_TOTAL,
        report: Callable[[str], object] = _warn,
    ) -> None:
        if per_peer < 1 or total < 1:
            raise ValueError(f"limits on {what} must be at least 1 (per peer, total)")
        self.what = what
        self.per_peer = per_peer
        self.total = total
        self._report = report
        self.held: Counter[str] = Counter()
        #: refusals so far
        self.refused = 0
        self._reported_peers: set[str] = set()
        self._reported_total = False

    def __len__(self) -> int:
        return self.held.total()

    def acquire(self, peer: str) -> Callable[[], None]:
        """Take a slot for ``peer``; returns its (idempotent) release, or raises."""
        if self.held[peer] >= self.per_peer:
            self.refused += 1
            if peer not in self._reported_peers:
                self._reported_peers.add(peer)
                self._report(f"refused {self.what} to {peer}: it holds {self.per_peer} already")
            raise TooManySubscriptionsError(
                f"too many {self.what} from one Tub (at most {self.per_peer})"
            )
        if len(self) >= self.total:
            self.refused += 1
            if not self._reported_total:
                self._reported_total = True
                self._report(f"refused {self.what} to {peer}: {self.total} held in all")
            raise TooManySubscriptionsError(f"too many {self.what} (at most {self.total} in all)")
        self.held[peer] += 1
        released = False

        def release() -> None:
            nonlocal released
            if released:
                return
            released = True
            self.held[peer] -= 1
            if self.held[peer] <= 0:
                del self.held[peer]
            self._reported_peers.discard(peer)
            self._reported_total = False

        return release
