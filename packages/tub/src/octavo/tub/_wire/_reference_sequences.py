"""The reference sequences: ``my-reference``, ``your-reference``, ``their-reference``.

Outbound (slicers):

- one of our objects -> ``my-reference``: its clid, and on its first trip its
  interface name and FURL (a bound method or function gets a negative clid);
- a proxy to an object of the far end -> ``your-reference``: its clid, back home;
- a proxy to an object of a third Tub -> ``their-reference``: a gift id and the
  object's FURL (the far end connects there itself and acknowledges the gift).

Inbound (unslicers) they become a proxy, our own object, or (after the gift has
been resolved by the connection's owner) a proxy to the third Tub's object.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from octavo.banana import INT, NEG, STRING, VOCAB, LeafUnslicer, Pending, SliceContext
from octavo.tub._errors import BananaError, Violation

if TYPE_CHECKING:
    from ._context import WireConnection

__all__ = [
    "MAX_INTERFACE_NAME",
    "MAX_URL",
    "GiftAcceptor",
    "MyReferenceUnslicer",
    "TheirReferenceUnslicer",
    "YourReferenceUnslicer",
    "slice_callable",
    "slice_referenceable",
    "slice_remote_reference",
]

MAX_INTERFACE_NAME = 1000
MAX_URL = 10_000

_Sliced = tuple[tuple[str, ...], Iterable[object]]
_MY_OT = ("my-reference",)
_YOUR_OT = ("your-reference",)
_THEIR_OT = ("their-reference",)


def _conn(ctx: SliceContext) -> WireConnection:
    conn: WireConnection = ctx.context  # type: ignore[assignment]
    return conn


# ============================================================== outbound


def _referenceable_body(conn: WireConnection, obj: Any) -> Iterator[object]:
    tracker = conn.my_references.tracker_for(obj, obj.processUniqueID())
    yield tracker.clid
    if tracker.send():
        iname = obj.getInterfaceName() or ""
        yield iname.encode("utf-8")
        url = tracker.getURL()
        if url:
            yield url.encode("utf-8")


def slice_referenceable(obj: Any, ctx: SliceContext) -> _Sliced:
    """One of our Referenceables."""
    return _MY_OT, _referenceable_body(_conn(ctx), obj)


def _callable_body(conn: WireConnection, obj: Any) -> Iterator[object]:
    tracker = conn.my_references.tracker_for(obj, id(obj), callable_=True)
    yield tracker.clid
    if tracker.send():
        yield b""  # no schema name
        url = tracker.getURL()
        if url:
            yield url.encode("utf-8")


def slice_callable(obj: Any, ctx: SliceContext) -> _Sliced:
    """A bound method or a function of ours."""
    return _MY_OT, _callable_body(_conn(ctx), obj)


def slice_remote_reference(rref: Any, ctx: SliceContext) -> _Sliced:
    """A proxy: home (``your-reference``) or on to a third Tub (``their-reference``)."""
    conn = _conn(ctx)
    tracker = rref.tracker
    if tracker.connection is conn:
        return _YOUR_OT, (tracker.clid,)
    if tracker.connection.closed:
        raise Violation("cannot send a RemoteReference whose connection is lost")
    furl = tracker.getURL()
    if not furl:
        raise Violation("cannot pass on a RemoteReference that has no FURL (gift impossible)")
    gift_id = conn.gifts.make(rref)
    return _THEIR_OT, (gift_id, furl.encode("utf-8"))


# ============================================================== inbound


class MyReferenceUnslicer(LeafUnslicer):
    """``my-reference``: clid [, interface name [, FURL]] -> a proxy."""

    opentype = _MY_OT

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
        conn: WireConnection = self.decoder.context
        try:
            tracker = conn.their_references.tracker_for(self.clid, self.interfaceName, self.url)
        except ValueError as e:  # a malformed FURL
            raise Violation(f"my-reference carries a bad FURL: {e}") from None
        return tracker.getRef()

    def describe(self) -> str:
        return f"<ref-{self.clid if self.clid is not None else '?'}>"


class YourReferenceUnslicer(LeafUnslicer):
    """``your-reference``: clid -> our own object, back home."""

    opentype = _YOUR_OT

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
        conn: WireConnection = self.decoder.context
        return conn.my_references.lookup(self.clid)

    def describe(self) -> str:
        return f"<your-ref-{self.clid}>"


class GiftAcceptor(Protocol):
    """What a ``their-reference`` asks of the decoder's context."""

    def accept_gift(self, giftID: int, url: str, where: TheirReferenceUnslicer) -> Pending:
        """A Pending for the reference ``url`` names (Violation if gifts are refused)."""
        ...


class TheirReferenceUnslicer(LeafUnslicer):
    """``their-reference``: giftID, FURL -> a reference to a third Tub's object."""

    opentype = _THEIR_OT

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
        acceptor: GiftAcceptor = self.decoder.context
        return acceptor.accept_gift(self.giftID, self.url, self)

    def describe(self) -> str:
        return f"<gift-{self.giftID if self.giftID is not None else '?'}>"
