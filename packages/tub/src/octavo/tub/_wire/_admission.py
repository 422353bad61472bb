"""The one rule for what an inbound call or answer may do, shared by every decoder.

A call is read by two decoders: the general one (the ``call`` unslicer, token by
token) and the whole-message fast path (``_fast_decoder``). Neither decides on its own
what is refused: both ask :class:`Admission`. The fast path takes a message only
when :meth:`Admission.admit_call` accepts it and it needs no argument checks;
anything refused it leaves to the general path, which asks the same question and
reports the refusal. A new refusal (a schema, a limit) is written here once.

What is decided here, in this order:

1. the request id: not one of the far end's calls still unanswered (a duplicate),
   and not past the limit of calls waiting their turn (``max_inbound_calls``).
   Calls beyond the limit of calls *running* at once (the same number) are not
   refused: they wait, and the connection's owner stops reading meanwhile
   (``PBConnection.input_blocked``);
2. the target: clid 0 is the connection's own methods, another clid must name
   one of our objects the far end holds (an unknown or revoked one is refused);
3. the method name: at most :data:`MAX_METHOD_NAME` bytes of UTF-8;
4. the method's schema, if the target has a RemoteInterface (``getMethodSchema``):
   a method the interface lacks is refused here, before any argument is read; each
   argument is then checked against its constraint as its tokens arrive, and the
   whole call (missing or repeated arguments) and its answer are checked against the
   schema where the call is run. The fast path takes such a call only if the schema
   surely takes its arguments (scalars, and flat lists and tuples of them under
   ``ListOf``/``TupleOf``) and its shape (:meth:`Admission.call_taken_whole`),
   and an answer only if its result surely fits (:meth:`Admission.answer_taken_whole`);
   anything else, refusals included, is read and decided by the general path.
   Without a schema, the argument checks the target asks for
   (``getArgumentConstraint``; none: any argument is taken, within the
   connection's size and depth limits);
5. each keyword argument name: at most :data:`MAX_KWARG_NAME` bytes of UTF-8, not
   repeated;
6. an answer or error: it must answer one of our calls still waiting.
"""

from __future__ import annotations

from collections.abc import Callable, Container
from dataclasses import dataclass
from typing import Any, TypeVar

from octavo.banana import Any as AnyConstraint
from octavo.banana import (
    BooleanConstraint,
    ByteStringConstraint,
    DictConstraint,
    IntegerConstraint,
    ListConstraint,
    Nothing,
    NumberConstraint,
    Optional,
    Shared,
    TupleConstraint,
    UnicodeConstraint,
)
from octavo.tub._errors import Violation

from ._references import MyReferenceTable

__all__ = [
    "MAX_KWARG_NAME",
    "MAX_METHOD_NAME",
    "Admission",
    "CallAdmission",
    "accepts_any_arguments",
]

#: longest method name taken from the wire (bytes)
MAX_METHOD_NAME = 1000
#: method names per object whose admission is kept (see :meth:`Admission.admit_call`)
MAX_ADMITTED_NAMES = 64
#: admissions kept per connection, all objects told (a peer calling many names on many
#: objects makes us keep no more than this: ~1 MB at the longest names)
MAX_KEPT_ADMISSIONS = 4096
#: the longest method name whose admission is kept (bytes)
MAX_KEPT_NAME = 128
#: longest keyword argument name taken from the wire (bytes)
MAX_KWARG_NAME = 1000

_F = TypeVar("_F", bound=Callable[..., Any])
_ANY_ARGUMENTS = "__octavo_any_arguments__"


def accepts_any_arguments(method: _F) -> _F:
    """Mark a ``getArgumentConstraint`` method that never constrains anything (the
    default one), so that calls to objects using it need no per-argument checks."""
    setattr(method, _ANY_ARGUMENTS, True)
    return method


#: scalar constraint -> the exact types of a value it may take without its tokens being
#: looked at (the general path would take the same tokens: see :func:`surely_fits`)
_SCALARS: dict[type, tuple[type, ...]] = {
    IntegerConstraint: (int,),
    NumberConstraint: (int, float),
    ByteStringConstraint: (bytes,),
    UnicodeConstraint: (str,),
    BooleanConstraint: (bool,),
}


