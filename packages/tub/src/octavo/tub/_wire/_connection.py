"""One PB connection without I/O: bytes in, events out; commands return bytes.

Theory of operation
-------------------
A :class:`PBConnection` is everything one end of a Foolscap PB connection knows,
after negotiation: the Banana codec, the reference tables (``_references``), the
calls we sent that wait for an answer (``waiting``, by reqID) and the calls we
received (counted by :class:`~._admission.Admission`, which decides what is taken).

Bytes from the far end go to :meth:`receive_data`. Whole messages turn into events
(``_events``), taken with :meth:`events`: calls, answers and gifts in the order they
arrived; PINGs and refused messages after those read in the same stretch of input:

- a call: :class:`CallReceived` once it is complete and admitted; the owner runs it and
  answers with :meth:`send_answer` or :meth:`send_error`. A refused call is
  :class:`CallRefused`, answered with :meth:`send_refusal`. Calls to clid 0 (the far end
  asking for one of our names, or releasing references and gifts) target this connection's
  own methods (``own_methods``) and are run like any other;
- an answer or error to one of our calls: :class:`AnswerReceived`, :class:`ErrorReceived`,
  or :class:`AnswerRefused` when it breaks the call's result constraint; internal calls of
  our own (``decref``) are settled here;
- a ``their-reference`` (a gift): :class:`GiftReceived`; the owner resolves the FURL and
  reports with :meth:`gift_resolved` / :meth:`gift_failed`. The call or answer carrying it
  waits, and calls that arrive after a waiting call wait behind it, so calls are always
  delivered in the order they arrived;
- PING, an ERROR token, and messages refused as a whole, for the owner to act on or log.

Outbound, :meth:`send_call` (after :meth:`allocate_reqid`), :meth:`send_answer`,
:meth:`send_error`, :meth:`send_ping`/:meth:`send_pong` and :meth:`error_token` return the
bytes to write, in order. A message bigger than ``BIG_MESSAGE`` may come as a list of pieces
(a big byte string is not copied). The owner is also told, through the host
(:class:`ConnectionHost`), when a proxy of ours is garbage collected, and then calls
:meth:`release_reference` to send the ``decref``.

Limits: the decoder's (depth, token size); one message's bytes, minus refused bodies skipped
unread, at most :attr:`PBConnection.message_limit`; ``max_inbound_calls`` calls running at
once: further calls wait in arrival order until earlier ones are answered, and meanwhile
:attr:`input_blocked` tells the owner to stop reading (so they are not read rather than
refused); only beyond as many calls again waiting are calls refused. A protocol error raises
BananaError from :meth:`receive_data`: the owner must drop the connection (after sending
:meth:`error_token`). The common calls and answers are read and written by whole-message
fast paths (``_fast_decoder``, ``_fast_encoder``); ``fast_paths=False`` turns them off,
with the same bytes and the same events.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from octavo.banana import (
    Decoder,
    Encoder,
    ObjectReceived,
    Pending,
    ViolationReceived,
    fast_paths_default,
)
from octavo.banana import ErrorReceived as BananaErrorReceived
from octavo.banana import PingReceived as BananaPingReceived
from octavo.tub._errors import BananaError, Violation

from ._admission import Admission
from ._calls import MessageUnslicer
from ._codec import PBCodec
from ._events import (
    AnswerReceived,
    AnswerRefused,
    CallReceived,
    ErrorReceived,
    GiftReceived,
    MessageRefused,
    PBEvent,
    PeerError,
    PingReceived,
)
from ._fast_decoder import FastDecoder
from ._fast_encoder import FastEncoder
from ._inbound import Gift, GiftWaiter, InboundCalls
from ._messages import AnswerMessage, CallMessage, ErrorMessage
from ._own_methods import OwnMethods
from ._reference_sequences import TheirReferenceUnslicer
from ._references import (
    DEFAULT_MAX_REFERENCES,
    GiftTable,
    MyReferenceTable,
    RemoteReferenceTracker,
    TheirReferenceTable,
)
from ._vocabulary import INITIAL_VOCAB_TABLES

__all__ = [
    "DEFAULT_MAX_INBOUND_CALLS",
    "DEFAULT_MAX_MESSAGE_SIZE",
    "DEFAULT_MAX_PENDING_GIFTS",
    "ConnectionHost",
    "PBConnection",
]

#: default bound on calls from the far end that are queued or running at once
DEFAULT_MAX_INBOUND_CALLS = 10_000
#: default bound on the wire size of one inbound message
DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024 * 1024
#: default bound on their-references received on one connection and not resolved yet
#: (a gift loop, where resolving a gift brings another, stops here)
DEFAULT_MAX_PENDING_GIFTS = 1000


class ConnectionHost(Protocol):
    """What a connection needs from its owner: the few things that are not the protocol."""

    def url_for(self, obj: Any) -> str | None:
        """The FURL of one of our objects (sent with its first my-reference), or None."""
        ...

    def lookup_name(self, name: str) -> Any:
        """Our object registered as ``name`` (KeyError: the far end gets an error)."""
        ...

    def make_proxy(self, tracker: RemoteReferenceTracker) -> Any:
        """A new proxy for an object of the far end."""
        ...

    def proxy_lost(self, tracker: RemoteReferenceTracker) -> None:
        """A proxy was garbage collected (called from a weakref callback, so at any
        moment): call :meth:`PBConnection.release_reference` soon, not now."""
        ...

    def failure_state(self, failure: Any) -> dict[str, Any]:
        """The wire attributes of one of our failures (see ``_failures``)."""
        ...

    def make_failure(self, state: dict[str, Any]) -> Any:
        """A failure from received attributes (FailureStateError if malformed)."""
        ...

    def accepts_gifts(self) -> bool:
        """Whether a ``their-reference`` may be resolved (else it is refused)."""
        ...


class _InternalRequest:
    """A call the connection sends for itself (``decref``): its answer is handled here."""

    __slots__ = ("on_answer", "reqID")

    constraint = None

    def __init__(self, reqID: int, on_answer: Callable[[], object]) -> None:
        self.reqID = reqID
        self.on_answer = on_answer


class PBConnection:
    """The PB state of one connection, without I/O (see the module docstring).

    :param host: what the connection needs from its owner.
    :param codec: the slicer/unslicer registries (``_codec.pb_codec``).
    :param owner: what this connection's proxies talk to (``tracker.broker``).
    :param remote_tubid: the far Tub's id (a reference claiming another is refused).
    :param vocab_table_index: the negotiated initial vocabulary table.
    :param max_inbound_calls: calls from the far end queued or running at once.
    :param max_message_size: bytes one inbound message may take on the wire.
    :param max_references: our objects the far end may hold at once.
    :param max_pending_gifts: gifts from the far end not resolved yet, at most.
    :param decoder_limits: keyword limits for the Banana decoder (``max_depth``,
        ``max_token_size``).
    :param fast_paths: use the fast paths, ours (whole messages) and the codec's (None:
        the process default, octavo.banana's ``fast_paths_default()``).
    """

    def __init__(
        self,
        host: ConnectionHost,
        codec: PBCodec,
        *,
        owner: Any = None,
        remote_tubid: str | None = None,
        vocab_table_index: int | None = None,
        max_inbound_calls: int = DEFAULT_MAX_INBOUND_CALLS,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        max_references: int = DEFAULT_MAX_REFERENCES,
        max_pending_gifts: int = DEFAULT_MAX_PENDING_GIFTS,
        decoder_limits: Mapping[str, int] | None = None,
        fast_paths: bool | None = None,
    ) -> None:
        table = INITIAL_VOCAB_TABLES.get(vocab_table_index or 0)
        if table is None:
            raise ValueError(f"unknown initial-vocab-table-index {vocab_table_index!r}")
        if fast_paths is None:
            fast_paths = fast_paths_default()
        self.host = host
        self.fast_paths = fast_paths
        self._failure_type = codec.failure_type
        self.max_message_size = max_message_size
        self.encoder = Encoder(
            slicers=codec.slicers, context=self, vocab=table, fast_paths=fast_paths
        )
        self.decoder = Decoder(
            unslicers=codec.unslicers,
            context=self,
            vocab=table,
            top_level_primitives=False,
            fast_paths=fast_paths,
            **dict(decoder_limits or {}),  # type: ignore[arg-type]
        )
        self._fast_encoder = FastEncoder(self.encoder) if fast_paths else None
        self._fast_decoder = FastDecoder(self, self.decoder) if fast_paths else None
        # the general path hands back the messages after one it had to read
        self.decoder.pause_at_boundary = bool(fast_paths)
        self._take_body: Callable[[bytes], bool] | None = (
            self.decoder.take_body if fast_paths else None
        )
        #: our objects the far end holds
        self.my_references = MyReferenceTable(host.url_for, max_references)
        #: the far end's objects we hold proxies for
        self.their_references = TheirReferenceTable(
            owner=owner,
            connection=self,
            remote_tubid=remote_tubid,
            make_proxy=host.make_proxy,
            proxy_lost=host.proxy_lost,
        )
        #: proxies we passed on to the far end, for objects of third Tubs
        self.gifts = GiftTable()
        #: gifts (their-references) received and not resolved yet, and their bound
        self.gifts_pending = 0
        self.max_pending_gifts = max_pending_gifts
        #: clid 0: the far end's calls to this connection itself
        self.own_methods = OwnMethods(self)
        #: the rule for inbound calls and answers (and the count of inbound calls)
        self.admission = Admission(self.my_references, self.own_methods, max_inbound_calls)
        #: our calls waiting for an answer, by reqID
        self.waiting: dict[int, Any] = {}
        self._next_reqid = itertools.count(1)  # 0 means "no answer wanted"
        #: events not taken yet (read-only: take them with :meth:`events`)
        self.pending_events: list[PBEvent] = []
        self._events = self.pending_events
        #: answers (and error answers) to our calls among the pending events: with
        #: ``waiting``, the calls we have in flight (the owner resets it as it takes them)
        self.answers_queued = 0
        #: the far end's calls on their way to the owner, in arrival order
        self.inbound = InboundCalls(self.admission, self._events)
        self._unfinished = 0  # bytes of the message being received
        #: whole messages received so far
        self.messages_completed = 0
        self.closed = False

    # -- input -----------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Decode bytes from the far end (BananaError: a protocol error, drop the
        connection). Take what they caused with :meth:`events`."""
        if self.closed or self.decoder.stopped:
            return
        unfinished = self._unfinished + len(data)
        take_body = self._take_body
        # (unfinished <= self.message_limit, its property calls only past the usual bound)
        if (
            take_body is not None
            and (unfinished <= self.max_message_size or unfinished <= self.message_limit)
            and take_body(data)
        ):
            # the middle of a big byte string: nothing to decode yet
            self._unfinished = unfinished
            return
        self._unfinished = unfinished
        decoder = self.decoder
        fast = self._fast_decoder
        before = self.messages_completed
        while True:
            if fast is not None and decoder.at_message_boundary:
                used, done = fast.consume(data)
                if done:
                    self.messages_completed += done
                    if used == len(data) or self.closed:
                        self._unfinished = 0
                        return
                    data = data[used:]
            skipped = decoder.skipped_bytes  # (a refused body's bytes are never held)
            try:
                decoder.receive_data(data)
            finally:
                # what was decoded before a protocol error is still reported
                self._take_decoder_events()
            self._unfinished -= decoder.skipped_bytes - skipped
            # the general path paused after a message (pause_at_boundary): the fast path
            # may read the next ones (the size check waits for the whole feed, as on
            # the general path alone)
            rest = b"" if fast is None or self.closed else decoder.take_unparsed()
            if rest:
                data = rest
                continue
            if self.messages_completed != before:
                self._unfinished = 0
            elif self._unfinished > self.max_message_size and self._unfinished > self.message_limit:
                raise BananaError(
                    f"message larger than max_message_size={self.max_message_size} bytes"
                    f" (+{decoder.granted_token_bytes} allowed by its constraints)"
                )
            return

    @property
    def message_limit(self) -> int:
        """``max_message_size`` plus what constraints let past ``max_token_size``."""
        return self.max_message_size + self.decoder.granted_token_bytes

    def _take_decoder_events(self) -> None:
        """Turn the codec's own events into ours (calls, answers and errors acted as
        they closed; what is left is counts, refusals, PINGs and an ERROR token)."""
        for ev in self.decoder.events():
            t = type(ev)
            if t is ObjectReceived:
                self.messages_completed += 1
            elif t is ViolationReceived:
                self.messages_completed += 1
                self._events.append(MessageRefused(ev.violation))  # type: ignore[union-attr]
            elif t is BananaPingReceived:
                self._events.append(PingReceived(ev.number))  # type: ignore[union-attr]
            elif t is BananaErrorReceived:
                message = ev.message.decode("utf-8", "replace")  # type: ignore[union-attr]
                self._events.append(PeerError(message))
                return

    @property
    def has_events(self) -> bool:
        """Whether :meth:`events` has something (after a command released waiting calls)."""
        return bool(self._events)

    @property
    def input_blocked(self) -> bool:
        """True while as many calls run as ``max_inbound_calls`` allows: the owner should
        stop reading until answers free room (calls it reads meanwhile wait their turn)."""
        admission = self.admission
        return admission.running >= admission.max_inbound_calls

    def events(self) -> list[PBEvent]:
        """Everything that happened since the last call, oldest first."""
        inbound = self.inbound
        if inbound.oneway_out:
            inbound.taken()
        events = self._events
        if not events:
            return []
        out = events[:]
        events.clear()
        self.answers_queued = 0
        return out

    @property
    def waiting_calls(self) -> list[CallReceived]:
        """Received calls held back: waiting for gifts, for room, or behind such a call."""
        return self.inbound.waiting()

    # -- output ------------------------------------------------------------------------

    def allocate_reqid(self) -> int:
        """A fresh request id for :meth:`send_call`."""
        return next(self._next_reqid)

    def send_call(
        self,
        request: Any,
        clid: int,
        methodname: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> bytes | list[bytes]:
        """The bytes of a call to the far object ``clid`` (Violation if an argument
        cannot be sent; nothing is recorded then). ``request`` (with ``reqID`` from
        :meth:`allocate_reqid` and a ``constraint`` for the result) waits for the
        answer; None asks for no answer."""
        reqid = 0 if request is None else request.reqID
        data = None
        if self._fast_encoder is not None:
            data = self._fast_encoder.call(reqid, clid, methodname, args, kwargs)
        if data is None:
            data = self.encoder.encode(CallMessage(reqid, clid, methodname, args, kwargs))
        if request is not None:
            self.waiting[reqid] = request
        return data

    def send_answer(self, reqid: int, result: object) -> bytes | list[bytes]:
        """The answer to the received call ``reqid`` (Violation if ``result`` cannot be
        sent: answer with :meth:`send_error` then). Calls that waited for room may be
        released: see :attr:`has_events`."""
        # self.admission.finish_call(reqid), inline (every answer comes here)
        admission = self.admission
        if reqid in admission.active:
            admission.active.remove(reqid)
            admission.running -= 1
        if self.inbound.held:
            self.inbound.release()
        if self._fast_encoder is not None:
            data = self._fast_encoder.answer(reqid, result)
            if data is not None:
                return data
        return self.encoder.encode(AnswerMessage(reqid, result))

    def send_error(self, reqid: int, failure: object) -> bytes:
        """The error answer to the received call ``reqid`` (calls may be released, as
        after :meth:`send_answer`)."""
        self.admission.finish_call(reqid)
        if self.inbound.held:
            self.inbound.release()
        return self.encoder.encode(ErrorMessage(reqid, failure))

    def send_refusal(self, reqid: int, failure: object) -> bytes:
        """The error answer to a :class:`CallRefused` (its books are already closed)."""
        return self.encoder.encode(ErrorMessage(reqid, failure))

    def send_ping(self, number: int = 0) -> bytes:
        """A PING token."""
        return self.encoder.ping(number)

    def send_pong(self, number: int) -> bytes:
        """A PONG token, answering PING ``number``."""
        return self.encoder.pong(number)

    def error_token(self, message: str) -> bytes:
        """An ERROR token: say why, then drop the connection."""
        return self.encoder.error(message)

    # -- references ------------------------------------------------------------------------

    def remote_broker_tracker(self) -> RemoteReferenceTracker:
        """A tracker for the far end's clid 0 (for ``getReferenceByName`` calls)."""
        return RemoteReferenceTracker(self.their_references, 0, None, "RIBroker")

    def release_reference(self, tracker: RemoteReferenceTracker) -> bytes:
        """The far end's object behind ``tracker`` lost its proxy here: the ``decref``
        to send (b"" if there is nothing to say, or the connection is closed)."""
        count = self.their_references.release(tracker)
        if not count or self.closed:
            return b""
        table = self.their_references
        req = _InternalRequest(self.allocate_reqid(), lambda: table.forget(tracker))
        return self._join(
            self.send_call(req, 0, "decref", (), {"clid": tracker.clid, "count": count})
        )

    def revoke(self, obj: object) -> None:
        """Our object ``obj`` was revoked: calls through its clids fail from now on."""
        self.my_references.revoke(obj)

    # -- gifts -------------------------------------------------------------------------

    def accept_gift(self, giftID: int, url: str, where: TheirReferenceUnslicer) -> Pending:
        """A their-reference arrived (``where`` read it): a Pending for the reference,
        and a GiftReceived event for the owner; its message waits for it."""
        if not self.host.accepts_gifts():
            raise Violation("gifts are prohibited in this Tub")
        if self.gifts_pending >= self.max_pending_gifts:
            raise Violation(
                f"too many gifts waiting to be resolved on this connection "
                f"(limit {self.max_pending_gifts}): a gift loop, or a flood of gifts"
            )
        u = where.parent
        while u is not None and not isinstance(u, MessageUnslicer):
            u = u.parent
        waiter = None
        if u is not None:
            waiter = u.waiter
            if waiter is None:
                waiter = u.waiter = GiftWaiter(is_call=u.opentype == ("call",))
            waiter.pending += 1
        self.gifts_pending += 1
        gift = Gift(giftID, waiter)
        self._events.append(GiftReceived(gift, url))
        return gift.pending

    def gift_resolved(self, gift: Gift, reference: object) -> bytes:
        """The gift resolved to ``reference``: the acknowledgement to send."""
        ack = self._ack_gift(gift)
        gift.pending.resolve(reference)
        self._gift_settled(gift.waiter, None)
        return ack

    def gift_failed(self, gift: Gift, reason: object) -> bytes:
        """The gift could not be resolved: its message fails (or is refused) with
        ``reason``. The acknowledgement to send."""
        ack = self._ack_gift(gift)
        gift.pending.resolve(f"Place holder for a Gift which failed to resolve: {reason}")
        self._gift_settled(gift.waiter, reason)
        return ack

    def _ack_gift(self, gift: Gift) -> bytes:
        self.gifts_pending -= 1
        if gift.gift_id == 0 or self.closed:
            return b""
        return self._join(
            self.send_call(None, 0, "decgift", (), {"giftID": gift.gift_id, "count": 1})
        )

    def _gift_settled(self, waiter: GiftWaiter | None, failure: object) -> None:
        if waiter is None or self.closed:
            return
        waiter.pending -= 1
        if failure is not None and waiter.failure is None:
            waiter.failure = failure
        if waiter.pending or waiter.event is None:
            return
        if waiter.is_call:
            self.inbound.release()
        else:
            self._emit_answer(waiter)

    # -- what the unslicers and the fast path report ---------------------------------------

    def call_arrived(self, event: CallReceived, waiter: GiftWaiter | None) -> None:
        """A whole, admitted call (see ``_inbound``)."""
        self.inbound.arrived(event, waiter)

    def call_refused(self, reqid: int, reason: object, *, begun: bool, answer: bool) -> None:
        """A call was refused (``begun``: after admission; see ``_inbound``)."""
        self.inbound.refused(reqid, reason, begun=begun, answer=answer)

    def answer_arrived(self, event: AnswerReceived, waiter: GiftWaiter | None = None) -> None:
        """An answer to one of our calls: reported now, or once its gifts resolve."""
        if waiter is not None:
            waiter.event = event
            if waiter.pending:
                return
            self._emit_answer(waiter)
            return
        req = event.request
        if self.waiting.pop(req.reqID, None) is not req:
            return
        if type(req) is _InternalRequest:
            req.on_answer()
            return
        self._events.append(event)
        self.answers_queued += 1

    def _emit_answer(self, waiter: GiftWaiter) -> None:
        event = waiter.event
        assert isinstance(event, AnswerReceived)
        if waiter.failure is not None:
            self.answer_refused(event.request, waiter.failure)
        else:
            self.answer_arrived(event, None)

    def error_arrived(self, request: Any, failure: object) -> None:
        """The far end answered one of our calls with a failure."""
        if self.waiting.pop(request.reqID, None) is not request:
            return
        if type(request) is not _InternalRequest:
            self._events.append(ErrorReceived(request, failure))
            self.answers_queued += 1

    def answer_refused(self, request: Any, reason: object) -> None:
        """The answer to one of our calls could not be accepted."""
        if self.waiting.pop(request.reqID, None) is not request:
            return
        if type(request) is not _InternalRequest:
            self._events.append(AnswerRefused(request, reason))

    def failure_state(self, failure: object) -> dict[str, Any]:
        """The wire attributes of one of our failures (the failure slicer asks)."""
        return self.host.failure_state(failure)

    def make_failure(self, state: dict[str, Any]) -> object:
        """A failure from received attributes (the failure unslicer asks)."""
        return self.host.make_failure(state)

    def is_failure(self, obj: object) -> bool:
        """Whether ``obj`` is a failure made by :meth:`make_failure`."""
        return isinstance(obj, self._failure_type)

    # -- the end ---------------------------------------------------------------------------

    def close(self) -> list[Any]:
        """The connection is gone: forget everything; return the requests that were
        waiting for an answer (to be failed by the owner)."""
        if self.closed:
            return []
        self.closed = True
        waiting = [r for r in self.waiting.values() if type(r) is not _InternalRequest]
        self.waiting = {}
        self.my_references.clear()
        self.their_references.clear()
        self.gifts.clear()
        self.inbound.clear()
        self._events.clear()
        return waiting

    @staticmethod
    def _join(data: bytes | list[bytes]) -> bytes:
        return data if isinstance(data, bytes) else b"".join(data)
