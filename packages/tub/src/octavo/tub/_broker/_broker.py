# mypy: disable-error-code="no-untyped-call"
# (Twisted's Failure, Protocol and error classes are not annotated.)
"""The Broker: one live connection to another Tub, speaking Foolscap's PB protocol.

The Broker is a plain Twisted ``Protocol``. Bytes go through the per-connection codec
(``_sequences.BrokerCodec``, built on octavo.banana), which turns them into calls,
answers and errors and calls back into the Broker; everything here is bookkeeping:
which of our objects the far end holds (by clid), which of theirs we hold, which
calls wait for answers, and the order in which inbound calls run.

See ``_broker_tub`` for how the Tub builds one and what it must provide.
"""

from __future__ import annotations

import itertools
import types
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from twisted.internet import error as twisted_error
from twisted.internet.defer import Deferred, fail, maybeDeferred
from twisted.internet.interfaces import IAddress
from twisted.internet.protocol import Protocol, connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure

from octavo.banana import Pending, adapt_constraint
from octavo.reconnector import ClockLike
from octavo.tub._errors import BananaError, DeadReferenceError, Violation
from octavo.tub._eventual import EventualQueue, default_clock, queue_for
from octavo.tub._referenceable import (
    PendingRequest,
    ReferenceableTracker,
    RemoteReference,
    RemoteReferenceTracker,
)
from octavo.tub._wire._fastwire import BIG_MESSAGE
from octavo.tub._wire._messages import CallMessage, ErrorMessage, InboundDelivery
from octavo.tub._wire._sequences import BrokerCodec

from ._failure import CopiedFailure, wrap_remote_failure
from ._keepalive import KeepaliveTimers
from ._tls_write import direct_tls_writer
from ._tub_protocol import BrokerTub, TubRefLike

__all__ = ["LOST_CONNECTION_ERRORS", "Broker"]

_log = Logger(namespace="octavo.tub.broker")

LOST_CONNECTION_ERRORS: list[type[BaseException]] = [
    twisted_error.ConnectionLost,
    twisted_error.ConnectionDone,
]
try:
    from OpenSSL import SSL

    LOST_CONNECTION_ERRORS.append(SSL.Error)
except ImportError:  # pragma: no cover - pyOpenSSL is a dependency
    pass

#: default bound on calls from the far end that are queued or running at once
DEFAULT_MAX_INBOUND_CALLS = 10_000
#: default bound on the wire size of one inbound message
DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024 * 1024


