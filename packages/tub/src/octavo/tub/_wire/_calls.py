"""The call, arguments, answer and error sequences: slicers out, unslicers in.

Outbound, :class:`CallMessage`, :class:`AnswerMessage` and :class:`ErrorMessage`
become ``call`` (with its ``arguments``), ``answer`` and ``error`` sequences.

Inbound, the unslicers read those sequences token by token (the general path;
``_fast_decoder`` reads the commonest ones whole) and report to the connection they
belong to (``self.decoder.context``, a :class:`PBConnection`):

- ``call``: reqID, clid, method name -> asks ``Admission.admit_call`` (the rule the
  fast path asks too), then reads the arguments, checking each against the
  target's constraints if it has any, and hands the finished call to the
  connection (``call_arrived``), which reports it in arrival order.
- ``answer`` / ``error``: reqID -> the waiting request (``Admission.admit_answer``),
  then the result (checked against the request's constraint) or the failure.

A Violation anywhere refuses the message: a call is answered with an error
(``CallRefused``), a request fails (``AnswerRefused``); the connection goes on.
Calls and answers that carry gifts (``their-reference``) wait for them: see
``_connection``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from octavo.banana import (
    INT,
    OPEN,
    STRING,
    VOCAB,
    SliceContext,
    Unslicer,
)
from octavo.banana import Pending as _Pending
from octavo.tub._errors import BananaError, Violation

from ._admission import MAX_KWARG_NAME, Admission
from ._events import AnswerReceived, CallReceived
from ._messages import AnswerMessage, CallMessage, ErrorMessage

if TYPE_CHECKING:
    from ._context import WireConnection
    from ._inbound import GiftWaiter

__all__ = [
    "AnswerUnslicer",
    "ArgumentsUnslicer",
    "CallUnslicer",
    "ErrorUnslicer",
    "MessageUnslicer",
    "slice_answer",
    "slice_arguments",
    "slice_call",
    "slice_error",
]

_Sliced = tuple[tuple[str, ...], Iterable[object]]


# ============================================================== outbound


class Arguments:
    """The ``arguments`` sequence of a call: positional values, then keywords."""

    __slots__ = ("args", "kwargs")

    def __init__(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.args = args
        self.kwargs = kwargs


_CALL_OT = ("call",)
_ARGUMENTS_OT = ("arguments",)
_ANSWER_OT = ("answer",)
_ERROR_OT = ("error",)


def slice_call(msg: CallMessage, ctx: SliceContext) -> _Sliced:
    """``call``: reqID, clid, method name, arguments."""
    return _CALL_OT, (
        msg.reqID,
        msg.clid,
        msg.methodname.encode("utf-8"),
        Arguments(msg.args, msg.kwargs),
    )


def slice_arguments(a: Arguments, ctx: SliceContext) -> _Sliced:
    """``arguments``: count, positional values, then (name, value) pairs sorted by name."""
    args = a.args
    kwargs = a.kwargs
    if not kwargs:
        return _ARGUMENTS_OT, (len(args), *args)
    body: list[object] = [len(args), *args]
    for name in sorted(kwargs):
        body.append(name.encode("utf-8"))
        body.append(kwargs[name])
    return _ARGUMENTS_OT, body


def slice_answer(msg: AnswerMessage, ctx: SliceContext) -> _Sliced:
    """``answer``: reqID, result."""
    return _ANSWER_OT, (msg.reqID, msg.result)


def slice_error(msg: ErrorMessage, ctx: SliceContext) -> _Sliced:
    """``error``: reqID, failure."""
    return _ERROR_OT, (msg.reqID, msg.failure)


# ============================================================== inbound


def _connection_of(u: Unslicer) -> WireConnection:
    conn: WireConnection = u.decoder.context
    return conn


class MessageUnslicer(Unslicer):
    """A top-level message that may have to wait for gifts inside it."""

    #: made at the first gift (see ``PBConnection.accept_gift``)
    waiter: GiftWaiter | None = None


class _ConstrainedChild(Unslicer):
    """Applies ``self.child_constraint`` to each token and sub-sequence."""

    child_constraint: Any = None

    def checkToken(self, typebyte: int, size: int) -> None:
        if self.child_constraint is not None:
            self.child_constraint.checkToken(typebyte, size)

    def token_allowance(self, typebyte: int) -> int:
        c = self.child_constraint
        return 0 if c is None else int(c.token_allowance(typebyte))

    def doOpen(self, opentype: tuple[str, ...]) -> Unslicer | None:
        return self.open_constrained(opentype, self.child_constraint)


class CallUnslicer(MessageUnslicer, _ConstrainedChild):
    """``call``: reqID, clid, method name, arguments -> a CallReceived event.

    The reqID, clid and name are checked as they arrive (``receiveChild``), so the
    decoder reads their tokens on its fast path (``wants_check`` False); its token
    size limit still bounds what is read.
    """

    opentype = _CALL_OT
    wants_check = False

    def start(self, count: int) -> None:
        self.conn = _connection_of(self)
        self.stage = 0
        self.reqID: int | None = None
        self.clid: int | None = None
        self.admitted: Any = None  # a CallAdmission once the name is in
        self.begun = False
        self.args: ArgumentsUnslicer | None = None

    def doOpen(self, opentype: tuple[str, ...]) -> Unslicer | None:
        if self.stage != 3:
            raise BananaError(f"unexpected sequence in call stage {self.stage}")
        # At stage 3 the decoder may open a sequence on its fast path without asking
        # us (plain_open), so nothing is decided here: a sequence that is not the
        # 'arguments' is refused when it arrives (receiveChild), on either path.
        return self.open(opentype)

    def receiveChild(self, obj: object) -> None:
        stage = self.stage
        if stage == 0:
            if type(obj) is not int or obj < 0:
                raise BananaError("request ID must be an INT")
            self.reqID = obj
            self.stage = 1
        elif stage == 1:
            if type(obj) is not int:
                raise BananaError("object ID must be an INT/NEG")
            self.clid = obj
            self.stage = 2
        elif stage == 2:
            if type(obj) is not bytes:
                raise BananaError("method name must be a STRING")
            self.stage = 3
            assert self.reqID is not None and self.clid is not None
            admission = self.conn.admission
            self.admitted = admission.admit_call(self.reqID, self.clid, obj)  # Violation
            admission.begin_call(self.reqID)
            self.begun = True
            # the decoder may open 'arguments' on its fast path (through the
            # registry); ArgumentsUnslicer.start checks that it is our stage 3
            self.plain_open = True
        elif stage == 3:
            if type(obj) is not ArgumentsUnslicer:
                raise BananaError("arguments must be an 'arguments' sequence")
            self.args = obj
            self.stage = 4
            self.plain_open = False
        else:
            raise BananaError("too many objects given to CallUnslicer")

    def reportViolation(self, why: Violation) -> Violation | None:
        if self.reqID is not None:
            aborted = bool(why.args) and why.args[0] == "ABORT received"
            self.conn.call_refused(self.reqID, why, begun=self.begun, answer=not aborted)
        return why

    def receiveClose(self) -> object:
        args = self.args
        if self.stage != 4 or args is None or self.reqID is None:
            raise BananaError("'call' sequence ended too early")
        adm = self.admitted
        event = CallReceived(
            self.reqID, adm.target, adm.methodname, args.args, args.kwargs, adm.schema
        )
        self.conn.inbound.arrived(event, self.waiter)  # (conn.call_arrived, one call less)
        return event

    def describe(self) -> str:
        s = "<methodcall"
        if self.stage >= 1:
            s += f" reqID={self.reqID}"
        if self.stage >= 2:
            s += f" clid={self.clid}"
        if self.stage >= 3 and self.admitted is not None:
            s += f" methodname={self.admitted.methodname}"
        return s + ">"


class ArgumentsUnslicer(_ConstrainedChild):
    """``arguments``: count, positional values, then (name, value) pairs.

    When the target takes no argument constraints the structure is checked in
    ``receiveChild`` and the decoder's fast path is used (``wants_check`` False, and
    ``plain_open`` while a value is due: a sequence where a keyword name or the CLOSE
    is due goes through ``doOpen``, which refuses it); otherwise every token is
    checked before it is read.
    """

    opentype = _ARGUMENTS_OT
    methodname: str = ""

    def start(self, count: int) -> None:
        call = self.parent
        if type(call) is not CallUnslicer:
            raise Violation("unknown OPEN type ('arguments',)")  # only a call has them
        if call.stage != 3 or call.args is not None:
            raise BananaError(f"unexpected sequence in call stage {call.stage}")
        adm = call.admitted
        self.methodname = adm.methodname or ""
        self.numargs: int | None = None
        self.args: list[Any] = []
        self.kwargs: dict[str, Any] = {}
        self.argname: str | None = None
        self.child_constraint = None
        self._get_constraint: Callable[[str, int | str], Any] | None = adm.argument_constraint
        # without argument constraints the decoder reads our children on its fast path;
        # plain_open (a sequence may open without doOpen) only while a value is due
        self._plain_values = self._get_constraint is None
        self.wants_check = not self._plain_values
        self.plain_open = False

    def _constraint_for(self, which: int | str) -> Any:
        get = self._get_constraint
        if get is None:
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
        if self.numargs is None:
            raise BananaError("posarg count must be an INT")
        if len(self.args) >= self.numargs and self.argname is None:
            raise BananaError("kwarg name must be a STRING")
        return super().doOpen(opentype)

    def receiveChild(self, obj: object) -> None:
        numargs = self.numargs
        if numargs is None:
            if type(obj) is not int or obj < 0:
                raise BananaError("posarg count must be an INT")
            self.numargs = obj
            if obj and self._get_constraint is not None:
                self.child_constraint = self._constraint_for(0)
            self.plain_open = bool(obj) and self._plain_values
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
            if index + 1 == numargs:
                self.plain_open = False  # a keyword name (a STRING) or the CLOSE is next
            return
        if self.argname is None:
            if type(obj) is not bytes:
                raise BananaError("kwarg name must be a STRING")
            self.argname = name = Admission.kwarg_name(obj, self.kwargs)  # Violation
            if self._get_constraint is not None:
                self.child_constraint = self._constraint_for(name)
            self.plain_open = self._plain_values  # its value is next
            return
        name = self.argname
        kwargs = self.kwargs
        kwargs[name] = obj
        if type(obj) is _Pending:
            obj.add_callback(lambda v: kwargs.__setitem__(name, v))
        self.argname = None
        self.child_constraint = None
        self.plain_open = False

    def receiveClose(self) -> object:
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


class AnswerUnslicer(MessageUnslicer, _ConstrainedChild):
    """``answer``: reqID, result -> an AnswerReceived event.

    Children are checked in ``receiveChild`` (the decoder's fast path); a result
    constraint (``_resultConstraint``) is applied to a sub-sequence as it opens and
    to a plain token by ``checkObject`` at the CLOSE.
    """

    opentype = _ANSWER_OT
    wants_check = False

    def start(self, count: int) -> None:
        self.conn = _connection_of(self)
        self.request: Any = None
        self.have_result = False
        self.result: Any = None

    def doOpen(self, opentype: tuple[str, ...]) -> Unslicer | None:
        if self.request is None or self.have_result:
            raise BananaError("unexpected sequence in answer")
        return super().doOpen(opentype)

    def receiveChild(self, obj: object) -> None:
        if self.request is None:
            if type(obj) is not int or obj < 0:
                raise BananaError("request ID must be an INT")
            self.request = req = Admission.admit_answer(self.conn.waiting, obj)  # Violation
            c = self.child_constraint = req.constraint
            if c is None:
                self.plain_open = True  # the result may open inline
            return
        if self.have_result:
            raise BananaError("stop sending me stuff!")
        self.result = obj
        self.have_result = True
        self.plain_open = False  # anything more is refused by doOpen

    def reportViolation(self, why: Violation) -> Violation | None:
        if self.request is not None:
            self.conn.answer_refused(self.request, why)
        return why

    def receiveClose(self) -> object:
        if not self.have_result or self.request is None:
            raise BananaError("Answer didn't include an answer")
        req = self.request
        result = self.result
        if req.constraint is not None and type(result) is not _Pending:
            req.constraint.checkObject(result, True)  # Violation: the request fails
        event = AnswerReceived(req, result)
        if type(result) is _Pending:
            result.add_callback(lambda v: setattr(event, "result", v))
        self.conn.answer_arrived(event, self.waiter)
        return event

    def describe(self) -> str:
        if self.request is not None:
            return f"Answer(req={self.request.reqID})"
        return "Answer(req=?)"


class ErrorUnslicer(Unslicer):
    """``error``: reqID, failure -> an ErrorReceived event."""

    opentype = _ERROR_OT

    def start(self, count: int) -> None:
        self.conn = _connection_of(self)
        self.request: Any = None
        self.failure: Any = None
        self.have_failure = False

    def checkToken(self, typebyte: int, size: int) -> None:
        if self.request is None:
            if typebyte != INT:
                raise BananaError("request ID must be an INT")
        elif typebyte != OPEN or self.have_failure:
            raise Violation("an error carries one Failure, not a plain token")

    def doOpen(self, opentype: tuple[str, ...]) -> Unslicer | None:
        if self.request is None or self.have_failure:
            raise BananaError("unexpected sequence in error")
        if opentype and opentype[0] != "copyable":
            raise Violation(f"an error carries a Failure, not {opentype!r}")
        return self.open(opentype)

    def receiveChild(self, obj: object) -> None:
        if self.request is None:
            assert isinstance(obj, int)
            self.request = Admission.admit_answer(self.conn.waiting, obj)  # Violation
            return
        if not self.conn.is_failure(obj):
            raise Violation("an error carries a Failure")
        self.failure = obj
        self.have_failure = True

    def reportViolation(self, why: Violation) -> Violation | None:
        if self.request is not None:
            self.conn.answer_refused(self.request, why)
        return why

    def receiveClose(self) -> object:
        if self.request is None or not self.have_failure:
            raise BananaError("error sequence ended too early")
        self.conn.error_arrived(self.request, self.failure)
        return None

    def describe(self) -> str:
        if self.request is None:
            return "<error-?>"
        return f"<error-{self.request.reqID}>"