def surely_fits(constraint: Any, value: object, checked_after: bool = False) -> bool:
    """True only if a scalar ``value`` (int, float, bytes, str, bool or None, as the
    whole-message fast path reads them) is surely taken under ``constraint`` by the
    general path, token checks and ``checkObject`` alike. False means "not sure": the
    general path then reads the message and decides (and says why it refuses).
    A list, tuple or dict of such values (nested as the fast path reads them) is sure
    under a ListOf, TupleOf or DictOf whose items (keys and values) surely take them
    and whose ``checkObject`` takes the whole (its length, its number of keys).

    For these exact types a constraint's token checks take what its ``checkObject``
    takes (an int's header against the same bound, a byte string's length, a str's
    UTF-8 length within four bytes a character), so ``checkObject`` decides here;
    other containers, choices and references are never sure. ``checked_after``: the
    caller runs ``constraint.checkObject(value, True)`` itself next (a schema's
    ``checkAllArgs``), so it is not run here.
    """
    while type(constraint) is Optional or type(constraint) is Shared:
        constraint = constraint.constraint
    if constraint is None or type(constraint) is AnyConstraint:
        return True
    if type(constraint) is Nothing:
        return value is None
    kinds = _SCALARS.get(type(constraint))
    if kinds is None:
        return _surely_fits_items(constraint, value, checked_after)
    if type(value) not in kinds:
        return False
    return checked_after or _passes(constraint, value)


def _surely_fits_items(constraint: Any, value: object, checked_after: bool) -> bool:
    """:func:`surely_fits` for a ListOf, TupleOf or DictOf of a list, tuple or dict:
    each item (key, value) surely fits its own constraint (then its tokens do too), and
    the whole passes ``checkObject`` (length and item checks, as the general path ends
    with)."""
    if type(constraint) is ListConstraint and type(value) is list:
        item = constraint.constraint
        kinds = _SCALARS.get(type(item))
        if kinds is not None:  # the whole's checkObject checks each item's value
            for v in value:
                if type(v) not in kinds:
                    return False
        elif not all(surely_fits(item, v) for v in value):
            return False
    elif type(constraint) is TupleConstraint and type(value) is tuple:
        if len(value) != len(constraint.constraints) or not all(
            surely_fits(c, v) for c, v in zip(constraint.constraints, value, strict=True)
        ):
            return False
    elif type(constraint) is DictConstraint and type(value) is dict:
        keys, values = constraint.keyConstraint, constraint.valueConstraint
        for k, v in value.items():
            if not surely_fits(keys, k) or not surely_fits(values, v):
                return False
    else:
        return False
    return checked_after or _passes(constraint, value)


def _passes(constraint: Any, value: object) -> bool:
    """Whether ``constraint.checkObject`` takes the inbound ``value``."""
    try:
        constraint.checkObject(value, True)
    except Violation:
        return False
    return True


def _argument_checks(target: object) -> Callable[[str, int | str], Any] | None:
    """The target's ``getArgumentConstraint``, or None if it takes any argument."""
    get = getattr(type(target), "getArgumentConstraint", None)
    if get is None or getattr(get, _ANY_ARGUMENTS, False):
        return None
    bound: Callable[[str, int | str], Any] = getattr(target, "getArgumentConstraint")  # noqa: B009
    return bound


@dataclass(slots=True)
class CallAdmission:
    """What an admitted call is: its target, its method name (None: the target is
    a callable), the target's per-argument constraint lookup (None: none) and the
    method's schema (None: none; it also checks the whole call and its answer)."""

    target: Any
    methodname: str | None
    argument_constraint: Callable[[str, int | str], Any] | None
    schema: Any = None