class Broker(Protocol):
    """A connection to one remote Tub (Foolscap's ``Broker``).

    :param tub: the Tub that owns this connection (None only in tests).
    :param remote_tubref: the far Tub's identity.
    :param params: negotiated parameters (see ``_broker_tub``).
    :param keepalive_timeout: send PING after this many idle seconds (None: never).
    :param disconnect_timeout: drop the connection after this many idle seconds.
    :param connection_info: returned by ``getConnectionInfo()``.
    :param clock: time and eventual-send turns (default: the global reactor).
    :param max_inbound_calls: calls from the far end queued or running at once;
        more are refused with an error answer.
    :param max_message_size: bytes one message (call, answer, error) may take on the
        wire; a bigger one is a protocol error and closes the connection.
    :param codec_limits: keyword limits handed to the decoder (depth, token sizes).
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
        codec_limits: Mapping[str, int] | None = None,
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
        self.max_inbound_calls = max_inbound_calls
        self.max_message_size = max_message_size
        self._unfinished_bytes = 0
        vocab_index = params.get("initial-vocab-table-index")
        self._codec = BrokerCodec(
            self, vocab_table_index=_as_int(vocab_index), limits=dict(codec_limits or {})
        )
        self._take_body = self._codec.decoder.take_body

        # our objects the far end holds
        self._next_clid = itertools.count(1)  # 0 is the broker itself
        self.myReferenceByPUID: dict[int, ReferenceableTracker] = {}
        self.myReferenceByCLID: dict[int, ReferenceableTracker] = {}
        # clids of our objects that the Tub revoked (never reused: clids only grow)
        self.revokedCLIDs: set[int] = set()
        # their objects we hold
        self.yourReferenceByCLID: dict[int, RemoteReferenceTracker] = {}
        self.yourReferenceByURL: dict[str, RemoteReferenceTracker] = {}
        # gifts: their-references we sent to this far end, for objects of a third Tub
        self._next_gift_id = itertools.count(1)
        self.myGifts: dict[tuple[int, int], tuple[RemoteReference, int, int]] = {}
        self.myGiftsByGiftID: dict[int, tuple[int, int]] = {}
        # calls we sent
        self._next_reqid = itertools.count(1)  # 0 means "no answer wanted"
        self.waitingForAnswers: dict[int, PendingRequest] = {}
        # calls we received
        self.inboundDeliveryQueue: deque[tuple[InboundDelivery, Deferred[Any] | None]] = deque()
        self.activeLocalCalls: set[int] = set()
        self._running_delivery = False
        self._delivery_scheduled = False
        self.disconnectWatchers: list[tuple[Callable[..., object], tuple[Any, ...], dict[str, Any]]]
        self.disconnectWatchers = []
        self._connectionLostWatchers: list[Callable[[], object]] | None = []
        self._transport_gone = False
        self._closing = False
        self._current_collector: Any = None
        # messages written while a burst is being handled (None: write at once)
        self._corked: list[bytes] | None = None
        # True while input is being decoded: calls that arrive run when it is done
        self._receiving = False
        self._deliver_after_receiving = False
        self._raw_write: Any = None  # the transport's write, or one into its TLS layer

    def __repr__(self) -> str:
        state = "disconnected" if self.disconnected else "connected"
        return f"<Broker to {self._short_tubid()} ({state})>"

    # ---------------------------------------------------------------- protocol glue

    def connectionMade(self) -> None:
        """Start keepalives and make the clid-0 reference to the far Broker."""
        tracker = RemoteReferenceTracker(self, 0, None, "RIBroker")
        self.remote_broker = RemoteReference(tracker)
        self._keepalive.start()
        transport: Any = self.transport
        self._raw_write = direct_tls_writer(transport) or transport.write
        out = self._codec.initial_bytes()
        if out:
            self._write(out)

    def dataReceived(self, data: bytes) -> None:
        """Feed bytes to the codec; a protocol error closes this connection only."""
        if self._closing or self.disconnected:
            return
        unfinished = self._unfinished_bytes + len(data)
        if unfinished <= self.max_message_size and self._take_body(data):
            # the middle of a big byte string: nothing to decode, nothing to answer
            self._unfinished_bytes = unfinished
            self._keepalive.data_received()
            return
        if self._corked is not None:
            self._data_received(data)  # re-entered: the outer call finishes the burst
            return
        # whatever this data makes us send (answers, calls made by callbacks) leaves
        # in one write at the end; the calls it carries run once it is all decoded
        self._corked = []
        self._receiving = True
        try:
            self._data_received(data)
        finally:
            self._receiving = False
            try:
                if self._deliver_after_receiving:
                    self._deliver_after_receiving = False
                    self._do_next_calls()
            finally:
                self._uncork()

    def _data_received(self, data: bytes) -> None:
        self._keepalive.data_received()
        self._unfinished_bytes += len(data)
        completed = self._codec.messages_completed
        try:
            self._codec.receive_data(data)
            if self._codec.messages_completed != completed:
                self._unfinished_bytes = 0
            elif self._unfinished_bytes > self.max_message_size:
                raise BananaError(
                    f"message larger than max_message_size={self.max_message_size} bytes"
                )
        except BananaError as e:
            self._protocol_error(str(e))
        except Exception as e:  # a bug of ours: never let it kill other connections
            _log.failure("unexpected error while decoding from {peer}", peer=self._short_tubid())
            self._protocol_error(f"exception while processing data: {type(e).__name__}")

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Errback every outstanding call, tell the watchers and the Tub."""
        self._transport_gone = True
        self._keepalive.stop()
        self.finish(reason)
        watchers, self._connectionLostWatchers = self._connectionLostWatchers, None
        for w in watchers or ():
            self._queue.eventually(w)

    def _write(self, data: bytes) -> None:
        corked = self._corked
        if corked is not None:
            corked.append(data)
            return
        if self._transport_gone:
            return
        write = self._raw_write
        if write is None:  # not connected yet (tests that skip makeConnection)
            t: Any = self.transport
            if t is None:
                return
            write = t.write
        write(data)

    def _write_message(self, data: bytes | list[bytes]) -> None:
        """Write one encoded message (a big one comes in pieces)."""
        if type(data) is list:
            for piece in data:
                self._write(piece)
        else:
            self._write(data)  # type: ignore[arg-type]

    def _uncork(self) -> None:
        """Write what was held back during a burst: as one write, but big pieces as
        they are (joining them would copy them)."""
        corked, self._corked = self._corked, None
        if not corked:
            return
        if len(corked) == 1:
            self._write(corked[0])
            return
        if sum(map(len, corked)) <= BIG_MESSAGE:
            self._write(b"".join(corked))
            return
        run: list[bytes] = []
        for piece in corked:
            if len(piece) > BIG_MESSAGE:
                if run:
                    self._write(b"".join(run))
                    run = []
                self._write(piece)
            else:
                run.append(piece)
        if run:
            self._write(b"".join(run))

    def _lose(self) -> None:
        self._uncork()
        t: Any = self.transport
        if t is not None:
            t.loseConnection()

    def _protocol_error(self, msg: str) -> None:
        _log.info(
            "protocol error from {peer}, dropping connection: {msg}",
            peer=self._short_tubid(),
            msg=msg,
        )
        self._closing = True
        self._write(self._codec.error_bytes(msg))
        self._lose()

    def remoteErrorReceived(self, msg: str) -> None:
        """The far end sent an ERROR token: it is about to drop the connection."""
        _log.info("banana ERROR from {peer}: {msg}", peer=self._short_tubid(), msg=msg)
        self._closing = True
        self._lose()

    def pingReceived(self, number: int) -> None:
        """Answer a PING with a PONG carrying the same number."""
        self._write(self._codec.pong_bytes(number))

    def violationReceived(self, violation: Violation) -> None:
        """A top-level message was rejected (already answered if it was a call)."""
        _log.debug("rejected a message from {peer}: {v}", peer=self._short_tubid(), v=violation)

    def pongReceived(self, number: int) -> None:
        """A PONG only proves the connection is alive (already noted on receipt)."""

    def _send_ping(self) -> None:
        self._write(self._codec.ping_bytes(0))

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
        if not self._transport_gone:
            self._lose()

    def finish(self, why: Failure) -> None:
        """Retire everything tied to this connection (runs once)."""
        if self.disconnected:
            return
        self.disconnected = True
        self.remote_broker = None
        self.abandonAllRequests(why)
        self.myReferenceByPUID = {}
        self.myReferenceByCLID = {}
        self.revokedCLIDs = set()
        self.yourReferenceByCLID = {}
        self.yourReferenceByURL = {}
        self.myGifts = {}
        self.myGiftsByGiftID = {}
        self.inboundDeliveryQueue.clear()
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

    def _short_tubid(self) -> str:
        return self.remote_tubref.getShortTubID() if self.remote_tubref is not None else "?"

    # ---------------------------------------------------------------- our references

    def getTrackerForMyReference(self, puid: int, obj: Any) -> ReferenceableTracker:
        """The tracker (and clid) of one of our objects, made on first send."""
        tracker = self.myReferenceByPUID.get(puid)
        if tracker is None:
            clid = next(self._next_clid)
            tracker = ReferenceableTracker(self.tub, obj, puid, clid)
            self.myReferenceByPUID[puid] = tracker
            self.myReferenceByCLID[clid] = tracker
        return tracker

    def getTrackerForMyCall(self, puid: int, obj: Any) -> ReferenceableTracker:
        """Like getTrackerForMyReference, for a callable (negative clid)."""
        tracker = self.myReferenceByPUID.get(puid)
        if tracker is None:
            clid = -next(self._next_clid)
            tracker = ReferenceableTracker(self.tub, obj, puid, clid)
            self.myReferenceByPUID[puid] = tracker
            self.myReferenceByCLID[clid] = tracker
        return tracker

    def getMyReferenceByCLID(self, clid: int) -> Any:
        """The object the far end names by ``clid`` (0 is this Broker)."""
        if clid == 0:
            return self
        tracker = self.myReferenceByCLID.get(clid)
        if tracker is None:
            if clid in self.revokedCLIDs:
                raise Violation(
                    f"the reference (CLID {clid}) was revoked by its Tub (revokeReference); "
                    "it can no longer be called"
                )
            raise Violation(f"unknown CLID {clid}")
        return tracker.obj

    def revokeReference(self, obj: Any) -> None:
        """Forget our object ``obj`` (Tub.revokeReference): later calls to it fail
        with an error saying it was revoked."""
        by_clid = self.myReferenceByCLID
        for clid, tracker in list(by_clid.items()):
            if tracker.obj is obj:
                del by_clid[clid]
                self.myReferenceByPUID.pop(tracker.puid, None)
                self.revokedCLIDs.add(clid)

    def remote_decref(self, clid: int, count: int) -> None:
        """The far end dropped ``count`` receptions of our object ``clid``."""
        if not isinstance(clid, int) or not isinstance(count, int) or clid == 0:
            raise Violation("decref needs a non-zero int clid and an int count")
        tracker = self.myReferenceByCLID.get(clid)
        if tracker is None:
            return  # already gone
        if tracker.decref(count):
            del self.myReferenceByPUID[tracker.puid]
            del self.myReferenceByCLID[clid]

    # ---------------------------------------------------------------- their references

    def getTrackerForYourReference(
        self, clid: int, interfaceName: str | None = None, url: str | None = None
    ) -> RemoteReferenceTracker:
        """The tracker for an object the far end just sent us (made if new)."""
        tracker = self.yourReferenceByCLID.get(clid)
        if tracker is None:
            tracker = RemoteReferenceTracker(self, clid, url, interfaceName)
            self.yourReferenceByCLID[clid] = tracker
            if url:
                self.yourReferenceByURL[url] = tracker
        return tracker

    def freeYourReference(self, tracker: RemoteReferenceTracker, count: int) -> None:
        """Our proxy was collected: tell the far end (decref), forget the tracker on ack."""
        rb = self.remote_broker
        if rb is None:
            self.freeYourReferenceTracker(None, tracker)
            return
        d = rb.callRemote("decref", clid=tracker.clid, count=count)

        def _ignore_loss(f: Failure) -> None:
            f.trap(DeadReferenceError, *LOST_CONNECTION_ERRORS)

        d.addErrback(_ignore_loss)
        d.addCallback(self.freeYourReferenceTracker, tracker)
        d.addErrback(lambda f: _log.failure("decref failed", failure=f))

    def freeYourReferenceTracker(self, _res: object, tracker: RemoteReferenceTracker) -> None:
        """Forget a tracker once nothing refers to it any more."""
        if tracker.received_count != 0:
            return
        if self.yourReferenceByCLID.get(tracker.clid) is tracker:
            del self.yourReferenceByCLID[tracker.clid]
        if tracker.url and self.yourReferenceByURL.get(tracker.url) is tracker:
            del self.yourReferenceByURL[tracker.url]

    def getYourReferenceByName(self, name: str | bytes) -> Deferred[Any]:
        """Ask the far Tub for the object registered under ``name`` (clid-0 lookup)."""
        if self.remote_broker is None:
            return fail(DeadReferenceError("Calling Stale Broker", self._short_tubid()))
        if isinstance(name, str):
            name = name.encode("utf-8")
        return self.remote_broker.callRemote("getReferenceByName", name=name)

    def remote_getReferenceByName(self, name: str | bytes) -> Any:
        """Look up a published object for the far end (raises KeyError if unknown)."""
        if isinstance(name, bytes):
            name = name.decode("utf-8")
        if not isinstance(name, str):
            raise Violation("getReferenceByName needs a string name")
        if self.tub is None:
            raise KeyError("no Tub to look names up in")
        return self.tub.getReferenceForName(name)

    # ---------------------------------------------------------------- gifts

    def acceptGift(self, giftID: int, url: str) -> Any:
        """Codec callback: a their-reference arrived; resolve it through our Tub.

        Refused with a Violation unless the Tub accepts gifts. Otherwise returns a
        Pending that resolves to the RemoteReference; the enclosing call or answer
        waits until it has resolved (or fails if it cannot).
        """
        tub = self.tub
        if tub is None or not tub.accept_gifts:
            raise Violation("gifts are prohibited in this Tub")
        pending = Pending()
        ready: Deferred[Any] = Deferred()
        collector = self._current_collector
        if collector is not None:
            collector.add_ready(ready)
        d = maybeDeferred(tub.getReference, url)

        def _ack() -> None:
            rb = self.remote_broker
            if giftID != 0 and rb is not None:
                rb.callRemoteOnly("decgift", giftID=giftID, count=1)

        def _ok(rref: Any) -> None:
            _ack()
            pending.resolve(rref)
            ready.callback(rref)

        def _failed(f: Failure) -> None:
            _ack()
            _log.info("gift ({url}) failed to resolve: {f}", url=url, f=f.getErrorMessage())
            pending.resolve(f"Place holder for a Gift which failed to resolve: {f}")
            ready.errback(f)

        d.addCallbacks(_ok, _failed)
        return pending

    def makeGift(self, rref: RemoteReference) -> int:
        """Count one more their-reference to ``rref`` sent here; return its gift id."""
        key = (id(rref.tracker.broker), rref.tracker.clid)
        old = self.myGifts.get(key)
        if old is not None:
            ref, gift_id, count = old
            self.myGifts[key] = (ref, gift_id, count + 1)
            return gift_id
        gift_id = next(self._next_gift_id)
        self.myGiftsByGiftID[gift_id] = key
        self.myGifts[key] = (rref, gift_id, 1)
        return gift_id

    def remote_decgift(self, giftID: int, count: int) -> None:
        """The far end resolved (or gave up on) ``count`` copies of gift ``giftID``."""
        key = self.myGiftsByGiftID.get(giftID)
        if key is None:
            raise Violation(f"unknown giftID {giftID!r}")
        rref, gift_id, gift_count = self.myGifts[key]
        gift_count -= count
        if gift_count <= 0:
            del self.myGiftsByGiftID[giftID]
            del self.myGifts[key]
        else:
            self.myGifts[key] = (rref, gift_id, gift_count)

    def doRemoteCall(self, methodname: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """The far end called clid 0: getReferenceByName, decref or decgift."""
        meth: Callable[..., Any]
        if methodname == "getReferenceByName":
            meth = self.remote_getReferenceByName
        elif methodname == "decref":
            meth = self.remote_decref
        elif methodname == "decgift":
            meth = self.remote_decgift
        else:
            raise Violation(f"the Broker has no method {methodname!r}")
        return meth(*args, **kwargs)

    def getArgumentConstraint(self, methodname: str, which: int | str) -> Any:
        """The Broker's own methods take small arguments only (Any otherwise)."""
        return None

    # ---------------------------------------------------------------- outbound calls

    def newRequestID(self) -> int:
        """A fresh reqID (raises DeadReferenceError once disconnected)."""
        if self.disconnected:
            raise DeadReferenceError("Calling Stale Broker", self._short_tubid())
        return next(self._next_reqid)

    def addRequest(self, req: PendingRequest) -> None:
        """Wait for the answer to ``req``."""
        req.broker = self
        self.waitingForAnswers[req.reqID] = req

    def removeRequest(self, req: PendingRequest) -> None:
        """Stop waiting for ``req``."""
        self.waitingForAnswers.pop(req.reqID, None)

    def getRequest(self, reqID: int) -> PendingRequest:
        """The outstanding request ``reqID`` (Violation if there is none)."""
        req = self.waitingForAnswers.get(reqID)
        if req is None:
            raise Violation(f"non-existent reqID '{reqID}'")
        return req

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
        (a constraint the answer must satisfy), ``_methodConstraint`` and
        ``_useSchema`` (schemas: ignored until RemoteInterfaces exist).
        """
        result_constraint = None
        if kwargs:
            result_constraint = kwargs.pop("_resultConstraint", None)
            kwargs.pop("_methodConstraint", None)
            kwargs.pop("_useSchema", None)
            for k in kwargs:
                if type(k) is not str:
                    raise TypeError("keyword argument names must be strings")
        if type(name) is not str:
            if isinstance(name, bytes):
                name = name.decode("utf-8")
            if not isinstance(name, str):
                raise TypeError(f"method name must be a string, not {type(name).__name__}")
        if call_only:
            if self.disconnected:
                return None
            reqid = 0
        elif self.disconnected:
            raise DeadReferenceError("Calling Stale Broker", self._short_tubid())
        else:
            reqid = next(self._next_reqid)
        tracker = rref.tracker
        method = rref._method_name(name)
        req = PendingRequest(reqid, rref, tracker.interfaceName, method)
        if result_constraint is not None:
            req.constraint = adapt_constraint(result_constraint)
        if type(args) is not tuple:
            args = tuple(args)
        msg = CallMessage(reqid, tracker.clid, method, args, dict(kwargs) if kwargs else {})
        data = self._codec.encode_call(msg)  # raises Violation for unsendable arguments
        if not call_only:
            req.broker = self
            self.waitingForAnswers[reqid] = req
        self._write_message(data)
        return req.deferred

    def answerReceived(self, req: PendingRequest, result: Any) -> None:
        """Codec callback: an answer for ``req`` arrived."""
        req.complete(result)

    def errorReceived(self, req: PendingRequest, failure: CopiedFailure) -> None:
        """Codec callback: an error for ``req`` arrived."""
        f: Failure = failure
        if not self.expose_remote_exception_types:
            f = wrap_remote_failure(failure)
        req.fail(f)

    def answerViolation(self, req: PendingRequest, f: Failure) -> None:
        """Codec callback: the answer to ``req`` could not be accepted."""
        req.fail(f)

    def abandonAllRequests(self, why: Failure) -> None:
        """Fail every call that waits for an answer (connection loss: DeadReferenceError)."""
        for req in list(self.waitingForAnswers.values()):
            f = why
            if why.check(*LOST_CONNECTION_ERRORS):
                f = Failure(DeadReferenceError("Connection was lost", self._short_tubid(), req))
            self._queue.eventually(req.fail, f)

    def logRemoteFailure(self, req: PendingRequest, why: Failure) -> None:
        """Log a failed outbound call when the Tub asks for it (logRemoteFailures)."""
        if self.tub is not None and self.tub.logRemoteFailures:
            _log.info(
                "an outbound callRemote (that we [{me}] sent to someone else [{them}]) "
                "failed on the far end: reqID={reqid} method={iname}.{mname}: {why}",
                me=self.tub.getShortTubID(),
                them=self._short_tubid(),
                reqid=req.reqID,
                iname=req.interfaceName or "?",
                mname=req.methodName or "?",
                why=why.getErrorMessage(),
            )

    # ---------------------------------------------------------------- inbound calls

    def callStarted(self, reqID: int) -> None:
        """Codec callback: a call with ``reqID`` began arriving (Violation if refused)."""
        if reqID == 0:
            if len(self.inboundDeliveryQueue) >= self.max_inbound_calls:
                raise Violation(f"too many queued calls (limit {self.max_inbound_calls})")
            return
        if reqID in self.activeLocalCalls:
            raise Violation(f"duplicate reqID {reqID}")
        if len(self.activeLocalCalls) >= self.max_inbound_calls:
            raise Violation(f"too many outstanding calls (limit {self.max_inbound_calls})")
        self.activeLocalCalls.add(reqID)

    def scheduleCall(self, delivery: InboundDelivery, ready: Deferred[Any] | None) -> None:
        """Codec callback: a whole call arrived; run it in arrival order, on a later turn."""
        self.inboundDeliveryQueue.append((delivery, ready))
        self._schedule_deliveries()

    def _schedule_deliveries(self) -> None:
        if self._receiving:
            # inside dataReceived: run them as soon as this input is decoded (a turn
            # of its own already, and their answers leave in the same write)
            self._deliver_after_receiving = True
            return
        if not self._delivery_scheduled:
            self._delivery_scheduled = True
            self._queue.eventually(self.doNextCall)

    def doNextCall(self) -> None:
        """Start the queued calls in order; one waiting for a gift holds back the rest."""
        self._delivery_scheduled = False
        if self._corked is None:
            self._corked = []  # the answers of this batch leave in one write
            try:
                self._do_next_calls()
            finally:
                self._uncork()
        else:
            self._do_next_calls()

    def _do_next_calls(self) -> None:
        queue = self.inboundDeliveryQueue
        while queue and not self.disconnected and not self._running_delivery:
            delivery, ready = queue.popleft()
            if ready is None:
                self._start_call(delivery)
                continue
            self._running_delivery = True

            def _ready(res: object) -> object:
                self._running_delivery = False
                self._schedule_deliveries()
                return res

            ready.addBoth(_ready)
            ready.addCallback(self._start_call_after_ready, delivery)
            ready.addErrback(self.callFailed, delivery.reqID, delivery)
            ready.addErrback(lambda f: _log.failure("error while answering a call", failure=f))
            return

    def _start_call_after_ready(self, _ready: object, delivery: InboundDelivery) -> None:
        self._start_call(delivery)

    def _start_call(self, delivery: InboundDelivery) -> None:
        """Run one call now; its answer (or error) is sent when the result is ready."""
        try:
            res = self._doCall(delivery)
        except Exception:
            self.callFailed(Failure(), delivery.reqID, delivery)
            return
        if res is None:
            self._callFinished(None, delivery)
        elif isinstance(res, Deferred):
            res.addCallbacks(
                self._callFinished,
                self.callFailed,
                callbackArgs=(delivery,),
                errbackArgs=(delivery.reqID, delivery),
            )
            res.addErrback(lambda f: _log.failure("error while answering a call", failure=f))
        elif isinstance(res, Failure):  # as in a Deferred chain, a returned Failure fails
            self.callFailed(res, delivery.reqID, delivery)
        else:
            self._callFinished(res, delivery)

    def _doCall(self, delivery: InboundDelivery) -> Any:
        obj = delivery.obj
        if delivery.methodname is None:
            if not callable(obj):
                raise Violation("target of a method reference is not callable")
            return obj(*delivery.args, **delivery.kwargs)
        do_call = getattr(obj, "doRemoteCall", None)
        if do_call is None:
            raise Violation(f"{type(obj).__name__} is not remotely callable")
        return do_call(delivery.methodname, tuple(delivery.args), delivery.kwargs)

    def _callFinished(self, res: Any, delivery: InboundDelivery) -> None:
        reqid = delivery.reqID
        if reqid == 0:
            return
        self.activeLocalCalls.discard(reqid)
        if self.disconnected:
            return
        try:
            data = self._codec.encode_answer(reqid, res)
        except Exception:
            f = Failure()
            _log.info(
                "unable to send the result of {d}: {f}",
                d=delivery.describe(),
                f=f.getErrorMessage(),
            )
            self._send_error(reqid, f)
            return
        self._write_message(data)

    def callFailed(self, f: Failure, reqID: int, delivery: InboundDelivery | None = None) -> None:
        """An inbound call failed (bad input or the method raised): send an error."""
        if delivery is not None and self.tub is not None and self.tub.logLocalFailures:
            _log.info(
                "an inbound callRemote that we [{me}] executed (on behalf of someone "
                "else, TubID {them}) failed: {d}: {why}",
                me=self.tub.getShortTubID(),
                them=self._short_tubid(),
                d=delivery.describe(),
                why=f.getErrorMessage(),
            )
        if reqID == 0:
            return
        self.activeLocalCalls.discard(reqID)
        if not self.disconnected:
            self._send_error(reqID, f)

    def _send_error(self, reqID: int, f: Failure) -> None:
        self._write(self._codec.encode(ErrorMessage(reqID, f)))


def _as_int(v: object) -> int | None:
    if v is None:
        return None
    if isinstance(v, bytes):
        v = v.decode("ascii", "replace")
    if isinstance(v, (int, str)):
        try:
            return int(v)
        except ValueError:
            return None
    return None


def is_sendable_callable(obj: object) -> bool:
    """Bound methods and plain functions travel as my-reference with a negative clid."""
    return isinstance(obj, (types.MethodType, types.FunctionType))
