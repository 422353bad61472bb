"""Listener: one listening endpoint that accepts connections for a Tub."""

from __future__ import annotations

from typing import Any, Protocol

from twisted.application import service
from twisted.internet import endpoints
from twisted.internet.defer import Deferred, maybeDeferred
from twisted.internet.interfaces import IStreamServerEndpoint
from twisted.internet.protocol import ServerFactory
from twisted.logger import Logger

from octavo.furl import TubRef
from octavo.reconnector import ClockLike
from octavo.tub._errors import NegotiationError
from octavo.tub._info import ConnectionInfo
from octavo.tub._negotiation._machine import (
    Established,
    NegotiationState,
    Negotiator,
    ReplaceExisting,
)
from octavo.tub._negotiation._protocol import (
    SERVER_TIMEOUT,
    NegotiatingTub,
    NegotiationProtocol,
    TransportOwner,
)

__all__ = ["Listener", "ListenerTub"]

_log = Logger()


class ListenerTub(NegotiatingTub, Protocol):
    """What a Listener needs from its Tub."""

    tubID: str

    def _connection_refusal(self) -> str | None:
        """Why a new inbound connection must be refused now (None: take it)."""
        ...


class Listener(ServerFactory, service.Service):  # type: ignore[misc,unused-ignore]
    """Listens on an endpoint (or a ``serverFromString`` description) for a Tub.

    It is a child service of the Tub: it starts listening when the Tub runs.
    """

    noisy = False

    def __init__(
        self,
        tub: ListenerTub,
        endpoint_or_description: IStreamServerEndpoint | str,
        *,
        reactor: Any,
        clock: ClockLike | None = None,
        timeout: float = SERVER_TIMEOUT,
    ) -> None:
        self._tub = tub
        self._reactor = reactor
        self._clock: ClockLike = clock if clock is not None else reactor
        self._timeout = timeout
        if IStreamServerEndpoint.providedBy(endpoint_or_description):
            self._ep: Any = endpoint_or_description
        elif isinstance(endpoint_or_description, str):
            self._ep = endpoints.serverFromString(  # type: ignore[no-untyped-call,unused-ignore]
                reactor, endpoint_or_description
            )
        else:
            raise TypeError(
                "listenOn needs an IStreamServerEndpoint or a string description, "
                f"not {type(endpoint_or_description).__name__}"
            )
        self._port: Any = None
        self._listening: Deferred[Any] | None = None
        self._redirects: dict[str, str] = {}
        self._negotiating: set[NegotiationProtocol] = set()

    def __repr__(self) -> str:
        return f"<Listener on {self._ep} for tub {self._tub.tubID}>"

    def startService(self) -> None:
        """Start listening."""
        service.Service.startService(self)  # type: ignore[no-untyped-call,unused-ignore]
        endpoint: Any = self._ep
        d = endpoint.listen(self)

        def listening(port: Any) -> Any:
            self._port = port
            return port

        d.addCallback(listening)
        self._listening = d

    def stopService(self) -> Deferred[Any] | None:
        """Stop listening; returns a Deferred when the port is closed."""
        service.Service.stopService(self)  # type: ignore[no-untyped-call,unused-ignore]
        for proto in list(self._negotiating):
            proto.abandon("the listener is shutting down")
        if self._port is not None:
            port: Any = self._port
            self._port = None
            stopped: Deferred[Any] = maybeDeferred(port.stopListening)
            return stopped
        if self._listening is not None:
            self._listening.cancel()
        return None

    def getPort(self) -> Any:
        """The listening port once listening has started, else None."""
        return self._port

    def getPortnum(self) -> int:
        """The TCP port number we listen on (useful after ``tcp:0``)."""
        if self._port is None:
            raise RuntimeError("Listener is not listening yet (is the Tub running?)")
        port: Any = self._port
        return int(port.getHost().port)

    def addRedirect(self, tubID: str, location: str) -> None:
        """Send clients asking for ``tubID`` to ``location`` (303 See Other)."""
        self._redirects[tubID] = location

    def removeRedirect(self, tubID: str) -> None:
        """Forget a redirect set with addRedirect."""
        del self._redirects[tubID]

    def _lookup(self, tubid: str) -> tuple[NegotiationState | None, str | None]:
        if tubid == self._tub.tubID:
            return self._tub._negotiation_state(), None
        return None, self._redirects.get(tubid)

    def _describe(self) -> str:
        if self._port is not None:
            port: Any = self._port
            return f"Listener on {port.getHost()}"
        return "Listener"

    @property
    def negotiating(self) -> int:
        """How many accepted connections are still negotiating."""
        return len(self._negotiating)

    def buildProtocol(self, addr: Any) -> NegotiationProtocol:
        """A server-side NegotiationProtocol for a new connection (one that refuses
        it, saying why, past the Tub's connection limits)."""
        refusal = self._tub._connection_refusal()
        info = ConnectionInfo()
        info._set_listener_description(self._describe())
        info._set_listener_status("negotiating" if refusal is None else f"refused: {refusal}")

        def make(cert: Any) -> Negotiator:
            return Negotiator.server(
                self._lookup, now=self._clock.seconds, peer_certificate_tubid=cert, refusal=refusal
            )

        proto = NegotiationProtocol(
            make, _ServerHandler(self, info), clock=self._clock, timeout=self._timeout
        )
        proto.factory = self
        self._negotiating.add(proto)
        return proto


class _ServerHandler:
    """Routes one accepted connection's negotiation outcome to the Tub."""

    def __init__(self, listener: Listener, info: ConnectionInfo) -> None:
        self._listener = listener
        self._info = info

    def negotiation_replace_existing(self, state: NegotiationState, event: ReplaceExisting) -> None:
        self._listener._tub._replace_existing(event)

    def negotiation_prepare(self, proto: NegotiationProtocol) -> Any:
        """Build the Broker ahead while we wait for the peer (for a peer not known yet,
        before the client's certificate has come)."""
        their = proto.negotiator.their_tubid
        tubref = TubRef(their) if their is not None else None
        return self._listener._tub._prepare_broker(tubref, self._info)

    def negotiation_succeeded(
        self, proto: NegotiationProtocol, state: NegotiationState, event: Established
    ) -> TransportOwner:
        self._listener._negotiating.discard(proto)
        self._info._set_listener_status("successful")
        self._info._set_connected(True)
        return self._listener._tub._attach_negotiated(
            proto, event, is_client=False, connection_info=self._info, tubref=None
        )

    def negotiation_failed(self, proto: NegotiationProtocol, error: NegotiationError) -> None:
        self._listener._negotiating.discard(proto)
        self._info._set_listener_status(f"negotiation failed: {error}")
        _log.debug("inbound negotiation failed: {why}", why=str(error))

    def negotiation_redirected(self, proto: NegotiationProtocol, location: str) -> None:
        """Servers are never redirected."""
