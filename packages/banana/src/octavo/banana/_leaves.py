"""The leaf sequences: str, Decimal, bool, None, references, and the vocabulary.

Each of these reads at most a token or two and refuses sub-sequences. The decoder's
fast reader reads plain str, None, bool and reference sequences itself (``_fast.py``);
these unslicers are what the general path uses, and what the fast reader's results
must equal.
"""

from __future__ import annotations

import codecs
from decimal import Decimal, InvalidOperation

from ._constraints import (
    BooleanConstraint,
    ByteStringConstraint,
    Constraint,
    UnicodeConstraint,
    select_for,
)
from ._errors import BananaError, Violation, short_repr
from ._pending import Pending
from ._tokens import INT, STRING, VOCAB
from ._unslicers import LeafUnslicer

__all__ = [
    "AddVocabUnslicer",
    "BooleanUnslicer",
    "DecimalUnslicer",
    "NoneUnslicer",
    "ReferenceUnslicer",
    "ReplaceVocabUnslicer",
    "UnicodeUnslicer",
    "VocabMarker",
]


#: the bytes that continue a UTF-8 sequence (every other byte starts a code point)
_CONTINUATION = bytes(range(0x80, 0xC0))
_COUNT_CHUNK = 1 << 20


def utf8_code_points(body: bytes) -> int:
    """The code points of the UTF-8 ``body`` (if it is valid), counted without
    decoding it: its bytes less its continuation bytes, 1 MiB at a time."""
    if body.isascii():
        return len(body)
    n = 0
    with memoryview(body) as view:
        for i in range(0, len(body), _COUNT_CHUNK):
            n += len(bytes(view[i : i + _COUNT_CHUNK]).translate(None, _CONTINUATION))
    return n


def utf8_decode_big(body: bytes) -> str:
    """``body.decode("utf-8")`` for a big body, in less memory: CPython's decoder sizes
    its output for one code point a byte and widens it at the first wider one (a 9 MB
    body of 3-byte code points briefly takes 27 MB more); a non-ASCII body is decoded 1
    MiB at a time and joined (the pieces and the str: 2x the str's size)."""
    if body.isascii():
        return body.decode("ascii")  # (sized exactly)
    decoder = codecs.getincrementaldecoder("utf-8")()
    with memoryview(body) as view:
        pieces = [
            decoder.decode(view[i : i + _COUNT_CHUNK]) for i in range(0, len(body), _COUNT_CHUNK)
        ]
    pieces.append(decoder.decode(b"", True))
    return "".join(pieces)


class UnicodeUnslicer(LeafUnslicer):
    """``str`` (opentype ``unicode``): one UTF-8 STRING; honours UnicodeConstraint.

    A ``UnicodeConstraint(maxLength=N)`` lets the body take up to 4*N bytes, past the
    decoder's ``max_token_size`` too (:meth:`token_allowance`); a body longer than N
    bytes has its code points counted before it is decoded, so one that is too long
    is refused without building its str (which may take 4 bytes a code point).
    """

    opentype = ("unicode",)
    constraint: UnicodeConstraint | None = None
    string: str | None = None

    def setConstraint(self, constraint: Constraint | None) -> None:
        c = select_for(constraint, UnicodeConstraint)
        if isinstance(c, UnicodeConstraint):
            self.constraint = c

    def checkToken(self, typebyte: int, size: int) -> None:
        if typebyte not in (STRING, VOCAB):
            raise BananaError("UnicodeUnslicer only accepts strings")
        if self.string is not None:
            raise BananaError("already received a string")
        c = self.constraint
        if (
            typebyte == STRING
            and c is not None
            and c.maxLength is not None
            and size > 4 * c.maxLength
        ):
            raise Violation(f"string too long ({size} bytes > 4*{c.maxLength})")

    def token_allowance(self, typebyte: int) -> int:
        c = self.constraint
        return 0 if c is None else c.body_allowance(typebyte)

    def receiveChild(self, obj: object) -> None:
        if self.string is not None:
            raise BananaError("already received a string")
        if type(obj) is not bytes:
            raise BananaError("UnicodeUnslicer only accepts strings")
        c = self.constraint
        if c is not None and c.maxLength is not None and len(obj) > c.maxLength:
            n = utf8_code_points(obj)
            if n > c.maxLength:
                raise Violation(f"string too long ({n} > {c.maxLength})")
        try:
            s = obj.decode("utf-8") if len(obj) <= _COUNT_CHUNK else utf8_decode_big(obj)
        except UnicodeDecodeError as e:
            raise BananaError(f"invalid UTF-8 in unicode: {e}") from None
        if self.constraint is not None:
            self.constraint.checkObject(s, True)
        self.string = s

    def receiveClose(self) -> object:
        if self.string is None:
            raise BananaError("unicode sequence without a string")
        return self.string

    def describe(self) -> str:
        return "<unicode>"


