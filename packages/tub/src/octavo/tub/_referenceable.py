"""Referenceable (local objects callable by reference) and RemoteReference (their proxies).

A Referenceable crosses a connection as a ``my-reference`` sequence carrying a
connection-local id (clid); the receiving Broker turns it into a RemoteReference.
Sending that RemoteReference back home yields a ``your-reference`` and the original
object. Reference counts follow Foolscap: the sender counts every transmission, the
receiver counts every reception and, when its RemoteReference is garbage collected,
sends ``decref(clid, count)`` to clid 0 (the far Broker); the sender forgets the
object when its count reaches zero.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from twisted.internet.defer import Deferred, fail, maybeDeferred
from zope.interface import Interface, implementer  # type: ignore[import-untyped,unused-ignore]

from octavo.furl import SturdyRef, decode_furl
from octavo.reconnector import ClockLike

from ._errors import BananaError, DeadReferenceError, NoLocationError, Violation
from ._eventual import queue_for

if TYPE_CHECKING:
    from twisted.internet.interfaces import IAddress

    from ._broker._broker import Broker

__all__ = [
    "IReferenceable",
    "IRemoteReference",
    "LocalReferenceable",
    "OnlyReferenceable",
    "PendingRequest",
    "Referenceable",
    "ReferenceableTracker",
    "RemoteMethodReference",
    "RemoteReference",
    "RemoteReferenceOnly",
    "RemoteReferenceTracker",
]

#: longest method name we accept from the wire
MAX_METHOD_NAME = 1000


class IReferenceable(Interface):  # type: ignore[misc]
    """Sent by reference: the far end gets a RemoteReference."""


class IRemoteReference(Interface):  # type: ignore[misc]
    """A proxy for an object living in another Tub."""


@implementer(IReferenceable)
class OnlyReferenceable:
    """Sendable by reference, with an identity (``processUniqueID``)."""

    def processUniqueID(self) -> int:
        """A value unique among live objects of this process (``id(self)``)."""
        return id(self)


class Referenceable(OnlyReferenceable):
    """Base class for objects whose ``remote_*`` methods can be called from afar."""

    def getInterface(self) -> Any:
        """The RemoteInterface this object provides (schemas: a later issue; None)."""
        return None

    def getInterfaceName(self) -> str | None:
        """The name of :meth:`getInterface`, sent with the first my-reference."""
        iface = self.getInterface()
        return getattr(iface, "__remote_name__", None) if iface is not None else None

    def getArgumentConstraint(self, methodname: str, which: int | str) -> Any:
        """The constraint for one inbound argument (position or keyword) of a method.

        Called by the inbound call decoder as each argument arrives. The default,
        None, accepts any value (the connection's own size and depth limits still
        apply). RemoteInterface schemas will override this.
        """
        return None

    def doRemoteCall(self, methodname: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Run ``remote_<methodname>(*args, **kwargs)``."""
        meth = getattr(self, "remote_" + methodname, None)
        if meth is None or not callable(meth):
            raise AttributeError(f"{type(self).__name__} has no remote method {methodname!r}")
        return meth(*args, **kwargs)


class ReferenceableTracker:
    """Our side of one of our Referenceables that the far end holds.

    ``refcount`` is the number of times we sent it minus what the far end decref'd.
    """

    __slots__ = ("clid", "obj", "puid", "refcount", "tub")

    def __init__(self, tub: Any, obj: Any, puid: int, clid: int) -> None:
        self.tub = tub
        self.obj = obj
        self.puid = puid
        self.clid = clid
        self.refcount = 0

    def send(self) -> bool:
        """Count one transmission; True on the first one (send interface name + URL)."""
        self.refcount += 1
        return self.refcount == 1

    def getURL(self) -> str | None:
        """The FURL of the object, if our Tub has (or now makes) one."""
        if self.tub is None:
            return None
        url = self.tub.getOrCreateURLForReference(self.obj)
        return url if isinstance(url, str) else None

    def decref(self, count: int) -> bool:
        """Apply a decref from the far end; True when the count reaches zero."""
        if count <= 0 or count > self.refcount:
            raise Violation(f"decref({count}) of clid {self.clid} but refcount is {self.refcount}")
        self.refcount -= count
        return self.refcount == 0


