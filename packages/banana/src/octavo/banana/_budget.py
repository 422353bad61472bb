"""The object budget of one top-level message: how much a peer may make us build.

A Banana message is bounded by nothing but its bytes, and a few bytes can make a lot
of objects: a list of a million empty lists is 10 MB on the wire and ~140 MiB decoded.
:class:`MessageBudget` bounds what one top-level message (from its OPEN to its CLOSE)
may create, with two rules, and is the one place either is applied:

- *objects*: at most ``max_objects`` objects: every sequence (OPEN) and every value
  token (INT, NEG, LONGINT, LONGNEG, FLOAT, STRING, VOCAB) received by a sequence that
  is not a leaf sequence (a str, bool, None, reference, Decimal or vocabulary sequence
  is one object whatever its tokens: a ``LeafUnslicer``). Index tokens are not objects.
- *memory*: as each sequence opens, the estimated memory of the message, at most
  ``ratio`` times the bytes of the message so far (from the start of its OPEN to the end
  of this OPEN) plus ``FLOOR`` (1 MiB). The estimate is coarse: ``SEQUENCE_COST`` (80)
  bytes per sequence (an empty list is 56, plus its slot in its parent and in the
  object table) and ``VALUE_COST`` (8) per value (its slot: small ints and vocabulary
  words are shared objects; a value's own size is bounded by its bytes, about 18 times
  at worst, for the int of a two-byte NEG token, and bodies are never larger than the
  bytes that carried them). It is checked at OPENs only: with a ratio of at least 8 a
  value, one byte at least, cannot take the message past it.

A top-level value token is a message of one object and is not counted. The general
path (``Stack.admit``/``Stack.value``) charges every object with :meth:`open` and
:meth:`value`, which raise Violation: the message is abandoned as for any Violation
(reported, its remaining tokens skipped to its CLOSE, nothing built) and the next one
is decoded. Both paths take objects while the *allowance* ``left`` lasts (objects the
rules are sure to admit from here, whatever they are: :meth:`renew`, a sufficient
condition, so the first object the rules refuse always finds no allowance). When there
is none, the general path applies the rules exactly; the fast reader never decides: it
hands the next token to the general path. Counting costs the fast reader one decrement
per object, and the general path a method call.
"""

from __future__ import annotations

from ._errors import Violation

__all__ = ["FLOOR", "SEQUENCE_COST", "VALUE_COST", "MessageBudget"]

#: the estimated memory of a sequence (an empty list, its slot, its object-table entry)
SEQUENCE_COST = 80
#: the estimated memory of a value (its slot in its sequence)
VALUE_COST = 8
#: the memory a message may take whatever its size
FLOOR = 1 << 20


class MessageBudget:
    """What the message being decoded has created, against the two rules.

    ``start``: stream offset where its OPEN starts; ``opens0``: the object number of
    that OPEN (sequences so far are ``obj_count - opens0``); ``objects``: objects so far
    (kept current by the general path, and by the fast reader when it hands over);
    ``left``: the allowance (objects admitted without asking); ``base``: the stream
    offset of the buffer being decoded (set by the decoder); ``token`` and ``at``: the
    stream offsets where the OPEN being admitted starts and ends (set by the decoder's
    general path).
    """

    __slots__ = (
        "at",
        "base",
        "first_allowance",
        "granted",
        "left",
        "max_objects",
        "objects",
        "opens0",
        "ratio",
        "start",
        "token",
    )

    def __init__(self, max_objects: int, ratio: float) -> None:
        if max_objects < 1:
            raise ValueError("max_message_objects must be >= 1")
        if ratio < 0:
            raise ValueError("max_message_memory_ratio must be >= 0")
        self.max_objects = max_objects
        self.ratio = ratio
        #: the allowance at the start of a message (renew() with nothing counted yet)
        self.first_allowance = (
            min(max_objects, FLOOR // SEQUENCE_COST, 256) if ratio >= VALUE_COST else 0
        )
        self.start = 0
        self.opens0 = 0
        self.objects = 0
        self.left = 0
        self.base = 0
        self.token = 0
        self.at = 0
        #: bytes of the message's tokens admitted past max_token_size (a constraint
        #: allowed them: ``Limits.check_size``); 0 when a message begins or ends
        self.granted = 0

    def begin(self, start: int, opens0: int) -> None:
        """A top-level OPEN, object number ``opens0``, starts at stream offset ``start``
        (not yet charged)."""
        self.start = start
        self.opens0 = opens0
        self.objects = 0
        self.left = 0
        self.granted = 0

    @property
    def sure_objects(self) -> int:
        """The most objects a message may have and pass both rules whatever they are and
        however few its bytes (every object costed as a sequence, within the floor)."""
        return min(self.max_objects, FLOOR // SEQUENCE_COST)

    def start_message(self, start: int, opens0: int) -> int:
        """:meth:`begin` then :meth:`renew` (the fast reader at a top-level OPEN): the
        new message's allowance."""
        self.start = start
        self.opens0 = opens0
        self.objects = 0
        self.granted = 0
        self.left = left = self.first_allowance  # what renew() gives with nothing counted
        return left

    def _refusal(self, opens: int, at: int) -> str | None:
        """The rules, for a message with ``self.objects`` objects of which ``opens``
        are sequences; ``at``: where the OPEN just counted ends (-1: not at an OPEN)."""
        if self.objects > self.max_objects:
            return f"more than {self.max_objects} objects in one message (max_message_objects)"
        if at >= 0:
            used = SEQUENCE_COST * opens + VALUE_COST * (self.objects - opens)
            if used > self.ratio * (at - self.start) + FLOOR:
                return (
                    f"more than {self.ratio:g} times its {at - self.start} bytes "
                    "(plus 1 MiB) of estimated memory in one message (max_message_memory_ratio)"
                )
        return None

    def open(self, obj_count: int) -> None:
        """Charge a sequence of the message (the general path; ``obj_count`` counts it,
        ``at`` says where it ends); Violation if a rule refuses it."""
        if self.left or self.renew(obj_count - 1, self.at):
            self.objects += 1  # within an allowance: surely admitted
            self.left -= 1
            return
        self.objects += 1
        why = self._refusal(obj_count - self.opens0, self.at)
        if why is not None:
            self.objects -= 1
            raise Violation(why)

    def value(self, obj_count: int) -> None:
        """Charge a value of the message (the general path); Violation if refused."""
        if self.left or self.renew(obj_count, self.at):
            self.objects += 1  # within an allowance: surely admitted
            self.left -= 1
            return
        self.objects += 1
        why = self._refusal(obj_count - self.opens0, -1)
        if why is not None:
            self.objects -= 1
            raise Violation(why)

    def sync(self, left: int) -> None:
        """The fast reader used its allowance down to ``left``."""
        self.objects += self.left - left
        self.left = left

    def renew(self, obj_count: int, at: int, cap: int = 256) -> int:
        """A new allowance at stream offset ``at`` (after :meth:`sync`): how many more
        objects, of any kind, the rules are sure to admit (0: ask the general path), at
        most ``cap`` (256: a count-down among CPython's cached small ints allocates
        nothing; a run of ints asks for more)."""
        room = self.max_objects - self.objects
        if self.ratio >= VALUE_COST:  # (values cannot bring the estimate past the budget)
            opens = obj_count - self.opens0
            used = SEQUENCE_COST * opens + VALUE_COST * (self.objects - opens)
            room = min(room, int(self.ratio * (at - self.start) + FLOOR - used) // SEQUENCE_COST)
        else:
            room = 0
        self.left = min(max(room, 0), cap)
        return self.left
