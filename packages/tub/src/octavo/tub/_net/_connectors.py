"""TubConnector: reach one remote Tub by trying all its hints in parallel.

Every hint with a registered handler becomes an endpoint and a connection
attempt; each connected attempt negotiates. The first negotiation to succeed
wins and the others are abandoned. When every attempt has failed the Tub is
told (``connectionFailed``) with the most telling error. Hints of unknown types
are skipped, with the reason logged and recorded in the ConnectionInfo.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from twisted.internet import defer
from twisted.internet.error import ConnectingCancelledError, ConnectionRefusedError
from twisted.internet.protocol import Factory
from twisted.logger import Logger
from twisted.python.failure import Failure

from octavo.reconnector import ClockLike, DelayedCallLike
from octavo.tub._errors import InvalidHintError, NegotiationError, NoLocationHintsError
from octavo.tub._info import ConnectionInfo
from octavo.tub._negotiation._machine import (
    Established,
    NegotiationState,
    Negotiator,
    ReplaceExisting,
)
from octavo.tub._negotiation._protocol import NegotiatingTub, NegotiationProtocol, TransportOwner
from octavo.tub._typing import failure_check, failure_of, failure_type_name

from ._hints import convert_legacy_hint, hint_type

__all__ = ["ConnectorTub", "TubConnector"]

_log = Logger()


class _Target(Protocol):
    def getTubID(self) -> str | None: ...

    def getShortTubID(self) -> str: ...

    def getLocations(self) -> list[str]: ...


class ConnectorTub(NegotiatingTub, Protocol):
    """What a TubConnector needs from its Tub."""

    def connectorStarted(self, c: TubConnector) -> None: ...

    def connectorFinished(self, c: TubConnector) -> None: ...

    def connectionFailed(self, tubref: Any, why: Failure) -> None: ...


class _AttemptFactory(Factory):
    """Builds the client NegotiationProtocol for one hint."""

    noisy = False

    def __init__(self, connector: TubConnector, host: str, location: str) -> None:
        self.connector = connector
        self.host = host
        self.location = location

    def buildProtocol(self, addr: Any) -> NegotiationProtocol:
        c = self.connector
        target = c.target.getTubID()
        assert target is not None
        state = c.tub._negotiation_state()

        def make(cert: Any) -> Negotiator:
            return Negotiator.client(
                state, target, self.host, now=c.clock.seconds, peer_certificate_tubid=cert
            )

        proto = NegotiationProtocol(make, c, clock=c.clock)
        proto.location = self.location
        proto.factory = self
        return proto


class TubConnector:
    """A single-use attempt to connect to ``target`` through all its hints."""

    CONNECTION_TIMEOUT = 120.0

    def __init__(
        self,
        tub: ConnectorTub,
        target: _Target,
        handlers: Mapping[str, Any],
        *,
        reactor: Any,
        clock: ClockLike | None = None,
        timeout: float | None = None,
    ) -> None:
        self.tub = tub
        self.target = target
        self.handlers = dict(handlers)
        self.reactor = reactor
        self.clock: ClockLike = clock if clock is not None else reactor
        self.timeout = self.CONNECTION_TIMEOUT if timeout is None else timeout
        self._info = ConnectionInfo()
        self._pending: set[defer.Deferred[Any]] = set()
        self._negotiating: dict[NegotiationProtocol, str] = {}
        self._valid_hints: list[str] = []
        self._failure: Failure | None = None
        self._timer: DelayedCallLike | None = None
        self.active = False
        self._finished = False

    def __repr__(self) -> str:
        return f"<TubConnector to {self.target.getShortTubID()}>"

    def getConnectionInfo(self) -> ConnectionInfo:
        """The ConnectionInfo describing this attempt."""
        return self._info

    def connect(self) -> None:
        """Start every attempt (call once)."""
        self.tub.connectorStarted(self)
        self.active = True
        self._timer = self.clock.callLater(self.timeout, self._timed_out)
        seen: set[str] = set()
        for location in self.target.getLocations():
            if location in seen:
                continue
            seen.add(location)
            self._start(location)
        self._check_for_failure()

    def shutdown(self) -> None:
        """Abandon every attempt still in progress."""
        self.active = False
        self._stop_timer()
        for d in list(self._pending):
            d.cancel()
        for proto in list(self._negotiating):
            proto.abandon("connection attempt abandoned")

    # -- attempts -------------------------------------------------------------

    def _start(self, location: str) -> None:
        hint = convert_legacy_hint(location)
        try:
            kind = hint_type(hint)
            handler = self.handlers.get(kind)
            if handler is None:
                self._info._describe_connection_handler(location, None)
                raise InvalidHintError(f"no handler registered for hint type {kind!r}")
        except InvalidHintError as e:
            _log.info("skipping hint {hint}: {why}", hint=location, why=str(e))
            self._info._set_connection_status(location, f"bad hint: {e}")
            self._note_failure(failure_of(e))
            return
        self._info._describe_connection_handler(location, _describe(handler))
        self._info._set_connection_status(location, "resolving hint")

        def update_status(status: str) -> None:
            self._info._set_connection_status(location, status)

        d = defer.maybeDeferred(handler.hint_to_endpoint, hint, self.reactor, update_status)

        def good_hint(res: tuple[Any, str]) -> Any:
            endpoint, host = res
            self._valid_hints.append(location)
            self._info._set_connection_status(location, "connecting")
            return endpoint.connect(_AttemptFactory(self, host, location))

        d.addCallback(good_hint)
        self._pending.add(d)

        def remove(res: Any) -> Any:
            self._pending.discard(d)
            return res

        d.addBoth(remove)
        d.addCallbacks(
            self._connected, self._attempt_failed, callbackArgs=(location,), errbackArgs=(location,)
        )

    def _connected(self, proto: NegotiationProtocol, location: str) -> None:
        if proto.negotiator.finished:
            return
        self._negotiating[proto] = location
        self._info._set_connection_status(location, "negotiating")

    def _attempt_failed(self, reason: Failure, location: str) -> None:
        if failure_check(reason, ConnectionRefusedError):
            status = "connection refused"
        elif failure_check(reason, ConnectingCancelledError, defer.CancelledError):
            status = "abandoned"
        elif failure_check(reason, InvalidHintError):
            status = f"bad hint: {reason.value}"
            _log.info("unable to use hint {hint}: {why}", hint=location, why=str(reason.value))
        else:
            status = f"failed to connect: {reason.value or failure_type_name(reason)}"
        self._info._set_connection_status(location, status)
        self._note_failure(reason)
        self._check_for_failure()
        self._check_for_idle()

    def _note_failure(self, reason: Failure, *, significant: bool = False) -> None:
        if self._failure is None or significant:
            self._failure = reason

    # -- NegotiationHandler ---------------------------------------------------

    def negotiation_replace_existing(self, state: NegotiationState, event: ReplaceExisting) -> None:
        """Let the Tub drop its old connection to this peer."""
        self.tub._replace_existing(event)

    def negotiation_prepare(self, proto: NegotiationProtocol) -> Any:
        """Build the Broker ahead, while this attempt waits for the peer (see
        ``NegotiationProtocol``); None if the Tub is stopping."""
        return self.tub._prepare_broker(self.target, self._info)

    def negotiation_succeeded(
        self, proto: NegotiationProtocol, state: NegotiationState, event: Established
    ) -> TransportOwner:
        """This attempt won: abandon the others and attach a Broker."""
        location = self._negotiating.pop(proto, proto.location or "")
        self._info._set_connection_status(location, "successful")
        self._info._set_winning_hint(location)
        self._info._set_established_at(self.clock.seconds())
        self._info._set_connected(True)
        self.active = False
        self.shutdown()
        broker = self.tub._attach_negotiated(
            proto, event, is_client=True, connection_info=self._info, tubref=self.target
        )
        self._check_for_idle()
        return broker

    def negotiation_failed(self, proto: NegotiationProtocol, error: NegotiationError) -> None:
        """One attempt failed negotiating; maybe they all have."""
        location = self._negotiating.pop(proto, proto.location or "")
        self._info._set_connection_status(location, f"negotiation failed: {error}")
        significant = not str(error).startswith(("connection lost", "connection attempt"))
        self._note_failure(failure_of(error), significant=significant)
        self._check_for_failure()
        self._check_for_idle()

    def negotiation_redirected(self, proto: NegotiationProtocol, location: str) -> None:
        """Follow a redirect by trying the new location too."""
        if self.active and location not in self._info.connectorStatuses:
            self._start(location)

    # -- completion -----------------------------------------------------------

    def _timed_out(self) -> None:
        self._timer = None
        self._failure = failure_of(
            NegotiationError("no connection established within client timeout")
        )
        self.shutdown()
        self._failed()

    def _stop_timer(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None

    def _check_for_failure(self) -> None:
        if not self.active or self._pending or self._negotiating:
            return
        if not self._valid_hints:
            hints = ", ".join(self.target.getLocations()) or "none"
            self._failure = failure_of(
                NoLocationHintsError(f"no usable connection hints (hints: {hints})")
            )
        self._failed()

    def _failed(self) -> None:
        self._stop_timer()
        self.active = False
        failure = self._failure or failure_of(NoLocationHintsError("no connection hints"))
        failure._connectionInfo = self._info  # type: ignore[attr-defined]
        self.tub.connectionFailed(self.target, failure)
        self._finish()

    def _check_for_idle(self) -> None:
        if self._pending or self._negotiating or self.active:
            return
        self._finish()

    def _finish(self) -> None:
        if not self._finished:
            self._finished = True
            self.tub.connectorFinished(self)


def _describe(handler: Any) -> str:
    describe = getattr(handler, "describe", None)
    return str(describe()) if describe is not None else repr(handler)