class Admission:
    """Decides which inbound calls and answers are taken, and counts the calls.

    :param references: our objects the far end may name by clid.
    :param own_methods: the target of clid 0.
    :param max_inbound_calls: calls from the far end running at once (handed to the
        owner and not answered); as many more may wait their turn, beyond that
        they are refused.
    """

    def __init__(
        self, references: MyReferenceTable, own_methods: object, max_inbound_calls: int
    ) -> None:
        self._references = references
        self._own_methods = own_methods
        self.max_inbound_calls = max_inbound_calls
        #: reqIDs of calls that came in and are not answered yet (waiting or running)
        self.active: set[int] = set()
        #: calls admitted and waiting (their turn, or their gifts), and calls that want no
        #: answer handed out but not yet taken by the owner
        self.queued = 0
        #: calls handed out whose answer is owed
        self.running = 0

    def admit_call(self, reqid: int, clid: int, raw_name: bytes) -> CallAdmission:
        """Whether a call may run (Violation saying why not). Changes nothing:
        :meth:`begin_call` records an admitted call.

        What is decided for a method of one of our objects (its target, name, schema
        and argument checks: steps 2-4) is kept on the object's tracker and reused for
        the next call of that method: only the request id is judged again. At most
        :data:`MAX_ADMITTED_NAMES` names an object and :data:`MAX_KEPT_ADMISSIONS` in
        all are kept, names of up to :data:`MAX_KEPT_NAME` bytes; a refusal is not
        kept."""
        if reqid and reqid in self.active:
            raise Violation(f"duplicate reqID {reqid}")
        if self.queued >= self.max_inbound_calls:
            raise Violation(f"too many queued calls (limit {self.max_inbound_calls})")
        if clid == 0:
            return self._admit_method(self._own_methods, clid, raw_name)
        references = self._references
        tracker = references.by_clid.get(clid)
        if tracker is None:
            tracker = references.tracker_of(clid)  # Violation: unknown or revoked
        admitted = tracker.admitted
        adm = admitted.get(raw_name)
        if adm is None:
            adm = self._admit_method(tracker.obj, clid, raw_name)
            if len(admitted) < MAX_ADMITTED_NAMES and len(raw_name) <= MAX_KEPT_NAME:
                references.keep_admission(tracker, raw_name, adm, MAX_KEPT_ADMISSIONS)
        return adm

    @staticmethod
    def _admit_method(target: Any, clid: int, raw_name: bytes) -> CallAdmission:
        """Steps 3 and 4 for ``target`` (Violation if refused)."""
        if len(raw_name) > MAX_METHOD_NAME:
            raise Violation(f"method name too long ({len(raw_name)} bytes)")
        methodname: str | None = None
        if clid >= 0:
            try:
                methodname = raw_name.decode("utf-8")
            except UnicodeDecodeError:
                raise Violation("method name is not UTF-8") from None
        get_schema = getattr(type(target), "getMethodSchema", None) if methodname else None
        if get_schema is not None:
            try:
                schema = get_schema(target, methodname)  # Violation: no such method
            except Violation:
                raise
            except Exception as e:  # e.g. two RemoteInterfaces: that call fails, no more
                raise Violation(f"no schema for {methodname!r}: {type(e).__name__}: {e}") from e
            if schema is not None:
                return CallAdmission(target, methodname, schema.argument_constraint, schema)
        return CallAdmission(target, methodname, _argument_checks(target))

    def begin_call(self, reqid: int) -> None:
        """Record an admitted call (its answer is owed)."""
        self.queued += 1
        if reqid:
            self.active.add(reqid)

    @property
    def has_room(self) -> bool:
        """Whether another call may be handed out to run."""
        return self.running < self.max_inbound_calls

    def finish_call(self, reqid: int) -> None:
        """The running call ``reqid`` was answered."""
        if reqid in self.active:
            self.active.remove(reqid)
            self.running -= 1

    def forget_call(self, reqid: int) -> None:
        """The call ``reqid`` was refused before it ran."""
        self.active.discard(reqid)

    @staticmethod
    def kwarg_name(raw: bytes, seen: Container[str]) -> str:
        """A keyword argument name from the wire (Violation if it cannot be one)."""
        if len(raw) > MAX_KWARG_NAME:
            raise Violation(f"keyword argument name too long ({len(raw)} bytes)")
        try:
            name = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Violation("keyword argument name is not UTF-8") from None
        if name in seen:
            raise Violation(f"duplicate keyword argument {name!r}")
        return name

    @staticmethod
    def call_taken_whole(adm: CallAdmission, args: list[Any], kwargs: dict[str, Any]) -> bool:
        """Whether an admitted call read whole (scalar arguments) may run without the
        general path's token checks: no argument checks, or a schema that surely takes
        every argument (:func:`surely_fits`) and the call's shape (none missing, none
        repeated or unknown). False: let the general path read and check it."""
        get = adm.argument_constraint
        if get is None:
            return True
        schema = adm.schema
        if schema is None:
            return False  # the target's own getArgumentConstraint: token by token
        # a schema's quick check takes only exact scalar types and flat lists and
        # tuples of them, each of which surely_fits (tests/banana/test_quick.py)
        quick = getattr(schema, "quick_accepts", None)
        if quick is not None and quick(args, kwargs):
            return True
        name = adm.methodname or ""
        # a schema whose checkAllArgs runs each argument's checkObject (under the
        # constraint ``get`` gives) leaves surely_fits only the tokens to judge
        later = getattr(schema, "checks_each_argument", False)
        try:
            for i, value in enumerate(args):
                if not surely_fits(get(name, i), value, later):
                    return False
            for key, value in kwargs.items():
                if not surely_fits(get(name, key), value, later):
                    return False
            schema.checkAllArgs(args, kwargs, True)
        except Violation:
            return False
        return True

    @staticmethod
    def answer_taken_whole(request: Any, result: object) -> bool:
        """Whether an answer read whole (a scalar result) surely fits the request's
        result constraint (or it has none). False: the general path checks it."""
        c = request.constraint
        return c is None or surely_fits(c, result)

    @staticmethod
    def admit_answer(waiting: dict[int, Any], reqid: int) -> Any:
        """The request an answer or error answers (Violation if none waits)."""
        req = waiting.get(reqid)
        if req is None:
            raise Violation(f"non-existent reqID '{reqid}'")
        return req
