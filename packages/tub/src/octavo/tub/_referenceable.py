"""Referenceable (local objects callable by reference) and RemoteReference (their proxies).

A Referenceable crosses a connection by reference: the far end gets a
RemoteReference whose ``callRemote`` runs ``remote_<name>`` here. How references are
numbered, counted and released on the wire is the connection's business
(``_wire/_references.py``); these are the objects users hold.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from twisted.internet.defer import Deferred, fail, maybeDeferred, succeed
from zope.interface import implementer  # type: ignore[import-untyped,unused-ignore]

from octavo.banana import register_constraint_shorthand
from octavo.furl import SturdyRef, decode_furl
from octavo.reconnector import ClockLike

from ._errors import (
    BadArgumentsError,
    DeadReferenceError,
    NoLocationError,
    UnknownMethodError,
    Violation,
)
from ._eventual import queue_for
from ._schema._interface import getRemoteInterface, remote_method_name
from ._schema._ipb import IReferenceable, IRemoteReference
from ._schema._refs import RemoteInterfaceConstraint
from ._wire._admission import accepts_any_arguments

if TYPE_CHECKING:
    from twisted.internet.interfaces import IAddress

    from ._broker._roles import ProxyBroker
    from ._wire._references import RemoteReferenceTracker

__all__ = [
    "IReferenceable",
    "IRemoteReference",
    "LocalReferenceable",
    "OnlyReferenceable",
    "Referenceable",
    "RemoteMethodReference",
    "RemoteReference",
    "RemoteReferenceOnly",
]


_UNKNOWN: Any = object()
_P = ParamSpec("_P")
_R = TypeVar("_R")


@implementer(IReferenceable)
class OnlyReferenceable:
    """Sendable by reference, with an identity (``processUniqueID``)."""

    def processUniqueID(self) -> int:
        """A value unique among live objects of this process (``id(self)``)."""
        return id(self)


class Referenceable(OnlyReferenceable):
    """Base class for objects whose ``remote_*`` methods can be called from afar."""

    #: the RemoteInterface found by :meth:`getInterface` (_UNKNOWN: not looked up yet)
    _interface: Any = _UNKNOWN

    def getInterface(self) -> Any:
        """The RemoteInterface this object provides (``@implementer(RIFoo)``), or None."""
        iface = self._interface
        if iface is _UNKNOWN:
            iface = getRemoteInterface(self)
            with suppress(AttributeError):  # __slots__: look it up each time
                self._interface = iface
        return iface

    def getInterfaceName(self) -> str | None:
        """The name of :meth:`getInterface`, sent with the first my-reference."""
        iface = self.getInterface()
        return getattr(iface, "__remote_name__", None) if iface is not None else None

    def getMethodSchema(self, methodname: str) -> Any:
        """The schema inbound calls of ``methodname`` obey: None without a
        RemoteInterface; Violation if the RemoteInterface has no such method."""
        iface = self._interface  # (asked for every inbound call: no call when known)
        if iface is _UNKNOWN:
            iface = self.getInterface()
        if iface is None:
            return None
        schema = iface.get(methodname)
        if schema is None or not hasattr(schema, "checkAllArgs"):
            raise Violation(f"method '{methodname}' not defined in {iface.__remote_name__}")
        return schema

    @accepts_any_arguments
    def getArgumentConstraint(self, methodname: str, which: int | str) -> Any:
        """The constraint for one inbound argument (position or keyword) of a method.

        Called by the inbound call decoder as each argument arrives. The default,
        None, accepts any value (the connection's own size and depth limits still
        apply). Asked only when the method has no schema (:meth:`getMethodSchema`):
        override it to check a Referenceable's arguments without a RemoteInterface.
        """
        return None

    def doRemoteCall(self, methodname: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Run ``remote_<methodname>(*args, **kwargs)``.

        Raises UnknownMethodError (an AttributeError) if there is no such method, and
        BadArgumentsError (a TypeError) if the arguments do not fit its signature.
        """
        meth = getattr(self, "remote_" + methodname, None)
        if meth is None or not callable(meth):
            raise UnknownMethodError(f"{type(self).__name__} has no remote method {methodname!r}")
        try:
            return meth(*args, **kwargs)
        except TypeError as e:
            tb = e.__traceback__
            if tb is not None and tb.tb_next is None:
                # raised by the call itself, before the method's first line ran
                raise BadArgumentsError(f"remote_{methodname}: {e}") from None
            raise


