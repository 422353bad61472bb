"""Twisted glue for the sans-IO Negotiator: one Protocol per connection.

It writes what the Negotiator says to write, starts TLS when told, and on
success hands the transport to a Broker: from then on it only forwards
``dataReceived`` and ``connectionLost`` to that Broker.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from twisted.internet.interfaces import IHandshakeListener
from twisted.internet.protocol import Protocol as TwistedProtocol
from twisted.protocols.tls import TLSMemoryBIOProtocol
from twisted.python.failure import Failure
from zope.interface import implementer  # type: ignore[import-untyped,unused-ignore]

from octavo.reconnector import ClockLike, DelayedCallLike
from octavo.tub._errors import NegotiationError
from octavo.tub._info import ConnectionInfo
from octavo.tub._net._identity import peer_tubid
from octavo.tub._net._send_now import send_written_now
from octavo.tub._typing import failure_of

from ._machine import (
    Established,
    Failed,
    NegotiationState,
    Negotiator,
    Redirected,
    ReplaceExisting,
    SendData,
    StartTLS,
)

__all__ = [
    "NegotiatingTub",
    "NegotiationHandler",
    "NegotiationProtocol",
    "TLSNegotiationState",
    "TransportOwner",
]

#: Seconds an accepted connection has to finish negotiating (Foolscap's value).
SERVER_TIMEOUT = 120.0


@runtime_checkable
class TLSNegotiationState(NegotiationState, Protocol):
    """A NegotiationState that can also give the TLS options for its certificate."""

    def context_factory(self) -> Any: ...


class TransportOwner(Protocol):
    """Who owns the transport once negotiation has succeeded (a Broker)."""

    def dataReceived(self, data: bytes) -> None: ...

    def connectionLost(self, reason: Failure) -> None: ...


class NegotiationHandler(Protocol):
    """Who is told how a negotiation ends (a Tub, via a connector or listener)."""

    def negotiation_replace_existing(self, state: NegotiationState, event: ReplaceExisting) -> None:
        """Drop our established connection to ``event.tubid``."""

    def negotiation_succeeded(
        self, proto: NegotiationProtocol, state: NegotiationState, event: Established
    ) -> TransportOwner:
        """Build and return the Broker that takes over this transport."""

    def negotiation_failed(self, proto: NegotiationProtocol, error: NegotiationError) -> None:
        """This negotiation has failed (called at most once)."""

    def negotiation_redirected(self, proto: NegotiationProtocol, location: str) -> None:
        """The server redirected us to ``location``."""

    def negotiation_prepare(self, proto: NegotiationProtocol) -> Any:
        """Build ahead, while negotiation waits for the peer, the Broker that
        ``negotiation_succeeded`` will probably attach (None: nothing built)."""


@implementer(IHandshakeListener)
class NegotiationProtocol(TwistedProtocol):
    """Runs a Negotiator over a transport, then becomes a pass-through.

    Every negotiation block leaves as soon as it can, not on the reactor's next turn
    (:func:`send_written_now`): the GET when the connection is made, the ClientHello
    as TLS starts, the 101 before our TLS set-up, the decision before our Broker is
    built, and the hello block with the last flight of the TLS handshake: what we
    write between ``startTLS`` and the end of the handshake is held here (Twisted's
    TLS layer would hold it too) and written, then sent, in :meth:`handshakeCompleted`.
    Each saves the peer the wait for one of our reactor turns on the way to its first
    call (about 50 us each on loopback).

    While it waits for the peer with nothing else to do it has the handler build the
    Broker ahead (``negotiation_prepare``), with the parameters negotiation almost
    always decides; the handler uses it if the decision agrees. The client does so
    once its hello block is sent; a server once its TLS flight is sent (it follows
    the TLS layer's reads until the handshake is done, sending each flight at once),
    while the client checks that flight and answers, before it knows the client's
    TubID (the Broker takes it with the decision), or else once it has read the
    client's hello. Building a Broker (a few hundred microseconds, cold) was on the
    way from the decision to the first call.
    """

    def __init__(
        self,
        make_negotiator: Callable[[Callable[[], str | None]], Negotiator],
        handler: NegotiationHandler,
        *,
        clock: ClockLike,
        timeout: float | None = None,
    ) -> None:
        self.negotiator = make_negotiator(self.peer_certificate_tubid)
        self.handler = handler
        self._clock = clock
        self._timeout = timeout
        self._timer: DelayedCallLike | None = None
        self._broker: TransportOwner | None = None
        self._reported = False
        self._closed = False
        self._error: NegotiationError | None = None
        #: blocks written while our TLS handshake runs (None: not holding)
        self._until_handshake: list[bytes] | None = None
        #: the Broker built ahead while we waited for the peer (see negotiation_prepare)
        self.prepared: Any = None
        #: the TLS layer whose reads we follow until the handshake is done
        self._handshake_reader: Any = None
        self._prepare_asked = False
        self.location: str | None = None

    # -- Protocol -------------------------------------------------------------

    def connectionMade(self) -> None:
        """Start negotiating (the client sends its GET request)."""
        # Small messages (negotiation blocks, calls, answers) must not wait for
        # Nagle's algorithm; Foolscap sets this on every connection too.
        set_no_delay = getattr(self.transport, "setTcpNoDelay", None)
        if set_no_delay is not None:
            set_no_delay(True)
        if self._timeout:
            self._timer = self._clock.callLater(self._timeout, self._timed_out)
        self._run(self.negotiator.connection_made())
        send_written_now(self.transport)  # the GET, now

    def dataReceived(self, data: bytes) -> None:
        """Feed the Negotiator, or the Broker once negotiation is done."""
        if self._broker is not None:
            self._broker.dataReceived(data)
            return
        self._run(self.negotiator.receive_data(data))
        if self._broker is None and self.negotiator.phase == "deciding":
            self._prepare()  # we wait for the master's decision

    def handshakeCompleted(self) -> None:
        """IHandshakeListener: our TLS handshake is done; send what waited for it
        (the hello block) with the handshake's last flight, now."""
        held, self._until_handshake = self._until_handshake, None
        reader, self._handshake_reader = self._handshake_reader, None
        if reader is not None:
            reader.__dict__.pop("dataReceived", None)  # the TLS layer's own reading again
        transport: Any = self.transport
        if held and transport is not None:
            for data in held:
                transport.write(data)
            send_written_now(transport)
        if self.negotiator.is_client:
            self._prepare()  # we wait for the server's hello

    def _told_of_handshake(self, tls: object) -> bool:
        """Whether ``tls`` is Twisted's TLS layer and will call our handshakeCompleted:
        right over us, or over the wrapper of a client endpoint that passes it on
        (not over a SOCKS relay's protocol, say)."""
        if not isinstance(tls, TLSMemoryBIOProtocol):
            return False
        under = tls.wrappedProtocol
        return under is self or (
            getattr(under, "_wrappedProtocol", None) is self
            and IHandshakeListener.providedBy(under)
        )

    def _read_handshake(self, tls: Any) -> None:
        """Until the handshake is done (see handshakeCompleted), after each read of
        Twisted's TLS layer send its handshake flight at once, and have a server build
        its Broker ahead while the client checks that flight and answers (its
        certificate, hence the peer's TubID, comes later: see negotiation_prepare)."""
        if "dataReceived" in tls.__dict__:
            return  # someone else's wrapper: leave it alone
        received = tls.dataReceived

        def data_received(data: bytes) -> None:
            received(data)
            send_written_now(self.transport)
            if not self.negotiator.is_client and not tls._handshakeDone:
                self._prepare()

        tls.dataReceived = data_received
        self._handshake_reader = tls

    def _prepare(self) -> None:
        """Have the handler build our Broker ahead, once (if it can)."""
        if self._prepare_asked or self.negotiator.finished:
            return
        self._prepare_asked = True
        prepare = getattr(self.handler, "negotiation_prepare", None)
        if prepare is not None:
            self.prepared = prepare(self)

    def connectionLost(self, reason: Failure = failure_of(ConnectionError())) -> None:  # noqa: B008
        """Tell the Broker, or report the failed negotiation."""
        self._cancel_timer()
        self._until_handshake = None
        self.prepared = None
        if self._broker is not None:
            self._broker.connectionLost(reason)
            return
        self._closed = True
        self._run(self.negotiator.connection_lost(str(reason.value) or repr(reason.value)))
        self._report()

    # -- internals ------------------------------------------------------------

    def peer_certificate_tubid(self) -> str | None:
        """The TubID of the peer's TLS certificate (None before TLS or without one)."""
        get = getattr(self.transport, "getPeerCertificate", None)
        if get is None:
            return None
        try:
            cert = get()
        except Exception:
            return None
        return peer_tubid(cert)

    def abandon(self, reason: str) -> None:
        """Stop negotiating (the connector picked another connection)."""
        if self._broker is None:
            self._run(self.negotiator.abandon(reason))

    def _timed_out(self) -> None:
        self._timer = None
        self._run(self.negotiator.abandon("negotiation timeout"))

    def _cancel_timer(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None

    def _run(self, events: list[Any]) -> None:
        transport: Any = self.transport
        for event in events:
            if isinstance(event, SendData):
                if self._until_handshake is not None:
                    self._until_handshake.append(event.data)
                else:
                    transport.write(event.data)
            elif isinstance(event, StartTLS):
                # The 101 leaves before our TLS set-up, not after it (the peer starts
                # its own meanwhile).
                send_written_now(transport)
                state = self.negotiator.state
                assert isinstance(state, TLSNegotiationState)
                transport.startTLS(state.context_factory())
                tls = getattr(transport, "protocol", None)
                if self._told_of_handshake(tls):
                    self._until_handshake = []
                    self._read_handshake(tls)
                send_written_now(transport)  # the ClientHello, now
            elif isinstance(event, ReplaceExisting):
                assert self.negotiator.state is not None
                self.handler.negotiation_replace_existing(self.negotiator.state, event)
            elif isinstance(event, Established):
                # The master's decision block leaves before its Broker is built, so
                # the peer builds its own meanwhile (held back, it left with the
                # first call, on the next reactor turns).
                send_written_now(transport)
                self._established(event)
            elif isinstance(event, Redirected):
                self.handler.negotiation_redirected(self, event.location)
            elif isinstance(event, Failed):
                self._failed(event.error)

    def _established(self, event: Established) -> None:
        self._cancel_timer()
        assert self.negotiator.state is not None
        broker = self.handler.negotiation_succeeded(self, self.negotiator.state, event)
        self._broker = broker
        self.prepared = None
        self._reported = True

    def _failed(self, error: NegotiationError) -> None:
        # Report once the transport is really gone, so whoever waits on us
        # (a connector, a stopping Tub) sees a settled state.
        self._cancel_timer()
        self._error = error
        self.prepared = None
        transport: Any = self.transport
        held, self._until_handshake = self._until_handshake, None
        for data in held or ():
            transport.write(data)  # to Twisted's TLS layer, as it would have been
        if transport is not None and not self._closed:
            transport.loseConnection()
        else:
            self._report()

    def _report(self) -> None:
        if not self._reported and self._error is not None:
            self._reported = True
            self.handler.negotiation_failed(self, self._error)


class NegotiatingTub(Protocol):
    """What both ends of a negotiation (Listener and TubConnector) need from their Tub."""

    def _negotiation_state(self) -> NegotiationState: ...

    def _prepare_broker(self, tubref: Any, connection_info: ConnectionInfo) -> Any: ...

    def _replace_existing(self, event: ReplaceExisting) -> None: ...

    def _attach_negotiated(
        self,
        proto: NegotiationProtocol,
        event: Established,
        *,
        is_client: bool,
        connection_info: ConnectionInfo,
        tubref: Any,
    ) -> TransportOwner: ...
