"""Keepalive PING and the disconnect timeout of a connection, on an injected clock.

Foolscap's rules: every ``keepalive_timeout`` (+0.1s) we look at when data last
arrived; if it is older than ``keepalive_timeout`` we send a PING (the far end
answers PONG, which counts as data). Every ``disconnect_timeout`` (+0.1s) we look
again; if nothing arrived for longer than ``disconnect_timeout`` the connection is
declared dead. Both timers restart themselves, except after a timeout.

While we do not read from the peer (backpressure: :meth:`KeepaliveTimers.pause`),
silence is ours, not the peer's: PINGs still go out (writing to a peer that is gone
is how we learn it is gone), but the disconnect timeout does not fire, and the idle
time counts again from :meth:`KeepaliveTimers.resume`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from octavo.reconnector import ClockLike

__all__ = ["EPSILON", "KeepaliveTimers"]

EPSILON = 0.1


class KeepaliveTimers:
    """Drive ``send_ping()`` and ``timed_out(idle_seconds)`` from ``clock``."""

    def __init__(
        self,
        clock: ClockLike,
        keepalive_timeout: float | None,
        disconnect_timeout: float | None,
        send_ping: Callable[[], object],
        timed_out: Callable[[float], object],
    ) -> None:
        self._clock = clock
        self.keepalive_timeout = keepalive_timeout
        self.disconnect_timeout = disconnect_timeout
        self._send_ping = send_ping
        self._timed_out = timed_out
        self._keepalive_timer: Any = None
        self._disconnect_timer: Any = None
        self.last_received: float | None = None
        #: True while we do not read from the peer
        self.paused = False

    @property
    def enabled(self) -> bool:
        """True when either timeout is set."""
        return self.keepalive_timeout is not None or self.disconnect_timeout is not None

    def start(self) -> None:
        """Begin watching (call when the connection is made)."""
        if not self.enabled:
            return
        self.last_received = self._clock.seconds()
        if self.keepalive_timeout is not None:
            self._keepalive_timer = self._clock.callLater(
                self.keepalive_timeout + EPSILON, self._keepalive_fired
            )
        if self.disconnect_timeout is not None:
            self._disconnect_timer = self._clock.callLater(
                self.disconnect_timeout + EPSILON, self._disconnect_fired
            )

    def data_received(self) -> None:
        """Note that bytes arrived now."""
        if self.last_received is not None:
            self.last_received = self._clock.seconds()

    def pause(self) -> None:
        """We stopped reading from the peer."""
        self.paused = True

    def resume(self) -> None:
        """We read from the peer again: its silence counts from now."""
        self.paused = False
        self.data_received()

    def stop(self) -> None:
        """Cancel both timers (call when the connection is lost)."""
        for timer in (self._keepalive_timer, self._disconnect_timer):
            if timer is not None and timer.active():
                timer.cancel()
        self._keepalive_timer = self._disconnect_timer = None

    def _idle(self) -> float:
        assert self.last_received is not None
        return float(self._clock.seconds() - self.last_received)

    def _keepalive_fired(self) -> None:
        assert self.keepalive_timeout is not None
        self._keepalive_timer = None
        if self._idle() > self.keepalive_timeout:
            self._send_ping()
        self._keepalive_timer = self._clock.callLater(
            self.keepalive_timeout + EPSILON, self._keepalive_fired
        )

    def _disconnect_fired(self) -> None:
        assert self.disconnect_timeout is not None
        self._disconnect_timer = None
        idle = self._idle()
        if idle > self.disconnect_timeout and not self.paused:
            self.stop()
            self._timed_out(idle)
            return
        self._disconnect_timer = self._clock.callLater(
            self.disconnect_timeout + EPSILON, self._disconnect_fired
        )
