# mypy: disable-error-code="no-untyped-call"
# (Twisted's Failure, Protocol and error classes are not annotated.)
"""The PB sequences on octavo.banana's extension point, and the per-connection codec.

Outbound slicers (by Python type): CallMessage -> ``call``, its arguments ->
``arguments``, AnswerMessage -> ``answer``, ErrorMessage -> ``error``, Failure ->
``copyable twisted.python.failure.Failure``, Referenceable / bound method / function ->
``my-reference``, RemoteReference -> ``your-reference`` (home) or ``their-reference``
(a gift for a third Tub).

Inbound unslicers (by opentype): ``call``, ``answer``, ``error`` at the top level
only; ``arguments``, ``my-reference``, ``your-reference``, ``their-reference`` and the
Failure copyable nested. Each reports to the Broker (``decoder.context``).
"""

from __future__ import annotations

import types
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from twisted.internet.defer import Deferred, gatherResults
from twisted.python.failure import Failure

from octavo.banana import (
    INT,
    NEG,
    OPEN,
    STRING,
    VOCAB,
    ByteStringConstraint,
    Decoder,
    Encoder,
    ErrorReceived,
    ListConstraint,
    ObjectReceived,
    PingReceived,
    PongReceived,
    SliceContext,
    SlicerRegistry,
    Unslicer,
    UnslicerRegistry,
    ViolationReceived,
    default_unslicers,
)
from octavo.banana import LeafUnslicer as _LeafUnslicer
from octavo.banana import Pending as _Pending
from octavo.tub._broker._failure import FAILURE_CLASSNAME, CopiedFailure, failure_state
from octavo.tub._errors import BananaError, FailureStateError, Violation
from octavo.tub._referenceable import (
    MAX_METHOD_NAME,
    PendingRequest,
    Referenceable,
    RemoteReferenceOnly,
)

from ._fastwire import FastDecoder, FastEncoder
from ._messages import AnswerMessage, CallMessage, ErrorMessage, InboundDelivery
from ._vocabulary import INITIAL_VOCAB_TABLES

if TYPE_CHECKING:
    from octavo.tub._broker._broker import Broker

__all__ = ["BrokerCodec"]

MAX_INTERFACE_NAME = 1000
MAX_URL = 10_000
MAX_KWARG_NAME = 1000
FAILURE_KEY_LIMITS = {b"type": 200, b"value": 1000, b"traceback": 2000}
MAX_FAILURE_PARENTS = 100


def _broker_of(ctx_or_unslicer: Any) -> Broker:
    broker = ctx_or_unslicer.context
    assert broker is not None
    return broker  # type: ignore[no-any-return]


# ============================================================== outbound