class DecimalUnslicer(LeafUnslicer):
    """``decimal.Decimal``: one STRING holding its str()."""

    opentype = ("decimal",)
    value: Decimal | None = None

    def checkToken(self, typebyte: int, size: int) -> None:
        if typebyte not in (STRING, VOCAB):
            raise BananaError("DecimalUnslicer only accepts strings")
        if self.value is not None:
            raise BananaError("already received a string")

    def receiveChild(self, obj: object) -> None:
        if self.value is not None or type(obj) is not bytes:
            raise BananaError("DecimalUnslicer takes one string")
        try:
            self.value = Decimal(obj.decode("ascii"))
        except (UnicodeDecodeError, InvalidOperation, ValueError):
            raise BananaError(f"invalid decimal {obj[:40]!r}") from None

    def receiveClose(self) -> object:
        if self.value is None:
            raise BananaError("decimal sequence without a string")
        return self.value

    def describe(self) -> str:
        return "<decimal>"


class BooleanUnslicer(LeafUnslicer):
    """``bool``: one INT; honours BooleanConstraint(value)."""

    opentype = ("boolean",)
    value: bool | None = None
    constraint: BooleanConstraint | None = None

    def setConstraint(self, constraint: Constraint | None) -> None:
        c = select_for(constraint, BooleanConstraint)
        if isinstance(c, BooleanConstraint):
            self.constraint = c

    def checkToken(self, typebyte: int, size: int) -> None:
        if typebyte != INT:
            raise BananaError("BooleanUnslicer only accepts an INT token")
        if self.value is not None:
            raise BananaError("BooleanUnslicer only accepts one token")

    def receiveChild(self, obj: object) -> None:
        if self.value is not None or type(obj) is not int:
            raise BananaError("BooleanUnslicer only accepts one INT token")
        value = bool(obj)
        c = self.constraint
        if c is not None and c.value is not None and value != c.value:
            raise Violation(f"This boolean can only be {c.value}")
        self.value = value

    def receiveClose(self) -> object:
        if self.value is None:
            raise BananaError("boolean sequence without a value")
        return self.value

    def describe(self) -> str:
        return "<bool>"


class NoneUnslicer(LeafUnslicer):
    """``None``: an empty sequence."""

    opentype = ("none",)

    def checkToken(self, typebyte: int, size: int) -> None:
        raise BananaError("NoneUnslicer does not accept any tokens")

    def receiveClose(self) -> object:
        return None

    def describe(self) -> str:
        return "<none>"


class ReferenceUnslicer(LeafUnslicer):
    """A shared reference: one INT naming an earlier OPEN of this message."""

    opentype = ("reference",)
    constraint: Constraint | None = None
    finished = False
    obj: object = None

    def setConstraint(self, constraint: Constraint | None) -> None:
        self.constraint = constraint

    def checkToken(self, typebyte: int, size: int) -> None:
        if typebyte != INT:
            raise BananaError("ReferenceUnslicer only accepts INTs")
        if self.finished:
            raise BananaError("ReferenceUnslicer only accepts one int")

    def receiveChild(self, obj: object) -> None:
        if self.finished or type(obj) is not int:
            raise BananaError("ReferenceUnslicer only accepts one int")
        self.obj = self.decoder.getObject(obj)
        self.finished = True
        if self.constraint is not None and type(self.obj) is not Pending:
            self.constraint.checkObject(self.obj, True)

    def receiveClose(self) -> object:
        if not self.finished:
            raise BananaError("reference sequence without a number")
        return self.obj

    def describe(self) -> str:
        return "<reference>"