class RemoteReferenceTracker:
    """Our side of an object of the far end: clid, URL, and a weakref to the proxy."""

    ref_class: type[RemoteReference]

    def __init__(
        self, broker: Broker, clid: int, url: str | None, interfaceName: str | None
    ) -> None:
        self.broker = broker
        self.clid = clid
        self.url = url
        if url is not None:
            expected = broker.remote_tubref.getTubID() if broker.remote_tubref else None
            claimed = _tubid_of(url)
            if expected is not None and claimed != expected:
                raise BananaError(f"inbound reference claims bad tubid, {expected} vs {claimed}")
        self.interfaceName = interfaceName
        self.interface = None
        self.received_count = 0
        self.ref: weakref.ref[RemoteReference] | None = None

    def __repr__(self) -> str:
        return f"<RemoteReferenceTracker(clid={self.clid},url={self.url})>"

    def getURL(self) -> str | None:
        """The FURL the far end sent for this object, if any."""
        return self.url

    def getRef(self) -> RemoteReference:
        """The proxy (made if needed); counts one reception."""
        ref = self.ref() if self.ref is not None else None
        if ref is None:
            ref = self._make_ref()
            self.ref = weakref.ref(ref, self._refLost)
        self.received_count += 1
        return ref

    def _make_ref(self) -> RemoteReference:
        if self.clid < 0:
            return RemoteMethodReference(self)
        return RemoteReference(self)

    def _refLost(self, wref: object) -> None:
        # weakref callbacks run at awkward moments: act on a later turn
        self.broker.eventually(self._handleRefLost)

    def _handleRefLost(self) -> None:
        if self.ref is None or self.ref() is None:
            count, self.received_count = self.received_count, 0
            if count:
                self.broker.freeYourReference(self, count)


def _tubid_of(url: str) -> str:
    """The TubID named by a FURL (``pb://TUBID@hints/name``)."""
    return decode_furl(url)[0]


class PendingRequest:
    """A call we sent that waits for its answer (Foolscap's PendingRequest)."""

    def __init__(
        self, reqID: int, rref: RemoteReference | None, interface_name: str | None, method: str
    ) -> None:
        self.reqID = reqID
        self.rref = rref  # keeps the target's proxy alive until answered
        self.broker: Broker | None = None
        self.deferred: Deferred[Any] = Deferred()
        self.constraint: Any = None
        self.interfaceName = interface_name
        self.methodName = method
        self.active = True

    def getMethodNameInfo(self) -> tuple[str | None, str]:
        """(interface name, method name), for error messages."""
        return self.interfaceName, self.methodName

    def complete(self, res: object) -> None:
        """The answer arrived."""
        broker = self.broker
        if broker is not None:
            broker.waitingForAnswers.pop(self.reqID, None)
        if self.active:
            self.active = False
            self.deferred.callback(res)

    def fail(self, why: Any) -> None:
        """The call failed (error answer, violation, or lost connection)."""
        if not self.active:
            return
        if self.broker is not None:
            self.broker.removeRequest(self)
            self.broker.logRemoteFailure(self, why)
        self.active = False
        self.deferred.errback(why)


@implementer(IRemoteReference)
class RemoteReferenceOnly:
    """A reference to an object on the far end of a live connection."""

    def __init__(self, tracker: RemoteReferenceTracker) -> None:
        self.tracker = tracker

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
        rt = self.tracker.broker.remote_tubref
        if rt is None:
            raise DeadReferenceError("no remote TubID known for this connection")
        return rt.getTubID()

    def getPeer(self) -> IAddress:
        """The transport address of the far end (a LoopbackAddress for ourselves)."""
        return self.tracker.broker.getPeer()

    def isConnected(self) -> bool:
        """False once the connection is known to be lost."""
        return not self.tracker.broker.disconnected

    def getLocationHints(self) -> list[str]:
        """The connection hints of the object's FURL ([] if it has none)."""
        url = self.tracker.getURL()
        return decode_furl(url)[1] if url else []

    def getConnectionInfo(self) -> Any:
        """The connection-info object the Tub gave the Broker."""
        return self.tracker.broker.getConnectionInfo()

    def getDataLastReceivedAt(self) -> float | None:
        """When data last arrived on this connection (None without keepalives)."""
        return self.tracker.broker.getDataLastReceivedAt()

    def notifyOnDisconnect(self, callback: Callable[..., object], *args: Any, **kwargs: Any) -> Any:
        """Run ``callback(*args, **kwargs)`` (eventually) when the connection is lost.

        Returns a marker for :meth:`dontNotifyOnDisconnect`.
        """
        return self.tracker.broker.notifyOnDisconnect(callback, *args, **kwargs)

    def dontNotifyOnDisconnect(self, marker: Any) -> None:
        """Cancel a :meth:`notifyOnDisconnect` (harmless if already fired)."""
        self.tracker.broker.dontNotifyOnDisconnect(marker)

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
            d = self.tracker.broker.callRemote(self, _name, args, kwargs, False)
        except BaseException:
            return fail()
        assert d is not None
        return d

    def callRemoteOnly(self, _name: str, /, *args: Any, **kwargs: Any) -> None:
        """Call without asking for an answer; failures (even a dead connection) vanish."""
        d = maybeDeferred(self.tracker.broker.callRemote, self, _name, args, kwargs, True)
        d.addErrback(lambda _f: None)

    def _method_name(self, name: str) -> str:
        return name


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

    def _method_name(self, name: str) -> str:
        return ""


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


def _positional_refused() -> None:
    raise TypeError("a RemoteMethodReference takes keyword arguments only")


RemoteReferenceTracker.ref_class = RemoteReference
