# mypy: disable-error-code="no-untyped-call"
# (Twisted's Failure is not annotated.)
"""Running the calls a connection received, and sending their answers.

A :class:`~octavo.tub._wire.CallReceived` names a target (one of our objects, a
bare callable, or the connection's own methods), a method and the arguments. The
call runs at once; its result may be a value, a Failure, or a Deferred that fires
later. The answer (or the error) is encoded by the connection and written by the
Broker; a result that cannot be sent becomes an error answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure

from octavo.tub._errors import Violation
from octavo.tub._wire._events import CallReceived, CallRefused

if TYPE_CHECKING:
    from ._roles import DeliveryBroker

__all__ = ["Delivery"]

_log = Logger(namespace="octavo.tub.broker")


def _check_result(res: Any, call: CallReceived) -> None:
    """Violation if the method's schema refuses the value it returned."""
    try:
        call.schema.checkResults(res, False)
    except Violation as v:
        v.prependLocation(f"in return value of {call.obj!r}.{call.methodname}")
        raise


class Delivery:
    """Runs ``broker``'s received calls and answers them over its connection."""

    def __init__(self, broker: DeliveryBroker) -> None:
        self._broker = broker
        self._conn = broker.connection
        self._writer = broker.writer

    def run(self, call: CallReceived) -> None:
        """Run one call now; its answer (or error) is sent when the result is ready."""
        obj = call.obj
        try:
            if call.methodname is None:  # a method reference: the object is the callable
                if not callable(obj):
                    raise Violation("target of a method reference is not callable")
                res = obj(*call.args, **call.kwargs)
            else:
                do_call = getattr(obj, "doRemoteCall", None)
                if do_call is None:
                    raise Violation(f"{type(obj).__name__} is not remotely callable")
                schema = call.schema
                kwargs = call.kwargs
                if schema is not None:
                    if not call.args_checked:
                        # each argument was checked as it arrived; now the whole call
                        # (missing, repeated), and gifts as what they resolved to
                        schema.checkAllArgs(call.args, kwargs, True)
                    if kwargs and getattr(schema, "ignoreUnknown", False):
                        # ``__ignoreUnknown__``: keyword arguments the schema does not
                        # name are dropped (as Foolscap documents; its own callee
                        # asserts instead), on both paths
                        kwargs = {k: v for k, v in kwargs.items() if k in schema.argConstraints}
                res = do_call(call.methodname, tuple(call.args), kwargs)
        except Exception:
            self.failed(Failure(), call)
            return
        if res is None:
            self.finished(None, call)
        elif isinstance(res, Deferred):
            res.addCallbacks(self.finished, self.failed, callbackArgs=(call,), errbackArgs=(call,))
            res.addErrback(lambda f: _log.failure("error while answering a call", failure=f))
        elif isinstance(res, Failure):  # as in a Deferred chain, a returned Failure fails
            self.failed(res, call)
        else:
            self.finished(res, call)

    def finished(self, res: Any, call: CallReceived) -> None:
        """The call returned ``res``: answer it (unless no answer is wanted)."""
        reqid = call.reqID
        broker = self._broker
        if reqid == 0 or broker.disconnected:
            return
        try:
            if call.schema is not None:
                _check_result(res, call)
            data = self._conn.send_answer(reqid, res)
        except Exception:
            f = Failure()
            _log.info(
                "unable to send the result of {d}: {f}", d=call.describe(), f=f.getErrorMessage()
            )
            self._writer.write(self._conn.send_error(reqid, f))
            broker.answered()
            return
        self._writer.write_message(data)
        if self._conn.pending_events or broker.flow.reading_paused:
            broker.answered()  # (what it would do otherwise: nothing)

    def failed(self, f: Failure, call: CallReceived) -> None:
        """The call raised (or its Deferred failed): log if asked, answer with an error."""
        broker = self._broker
        tub = broker.tub
        if tub is not None and tub.logLocalFailures:
            _log.info(
                "an inbound callRemote that we [{me}] executed (on behalf of someone "
                "else, TubID {them}) failed: {d}: {why}",
                me=tub.getShortTubID(),
                them=broker.short_tubid(),
                d=call.describe(),
                why=f.getErrorMessage(),
            )
        if call.reqID == 0 or broker.disconnected:
            return
        self._writer.write(self._conn.send_error(call.reqID, f))
        broker.answered()

    def refused(self, refusal: CallRefused) -> None:
        """The connection refused a call: answer with its reason."""
        broker = self._broker
        if broker.disconnected:
            return
        reason = refusal.reason
        f = reason if isinstance(reason, Failure) else Failure(reason)
        self._writer.write(self._conn.send_refusal(refusal.reqID, f))