class VocabMarker:
    """What the vocabulary sequences produce; the root drops it."""


class ReplaceVocabUnslicer(LeafUnslicer):
    """``set-vocab``: INT/STRING pairs replacing the inbound vocabulary; the decoder's
    vocabulary limits are checked as each entry arrives (BananaError past them)."""

    opentype = ("set-vocab",)
    valueConstraint: Constraint = ByteStringConstraint(100)

    def setConstraint(self, constraint: Constraint | None) -> None:
        c = select_for(constraint, ByteStringConstraint)
        if c is not None:
            self.valueConstraint = c

    def start(self, count: int) -> None:
        self.d: dict[int, bytes] = {}
        self.key: int | None = None
        self.size = 0  # the bytes of the words so far

    def checkToken(self, typebyte: int, size: int) -> None:
        if self.key is None:
            if typebyte != INT:
                raise BananaError("VocabUnslicer only accepts INT keys")
            self.decoder.checkIncomingVocabulary(len(self.d) + 1, self.size)
        else:
            if typebyte != STRING:
                raise BananaError("VocabUnslicer only accepts STRING values")
            self.valueConstraint.checkToken(typebyte, size)
            self.decoder.checkIncomingVocabulary(len(self.d) + 1, self.size + size)

    def receiveChild(self, obj: object) -> None:
        if self.key is None:
            if type(obj) is not int:
                raise BananaError("VocabUnslicer only accepts INT keys")
            if obj in self.d:
                raise BananaError(f"duplicate key {short_repr(obj)}")
            self.key = obj
        else:
            if type(obj) is not bytes:
                raise BananaError("VocabUnslicer only accepts STRING values")
            self.d[self.key] = obj
            self.size += len(obj)
            self.key = None

    def receiveClose(self) -> object:
        if self.key is not None:
            raise BananaError("sequence ended early: got key but not value")
        self.decoder.replaceIncomingVocabulary(self.d)
        return _VOCAB_MARKER

    def describe(self) -> str:
        return "<vocabdict>" if self.key is None else f"<vocabdict>[{self.key}]"


class AddVocabUnslicer(LeafUnslicer):
    """``add-vocab``: one INT and one STRING added to the inbound vocabulary."""

    opentype = ("add-vocab",)
    index: int | None = None
    value: bytes | None = None
    valueConstraint: Constraint = ByteStringConstraint(100)

    def checkToken(self, typebyte: int, size: int) -> None:
        if self.index is None:
            if typebyte != INT:
                raise BananaError("Vocab key must be an INT")
        elif self.value is None:
            if typebyte != STRING:
                raise BananaError("Vocab value must be a STRING")
            self.valueConstraint.checkToken(typebyte, size)
        else:
            raise Violation("add-vocab only accepts two values")

    def receiveChild(self, obj: object) -> None:
        if self.index is None:
            if type(obj) is not int:
                raise BananaError("Vocab key must be an INT")
            self.index = obj
        elif self.value is None:
            if type(obj) is not bytes:
                raise BananaError("Vocab value must be a STRING")
            self.value = obj
        else:
            raise Violation("add-vocab only accepts two values")

    def receiveClose(self) -> object:
        if self.index is None or self.value is None:
            raise BananaError("sequence ended too early")
        self.decoder.addIncomingVocabulary(self.index, self.value)
        return _VOCAB_MARKER

    def describe(self) -> str:
        return "<add-vocab>" if self.index is None else f"<add-vocab>[{self.index}]"


_VOCAB_MARKER = VocabMarker()
