"""The reference tables of one connection: ours the far end holds, theirs we hold, gifts.

A Referenceable crosses a connection as a ``my-reference`` sequence carrying a
connection-local id (clid, positive for objects, negative for bare callables); the
receiving end turns it into a proxy (a RemoteReference). Sending that proxy back
home yields a ``your-reference`` and the original object. Reference counts follow
Foolscap: the sender counts every transmission, the receiver counts every
reception and, once its proxy is garbage collected, sends ``decref(clid, count)``
to clid 0 (the far end's own methods); the sender forgets the object when its
count reaches zero. clids only grow, so a forgotten or revoked clid never names
another object.

A proxy sent on to a third Tub travels as a ``their-reference`` (a gift): its FURL
and a gift id, counted here until the far end says with ``decgift`` that it has
resolved (or given up on) each copy.

Nothing here does I/O: the proxies are made by a factory the owner of the
connection supplies, and the loss of a proxy is reported to a callback.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable
from typing import Any

from octavo.furl import decode_furl
from octavo.tub._errors import BananaError, Violation

__all__ = [
    "DEFAULT_MAX_REFERENCES",
    "GiftTable",
    "MyReferenceTable",
    "ReferenceableTracker",
    "RemoteReferenceTracker",
    "TheirReferenceTable",
]


class ReferenceableTracker:
    """Our side of one of our objects that the far end holds.

    ``refcount`` is the number of times we sent it minus what the far end decref'd;
    ``admitted`` holds what :class:`~._admission.Admission` decided for the method
    names called on it so far (it dies with the tracker: a decref'd or revoked
    object's clid is never looked up again).
    """

    __slots__ = ("admitted", "clid", "obj", "puid", "refcount", "url_for")

    def __init__(
        self, obj: Any, puid: int, clid: int, url_for: Callable[[Any], str | None]
    ) -> None:
        self.obj = obj
        self.puid = puid
        self.clid = clid
        self.refcount = 0
        self.url_for = url_for
        self.admitted: dict[bytes, Any] = {}

    def send(self) -> bool:
        """Count one transmission; True on the first one (send interface name + URL)."""
        self.refcount += 1
        return self.refcount == 1

    def getURL(self) -> str | None:
        """The FURL of the object, if our Tub has (or now makes) one."""
        url = self.url_for(self.obj)
        return url if isinstance(url, str) else None

    def decref(self, count: int) -> bool:
        """Apply a decref from the far end; True when the count reaches zero."""
        if count <= 0 or count > self.refcount:
            raise Violation(f"decref({count}) of clid {self.clid} but refcount is {self.refcount}")
        self.refcount -= count
        return self.refcount == 0


#: default bound on the objects of ours one peer may hold references to
DEFAULT_MAX_REFERENCES = 100_000


class MyReferenceTable:
    """Our objects the far end holds, by process-unique id and by clid.

    At most ``limit`` at once: sending one more (a new one) raises Violation, so the
    call or answer carrying it fails instead of making us keep without bound.
    """

    def __init__(
        self, url_for: Callable[[Any], str | None], limit: int = DEFAULT_MAX_REFERENCES
    ) -> None:
        self._url_for = url_for
        self.limit = limit
        self._next_clid = itertools.count(1)  # 0 is the connection's own methods
        self.by_puid: dict[int, ReferenceableTracker] = {}
        self.by_clid: dict[int, ReferenceableTracker] = {}
        #: clids of objects the Tub revoked (so a call can say "revoked")
        self.revoked: set[int] = set()
        #: admissions kept on the trackers (``ReferenceableTracker.admitted``), all told
        self.kept_admissions = 0

    def tracker_for(self, obj: Any, puid: int, *, callable_: bool = False) -> ReferenceableTracker:
        """The tracker (and clid) of ``obj``, made on its first send; a bare callable
        gets a negative clid."""
        tracker = self.by_puid.get(puid)
        if tracker is None:
            if len(self.by_clid) >= self.limit:
                raise Violation(
                    f"too many of our objects held by this peer (limit {self.limit}); "
                    "it must release some (decref) first"
                )
            clid = next(self._next_clid)
            if callable_:
                clid = -clid
            tracker = ReferenceableTracker(obj, puid, clid, self._url_for)
            self.by_puid[puid] = tracker
            self.by_clid[clid] = tracker
        return tracker

    def tracker_of(self, clid: int) -> ReferenceableTracker:
        """The tracker of our object the far end names by ``clid`` (Violation if
        unknown or revoked)."""
        tracker = self.by_clid.get(clid)
        if tracker is None:
            if clid in self.revoked:
                raise Violation(
                    f"the reference (CLID {clid}) was revoked by its Tub (revokeReference); "
                    "it can no longer be called"
                )
            raise Violation(f"unknown CLID {clid}")
        return tracker

    def keep_admission(
        self, tracker: ReferenceableTracker, name: bytes, admission: Any, limit: int
    ) -> None:
        """Keep ``admission`` on ``tracker`` under ``name``, unless ``limit`` are kept
        already over all the trackers (the count this table keeps, as trackers go)."""
        if self.kept_admissions < limit:
            tracker.admitted[name] = admission
            self.kept_admissions += 1

    def lookup(self, clid: int) -> Any:
        """The object the far end names by ``clid`` (Violation if unknown or revoked)."""
        return self.tracker_of(clid).obj

    def revoke(self, obj: Any) -> None:
        """Forget ``obj``; later calls through its clids fail saying it was revoked."""
        for clid, tracker in list(self.by_clid.items()):
            if tracker.obj is obj:
                del self.by_clid[clid]
                self.by_puid.pop(tracker.puid, None)
                self.revoked.add(clid)
                self.kept_admissions -= len(tracker.admitted)

    def decref(self, clid: int, count: int) -> None:
        """The far end dropped ``count`` receptions of our object ``clid``."""
        if type(clid) is not int or type(count) is not int or clid == 0:
            raise Violation("decref needs a non-zero int clid and an int count")
        tracker = self.by_clid.get(clid)
        if tracker is None:
            return  # already gone
        if tracker.decref(count):
            del self.by_puid[tracker.puid]
            del self.by_clid[clid]
            self.kept_admissions -= len(tracker.admitted)

    def clear(self) -> None:
        """Forget everything (the connection is gone)."""
        self.by_puid = {}
        self.by_clid = {}
        self.revoked = set()
        self.kept_admissions = 0


class RemoteReferenceTracker:
    """Our side of an object of the far end: clid, FURL, and a weakref to the proxy.

    ``broker`` is the owner of the connection (what the proxies talk to);
    ``connection`` is the sans-IO connection whose table holds this tracker.
    """

    def __init__(
        self,
        table: TheirReferenceTable,
        clid: int,
        url: str | None,
        interfaceName: str | None,
    ) -> None:
        self._table = table
        self.broker: Any = table.owner
        self.connection: Any = table.connection
        self.clid = clid
        self.url = url
        if url is not None:
            expected = table.remote_tubid
            claimed = decode_furl(url)[0]
            if expected is not None and claimed != expected:
                raise BananaError(f"inbound reference claims bad tubid, {expected} vs {claimed}")
        self.interfaceName = interfaceName
        self.interface: Any = None
        self.received_count = 0
        self.ref: weakref.ref[Any] | None = None

    def __repr__(self) -> str:
        return f"<RemoteReferenceTracker(clid={self.clid},url={self.url})>"

    def getURL(self) -> str | None:
        """The FURL the far end sent for this object, if any."""
        return self.url

    def getRef(self) -> Any:
        """The proxy (made if needed); counts one reception."""
        ref = self.ref() if self.ref is not None else None
        if ref is None:
            ref = self._table.make_proxy(self)
            self.ref = weakref.ref(ref, self._ref_lost)
        self.received_count += 1
        return ref

    def _ref_lost(self, wref: object) -> None:
        self._table.proxy_lost(self)


class TheirReferenceTable:
    """The far end's objects we hold proxies for, by clid and by FURL.

    :param owner: what the proxies of this connection talk to (the Broker).
    :param connection: the connection whose table this is.
    :param remote_tubid: the far Tub's id; a FURL naming another Tub is refused.
    :param make_proxy: ``make_proxy(tracker)`` makes the proxy object.
    :param proxy_lost: called (from a weakref callback, so at any moment) when a
        proxy has been garbage collected.
    """

    def __init__(
        self,
        *,
        owner: Any,
        connection: Any,
        remote_tubid: str | None,
        make_proxy: Callable[[RemoteReferenceTracker], Any],
        proxy_lost: Callable[[RemoteReferenceTracker], object],
    ) -> None:
        self.owner = owner
        self.connection = connection
        self.remote_tubid = remote_tubid
        self.make_proxy = make_proxy
        self.proxy_lost = proxy_lost
        self.by_clid: dict[int, RemoteReferenceTracker] = {}
        self.by_url: dict[str, RemoteReferenceTracker] = {}

    def tracker_for(
        self, clid: int, interfaceName: str | None = None, url: str | None = None
    ) -> RemoteReferenceTracker:
        """The tracker for an object the far end just sent us (made if new)."""
        tracker = self.by_clid.get(clid)
        if tracker is None:
            tracker = RemoteReferenceTracker(self, clid, url, interfaceName)
            self.by_clid[clid] = tracker
            if url:
                self.by_url[url] = tracker
        return tracker

    def release(self, tracker: RemoteReferenceTracker) -> int:
        """The proxy is gone: the receptions to decref (0 if a new proxy exists)."""
        if tracker.ref is not None and tracker.ref() is not None:
            return 0
        count, tracker.received_count = tracker.received_count, 0
        return count

    def forget(self, tracker: RemoteReferenceTracker) -> None:
        """Drop a tracker once nothing refers to it any more (its decref was answered)."""
        if tracker.received_count != 0:
            return
        if self.by_clid.get(tracker.clid) is tracker:
            del self.by_clid[tracker.clid]
        if tracker.url and self.by_url.get(tracker.url) is tracker:
            del self.by_url[tracker.url]

    def clear(self) -> None:
        """Forget everything (the connection is gone)."""
        self.by_clid = {}
        self.by_url = {}


class GiftTable:
    """Their-references we sent to the far end: proxies to objects of a third Tub.

    Each entry keeps the proxy alive (so the third Tub keeps the object) until the
    far end has acknowledged every copy with ``decgift``.
    """

    def __init__(self) -> None:
        self._next_gift_id = itertools.count(1)
        #: (id of the proxy's connection, clid) -> (proxy, gift id, copies sent)
        self.gifts: dict[tuple[int, int], tuple[Any, int, int]] = {}
        self.by_gift_id: dict[int, tuple[int, int]] = {}

    def make(self, rref: Any) -> int:
        """Count one more copy of ``rref`` sent; return its gift id."""
        tracker = rref.tracker
        key = (id(tracker.connection), tracker.clid)
        old = self.gifts.get(key)
        if old is not None:
            ref, gift_id, count = old
            self.gifts[key] = (ref, gift_id, count + 1)
            return gift_id
        gift_id = next(self._next_gift_id)
        self.by_gift_id[gift_id] = key
        self.gifts[key] = (rref, gift_id, 1)
        return gift_id

    def decgift(self, giftID: int, count: int) -> None:
        """The far end resolved (or gave up on) ``count`` copies of gift ``giftID``."""
        if type(giftID) is not int or type(count) is not int or count < 1:
            raise Violation("decgift needs an int giftID and a positive int count")
        key = self.by_gift_id.get(giftID)
        if key is None:
            raise Violation(f"unknown giftID {giftID!r}")
        rref, gift_id, gift_count = self.gifts[key]
        gift_count -= count
        if gift_count <= 0:
            del self.by_gift_id[giftID]
            del self.gifts[key]
        else:
            self.gifts[key] = (rref, gift_id, gift_count)

    def clear(self) -> None:
        """Forget everything (the connection is gone)."""
        self.gifts = {}
        self.by_gift_id = {}
