"""Starting and stopping the viewer: its source, its store, its web site, its port."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from twisted.internet import defer
from twisted.internet.endpoints import TCP4ServerEndpoint, TCP6ServerEndpoint
from twisted.internet.interfaces import IListeningPort
from twisted.web.server import Site

from octavo.logging._events import format_message
from octavo.logging._flogfile import FlogFileError, read_flogfile
from octavo.logging._follower import ReconnectingFollower
from octavo.tub import Tub

from ._access import AccessError, AccessPolicy, choose_policy, viewer_url
from ._follow import FileFollower, load_records
from ._resources import ViewerResource
from ._store import DEFAULT_LIMIT, EventStore
from ._tail import FlogTail, TailError

#: Seconds before the first try to reach a log port that went away, and the most between tries.
RECONNECT_DELAY = 1.0
RECONNECT_MAX_DELAY = 30.0
#: Refuses every request: the policy in force until the port (and so the Host) is known.
DENY_ALL = AccessPolicy(None, frozenset())


class ViewerError(Exception):
    """The viewer cannot start: bad source, bad option, port taken; the message says which."""


def is_furl(source: str) -> bool:
    """True when *source* names a log port (a FURL) rather than a file."""
    return source.startswith("pb://")


@dataclass
class ViewerOptions:
    """What ``octavo-log web-viewer`` was asked for."""

    source: str
    interface: str = "127.0.0.1"
    port: int = 0
    token: str | None = None
    follow: bool = False
    catch_up: bool = False
    limit: int = DEFAULT_LIMIT


@dataclass
class RunningViewer:
    """A viewer serving on a port; ``stop()`` ends its source, its streams and the port."""

    url: str
    store: EventStore
    resource: ViewerResource
    port: IListeningPort
    _stoppers: list[Callable[[], object]] = field(default_factory=list)

    def stop(self) -> defer.Deferred[None]:
        """Stop following the source, end the streams, stop listening."""
        return defer.Deferred.fromCoroutine(self._stop())

    async def _stop(self) -> None:
        stoppers, self._stoppers = self._stoppers, []
        for stopper in reversed(stoppers):
            await defer.maybeDeferred(stopper)
        self.resource.close()
        port: Any = self.port
        await defer.maybeDeferred(port.stopListening)


def check_options(options: ViewerOptions) -> None:
    """Refuse contradictory options before anything starts (ViewerError)."""
    if options.follow and is_furl(options.source):
        raise ViewerError("--follow is for a growing file; a FURL is always followed")
    if options.catch_up and not is_furl(options.source):
        raise ViewerError("--catch-up is for a FURL source, not a file")
    if not 0 <= options.port <= 65535:
        raise ViewerError(f"--port {options.port} is not a TCP port number")
    if options.limit < 1:
        raise ViewerError(f"--max-events {options.limit} must be at least 1")
    try:
        choose_policy(options.interface, options.port, options.token)
    except AccessError as exc:
        raise ViewerError(str(exc)) from None


def load_file(options: ViewerOptions, store: EventStore) -> FlogTail | None:
    """Read the flogfile into *store* now; returns the tail to follow it with, if asked."""
    path = options.source
    if not os.path.isfile(path):
        raise ViewerError(f"{path}: no such flogfile")
    try:
        if not options.follow:
            records = read_flogfile(path, on_error=lambda err: store.reject(str(err)))
            load_records(store, records)
            return None
        tail = FlogTail(path)
        load_records(store, tail.read())
    except (TailError, FlogFileError) as exc:
        raise ViewerError(str(exc)) from None
    except OSError as exc:
        raise ViewerError(f"{path}: {exc.strerror or exc}") from None
    return tail


def _endpoint(reactor: Any, interface: str, port: int) -> Any:
    endpoint = TCP6ServerEndpoint if ":" in interface else TCP4ServerEndpoint
    return endpoint(reactor, port, interface=interface)  # type: ignore[no-untyped-call,unused-ignore]


def site(resource: ViewerResource) -> Any:
    """The twisted.web Site serving *resource*; an error never shows a traceback."""
    served = Site(resource)  # type: ignore[no-untyped-call,unused-ignore]
    served.displayTracebacks = False
    return served


async def start_viewer(reactor: Any, options: ViewerOptions) -> RunningViewer:
    """Load or follow the source, listen, and return the running viewer (or ViewerError)."""
    check_options(options)
    store = EventStore(format_message, options.limit)
    live = options.follow or is_furl(options.source)
    resource = ViewerResource(store, DENY_ALL, source=options.source, live=live)
    stoppers: list[Callable[[], object]] = []
    try:
        if is_furl(options.source):
            stoppers.extend(await _follow_furl(reactor, options, resource))
        else:
            tail = load_file(options, store)
            if tail is not None:
                follower = FileFollower(reactor, tail, store)
                follower.start()
                stoppers.append(follower.stop)
        try:
            port = await _endpoint(reactor, options.interface, options.port).listen(site(resource))
        except Exception as exc:
            where = f"{options.interface}:{options.port}"
            raise ViewerError(f"cannot listen on {where}: {exc}") from None
    except BaseException:
        for stopper in reversed(stoppers):
            await defer.maybeDeferred(stopper)
        resource.close()
        raise
    number = port.getHost().port
    resource.policy = choose_policy(options.interface, number, options.token)
    url = viewer_url(options.interface, number, resource.policy.token)
    return RunningViewer(url, store, resource, port, stoppers)


async def _follow_furl(
    reactor: Any, options: ViewerOptions, resource: ViewerResource
) -> list[Callable[[], object]]:
    """Follow the log port, reconnecting when it goes away and comes back (same FURL);
    the page's status says how it is going. Returns what stops the follower and the Tub."""
    store = resource.store

    def on_event(tubid: str, event: dict[str, Any]) -> None:
        store.add({"from": tubid, "rx_time": time.time(), "d": event})

    def on_connected(pid: int | None, versions: dict[str, str]) -> None:
        store.add({"header": {"type": "log-port", "pid": pid, "versions": versions}})

    tub = Tub()
    tub.startService()
    follower: ReconnectingFollower | None = None
    try:
        follower = ReconnectingFollower(
            tub,
            options.source,
            on_event,
            catch_up=options.catch_up,
            on_connected=on_connected,
            on_state=resource.set_state,
            clock=reactor,
            initial_delay=RECONNECT_DELAY,
            max_delay=RECONNECT_MAX_DELAY,
        )
        await follower.start()
    except Exception as exc:
        if follower is not None:
            await follower.stop()
        await defer.maybeDeferred(tub.stopService)
        raise ViewerError(f"cannot follow {options.source}: {exc}") from None
    return [tub.stopService, follower.stop]