@implementer(IRemoteReference)
class RemoteReferenceOnly:
    """A reference to an object on the far end of a live connection."""

    def __init__(self, tracker: RemoteReferenceTracker) -> None:
        self.tracker = tracker

    @property
    def _broker(self) -> ProxyBroker:
        broker: ProxyBroker = self.tracker.broker
        return broker

    def getSturdyRef(self) -> SturdyRef:
        """The object's FURL as an ``octavo.furl.SturdyRef``.

        Raises NoLocationError if the far Tub sent it without a FURL (a Tub with no
        location); Foolscap returns a SturdyRef whose ``url`` is None instead.
        """
        url = self.tracker.getURL()
        if not url:
            raise NoLocationError("this object was sent by a Tub with no location: it has no FURL")
        return SturdyRef(url)

    def getRemoteTubID(self) -> str:
        """The TubID of the Tub holding the object."""
        rt = self._broker.remote_tubref
        if rt is None:
            raise DeadReferenceError("no remote TubID known for this connection")
        return rt.getTubID()

    def getRemoteInterfaceName(self) -> str | None:
        """The RemoteInterface name the far object announced (None: none)."""
        name: str | None = self.tracker.interfaceName
        return name

    def getPeer(self) -> IAddress:
        """The transport address of the far end (a LoopbackAddress for ourselves)."""
        return self._broker.getPeer()

    def isConnected(self) -> bool:
        """False once the connection is known to be lost."""
        return not self._broker.disconnected

    def getLocationHints(self) -> list[str]:
        """The connection hints of the object's FURL ([] if it has none)."""
        url = self.tracker.getURL()
        return decode_furl(url)[1] if url else []

    def getConnectionInfo(self) -> Any:
        """The connection-info object the Tub gave the Broker."""
        return self._broker.getConnectionInfo()

    def getDataLastReceivedAt(self) -> float | None:
        """When data last arrived on this connection (None without keepalives)."""
        return self._broker.getDataLastReceivedAt()

    def notifyOnDisconnect(self, callback: Callable[..., object], *args: Any, **kwargs: Any) -> Any:
        """Run ``callback(*args, **kwargs)`` (eventually) when the connection is lost.

        Returns a marker for :meth:`dontNotifyOnDisconnect`.
        """
        return self._broker.notifyOnDisconnect(callback, *args, **kwargs)

    def dontNotifyOnDisconnect(self, marker: Any) -> None:
        """Cancel a :meth:`notifyOnDisconnect` (harmless if already fired)."""
        self._broker.dontNotifyOnDisconnect(marker)

    def when_writable(self) -> Deferred[None]:
        """A Deferred that fires once the connection takes more: at once, unless what
        we send it waits in a send buffer past its high-water mark (the peer reads
        slower than we write). Calls made meanwhile are queued, not refused; bulk
        senders wait on this between calls. Fires too if the connection is lost."""
        return self._broker.flow.when_writable()

    def __repr__(self) -> str:
        r = f"<{type(self).__name__} at 0x{abs(id(self)):x}"
        if self.tracker.url:
            r += f" [{self.tracker.url}]"
        return r + ">"


