# mypy: disable-error-code="no-untyped-call"
# (Twisted's Failure, Protocol and error classes are not annotated.)
"""The Broker: the Twisted protocol of one live connection to another Tub.

The PB protocol itself is a sans-IO :class:`~octavo.tub._wire.PBConnection`
(``self.connection``): bytes go in, events come out, and commands return bytes.
The Broker is its glue to Twisted:

- the transport: ``dataReceived`` feeds the connection, and what the connection
  returns is written; a protocol error sends an ERROR token and drops this
  connection only;
- adaptive corking (``_writer``): a lone message is written at once, scheduling
  nothing; what is written while one socket read is handled (answers, calls made by
  the code that handles it; every TLS record of the read, ``_tls_read``) leaves in
  one write at the end, or half our window of calls in flight at once, so the far
  side works while this one does; writes close after a lone one (within
  ``TURN_WINDOW``, no input between) leave together at the turn's end; the TLS
  layer is written to directly (``_tls_write``);
- Deferreds: each ``callRemote`` is a :class:`PendingRequest` that the connection
  hands back with its answer, error or refusal;
- delivery: received calls run on their targets (``_delivery``), gifts are resolved
  through the Tub, PINGs are answered, keepalives are kept (``_keepalive``);
- the end of the connection: waiting calls fail with DeadReferenceError, the
  disconnect watchers run, and the Tub is told (``_tub_protocol``: how it is built).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from OpenSSL import SSL
from twisted.internet import error as twisted_error
from twisted.internet.defer import Deferred, fail, maybeDeferred
from twisted.internet.interfaces import IAddress
from twisted.internet.protocol import Protocol, connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure

from octavo.banana import Constraint, adapt_constraint
from octavo.reconnector import ClockLike
from octavo.tub._errors import BananaError, DeadReferenceError
from octavo.tub._eventual import EventualQueue, default_clock, queue_for
from octavo.tub._referenceable import RemoteReference
from octavo.tub._schema._outbound import NOT_GIVEN, check_outbound_call
from octavo.tub._wire._connection import (
    DEFAULT_MAX_INBOUND_CALLS,
    DEFAULT_MAX_MESSAGE_SIZE,
    DEFAULT_MAX_PENDING_GIFTS,
    PBConnection,
)
from octavo.tub._wire._events import (
    AnswerReceived,
    AnswerRefused,
    CallReceived,
    CallRefused,
    ErrorReceived,
    GiftReceived,
    MessageRefused,
    PeerError,
    PingReceived,
)
from octavo.tub._wire._references import DEFAULT_MAX_REFERENCES, RemoteReferenceTracker

from ._delivery import Delivery
from ._failure import wrap_remote_failure
from ._flow import FlowControl
from ._host import BrokerHost, codec_for
from ._keepalive import KeepaliveTimers
from ._params import param_int, wire_params_agree
from ._requests import PendingRequest
from ._tls_read import cork_tls_reads
from ._tub_protocol import BrokerTub, TubRefLike
from ._writer import SLICE_FROM, CorkedWriter

__all__ = ["LOST_CONNECTION_ERRORS", "Broker"]

_log = Logger(namespace="octavo.tub.broker")

LOST_CONNECTION_ERRORS: list[type[BaseException]] = [
    twisted_error.ConnectionLost,
    twisted_error.ConnectionDone,
    SSL.Error,
]


class Broker(Protocol):
    """A connection to one remote Tub (Foolscap's ``Broker``).

    :param tub: the Tub that owns this connection (None only in tests).
    :param remote_tubref: the far Tub's identity.
    :param params: negotiated parameters (see ``_tub_protocol``).
    :param keepalive_timeout: send PING after this many idle seconds (None: never).
    :param disconnect_timeout: drop the connection after this many idle seconds.
    :param connection_info: returned by ``getConnectionInfo()``.
    :param clock: time and eventual-send turns (default: the global reactor).
    :param max_inbound_calls: calls from the far end queued or running at once;
        more are refused with an error answer.
    :param max_message_size: bytes one message (call, answer, error) may take on the
        wire; a bigger one is a protocol error and closes the connection.
    :param max_references: our objects the far end may hold references to at once;
        sending it one more fails with a Violation.
    :param max_pending_gifts: third-party references from the far end not resolved yet;
        one more is refused with a Violation.
    :param codec_limits: keyword limits handed to the decoder (depth, token sizes).
    :param fast_paths: use the whole-message fast paths (None: the process default).
    """

    disconnected = False
    remote_broker: RemoteReference | None = None

    def __init__(
        self,
        tub: BrokerTub | None,
        remote_tubref: TubRefLike | None,
        params: Mapping[str, object] | None = None,
        *,
        keepalive_timeout: float | None = None,
        disconnect_timeout: float | None = None,
        connection_info: object = None,
        clock: ClockLike | None = None,
        max_inbound_calls: int = DEFAULT_MAX_INBOUND_CALLS,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        max_references: int = DEFAULT_MAX_REFERENCES,
        max_pending_gifts: int = DEFAULT_MAX_PENDING_GIFTS,
        codec_limits: Mapping[str, int] | None = None,
        fast_paths: bool | None = None,
    ) -> None:
        if clock is None:
            clock = default_clock()
        self.tub = tub
        self.remote_tubref = remote_tubref
        params = dict(params or {})
        self.params = params
        self._clock = clock
        self._queue: EventualQueue = queue_for(clock)
        self.unsafeTracebacks = bool(getattr(tub, "unsafeTracebacks", True))
        self.expose_remote_exception_types = bool(
            getattr(tub, "expose_remote_exception_types", True)
        )
        self.keepaliveTimeout = keepalive_timeout
        self.disconnectTimeout = disconnect_timeout
        self._keepalive = KeepaliveTimers(
            clock, keepalive_timeout, disconnect_timeout, self._send_ping, self._timed_out
        )
        self._connection_info = connection_info
        self.current_slave_IR = params.get("current-slave-IR")
        self.current_seqnum = params.get("current-seqnum")
        self.creation_timestamp = clock.seconds()
        #: the PB protocol state of this connection (sans-IO)
        self.connection = PBConnection(
            BrokerHost(self),
            codec_for(tub),
            owner=self,
            remote_tubid=remote_tubref.getTubID() if remote_tubref is not None else None,
            vocab_table_index=param_int(params.get("initial-vocab-table-index")),
            max_inbound_calls=max_inbound_calls,
            max_message_size=max_message_size,
            max_references=max_references,
            max_pending_gifts=max_pending_gifts,
            decoder_limits=codec_limits,
            fast_paths=fast_paths,
        )
        #: backpressure: when to stop reading, when sending may go on
        self.flow = FlowControl(self.connection, self._reading_changed)
        #: where everything this Broker sends goes (held back during bursts and turns)
        self.writer = CorkedWriter(clock, self.flow, self.flow.when_writable)
        #: True while events are being handled (a re-entered call leaves them to it)
        self._handling = False
        self._delivery = Delivery(self)
        self.disconnectWatchers: list[tuple[Callable[..., object], tuple[Any, ...], dict[str, Any]]]
        self.disconnectWatchers = []
        self._connectionLostWatchers: list[Callable[[], object]] | None = []
        self._closing = False

    def take_params(self, params: Mapping[str, object], peer: TubRefLike | None = None) -> bool:
        """Become the Broker of the decision ``params`` (and of ``peer``, if built before
        it was known): False, nothing changed, if they differ in what shapes the wire."""
        if not wire_params_agree(self.params, params):
            return False
        if peer is not None:
            self.remote_tubref = peer
            self.connection.their_references.remote_tubid = peer.getTubID()
        self.params = dict(params)
        self.current_slave_IR = params.get("current-slave-IR")
        self.current_seqnum = params.get("current-seqnum")
        self.creation_timestamp = self._clock.seconds()
        return True

    def __repr__(self) -> str:
        state = "disconnected" if self.disconnected else "connected"
        return f"<Broker to {self.short_tubid()} ({state})>"

    # Foolscap's names for what a debugger looks at (Tub.debug_listBrokers)

    @property
    def waitingForAnswers(self) -> Mapping[int, Any]:
        """Our calls waiting for an answer, by reqID."""
        return self.connection.waiting

    @property
    def inboundDeliveryQueue(self) -> list[CallReceived]:
        """Received calls waiting (for the gifts they, or calls before them, carry)."""
        return self.connection.waiting_calls

    # ---------------------------------------------------------------- transport

    def connectionMade(self) -> None:
        """Start keepalives and make the clid-0 reference to the far Broker."""
        self.remote_broker = RemoteReference(self.connection.remote_broker_tracker())
        self._keepalive.start()
        self.writer.attach(self.transport)
        cork_tls_reads(self.transport, self.writer, self.dataReceived)
        self.flow.attach(self.transport)

    def dataReceived(self, data: bytes) -> None:
        """Feed bytes to the connection and act on what they carry; whatever that
        makes us send leaves in one write. A protocol error closes this connection,
        after what arrived before it has been acted on. (The hot path of every
        message: kept to a few calls.)"""
        if self._closing or self.disconnected:
            return
        keepalive = self._keepalive
        if keepalive.last_received is not None:  # keepalive.data_received(), inline
            keepalive.last_received = self._clock.seconds()
        writer = self.writer
        # writer.cork(), inline: False inside a TLS read (it uncorks) or re-entered
        corked = not writer.corked
        if corked:
            writer.corked = True
            writer._lone_at = None
            turn = writer._turn
            if turn is not None:  # writer.end_turn_early(), inline
                writer._turn = None
                turn.cancel()
        # re-entered (from code run while handling input): the outer call handles
        # the events
        outer = not self._handling
        self._handling = True
        try:
            error = None
            try:
                self.connection.receive_data(data)
            except BananaError as e:
                error = str(e)
            except Exception as e:  # a bug of ours: never let it kill other connections
                _log.failure("unexpected error while decoding from {peer}", peer=self.short_tubid())
                error = f"exception while processing data: {type(e).__name__}"
            if outer and self.connection.pending_events:
                self._handle_events()
            if error is not None:
                self._protocol_error(error)
        finally:
            if outer:
                self._handling = False
            if corked:  # writer.uncork(), inline
                writer.corked = False
                if writer._held:
                    writer.flush()
        if outer:
            # self._update_reading(), inline
            admission = self.connection.admission
            if self.flow.reading_paused or admission.running >= admission.max_inbound_calls:
                self.flow.update()

    def _update_reading(self) -> None:
        """Pause or resume reading if the calls running (or the send buffer) ask it."""
        flow = self.flow
        admission = self.connection.admission
        if flow.reading_paused or admission.running >= admission.max_inbound_calls:
            flow.update()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Errback every outstanding call, tell the watchers and the Tub."""
        self.writer.lost()
        self.flow.lost()
        self._keepalive.stop()
        self.finish(reason)
        watchers, self._connectionLostWatchers = self._connectionLostWatchers, None
        for w in watchers or ():
            self._queue.eventually(w)

    def write(self, data: bytes) -> None:
        """Write ``data`` (held back while a burst is handled)."""
        self.writer.write(data)

    def _lose(self) -> None:
        self.writer.write_out()
        self.flow.detach()
        t: Any = self.transport
        if t is not None:
            t.loseConnection()

    def _protocol_error(self, msg: str) -> None:
        _log.info(
            "protocol error from {peer}, dropping connection: {msg}",
            peer=self.short_tubid(),
            msg=msg,
        )
        self._closing = True
        self.write(self.connection.error_token(msg))
        self._lose()

    # ---------------------------------------------------------------- events

    def _drain(self) -> None:
        """Act on events that arrived outside dataReceived (a gift resolved)."""
        if self._handling:
            return  # the loop that is running takes them
        writer = self.writer
        corked = writer.cork()
        self._handling = True
        try:
            self._handle_events()
        finally:
            self._handling = False
            if corked:
                writer.uncork()
        self._update_reading()

    def answered(self) -> None:
        """An answer left: calls that waited for room may run now, and reading may resume."""
        if self.connection.pending_events:
            self._drain()
        elif self.flow.reading_paused:
            self.flow.update()

    def _handle_events(self) -> None:
        conn = self.connection
        delivery = self._delivery
        pending = conn.pending_events
        inbound = conn.inbound
        while pending and not self.disconnected:
            # conn.events(), inline (every message with an event comes here)
            if inbound.oneway_out:
                inbound.taken()
            events = pending[:]
            pending.clear()
            if conn.answers_queued:  # a window of our calls in flight to slice (_writer)
                if (in_flight := len(conn.waiting) + conn.answers_queued) >= SLICE_FROM:
                    self.writer.handling(in_flight)
                conn.answers_queued = 0
            for ev in events:
                if self.disconnected:
                    return
                t = type(ev)
                if t is CallReceived:
                    delivery.run(ev)  # type: ignore[arg-type]
                elif t is AnswerReceived:
                    ev.request.complete(ev.result)  # type: ignore[union-attr]
                elif t is ErrorReceived:
                    f = ev.failure  # type: ignore[union-attr]
                    if not self.expose_remote_exception_types:
                        f = wrap_remote_failure(f)
                    ev.request.fail(f)  # type: ignore[union-attr]
                elif t is AnswerRefused:
                    reason = ev.reason  # type: ignore[union-attr]
                    ev.request.fail(  # type: ignore[union-attr]
                        reason if isinstance(reason, Failure) else Failure(reason)
                    )
                elif t is CallRefused:
                    delivery.refused(ev)  # type: ignore[arg-type]
                elif t is GiftReceived:
                    self._resolve_gift(ev)  # type: ignore[arg-type]
                elif t is PingReceived:
                    self.write(conn.send_pong(ev.number))  # type: ignore[union-attr]
                elif t is MessageRefused:
                    _log.debug(
                        "rejected a message from {peer}: {v}",
                        peer=self.short_tubid(),
                        v=ev.violation,  # type: ignore[union-attr]
                    )
                elif t is PeerError:
                    self._peer_error(ev.message)  # type: ignore[union-attr]
        self.writer.slice_at = 0  # the batch is handled

    def _peer_error(self, msg: str) -> None:
        """The far end sent an ERROR token: it is about to drop the connection."""
        _log.info("banana ERROR from {peer}: {msg}", peer=self.short_tubid(), msg=msg)
        self._closing = True
        self._lose()

    def _resolve_gift(self, ev: GiftReceived) -> None:
        """A their-reference arrived: reach it through our Tub."""
        tub = self.tub
        conn = self.connection
        if tub is None:  # pragma: no cover - the connection refuses gifts then
            return
        d = maybeDeferred(tub.getReference, ev.url)

        def _ok(rref: Any) -> None:
            self.write(conn.gift_resolved(ev.gift, rref))
            self._drain()

        def _failed(f: Failure) -> None:
            _log.info("gift ({url}) failed to resolve: {f}", url=ev.url, f=f.getErrorMessage())
            self.write(conn.gift_failed(ev.gift, f))
            self._drain()

        d.addCallbacks(_ok, _failed)
        d.addErrback(lambda f: _log.failure("error while resolving a gift", failure=f))

    # ---------------------------------------------------------------- keepalives

    def _reading_changed(self, paused: bool) -> None:
        if paused:
            self._keepalive.pause()
        else:
            self._keepalive.resume()

    def _send_ping(self) -> None:
        self.write(self.connection.send_ping(0))

    def _timed_out(self, idle: float) -> None:
        _log.info("disconnectTimeout, no data for {idle:.0f} seconds", idle=idle)
        self.shutdown(Failure(twisted_error.ConnectionLost("banana timeout: connection dropped")))

    # ---------------------------------------------------------------- life cycle

    def eventually(self, cb: Callable[..., object], /, *args: Any, **kwargs: Any) -> None:
        """Run ``cb`` on a later turn of this broker's clock."""
        self._queue.eventually(cb, *args, **kwargs)

    def shutdown(self, why: Failure, fireDisconnectWatchers: bool = True) -> None:
        """Stop using this connection now and close the transport."""
        if not fireDisconnectWatchers:
            self.disconnectWatchers = []
        self.finish(why)
        self._closing = True
        if not self.writer.gone:
            self._lose()

    def finish(self, why: Failure) -> None:
        """Retire everything tied to this connection (runs once)."""
        if self.disconnected:
            return
        self.disconnected = True
        self.remote_broker = None
        self.flow.release_waiters()
        for req in self.connection.close():
            f = why
            if why.check(*LOST_CONNECTION_ERRORS):
                f = Failure(DeadReferenceError("Connection was lost", self.short_tubid(), req))
            self._queue.eventually(req.fail, f)
        watchers, self.disconnectWatchers = self.disconnectWatchers, []
        for cb, args, kwargs in watchers:
            self._queue.eventually(cb, *args, **kwargs)
        if self.tub is not None:
            try:
                self.tub.brokerDetached(self, why)
            except Exception:
                _log.failure("Tub.brokerDetached failed")

    def _notifyOnConnectionLost(self, callback: Callable[[], object]) -> None:
        """Run ``callback()`` (eventually) once the transport is really gone."""
        if self._connectionLostWatchers is None:
            self._queue.eventually(callback)
        else:
            self._connectionLostWatchers.append(callback)

    def notifyOnDisconnect(self, callback: Callable[..., object], *args: Any, **kwargs: Any) -> Any:
        """Run ``callback(*args, **kwargs)`` eventually when this connection is lost."""
        marker = (callback, args, kwargs)
        if self.disconnected:
            self._queue.eventually(callback, *args, **kwargs)
        else:
            self.disconnectWatchers.append(marker)
        return marker

    def dontNotifyOnDisconnect(self, marker: Any) -> None:
        """Forget a watcher; tolerant of markers that already fired."""
        if self.disconnected:
            return
        for i, m in enumerate(self.disconnectWatchers):
            if m is marker:
                del self.disconnectWatchers[i]
                return

    def getConnectionInfo(self) -> object:
        """The connection-info object given at construction."""
        return self._connection_info

    def getDataLastReceivedAt(self) -> float | None:
        """When data last arrived, if keepalives are on."""
        return self._keepalive.last_received

    def getPeer(self) -> IAddress:
        """The transport's peer address."""
        t: Any = self.transport
        assert t is not None
        peer: IAddress = t.getPeer()
        return peer

    def short_tubid(self) -> str:
        """The far Tub's short id, for log messages."""
        return self.remote_tubref.getShortTubID() if self.remote_tubref is not None else "?"

    # ---------------------------------------------------------------- references

    def revokeReference(self, obj: Any) -> None:
        """Forget our object ``obj`` (Tub.revokeReference): later calls to it fail
        with an error saying it was revoked."""
        self.connection.revoke(obj)

    def release_reference(self, tracker: RemoteReferenceTracker) -> None:
        """A proxy of ours was collected: tell the far end (decref)."""
        if not self.disconnected:
            self.write(self.connection.release_reference(tracker))

    def getYourReferenceByName(self, name: str | bytes) -> Deferred[Any]:
        """Ask the far Tub for the object registered under ``name`` (clid-0 lookup)."""
        if self.remote_broker is None:
            return fail(DeadReferenceError("Calling Stale Broker", self.short_tubid()))
        if isinstance(name, str):
            name = name.encode("utf-8")
        return self.remote_broker.callRemote("getReferenceByName", name=name)

    # ---------------------------------------------------------------- outbound calls

    def callRemote(
        self,
        rref: RemoteReference,
        name: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        call_only: bool,
    ) -> Deferred[Any] | None:
        """Send a call to the object behind ``rref``; used by RemoteReference.

        Foolscap's special keywords are taken out of ``kwargs``: ``_resultConstraint``
        (a constraint the answer must satisfy), ``_methodConstraint`` (a method schema
        replacing the RemoteInterface's) and ``_useSchema`` (False: do not check the
        arguments here). If the far object announced a RemoteInterface we know, the
        call is checked against it before anything is sent (Violation).
        """
        result_constraint = None
        method_constraint = NOT_GIVEN
        use_schema = True
        if kwargs:
            result_constraint = kwargs.pop("_resultConstraint", None)
            method_constraint = kwargs.pop("_methodConstraint", NOT_GIVEN)
            use_schema = bool(kwargs.pop("_useSchema", True))
            for k in kwargs:
                if type(k) is not str:
                    raise TypeError("keyword argument names must be strings")
        if type(name) is not str:
            if isinstance(name, bytes):
                name = name.decode("utf-8")
            if not isinstance(name, str):
                raise TypeError(f"method name must be a string, not {type(name).__name__}")
        conn = self.connection
        tracker = rref.tracker
        method = rref._fixed_method_name
        if method is None:
            method = name
        iface = tracker.interface
        if iface is not None or method_constraint is not NOT_GIVEN:
            schema_constraint = check_outbound_call(
                iface,
                rref,
                method,
                args,
                kwargs,
                method_constraint=method_constraint,
                use_schema=use_schema,
            )
            if result_constraint is None:
                result_constraint = schema_constraint
        req: PendingRequest | None = None
        if call_only:
            if self.disconnected:
                return None
        elif self.disconnected:
            raise DeadReferenceError("Calling Stale Broker", self.short_tubid())
        else:
            req = PendingRequest(conn.allocate_reqid(), rref, tracker.interfaceName, method)
            req.broker = self
            if result_constraint is not None:  # (a schema's is a Constraint already)
                c = result_constraint
                req.constraint = c if isinstance(c, Constraint) else adapt_constraint(c)
        if type(args) is not tuple:
            args = tuple(args)
        # Violation for an argument that cannot be sent: nothing is sent then
        data = conn.send_call(req, tracker.clid, method, args, dict(kwargs) if kwargs else {})
        self.writer.write_message(data)
        return req.deferred if req is not None else None

    def logRemoteFailure(self, req: PendingRequest, why: Failure) -> None:
        """Log a failed outbound call when the Tub asks for it (logRemoteFailures)."""
        if self.tub is not None and self.tub.logRemoteFailures:
            _log.info(
                "an outbound callRemote (that we [{me}] sent to someone else [{them}]) "
                "failed on the far end: reqID={reqid} method={iname}.{mname}: {why}",
                me=self.tub.getShortTubID(),
                them=self.short_tubid(),
                reqid=req.reqID,
                iname=req.interfaceName or "?",
                mname=req.methodName or "?",
                why=why.getErrorMessage(),
            )
