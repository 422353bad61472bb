"""The Tub: a presence in the Foolscap/Octavo universe (Foolscap's ``pb.Tub``).

A Tub owns a certificate (its TubID), listens for connections, names local
objects with FURLs, and reaches remote objects through FURLs. It is a Twisted
``MultiService``: start it before use; once stopped it cannot be used again.

The Tub is a facade with Foolscap's names over the objects that do the work:
``_identity`` (TubIdentity: certificate, TubID, TLS options), ``_options`` (TubOptions,
behind ``setOption`` and Foolscap's attribute names), ``_names`` (NameRegistry),
``_logging`` (TubLogging: the octavo-logging plug-in), ``_connections``
(ConnectionManager: Brokers by TubRef, connectors, who waits; listeners and connectors
reach it through this Tub, Brokers through ``brokerDetached``) and ``_state``
(NegotiationView: what negotiation reads of us); ``copyables`` (CopyableRegistry: the
copytypes this Tub reads besides the process-wide ones).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, MutableMapping
from types import MappingProxyType
from typing import Any

from twisted.application import service
from twisted.internet import defer
from twisted.internet.interfaces import IStreamServerEndpoint
from twisted.python.failure import Failure

from octavo.furl import BadFURLError, SturdyRef, TubRef
from octavo.reconnector import ClockLike, Reconnector

from ._broker._broker import Broker
from ._broker._loopback import make_loopback_brokers
from ._broker._tub_protocol import ManagedBroker
from ._connections import ConnectionManager, Connector
from ._copy_registry import PROCESS_COPYABLES, CopyableRegistry
from ._errors import NoLocationError, PBError, TubStoppedError, WrongTubIdError
from ._furl_file import name_for_furl_file, write_furl_file
from ._info import ConnectionInfo
from ._location import automatic_location, get_local_ip_for
from ._negotiation._machine import Established, ReplaceExisting
from ._negotiation._protocol import NegotiationProtocol
from ._negotiation_view import NegotiationView
from ._net._connectors import TubConnector
from ._net._hints import DefaultTCP, IConnectionHintHandler
from ._net._identity import TubIdentity, make_incarnation, write_private_file
from ._net._limits import ConnectionLimits
from ._net._listener import Listener
from ._options import LOG_OPTIONS, OptionAttribute, TubOptions
from ._registry import NameRegistry, generateSwissnumber
from ._storage import serialize as storage_serialize
from ._storage import unserialize as storage_unserialize
from ._tub_logging import TubLogging

__all__ = ["Tub", "get_local_ip_for"]


def _default_reactor() -> Any:
    from twisted.internet import reactor  # noqa: PLC0415 (not installed at import time)

    return reactor


class Tub(service.MultiService):  # type: ignore[misc,unused-ignore]
    """I am a presence in the PB universe, also known as a Tub.

    ``certData`` (PEM bytes from ``getCertData()``) or ``certFile`` (a path,
    created with a new certificate on first use) give the Tub its identity;
    giving both is an error. ``options`` are passed to :meth:`setOption`.
    """

    NAMEBITS = 160
    TUBIDBITS = 16
    # Foolscap's attribute names for the settings in self._options (see _options.py).
    unsafeTracebacks = OptionAttribute[bool]("unsafe_tracebacks")
    debugBanana = OptionAttribute[bool]("debug_banana")
    logLocalFailures = OptionAttribute[bool]("log_local_failures")
    logRemoteFailures = OptionAttribute[bool]("log_remote_failures")
    keepaliveTimeout = OptionAttribute[int | None]("keepalive_timeout")
    disconnectTimeout = OptionAttribute[int | None]("disconnect_timeout")
    expose_remote_exception_types = OptionAttribute[bool]("expose_remote_exception_types")
    accept_gifts = OptionAttribute[bool]("accept_gifts")

    tubID: str

    def __init__(
        self,
        certData: bytes | None = None,
        certFile: str | None = None,
        options: dict[str, object] | None = None,
        *,
        reactor: Any = None,
        clock: ClockLike | None = None,
        _test_options: dict[str, object] | None = None,
    ) -> None:
        service.MultiService.__init__(self)  # type: ignore[no-untyped-call,unused-ignore]
        if certData is not None and certFile is not None:
            raise ValueError("give Tub either certData or certFile, not both")
        self._reactor = reactor if reactor is not None else _default_reactor()
        self._clock: ClockLike = clock if clock is not None else self._reactor
        self._test_options = dict(_test_options or {})
        self._options = TubOptions()
        self.listeners: list[Listener] = []
        self.locationHints: list[str] = []
        self.make_incarnation()
        self.master_table: dict[str, int] = {}
        self.slave_table: dict[str, tuple[str, str]] = {}
        self._names = NameRegistry()
        self.copyables = CopyableRegistry(parent=PROCESS_COPYABLES)  #: this Tub's copytypes
        self.reconnectors: list[Any] = []
        self._connectionHandlers: dict[str, Any] = {"tcp": DefaultTCP()}
        self._connections = ConnectionManager(
            local_tubid=self.getTubID,
            clock=self._clock,
            make_broker=self._make_broker,
            make_loopback=self._make_loopback,
            make_connector=self._make_connector,
        )
        self._pending_getReferences: list[tuple[defer.Deferred[Any], Any]] = []
        self._logging = TubLogging(self)
        self._state = NegotiationView(self)
        self._limits = ConnectionLimits(
            lambda: self._options.max_connections,
            lambda: self._options.max_negotiating_connections,
        )
        if certFile is not None:
            self.setupEncryptionFile(certFile)
        else:
            self.setupEncryption(certData)
        for name, value in (options or {}).items():
            self.setOption(name, value)

    def __repr__(self) -> str:
        return f"<Tub id={self.tubID}>"

    # -- identity ---------------------------------------------------------------

    def setupEncryptionFile(self, certFile: str) -> None:
        """Load the certificate from ``certFile``, or create it there (mode 0600)."""
        try:
            with open(certFile, "rb") as f:
                data: bytes | None = f.read()
        except FileNotFoundError:
            data = None
        self.setupEncryption(data)
        if not data:  # missing (or empty): keep the new certificate for next time
            write_private_file(certFile, self.getCertData())

    def setupEncryption(self, certData: bytes | None) -> None:
        """Use ``certData`` (PEM) as our certificate, or make a new one."""
        if certData:
            self._identity = TubIdentity.from_pem(certData)
        else:
            self._identity = TubIdentity.from_pem(self.createCertificate())
        self.tubID = self._identity.tubid

    def createCertificate(self) -> bytes:
        """Make a new certificate and key (PEM bytes)."""
        return TubIdentity.generate().cert_data

    def getCertData(self) -> bytes:
        """The PEM certificate and key; ``Tub(certData=...)`` recreates this identity."""
        return self._identity.cert_data

    @property
    def myCertificate(self) -> Any:
        """Our certificate (pyOpenSSL X509)."""
        return self._identity.certificate

    def getTubID(self) -> str:
        """Our TubID."""
        return self.tubID

    def getShortTubID(self) -> str:
        """The first four characters of our TubID."""
        return self.tubID[:4]

    def make_incarnation(self) -> None:
        """Pick a new random incarnation string (used for duplicate-connection handling)."""
        unique = make_incarnation()
        self.incarnation = (unique, None)
        self.incarnation_string = unique

    def getIncarnationString(self) -> str:
        """This run's incarnation string."""
        return self.incarnation_string

    # -- options ----------------------------------------------------------------

    def setOption(self, name: str, value: object) -> object:
        """Set a Tub option by its Foolscap name; unknown names raise KeyError."""
        if isinstance(name, bytes):
            name = name.decode("utf-8")
        if name in LOG_OPTIONS:
            return self._logging.plugin(name).set_option(name, value)
        self._options.set(name, value)
        return None

    @property
    def _expose_remote_exception_types(self) -> bool:
        return self.expose_remote_exception_types

    # -- logging (Foolscap's names; the work is octavo-logging's) ------------------

    def setLogGathererFURL(self, gatherer_furl_or_furls: str | list[str]) -> object:
        """Send this Tub's log events to the gatherer(s) at these FURLs."""
        return self.setOption("log-gatherer-furl", gatherer_furl_or_furls)

    def setLogGathererFURLFile(self, gatherer_furl_file: str) -> object:
        """Like setLogGathererFURL, with the FURL(s) read from a file."""
        return self.setOption("log-gatherer-furlfile", gatherer_furl_file)

    def setLogPortFURLFile(self, logport_furlfile: str) -> object:
        """Write the FURL of this Tub's logport to a file."""
        return self.setOption("logport-furlfile", logport_furlfile)

    def getLogPort(self) -> object:
        """This Tub's logport Referenceable (needs octavo-logging)."""
        return self._logging.plugin("getLogPort").get_log_port()

    def getLogPortFURL(self) -> str:
        """The FURL of this Tub's logport (needs octavo-logging)."""
        return self._logging.plugin("getLogPortFURL").get_log_port_furl()

    def log(self, *args: Any, **kwargs: Any) -> object:
        """Log an event about this Tub, tagged with its TubID.

        With octavo-logging installed this is Foolscap's ``log.msg`` (returns the
        event number); without it the event goes to Twisted's logger (returns None),
        so application code that calls ``tub.log`` works either way.
        """
        kwargs.setdefault("tubID", self.tubID)
        return self._logging.log(args, kwargs)

    # -- hints ------------------------------------------------------------------

    def removeAllConnectionHintHandlers(self) -> None:
        """Forget every hint handler (including the built-in TCP one)."""
        self._connectionHandlers = {}

    def addConnectionHintHandler(self, hint_type: str, handler: Any) -> None:
        """Use ``handler`` (an IConnectionHintHandler) for hints of ``hint_type``."""
        if not IConnectionHintHandler.providedBy(handler):
            raise TypeError(f"{handler!r} does not provide IConnectionHintHandler")
        self._connectionHandlers[str(hint_type)] = handler

    # -- listening and location ---------------------------------------------------

    def listenOn(self, what: IStreamServerEndpoint | str) -> Listener:
        """Listen on an endpoint or a description like ``"tcp:12345"``; return the Listener."""
        self._check_alive()
        if isinstance(what, bytes):
            what = what.decode("utf-8")
        if isinstance(what, str) and what.isdigit():
            what = f"tcp:{what}"
        listener = Listener(
            self,
            what,
            reactor=self._reactor,
            clock=self._clock,
            timeout=self._options.negotiation_timeout,
        )
        self.listeners.append(listener)
        listener.setServiceParent(self)  # type: ignore[no-untyped-call,unused-ignore]
        return listener

    def stopListeningOn(self, listener: Listener) -> defer.Deferred[Any]:
        """Stop a Listener; the Deferred fires when its port is closed."""
        self.listeners.remove(listener)
        return defer.maybeDeferred(listener.disownServiceParent)

    def getListeners(self) -> list[Listener]:
        """The Listeners that let the world connect to us."""
        return self.listeners[:]

    def setLocation(self, *hints: str) -> None:
        """Set the location hints that go into our FURLs (only once)."""
        if self.locationHints:
            raise PBError("Tub.setLocation() can only be called once")
        self.locationHints = [h.decode("utf-8") if isinstance(h, bytes) else h for h in hints]
        self._logging.location_set()

    def setLocationAutomatically(
        self, *extra_addresses: str, _get_local_ip: Callable[[], str | None] | None = None
    ) -> defer.Deferred[None]:
        """Set our location from the default route's address, 127.0.0.1 and extras.

        Listen first. Returns a Deferred that fires once the location is set."""
        finder = _get_local_ip if _get_local_ip is not None else get_local_ip_for

        def set_it(local: str | None) -> None:
            ports = [lst.getPortnum() for lst in self.getListeners()]
            if not ports:
                raise PBError("setLocationAutomatically needs listenOn() first")
            self.setLocation(automatic_location(local, extra_addresses, ports))

        d: defer.Deferred[None] = defer.maybeDeferred(finder).addCallback(set_it)
        return d

    def clone(self) -> Tub:
        """A new Tub with the same certificate (hence TubID) and options."""
        new = Tub(certData=self.getCertData(), reactor=self._reactor, clock=self._clock)
        new._options = dataclasses.replace(self._options)
        new._connectionHandlers = dict(self._connectionHandlers)
        return new

    # -- names ------------------------------------------------------------------

    def generateSwissnumber(self, bits: int) -> str:
        """An unguessable name of ``bits`` random bits."""
        return generateSwissnumber(bits)

    def buildURL(self, name: str) -> str:
        """The FURL for ``name`` at our location."""
        return f"pb://{self.tubID}@{','.join(self.locationHints)}/{name}"

    def registerReference(
        self, ref: Any, name: str | None = None, furlFile: str | None = None
    ) -> str:
        """Publish ``ref`` and return its FURL; keep it alive until unregistered.

        With ``furlFile``, reuse the name of the FURL in that file if it exists,
        and write the FURL there (atomically, mode 0600 when new).
        """
        if not self.locationHints:
            raise NoLocationError("you must setLocation() before you can registerReference()")
        assigned = self._assignName(ref, name_for_furl_file(furlFile, self.tubID, name))
        assert assigned is not None
        self._names.keep(ref)
        furl = self.buildURL(assigned)
        if furlFile:
            write_furl_file(furlFile, furl)
        return furl

    def _assignName(self, ref: Any, preferred_name: str | None = None) -> str | None:
        if not self.locationHints:
            return None
        name = preferred_name or self.generateSwissnumber(self.NAMEBITS)
        return self._names.assign(ref, name)

    @property
    def nameToReference(self) -> MutableMapping[str, Any]:
        """Names to the objects they name (weak values)."""
        return self._names.nameToReference

    @property
    def referenceToName(self) -> MutableMapping[Any, str]:
        """Objects to their names (weak keys)."""
        return self._names.referenceToName

    @property
    def strongReferences(self) -> list[Any]:
        """Registered objects kept alive by the Tub."""
        return self._names.strongReferences

    def getReferenceForName(self, name: str) -> Any:
        """The local object named ``name``; KeyError if there is none (or it was revoked)."""
        return self._names.lookup(name)

    def getReferenceForURL(self, url: str) -> Any:
        """The local object a FURL of ours names."""
        sturdy = SturdyRef(url)
        if sturdy.tubID != self.tubID:
            raise WrongTubIdError(f"FURL names Tub {sturdy.tubID}, not this Tub {self.tubID}")
        return self.getReferenceForName(sturdy.name)

    def getOrCreateURLForReference(self, ref: Any) -> str | None:
        """The FURL for ``ref`` (naming it if needed), or None without a location."""
        name = self._assignName(ref)
        return self.buildURL(name) if name else None

    def revokeReference(self, ref: Any) -> None:
        """Make ``ref`` unreachable: its FURL stops working and calls through
        references already handed out fail."""
        self._names.revoke(ref)
        self._connections.revoke_reference(ref)

    def isReferenceRevoked(self, ref: Any) -> bool:
        """True if ``ref`` was revoked (Brokers refuse calls to it)."""
        return self._names.is_revoked(ref)

    def unregisterURL(self, url: str) -> None:
        """Forget the object a FURL names, and revoke it."""
        ref = self._names.remove_name(SturdyRef(url).name)
        self._names.strongReferences = [r for r in self._names.strongReferences if r is not ref]
        self.revokeReference(ref)

    def unregisterReference(self, ref: Any) -> None:
        """Forget ``ref``'s name and strong reference, and revoke it."""
        self._names.remove_ref(ref)
        self.revokeReference(ref)

    def registerNameLookupHandler(self, lookup: Callable[[str], Any]) -> None:
        """Ask ``lookup(name)`` for objects not in the name table (first non-None wins)."""
        self._names.nameLookupHandlers.append(lookup)

    def unregisterNameLookupHandler(self, lookup: Callable[[str], Any]) -> None:
        """Remove a handler added with registerNameLookupHandler."""
        self._names.nameLookupHandlers.remove(lookup)

    # -- reaching out -------------------------------------------------------------

    def getReference(self, sturdyOrURL: Any) -> defer.Deferred[Any]:
        """A Deferred firing with a RemoteReference to the object a FURL names."""
        self._check_alive()
        return defer.maybeDeferred(self._getReference, sturdyOrURL)

    def _getReference(self, sturdyOrURL: Any) -> defer.Deferred[Any]:
        what = sturdyOrURL.decode("utf-8") if isinstance(sturdyOrURL, bytes) else sturdyOrURL
        sturdy = SturdyRef(what) if isinstance(what, str) else what
        if not self.running:
            d: defer.Deferred[Any] = defer.Deferred()
            self._pending_getReferences.append((d, sturdy))
            return d
        name = sturdy.name
        tubref = sturdy.getTubRef()
        d = self.getBrokerForTubRef(tubref)
        d.addCallback(lambda b: b.getYourReferenceByName(name))
        return d

    # -- storage ------------------------------------------------------------------

    def serialize(self, obj: object) -> defer.Deferred[bytes]:
        """Foolscap's Tub.serialize: a Deferred firing with Banana bytes for ``obj``.

        Referenceables (named here on demand, so the Tub needs a location) and
        RemoteReferences are stored as their FURLs (``unserialize`` makes them live
        RemoteReferences again), Copyables by value; Violation if it cannot be stored."""
        return defer.maybeDeferred(storage_serialize, self, obj)

    def unserialize(self, data: bytes) -> defer.Deferred[object]:
        """Foolscap's Tub.unserialize: a Deferred firing with the object once every
        stored reference is connected (needs the accept-gifts option, on by default)."""
        return storage_unserialize(self, data)

    def connectTo(self, _furl: str, _cb: Callable[..., object], *args: Any, **kwargs: Any) -> Any:
        """Keep a connection to ``_furl``; call ``_cb(rref, *args, **kwargs)`` on each
        (re)connection. Returns the Reconnector; stopService stops it."""
        self._check_alive()
        furl = _furl

        def connect() -> defer.Deferred[Any]:
            return self.getReference(furl)

        rc = Reconnector(
            connect,
            _cb,
            args,
            kwargs,
            clock=self._clock,
            connection_info=lambda: self.getConnectionInfoForFURL(furl),
        )
        self.reconnectors.append(rc)
        if self.running:
            rc.startConnecting()
        return rc

    def _removeReconnector(self, rc: Any) -> None:
        if rc in self.reconnectors:
            self.reconnectors.remove(rc)

    def getConnectionInfoForFURL(self, furl: str) -> ConnectionInfo | None:
        """The ConnectionInfo of our connection (or attempt) to a FURL's Tub, or None."""
        try:
            tubref = SturdyRef(furl).getTubRef()
        except (ValueError, BadFURLError):
            return None
        return self._connections.connection_info(tubref)

    # -- connections (the work is the ConnectionManager's) ------------------------------

    @property
    def brokers(self) -> Mapping[TubRef, ManagedBroker]:
        """The Broker connected to each TubRef (read-only)."""
        return MappingProxyType(self._connections.brokers)

    @property
    def tubConnectors(self) -> Mapping[TubRef, Connector]:
        """The connection attempt in progress to each TubRef (read-only)."""
        return MappingProxyType(self._connections.tubConnectors)

    @property
    def waitingForBrokers(self) -> Mapping[TubRef, list[defer.Deferred[ManagedBroker]]]:
        """Who waits for a Broker to each TubRef (read-only)."""
        return MappingProxyType(self._connections.waitingForBrokers)

    def getBrokerForTubRef(self, tubref: Any) -> defer.Deferred[ManagedBroker]:
        """A Deferred firing with the Broker connected to ``tubref``'s Tub."""
        return self._connections.getBrokerForTubRef(tubref)

    def connectorStarted(self, c: Connector) -> None:
        """A TubConnector began."""
        self._connections.connectorStarted(c)

    def connectorFinished(self, c: Connector) -> None:
        """A TubConnector has nothing left in progress."""
        self._connections.connectorFinished(c)

    def connectionFailed(self, tubref: Any, why: Failure) -> None:
        """An outbound attempt to ``tubref`` failed: fail whoever waits for it."""
        self._connections.connectionFailed(tubref, why)

    def brokerAttached(self, tubref: Any, broker: ManagedBroker, isClient: bool) -> None:
        """A Broker is ready for ``tubref``: wake everyone waiting for it."""
        self._connections.brokerAttached(tubref, broker, isClient)

    def brokerDetached(self, broker: Any, why: Failure) -> None:
        """A Broker's connection ended: forget it."""
        self._connections.brokerDetached(broker, why)

    def debug_listBrokers(self) -> list[tuple[str, list[object], list[object]]]:
        """``(tubref, inbound deliveries, outbound requests)`` for each Broker."""
        return self._connections.debug_listBrokers()

    def _make_broker(
        self, tubref: TubRef | None, params: dict[str, object], connection_info: ConnectionInfo
    ) -> ManagedBroker:
        """A negotiated connection's Broker (tubref None: built ahead; tests override)."""
        args = self._options.broker_arguments()
        return Broker(
            self, tubref, params, connection_info=connection_info, clock=self._clock, **args
        )

    def _make_loopback(
        self, tubref: TubRef, connection_info: ConnectionInfo
    ) -> tuple[ManagedBroker, ManagedBroker]:
        clock = self._clock
        return make_loopback_brokers(self, tubref, clock=clock, connection_info=connection_info)

    def _make_connector(self, tubref: TubRef) -> TubConnector:
        handlers = self._connectionHandlers
        return TubConnector(self, tubref, handlers, reactor=self._reactor, clock=self._clock)

    # -- negotiation hooks (NegotiatingTub, for listeners and connectors) ---------------

    def _connection_refusal(self) -> str | None:
        negotiating = sum(listener.negotiating for listener in self.listeners)
        return self._limits.refusal(len(self._connections.brokers), negotiating)

    def _negotiation_state(self) -> NegotiationView:
        return self._state

    def _replace_existing(self, event: ReplaceExisting) -> None:
        self._connections.replace_existing(event)

    def _prepare_broker(self, tubref: Any, connection_info: ConnectionInfo) -> ManagedBroker | None:
        return self._connections.prepare_broker(tubref, connection_info)

    def _attach_negotiated(
        self,
        proto: NegotiationProtocol,
        event: Established,
        *,
        is_client: bool,
        connection_info: ConnectionInfo,
        tubref: Any,
    ) -> ManagedBroker:
        return self._connections.attach_negotiated(
            proto.transport,
            event,
            is_client=is_client,
            connection_info=connection_info,
            tubref=tubref,
            prepared=proto.prepared,
        )

    # -- service life ---------------------------------------------------------------

    def _check_alive(self) -> None:
        if self._connections.stopped:
            raise TubStoppedError("Sorry, but this Tub has been shut down.")

    def startService(self) -> None:
        """Start listening and connecting; run queued getReference/connectTo calls."""
        if self._connections.stopped:
            raise TubStoppedError("Sorry, but Tubs cannot be restarted.")
        service.MultiService.startService(self)  # type: ignore[no-untyped-call,unused-ignore]
        pending, self._pending_getReferences = self._pending_getReferences, []
        for d, sturdy in pending:
            self.getReference(sturdy).chainDeferred(d)
        for rc in self.reconnectors:
            self._clock.callLater(0, rc.startConnecting)

    def stopService(self) -> defer.Deferred[None]:
        """Stop everything; the Deferred fires once every connection has closed."""
        if self._connections.stopped:
            return defer.succeed(None)
        for rc in list(self.reconnectors):
            rc.stopConnecting()
        self.reconnectors = []
        connections_closed = self._connections.shutdown()
        for d, _sturdy in self._pending_getReferences:
            d.errback(TubStoppedError("the Tub was stopped before it started"))
        self._pending_getReferences = []

        def stop_children(_: None) -> defer.Deferred[None]:
            return defer.maybeDeferred(service.MultiService.stopService, self)

        result: defer.Deferred[None] = connections_closed.addCallback(stop_children)
        return result.addCallback(lambda _: None)
