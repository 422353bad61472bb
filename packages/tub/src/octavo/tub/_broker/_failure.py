# mypy: disable-error-code="no-untyped-call"
# (Twisted's Failure, Protocol and error classes are not annotated.)
"""Twisted Failures across the wire: what we send, and the CopiedFailure we rebuild.

The wire shape and its limits are ``_wire/_failures``'s; here a Failure becomes the
attribute dict (:func:`failure_state`) and a received dict becomes a
:class:`CopiedFailure` that behaves like a Failure of the remote exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any, NoReturn

from twisted.python import log as twisted_log
from twisted.python import reflect
from twisted.python.failure import Failure

from octavo.tub._errors import CALL_REFUSALS, FailureStateError, RemoteException, Violation
from octavo.tub._failure_names import wire_name
from octavo.tub._wire._failures import (
    PARENT_LIMIT,
    PARENTS_MAX,
    TRACEBACK_LIMIT,
    TYPE_LIMIT,
    VALUE_LIMIT,
)

__all__ = ["CopiedFailure", "failure_state", "wrap_remote_failure"]

#: a Violation's path longer than this (say 500 levels of nesting) is cut in the middle,
#: so that the reason after it survives the VALUE_LIMIT truncation
WHERE_LIMIT = 300


def _exception_text(exc: object) -> str:
    """``str(exc)``, with an overlong Violation path shortened to its two ends."""
    if isinstance(exc, Violation):
        where = exc.getLocation()
        if len(where) > WHERE_LIMIT:
            short = Violation(*exc.args)
            half = WHERE_LIMIT // 2
            short.setLocation(f"{where[:half]}...{where[-half:]}")
            return str(short)
    return str(exc)


def _truncate(s: str, limit: int) -> str:
    if len(s) > limit:
        return s[: limit - 3] + ".."
    return s


def _to_bytes(s: str, limit: int) -> bytes:
    # truncate on characters first, then make sure the encoded form fits too
    b = _truncate(s, limit).encode("utf-8", "replace")
    if len(b) > limit:
        b = b[: limit - 2] + b".."
    return b


def failure_state(f: Failure, unsafe_tracebacks: bool) -> dict[str, Any]:
    """The attribute dict Foolscap sends for ``f`` (insertion order matches Foolscap).

    A call refused before it reached application code (``CALL_REFUSALS``) is sent
    without a traceback whatever ``unsafe_tracebacks`` says: ours would show only
    our own dispatch, and the answer to a bad call stays small.
    """
    if isinstance(f, CopiedFailure):
        state: dict[str, Any] = {
            "type": _to_bytes(f.type_name, TYPE_LIMIT),
            "value": _to_bytes(f.value, VALUE_LIMIT),
            "parents": [_to_bytes(p, PARENT_LIMIT) for p in f.parents],
        }
        tb = f.traceback if unsafe_tracebacks else "Traceback unavailable\n"
        state["traceback"] = _to_bytes(tb, TRACEBACK_LIMIT)
        return state
    value = _exception_text(f.value)
    ftype: Any = f.type
    type_name = wire_name(ftype if isinstance(ftype, str) else reflect.qual(ftype))
    if isinstance(f.value, CALL_REFUSALS):
        tb = ""
    elif unsafe_tracebacks:
        try:
            tb = f.getTraceback()
        except Exception:
            tb = "Traceback unavailable (it could not be formatted)\n"
    else:
        tb = "Traceback unavailable\n"
    if len(tb) > 1900:
        tb = tb[:700] + "\n\n-- TRACEBACK ELIDED --\n\n" + tb[-1200:]
    return {
        "value": _to_bytes(value, VALUE_LIMIT),
        "type": _to_bytes(type_name, TYPE_LIMIT),
        "traceback": _to_bytes(tb, TRACEBACK_LIMIT),
        "parents": [_to_bytes(wire_name(str(p)), PARENT_LIMIT) for p in f.parents],
    }


def _text(state: Mapping[str, Any], key: str, limit: int) -> str:
    v = state.get(key)
    if isinstance(v, str):
        v = v.encode("utf-8", "replace")
    if not isinstance(v, bytes):
        raise FailureStateError(f"failure attribute {key!r} must be a byte string")
    if len(v) > limit:
        raise FailureStateError(f"failure attribute {key!r} too long ({len(v)}>{limit})")
    return v.decode("utf-8", "replace")


def _exception_like(qualname: str) -> type[Exception]:
    """A stand-in class whose ``reflect.qual`` equals ``qualname`` (never imported)."""
    module, _, name = qualname.rpartition(".")
    try:
        cls = type(name or qualname, (Exception,), {})
    except ValueError:  # e.g. NUL characters: a name no Python class can have
        cls = type(name.replace("\x00", "?") or "?", (Exception,), {})
    cls.__module__ = module
    cls.__qualname__ = name or qualname
    return cls


class CopiedFailure(Failure):
    """The shadow of a Failure that happened on the far end of a connection.

    ``type_name`` and ``value`` are text (the remote class's qualified name and
    ``str(exception)``); ``parents`` lists the qualified names of the remote class's
    MRO, so :meth:`check` and :meth:`trap` match the remote exception class (or any
    of its bases) by class or by name, and Octavo's and Foolscap's shared errors
    match each other (``_failure_names``). ``traceback`` is the remote traceback text.
    ``.type`` is a stand-in class whose qualified name equals the remote one.
    Re-raising one (``raiseException``, or ``yield`` in inlineCallbacks) raises a
    :class:`RemoteException` around it, since the remote exception object does not
    exist here.
    """

    value: Any

    def __init__(self, type_name: str, value: str, traceback: str, parents: list[str]) -> None:
        # deliberately not Failure.__init__: there is no local exception
        self.count = 0
        self.captureVars = False
        self.type_name = type_name
        self.type = _exception_like(type_name)
        self.value = value
        self.traceback = traceback
        self.parents = list(parents)
        self.tb = None
        self.frames = []

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> CopiedFailure:
        """Rebuild from the received attribute dict, checking every limit."""
        unknown = set(state) - {"type", "value", "traceback", "parents"}
        if unknown:
            raise FailureStateError(f"unknown failure attributes {sorted(unknown)!r}")
        parents_raw = state.get("parents", [])
        if not isinstance(parents_raw, (list, tuple)) or len(parents_raw) > PARENTS_MAX:
            raise FailureStateError("failure attribute 'parents' must be a short list")
        parents = []
        for raw in parents_raw:
            p = raw.encode("utf-8", "replace") if isinstance(raw, str) else raw
            if not isinstance(p, bytes) or len(p) > PARENT_LIMIT:
                raise FailureStateError("failure 'parents' entries must be short byte strings")
            parents.append(p.decode("utf-8", "replace"))
        return cls(
            _text(state, "type", TYPE_LIMIT),
            _text(state, "value", VALUE_LIMIT),
            _text(state, "traceback", TRACEBACK_LIMIT) if "traceback" in state else "",
            parents,
        )

    def check(self, *errorTypes: Any) -> Any:
        """The first of ``errorTypes`` (classes or qualified names) that the remote
        exception's class is or derives from; shared errors match by either name
        (``Violation`` matches ``foolscap.tokens.Violation``). None if none does."""
        names = {wire_name(p) for p in self.parents}
        for error in errorTypes:
            name = reflect.qual(error) if isinstance(error, type) else error
            if isinstance(name, str) and wire_name(name) in names:
                return error
        return None

    def getErrorMessage(self) -> str:
        """The remote ``str(exception)``."""
        return str(self.value)

    def raiseException(self) -> NoReturn:
        """Raise a :class:`RemoteException` wrapping this failure."""
        raise RemoteException(self)

    def throwExceptionIntoGenerator(self, g: Any) -> Any:
        """Throw a :class:`RemoteException` wrapping this failure into ``g``."""
        return g.throw(RemoteException(self))

    def cleanFailure(self) -> None:
        """Nothing to clean: a CopiedFailure holds no frames."""

    def getTracebackObject(self) -> None:
        """There is no local traceback object."""

    def printTraceback(
        self,
        file: IO[str] | None = None,
        elideFrameworkCode: bool | int = False,
        detail: str = "default",
    ) -> None:
        """Write the remote traceback text."""
        if file is None:
            file = twisted_log.logerr  # type: ignore[assignment]
        assert file is not None
        file.write("Traceback from remote host -- ")
        file.write(self.traceback)
        if not self.traceback.endswith("\n"):
            file.write("\n")
        file.write(f"{self.type_name}: {self.value}\n")

    printBriefTraceback = printTraceback
    printDetailedTraceback = printTraceback

    def __repr__(self) -> str:
        return f"<CopiedFailure {self.type_name}: {self.value}>"

    def __str__(self) -> str:
        return f"[CopiedFailure instance: {self.type_name}: {self.value}]"

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            CopiedFailure,
            (self.type_name, self.value, self.traceback, list(self.parents)),
        )


def wrap_remote_failure(f: Failure) -> Failure:
    """``Failure(RemoteException(f))``: what callers see with exposure turned off."""
    return Failure(RemoteException(f))