class RemoteReference(RemoteReferenceOnly):
    """A callable reference: ``callRemote`` / ``callRemoteOnly``."""

    def callRemote(self, _name: str, /, *args: Any, **kwargs: Any) -> Deferred[Any]:
        """Call ``remote_<_name>`` on the far object; a Deferred of the result.

        Every failure, even a local one (dead connection, unsendable argument), is
        reported through the Deferred.
        """
        try:
            broker: ProxyBroker = self.tracker.broker  # (self._broker, one call less)
            d = broker.callRemote(self, _name, args, kwargs, False)
        except BaseException:
            return fail()
        assert d is not None
        return d

    def callRemoteOnly(self, _name: str, /, *args: Any, **kwargs: Any) -> None:
        """Call without asking for an answer; failures (even a dead connection) vanish."""
        d = maybeDeferred(self._broker.callRemote, self, _name, args, kwargs, True)
        d.addErrback(lambda _f: None)

    def call(
        self, method: Callable[Concatenate[Any, _P], _R], /, *args: _P.args, **kwargs: _P.kwargs
    ) -> Deferred[_R]:
        """The typed ``callRemote``: ``rref.call(RIFoo.add, 1, 2)`` is a ``Deferred[int]``
        when RIFoo declares ``def add(self, a: int, b: int) -> int``, and a type checker
        checks the arguments against that declaration (as the schema does at run time)."""
        return self.callRemote(remote_method_name(method), *args, **kwargs)

    #: the method name every call sends, whatever name it is given (None: that name)
    _fixed_method_name: str | None = None


class RemoteMethodReference(RemoteReference):
    """A reference to a single remote callable (a bound method or function sent to us)."""

    def callRemote(self, *args: Any, **kwargs: Any) -> Deferred[Any]:
        """Call the remote callable with keyword arguments only (Foolscap's rule)."""
        if args:
            return maybeDeferred(_positional_refused)
        return RemoteReference.callRemote(self, "", **kwargs)

    def callRemoteOnly(self, *args: Any, **kwargs: Any) -> None:
        """Call without an answer, keyword arguments only."""
        if args:
            return
        RemoteReference.callRemoteOnly(self, "", **kwargs)

    _fixed_method_name = ""


@implementer(IRemoteReference)
class LocalReferenceable:
    """Gives a local Referenceable the RemoteReference calling API (Foolscap's adapter).

    ``callRemote`` runs ``remote_<name>`` on a later turn and returns a Deferred, so
    code can treat local and remote objects alike. Local objects never disconnect.
    """

    def __init__(self, original: Any, *, clock: ClockLike | None = None) -> None:
        self.original = original
        self._clock = clock

    def callRemote(self, _name: str, /, *args: Any, **kwargs: Any) -> Deferred[Any]:
        """Call ``remote_<_name>`` eventually; a Deferred of the result."""

        def _call(_: object) -> Any:
            return getattr(self.original, "remote_" + _name)(*args, **kwargs)

        return queue_for(self._clock).fireEventually(None).addCallback(_call)

    def call(
        self, method: Callable[Concatenate[Any, _P], _R], /, *args: _P.args, **kwargs: _P.kwargs
    ) -> Deferred[_R]:
        """The typed ``callRemote`` (see :meth:`RemoteReference.call`)."""
        return self.callRemote(remote_method_name(method), *args, **kwargs)

    def callRemoteOnly(self, _name: str, /, *args: Any, **kwargs: Any) -> None:
        """Call eventually and ignore the outcome."""
        self.callRemote(_name, *args, **kwargs).addErrback(lambda _f: None)

    def notifyOnDisconnect(
        self, callback: Callable[..., object], *args: Any, **kwargs: Any
    ) -> None:
        """Local objects never disconnect: nothing to register."""
        return

    def dontNotifyOnDisconnect(self, marker: Any) -> None:
        """Nothing was registered."""

    def when_writable(self) -> Deferred[None]:
        """A local object always takes more: fires at once."""
        return succeed(None)


def _positional_refused() -> None:
    raise TypeError("a RemoteMethodReference takes keyword arguments only")


# ``Referenceable`` as an argument type: any reference (Foolscap's shorthand)
register_constraint_shorthand(Referenceable, lambda: RemoteInterfaceConstraint(None))
