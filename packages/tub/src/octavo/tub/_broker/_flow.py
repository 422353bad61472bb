"""Backpressure for one connection, in both directions.

Outbound: the Broker registers :class:`FlowControl` as its transport's (streaming)
producer. Twisted calls ``pauseProducing`` when the transport's send buffer passes
its high-water mark (64 KiB for a TCP transport) and ``resumeProducing`` once it has
drained. While the peer is not taking what we send we stop reading from it: its
calls would only make more to send. Code that sends in bulk waits with
:meth:`FlowControl.when_writable` (``RemoteReference.when_writable()``); a
``callRemote`` made anyway is queued as before.

Inbound: while the connection runs as many of the peer's calls as it allows
(``PBConnection.input_blocked``), we stop reading too: further calls are not read,
rather than read and refused. Reading resumes when answers free room.

Reading is paused with the transport's own ``pauseProducing`` (the socket is no
longer read), so what the peer sends meanwhile waits in the kernel and, beyond
that, in the peer's own buffers: its memory, not ours. A transport with a
registered producer does not close until it is unregistered, so the Broker
calls :meth:`FlowControl.detach` before ``loseConnection``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IPushProducer
from zope.interface import implementer  # type: ignore[import-untyped,unused-ignore]

from octavo.tub._wire._connection import PBConnection

__all__ = ["FlowControl"]


@implementer(IPushProducer)
class FlowControl:
    """Pauses reading from ``transport`` while sending is blocked or the
    connection has no room for more calls."""

    def __init__(
        self, connection: PBConnection, reading_changed: Callable[[bool], object] | None = None
    ) -> None:
        self._connection = connection
        self._reading_changed = reading_changed
        self._transport: Any = None
        #: True while the transport's send buffer is over its high-water mark
        self.send_blocked = False
        #: True while we do not read from the transport
        self.reading_paused = False
        self._waiters: list[Deferred[None]] = []
        self._registered = False

    def attach(self, transport: Any) -> None:
        """Become ``transport``'s producer (if it takes producers)."""
        self._transport = transport
        register = getattr(transport, "registerProducer", None)
        if register is not None:
            register(self, True)
            self._registered = True

    # -- IPushProducer: called by the transport ------------------------------------------

    def pauseProducing(self) -> None:
        """The send buffer is full: stop reading until it drains."""
        self.send_blocked = True
        self.update()

    def resumeProducing(self) -> None:
        """The send buffer drained: read again, wake who waits to send."""
        self.send_blocked = False
        self.update()
        waiters, self._waiters = self._waiters, []
        for d in waiters:
            d.callback(None)

    def stopProducing(self) -> None:
        """The transport is going away (the Broker hears connectionLost)."""

    # -- for the Broker -------------------------------------------------------------------

    def update(self) -> None:
        """Pause or resume reading as the state now asks."""
        want = self.send_blocked or self._connection.input_blocked
        if want == self.reading_paused or self._transport is None:
            return
        self.reading_paused = want
        if want:
            self._transport.pauseProducing()
        else:
            self._transport.resumeProducing()
        if self._reading_changed is not None:
            self._reading_changed(want)

    def detach(self) -> None:
        """Stop being the transport's producer: call before ``loseConnection``, which
        waits for a registered producer to go (Twisted's rule, for TLS too)."""
        if self._registered:
            self._registered = False
            self._transport.unregisterProducer()
        self._transport = None

    def lost(self) -> None:
        """The transport is gone: nothing to pause or unregister any more."""
        self._registered = False
        self._transport = None

    def when_writable(self) -> Deferred[None]:
        """Fires when the send buffer is below its high-water mark (now, if it is)."""
        if not self.send_blocked:
            return succeed(None)
        d: Deferred[None] = Deferred()
        self._waiters.append(d)
        return d

    def release_waiters(self) -> None:
        """The connection ended: whoever waits to send is told at once (their calls
        will fail with DeadReferenceError)."""
        self.send_blocked = False
        waiters, self._waiters = self._waiters, []
        for d in waiters:
            d.callback(None)