class _Arguments:
    __slots__ = ("args", "kwargs")

    def __init__(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.args = args
        self.kwargs = kwargs


_CALL_OT = ("call",)
_ANSWER_OT = ("answer",)


def _slice_call(msg: CallMessage, ctx: SliceContext) -> tuple[tuple[str, ...], Iterable[object]]:
    return _CALL_OT, (
        msg.reqID,
        msg.clid,
        msg.methodname.encode("utf-8"),
        _Arguments(msg.args, msg.kwargs),
    )


_ARGUMENTS_OT = ("arguments",)


def _slice_arguments(a: _Arguments, ctx: SliceContext) -> tuple[tuple[str, ...], Iterable[object]]:
    args = a.args
    kwargs = a.kwargs
    if not kwargs:
        return _ARGUMENTS_OT, (len(args), *args)
    body: list[object] = [len(args), *args]
    for name in sorted(kwargs):
        body.append(name.encode("utf-8"))
        body.append(kwargs[name])
    return _ARGUMENTS_OT, body


def _slice_answer(
    msg: AnswerMessage, ctx: SliceContext
) -> tuple[tuple[str, ...], Iterable[object]]:
    return _ANSWER_OT, (msg.reqID, msg.result)


def _slice_error(msg: ErrorMessage, ctx: SliceContext) -> tuple[tuple[str, ...], Iterable[object]]:
    return ("error",), (msg.reqID, msg.failure)


def _slice_failure(f: Failure, ctx: SliceContext) -> tuple[tuple[str, ...], Iterable[object]]:
    broker = _broker_of(ctx)
    state = failure_state(f, broker.unsafeTracebacks)
    body: list[object] = []
    for k, v in state.items():
        body.append(k.encode("ascii"))
        body.append(v)
    return ("copyable", FAILURE_CLASSNAME), body


def _referenceable_body(broker: Broker, obj: Any) -> Iterator[object]:
    tracker = broker.getTrackerForMyReference(obj.processUniqueID(), obj)
    yield tracker.clid
    if tracker.send():
        iname = obj.getInterfaceName() or ""
        yield iname.encode("utf-8")
        url = tracker.getURL()
        if url:
            yield url.encode("utf-8")


def _slice_referenceable(obj: Any, ctx: SliceContext) -> tuple[tuple[str, ...], Iterable[object]]:
    return ("my-reference",), _referenceable_body(_broker_of(ctx), obj)


def _callable_body(broker: Broker, obj: Any) -> Iterator[object]:
    tracker = broker.getTrackerForMyCall(id(obj), obj)
    yield tracker.clid
    if tracker.send():
        yield b""  # no schema name
        url = tracker.getURL()
        if url:
            yield url.encode("utf-8")


def _slice_callable(obj: Any, ctx: SliceContext) -> tuple[tuple[str, ...], Iterable[object]]:
    return ("my-reference",), _callable_body(_broker_of(ctx), obj)


def _slice_remote_reference(
    rref: RemoteReferenceOnly, ctx: SliceContext
) -> tuple[tuple[str, ...], Iterable[object]]:
    broker = _broker_of(ctx)
    tracker = rref.tracker
    if tracker.broker is broker:
        return ("your-reference",), (tracker.clid,)
    if tracker.broker.disconnected:
        raise Violation("cannot send a RemoteReference whose connection is lost")
    furl = tracker.getURL()
    if not furl:
        raise Violation("cannot pass on a RemoteReference that has no FURL (gift impossible)")
    gift_id = broker.makeGift(rref)  # type: ignore[arg-type]
    return ("their-reference",), (gift_id, furl.encode("utf-8"))


def _slicers() -> SlicerRegistry:
    reg = SlicerRegistry()
    reg.register(CallMessage, _slice_call)
    reg.register(_Arguments, _slice_arguments)
    reg.register(AnswerMessage, _slice_answer)
    reg.register(ErrorMessage, _slice_error)
    reg.register(Failure, _slice_failure)
    reg.register(Referenceable, _slice_referenceable)
    reg.register(types.MethodType, _slice_callable)
    reg.register(types.FunctionType, _slice_callable)
    reg.register(RemoteReferenceOnly, _slice_remote_reference)
    return reg


_SLICERS = _slicers()

#: Referenceable's own getArgumentConstraint (always None: no per-argument checks)
_DEFAULT_GET_CONSTRAINT = Referenceable.getArgumentConstraint


# ============================================================== inbound


class _ReadyCollector:
    """Gathers the not-yet-ready values (gifts) of one top-level message.

    A mixin of the call and answer unslicers (no object of its own per message);
    the list is made only when a gift arrives.
    """

    _ready_ds: list[Deferred[Any]] | None = None

    def add_ready(self, d: Deferred[Any]) -> None:
        """Hold the message back until ``d`` fires (the Broker's acceptGift)."""
        if self._ready_ds is None:
            self._ready_ds = []
        self._ready_ds.append(d)

    def ready(self) -> Deferred[Any] | None:
        """None if nothing is pending, else a Deferred firing when all are ready."""
        if not self._ready_ds:
            return None
        return gatherResults(self._ready_ds, consumeErrors=True)


class _ConstrainedChild(Unslicer):
    """Helper base: applies ``self.child_constraint`` to each token and sub-sequence."""

    child_constraint: Any = None

    def checkToken(self, typebyte: int, size: int) -> None:
        if self.child_constraint is not None:
            self.child_constraint.checkToken(typebyte, size)

    def doOpen(self, opentype: tuple[str, ...]) -> Unslicer | None:
        c = self.child_constraint
        if c is not None:
            c.checkOpentype(opentype)
        child = self.open(opentype)
        if child is not None and c is not None:
            child.setConstraint(c)
        return child


class _FastChecked(_ConstrainedChild):
    """Base of the sequences whose children are checked in ``receiveChild``.

    With ``wants_check`` False the decoder hands primitive children straight to
    ``receiveChild`` on its fast path. A Violation found there is kept
    (``_stashed``) and raised from the next ``doOpen`` or from ``receiveClose``;
    children arriving in between are ignored. The sequence is refused exactly as
    if the Violation had been raised at once, only a few tokens later. (This was
    needed while the fast path could not route a Violation; octavo-banana now
    can, so raising at once would also work.)
    """

    wants_check = False
    _stashed: Violation | None = None

    def _stash(self, v: Violation) -> None:
        if self._stashed is None:
            self._stashed = v
        self.plain_open = False  # every later sub-sequence goes through doOpen

    def _raise_stashed(self) -> None:
        v = self._stashed
        if v is not None:
            raise v


class CallUnslicer(_FastChecked, _ReadyCollector):
    """``call``: reqID, clid, method name, arguments -> InboundDelivery.

    The type of each child is checked as it arrives (``receiveChild``), not before
    its body is read, so that the decoder can take its fast path (``wants_check``
    False); the decoder's own token size limit still bounds what is read.
    """

    opentype = ("call",)

    def start(self, count: int) -> None:
        broker: Broker = self.decoder.context  # type: ignore[assignment]
        self.broker = broker
        self.stage = 0
        self.reqID: int | None = None
        self.clid: int | None = None
        self.obj: Any = None
        self.methodname: str | None = None
        self.args: ArgumentsUnslicer | None = None
        broker._current_collector = self

    def doOpen(self, opentype: tuple[str, ...]) -> Unslicer | None:
        self._raise_stashed()
        if self.stage != 3:
            raise BananaError(f"unexpected sequence in call stage {self.stage}")
        if opentype != ("arguments",):
            raise BananaError("arguments must be an 'arguments' sequence")
        return ArgumentsUnslicer()  # it takes its target from us as it starts

    def receiveChild(self, obj: object) -> None:
        if self._stashed is not None:
            return
        stage = self.stage
        if stage == 0:
            if type(obj) is not int or obj < 0:
                raise BananaError("request ID must be an INT")
            self.reqID = obj
            self.stage = 1
            try:
                self.broker.callStarted(obj)  # Violation: duplicate reqID or flood
            except Violation as v:
                self._stash(v)
            return
        if stage == 1:
            if type(obj) is not int:
                raise BananaError("object ID must be an INT/NEG")
            self.clid = obj
            try:
                self.obj = self.broker.getMyReferenceByCLID(obj)  # Violation if unknown
            except Violation as v:
                self._stash(v)
            self.stage = 2
            return
        if stage == 2:
            if type(obj) is not bytes:
                raise BananaError("method name must be a STRING")
            self.stage = 3
            if len(obj) > MAX_METHOD_NAME:
                self._stash(Violation(f"method name too long ({len(obj)} bytes)"))
                return
            if self.clid is not None and self.clid < 0:
                self.methodname = None  # the target is a callable
            else:
                try:
                    self.methodname = obj.decode("utf-8")
                except UnicodeDecodeError:
                    self._stash(Violation("method name is not UTF-8"))
                    return
            if self._stashed is None:
                # the decoder may open 'arguments' on its fast path (through the
                # registry); ArgumentsUnslicer.start checks that it is our stage 3
                self.plain_open = True
            return
        if stage == 3:
            if type(obj) is not ArgumentsUnslicer:
                raise BananaError("arguments must be an 'arguments' sequence")
            self.args = obj
            self.stage = 4
            self.plain_open = False
            return
        raise BananaError("too many objects given to CallUnslicer")

    def reportViolation(self, why: Violation) -> Violation | None:
        if self.broker._current_collector is self:
            self.broker._current_collector = None
        if why.args and why.args[0] == "ABORT received":
            if self.reqID:
                self.broker.activeLocalCalls.discard(self.reqID)
            return why
        if self.stage > 0 and self.reqID is not None:
            self.broker.callFailed(Failure(why), self.reqID)
        return why

    def receiveClose(self) -> object:
        self._raise_stashed()
        args = self.args
        if self.stage != 4 or args is None or self.reqID is None:
            raise BananaError("'call' sequence ended too early")
        broker = self.broker
        if broker._current_collector is self:
            broker._current_collector = None
        delivery = InboundDelivery(self.reqID, self.obj, self.methodname, args.args, args.kwargs)
        broker.scheduleCall(delivery, self.ready() if self._ready_ds else None)
        return delivery

    def describe(self) -> str:
        s = "<methodcall"
        if self.stage >= 1:
            s += f" reqID={self.reqID}"
        if self.stage >= 2:
            s += f" clid={self.clid}"
        if self.stage >= 3:
            s += f" methodname={self.methodname}"
        return s + ">"


class ArgumentsUnslicer(_FastChecked):
    """``arguments``: count, positional values, then (name, value) pairs.

    When the target takes no argument constraints (the default
    ``getArgumentConstraint``, the Broker, a callable) the structure is checked in
    ``receiveChild`` and the decoder's fast path is used (``wants_check`` and
    ``plain_open`` hints); otherwise every token is checked before it is read.
    """

    opentype = ("arguments",)
    target: Any = None
    methodname: str = ""

    def start(self, count: int) -> None:
        call = self.parent
        if type(call) is not CallUnslicer:
            raise Violation("unknown OPEN type ('arguments',)")  # only a call has them
        if call.stage != 3 or call.args is not None:
            raise BananaError(f"unexpected sequence in call stage {call.stage}")
        self.target = call.obj
        self.methodname = call.methodname or ""
        self.numargs: int | None = None
        self.args: list[Any] = []
        self.kwargs: dict[str, Any] = {}
        self.argname: str | None = None
        self.child_constraint = None
        target = self.target
        get = getattr(target, "getArgumentConstraint", None)
        if (
            get is None
            or getattr(get, "__func__", None) is _DEFAULT_GET_CONSTRAINT
            or target is self.decoder.context
        ):
            self._get_constraint = None
            self.plain_open = True
        else:
            self._get_constraint = get
            self.wants_check = True

    def _constraint_for(self, which: int | str) -> Any:
        get = self._get_constraint
        if get is None or self.methodname is None:
            return None
        return get(self.methodname, which)

    def checkToken(self, typebyte: int, size: int) -> None:
        if self.numargs is None:
            if typebyte != INT:
                raise BananaError("posarg count must be an INT")
            return
        if len(self.args) < self.numargs or self.argname is not None:
            super().checkToken(typebyte, size)
            return
        if typebyte not in (STRING, VOCAB):
            raise BananaError("kwarg name must be a STRING")
        if typebyte == STRING and size > MAX_KWARG_NAME:
            raise Violation(f"keyword argument name too long ({size} bytes)")

    def doOpen(self, opentype: tuple[str, ...]) -> Unslicer | None:
        self._raise_stashed()
        if self.numargs is None:
            raise BananaError("posarg count must be an INT")
        if len(self.args) >= self.numargs and self.argname is None:
            raise BananaError("kwarg name must be a STRING")
        return super().doOpen(opentype)

    def receiveChild(self, obj: object) -> None:
        if self._stashed is not None:
            return
        numargs = self.numargs
        if numargs is None:
            if type(obj) is not int or obj < 0:
                raise BananaError("posarg count must be an INT")
            self.numargs = obj
            if obj and self._get_constraint is not None:
                self.child_constraint = self._constraint_for(0)
            return
        args = self.args
        index = len(args)
        if index < numargs:
            args.append(obj)
            if type(obj) is _Pending:
                obj.add_callback(lambda v: args.__setitem__(index, v))
            if self._get_constraint is not None:
                if index + 1 < numargs:
                    self.child_constraint = self._constraint_for(index + 1)
                else:
                    self.child_constraint = None
            return
        if self.argname is None:
            if type(obj) is not bytes:
                raise BananaError("kwarg name must be a STRING")
            if len(obj) > MAX_KWARG_NAME:
                self._stash(Violation(f"keyword argument name too long ({len(obj)} bytes)"))
                return
            try:
                name = obj.decode("utf-8")
            except UnicodeDecodeError:
                self._stash(Violation("keyword argument name is not UTF-8"))
                return
            if name in self.kwargs:
                self._stash(Violation(f"duplicate keyword argument {name!r}"))
                return
            self.argname = name
            if self._get_constraint is not None:
                self.child_constraint = self._constraint_for(name)
            return
        name = self.argname
        kwargs = self.kwargs
        kwargs[name] = obj
        if type(obj) is _Pending:
            obj.add_callback(lambda v: kwargs.__setitem__(name, v))
        self.argname = None
        self.child_constraint = None

    def receiveClose(self) -> object:
        self._raise_stashed()
        if self.numargs is None or len(self.args) < self.numargs or self.argname is not None:
            raise BananaError("'arguments' sequence ended too early")
        return self

    def describe(self) -> str:
        if self.numargs is None:
            return "<arguments>"
        if len(self.args) < self.numargs:
            return f"<arguments arg[{len(self.args)}]>"
        if self.argname is not None:
            return f"<arguments arg[{self.argname}]>"
        return "<arguments arg[?]>"


class AnswerUnslicer(_FastChecked, _ReadyCollector):
    """``answer``: reqID, result -> completes the PendingRequest.

    Children are checked in ``receiveChild`` (the decoder's fast path); a result
    constraint (``_resultConstraint``) is applied to a sub-sequence as it opens and
    to a plain token by ``checkObject`` at the CLOSE.
    """

    opentype = ("answer",)

    def start(self, count: int) -> None:
        broker: Broker = self.decoder.context  # type: ignore[assignment]
        self.broker = broker
        self.request: PendingRequest | None = None
        self.have_result = False
        self.result: Any = None
        broker._current_collector = self

    def doOpen(self, opentype: tuple[str, ...]) -> Unslicer | None:
        self._raise_stashed()
        if self.request is None or self.have_result:
            raise BananaError("unexpected sequence in answer")
        return super().doOpen(opentype)

    def receiveChild(self, obj: object) -> None:
        if self._stashed is not None:
            return
        if self.request is None:
            if type(obj) is not int or obj < 0:
                raise BananaError("request ID must be an INT")
            try:
                self.request = req = self.broker.getRequest(obj)  # Violation if unknown
            except Violation as v:
                self._stash(v)
                return
            c = self.child_constraint = req.constraint
            if c is None:
                self.plain_open = True  # the result may open inline
            return
        if self.have_result:
            raise BananaError("stop sending me stuff!")
        self.result = obj
        self.have_result = True

    def reportViolation(self, why: Violation) -> Violation | None:
        if self.broker._current_collector is self:
            self.broker._current_collector = None
        if self.request is not None:
            self.broker.answerViolation(self.request, Failure(why))
        return why

    def receiveClose(self) -> object:
        self._raise_stashed()
        if not self.have_result or self.request is None:
            raise BananaError("Answer didn't include an answer")
        broker = self.broker
        if broker._current_collector is self:
            broker._current_collector = None
        req = self.request
        result = self.result
        if req.constraint is not None and type(result) is not _Pending:
            req.constraint.checkObject(result, True)  # Violation: the request fails
        ready = self.ready() if self._ready_ds else None
        if type(result) is _Pending or ready is not None:
            holder: list[Any] = [result]
            if type(result) is _Pending:
                result.add_callback(lambda v: holder.__setitem__(0, v))
            d = ready if ready is not None else Deferred()
            if ready is None:
                d.callback(None)
            d.addCallbacks(
                lambda _: self.broker.answerReceived(req, holder[0]),
                req.fail,
            )
        else:
            self.broker.answerReceived(req, result)
        return _HANDLED

    def describe(self) -> str:
        if self.request is not None:
            return f"Answer(req={self.request.reqID})"
        return "Answer(req=?)"


class ErrorUnslicer(Unslicer):
    """``error``: reqID, Failure copyable -> fails the PendingRequest."""

    opentype = ("error",)

    def start(self, count: int) -> None:
        self.broker = _broker_of(self.decoder)
        self.request: PendingRequest | None = None
        self.failure: CopiedFailure | None = None

    def checkToken(self, typebyte: int, size: int) -> None:
        if self.request is None:
            if typebyte != INT:
                raise BananaError("request ID must be an INT")
        elif typebyte != OPEN or self.failure is not None:
            raise Violation("an error carries one Failure, not a plain token")

    def doOpen(self, opentype: tuple[str, ...]) -> Unslicer | None:
        if self.request is None or self.failure is not None:
            raise BananaError("unexpected sequence in error")
        if opentype and opentype[0] != "copyable":
            raise Violation(f"an error carries a Failure, not {opentype!r}")
        return self.open(opentype)

    def receiveChild(self, obj: object) -> None:
        if self.request is None:
            assert isinstance(obj, int)
            self.request = self.broker.getRequest(obj)
            return
        if not isinstance(obj, CopiedFailure):
            raise Violation("an error carries a Failure")
        self.failure = obj

    def reportViolation(self, why: Violation) -> Violation | None:
        if self.request is not None:
            self.broker.answerViolation(self.request, Failure(why))
        return why

    def receiveClose(self) -> object:
        if self.request is None or self.failure is None:
            raise BananaError("error sequence ended too early")
        self.broker.errorReceived(self.request, self.failure)
        return _HANDLED

    def describe(self) -> str:
        if self.request is None:
            return "<error-?>"
        return f"<error-{self.request.reqID}>"


class FailureUnslicer(Unslicer):
    """``copyable twisted.python.failure.Failure``: attribute pairs -> CopiedFailure."""

    opentype = ("copyable", FAILURE_CLASSNAME)

    def start(self, count: int) -> None:
        self.state: dict[str, Any] = {}
        self.key: bytes | None = None

    def checkToken(self, typebyte: int, size: int) -> None:
        if typebyte == OPEN and self.key == b"parents":
            return
        if typebyte not in (STRING, VOCAB):
            raise Violation("failure attributes are byte strings")
        if self.key is None:
            if typebyte == STRING and size > 20:
                raise Violation("failure attribute name too long")
            return
        limit = FAILURE_KEY_LIMITS.get(self.key)
        if limit is None:
            raise Violation(f"unexpected plain value for failure attribute {self.key!r}")
        if typebyte == STRING and size > limit:
            raise Violation(f"failure attribute {self.key!r} too long ({size}>{limit})")

    def doOpen(self, opentype: tuple[str, ...]) -> Unslicer | None:
        if self.key != b"parents":
            raise Violation("only the 'parents' failure attribute is a sequence")
        if opentype != ("list",):
            raise Violation("failure 'parents' must be a list")
        child = self.open(opentype)
        if child is not None:
            child.setConstraint(ListConstraint(ByteStringConstraint(200), MAX_FAILURE_PARENTS))
        return child

    def receiveChild(self, obj: object) -> None:
        if self.key is None:
            if not isinstance(obj, bytes):
                raise Violation("failure attribute names are byte strings")
            if obj not in (b"type", b"value", b"traceback", b"parents"):
                raise Violation(f"unknown failure attribute {obj[:20]!r}")
            name = obj.decode("ascii")
            if name in self.state:
                raise Violation(f"duplicate failure attribute {name!r}")
            self.key = obj
            return
        self.state[self.key.decode("ascii")] = obj
        self.key = None

    def receiveClose(self) -> object:
        if self.key is not None:
            raise BananaError("failure sequence ended after an attribute name")
        try:
            return CopiedFailure.from_state(self.state)
        except FailureStateError as e:
            raise Violation(str(e)) from None

    def describe(self) -> str:
        return "<Failure>"


class MyReferenceUnslicer(_LeafUnslicer):
    """``my-reference``: clid [, interface name [, FURL]] -> RemoteReference."""

    opentype = ("my-reference",)

    def start(self, count: int) -> None:
        self.state = 0
        self.clid: int | None = None
        self.interfaceName: str | None = None
        self.url: str | None = None

    def checkToken(self, typebyte: int, size: int) -> None:
        if self.state == 0:
            if typebyte not in (INT, NEG):
                raise BananaError("reference ID must be an INT or NEG")
        elif self.state in (1, 2):
            if typebyte not in (STRING, VOCAB):
                raise BananaError("my-reference names must be STRINGs")
            limit = MAX_INTERFACE_NAME if self.state == 1 else MAX_URL
            if typebyte == STRING and size > limit:
                raise Violation(f"my-reference string too long ({size}>{limit})")
        else:
            raise Violation("too many parameters in my-reference")

    def receiveChild(self, obj: object) -> None:
        if self.state == 0:
            assert isinstance(obj, int)
            if obj == 0:
                raise BananaError("my-reference clid 0 is the broker itself")
            self.clid = obj
        elif self.state == 1:
            assert isinstance(obj, bytes)
            self.interfaceName = obj.decode("utf-8", "replace") or None
        else:
            assert isinstance(obj, bytes)
            try:
                self.url = obj.decode("utf-8")
            except UnicodeDecodeError:
                raise Violation("my-reference FURL is not UTF-8") from None
        self.state += 1

    def receiveClose(self) -> object:
        if self.clid is None:
            raise BananaError("sequence ended too early")
        broker = _broker_of(self.decoder)
        try:
            tracker = broker.getTrackerForYourReference(self.clid, self.interfaceName, self.url)
        except ValueError as e:  # a malformed FURL
            raise Violation(f"my-reference carries a bad FURL: {e}") from None
        return tracker.getRef()

    def describe(self) -> str:
        return f"<ref-{self.clid if self.clid is not None else '?'}>"


class YourReferenceUnslicer(_LeafUnslicer):
    """``your-reference``: clid -> our own object, back home."""

    opentype = ("your-reference",)

    def start(self, count: int) -> None:
        self.clid: int | None = None

    def checkToken(self, typebyte: int, size: int) -> None:
        if typebyte not in (INT, NEG):
            raise BananaError("your-reference ID must be an INT")
        if self.clid is not None:
            raise BananaError("your-reference takes one clid")

    def receiveChild(self, obj: object) -> None:
        assert isinstance(obj, int)
        self.clid = obj

    def receiveClose(self) -> object:
        if self.clid is None:
            raise BananaError("sequence ended too early")
        if self.clid == 0:
            raise Violation("your-reference to clid 0 (the broker) is not allowed")
        return _broker_of(self.decoder).getMyReferenceByCLID(self.clid)

    def describe(self) -> str:
        return f"<your-ref-{self.clid}>"


class TheirReferenceUnslicer(_LeafUnslicer):
    """``their-reference``: giftID, FURL -> a reference to a third Tub's object."""

    opentype = ("their-reference",)

    def start(self, count: int) -> None:
        self.state = 0
        self.giftID: int | None = None
        self.url: str | None = None

    def checkToken(self, typebyte: int, size: int) -> None:
        if self.state == 0:
            if typebyte != INT:
                raise BananaError("their-reference giftID must be an INT")
        elif self.state == 1:
            if typebyte not in (STRING, VOCAB):
                raise BananaError("their-reference FURL must be a STRING")
            if typebyte == STRING and size > MAX_URL:
                raise Violation(f"their-reference FURL too long ({size}>{MAX_URL})")
        else:
            raise Violation("too many parameters in their-reference")

    def receiveChild(self, obj: object) -> None:
        if self.state == 0:
            assert isinstance(obj, int)
            self.giftID = obj
        else:
            assert isinstance(obj, bytes)
            try:
                self.url = obj.decode("utf-8")
            except UnicodeDecodeError:
                raise Violation("their-reference FURL is not UTF-8") from None
        self.state += 1

    def receiveClose(self) -> object:
        if self.giftID is None or self.url is None:
            raise BananaError("sequence ended too early")
        broker = _broker_of(self.decoder)
        return broker.acceptGift(self.giftID, self.url)

    def describe(self) -> str:
        return f"<gift-{self.giftID if self.giftID is not None else '?'}>"


class _Handled:
    def __repr__(self) -> str:
        return "<handled>"


_HANDLED = _Handled()


def _unslicers() -> UnslicerRegistry:
    reg = default_unslicers()
    reg.register(("call",), lambda ot: CallUnslicer(), top_level=True, nested=False)
    reg.register(("answer",), lambda ot: AnswerUnslicer(), top_level=True, nested=False)
    reg.register(("error",), lambda ot: ErrorUnslicer(), top_level=True, nested=False)
    reg.register(("arguments",), lambda ot: ArgumentsUnslicer(), top_level=False, nested=True)
    reg.register(("my-reference",), lambda ot: MyReferenceUnslicer(), top_level=False)
    reg.register(("your-reference",), lambda ot: YourReferenceUnslicer(), top_level=False)
    reg.register(("their-reference",), lambda ot: TheirReferenceUnslicer(), top_level=False)
    reg.register(
        ("copyable", FAILURE_CLASSNAME),
        lambda ot: FailureUnslicer(),
        top_level=False,
        nested=True,
    )
    return reg


_UNSLICERS = _unslicers()


class BrokerCodec:
    """The encoder and decoder of one connection, wired to its Broker."""

    def __init__(
        self, broker: Broker, *, vocab_table_index: int | None, limits: dict[str, int]
    ) -> None:
        table = INITIAL_VOCAB_TABLES.get(vocab_table_index or 0)
        if table is None:
            raise ValueError(f"unknown initial-vocab-table-index {vocab_table_index!r}")
        self._broker = broker
        self.messages_completed = 0
        self.encoder = Encoder(slicers=_SLICERS, context=broker, vocab=table)
        self.decoder = Decoder(
            unslicers=_UNSLICERS,
            context=broker,
            vocab=table,
            top_level_primitives=False,
            **limits,  # type: ignore[arg-type]
        )
        self._fast_encoder = FastEncoder(self.encoder)
        self._fast_decoder = FastDecoder(
            broker,
            self.decoder,
            max_method_name=MAX_METHOD_NAME,
            max_kwarg_name=MAX_KWARG_NAME,
            default_get_constraint=_DEFAULT_GET_CONSTRAINT,
        )

    def initial_bytes(self) -> bytes:
        """Nothing: Foolscap brokers start silent."""
        return b""

    def encode(self, msg: object) -> bytes:
        """One top-level message (Violation if something in it cannot be sent)."""
        return self.encoder.encode(msg)

    def encode_call(self, msg: CallMessage) -> bytes | list[bytes]:
        """A call message: in one pass if its values are simple (Violation if unsendable);
        a big one may come as a list of pieces to write in order."""
        data = self._fast_encoder.call(msg.reqID, msg.clid, msg.methodname, msg.args, msg.kwargs)
        return data if data is not None else self.encoder.encode(msg)

    def encode_answer(self, reqid: int, result: object) -> bytes | list[bytes]:
        """An answer message: in one pass if the result is simple (maybe in pieces)."""
        data = self._fast_encoder.answer(reqid, result)
        return data if data is not None else self.encoder.encode(AnswerMessage(reqid, result))

    def ping_bytes(self, n: int) -> bytes:
        return self.encoder.ping(n)

    def pong_bytes(self, n: int) -> bytes:
        return self.encoder.pong(n)

    def error_bytes(self, msg: str) -> bytes:
        return self.encoder.error(msg)

    def receive_data(self, data: bytes) -> None:
        """Decode ``data`` and dispatch the events (BananaError: drop the connection)."""
        broker = self._broker
        decoder = self.decoder
        if decoder.at_message_boundary:
            used, done = self._fast_decoder.consume(data)
            if done:
                self.messages_completed += done
                if used == len(data) or broker.disconnected:
                    return
                data = data[used:]
        decoder.receive_data(data)
        for ev in decoder.events():
            if type(ev) is ObjectReceived:
                self.messages_completed += 1
                continue  # calls, answers and errors act as they close
            if type(ev) is PingReceived:
                broker.pingReceived(ev.number)
            elif type(ev) is PongReceived:
                broker.pongReceived(ev.number)
            elif type(ev) is ErrorReceived:
                broker.remoteErrorReceived(ev.message.decode("utf-8", "replace"))
                return
            elif type(ev) is ViolationReceived:
                self.messages_completed += 1
                broker.violationReceived(ev.violation)
            if broker.disconnected:
                return
