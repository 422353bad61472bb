"""The thin Twisted Web layer of the viewer: access checks, routing, the SSE stream."""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files
from typing import Any

from twisted.web import resource, server

from ._access import AccessPolicy
from ._filter import FilterError, parse_filter, parse_int
from ._json import MAX_PAGE, events_body, incidents_body, info_body, parse_sse_id, sse_state
from ._model import ViewEvent
from ._store import EventStore
from ._stream import EventStream

#: twisted.web's Request, whose methods carry no annotations: handled as Any here.
Request = Any

#: The page's files: URL path -> (file under static/, content type).
STATIC = {
    b"/": ("index.html", b"text/html; charset=utf-8"),
    b"/static/app.js": ("app.js", b"text/javascript; charset=utf-8"),
    b"/static/style.css": ("style.css", b"text/css; charset=utf-8"),
}
#: How many pages may follow the stream at once; more get 503.
MAX_STREAMS = 16
SECURITY_HEADERS = {
    b"Content-Security-Policy": b"default-src 'none'; script-src 'self'; style-src 'self'; "
    b"connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; "
    b"frame-ancestors 'none'",
    b"X-Content-Type-Options": b"nosniff",
    b"Referrer-Policy": b"no-referrer",
    b"Cache-Control": b"no-store",
    b"X-Frame-Options": b"DENY",
}


def load_static() -> dict[bytes, tuple[bytes, bytes]]:
    """URL path -> (body, content type) of the page's files, read from the package."""
    folder = files("octavo.logging._web") / "static"
    return {path: ((folder / name).read_bytes(), kind) for path, (name, kind) in STATIC.items()}


def _arg(request: Request, name: bytes) -> str | None:
    values = (request.args or {}).get(name)
    return values[0].decode("utf-8", "replace") if values else None


def _int_arg(request: Request, name: bytes, default: int) -> int:
    value = _arg(request, name)
    if value is None or value == "":
        return default
    return parse_int(name.decode(), value)


class ViewerResource(resource.Resource):
    """Every URL of the viewer; requests the access policy refuses get 403."""

    isLeaf = True

    def __init__(self, store: EventStore, policy: AccessPolicy, *, source: str, live: bool) -> None:
        super().__init__()  # type: ignore[no-untyped-call,unused-ignore]
        self.store = store
        self.policy = policy
        self.source = source
        self.live = live
        self.streams: list[EventStream] = []
        #: How the source is doing, when that is worth telling ("" while all is well).
        self.state = ""
        self._static = load_static()
        self._unsubscribe: Callable[[], None] = store.subscribe(self._broadcast)

    def render(self, request: Request) -> bytes | int:
        """Check access, then answer GET and HEAD by path."""
        for name, value in SECURITY_HEADERS.items():
            request.setHeader(name, value)
        host = request.getHeader(b"host")
        if not self.policy.allows(
            _arg(request, b"token"), host.decode("latin-1") if host else None
        ):
            return self._plain(request, 403, b"forbidden: this viewer needs its token\n")
        if request.method not in (b"GET", b"HEAD"):
            request.setHeader(b"Allow", b"GET, HEAD")
            return self._plain(request, 405, b"method not allowed\n")
        path = request.path or b"/"
        if path in self._static:
            body, kind = self._static[path]
            request.setHeader(b"Content-Type", kind)
            query = b"" if self.policy.token is None else b"?token=" + self.policy.token.encode()
            return body.replace(b"{{query}}", query) if path == b"/" else body
        routes: dict[bytes, Callable[[Request], bytes | int]] = {
            b"/events.json": self._events,
            b"/incidents.json": self._incidents,
            b"/info.json": self._info,
            b"/stream": self._stream,
        }
        route = routes.get(path)
        if route is None:
            return self._plain(request, 404, b"not found\n")
        try:
            return route(request)
        except FilterError as exc:
            return self._plain(request, 400, f"bad request: {exc}\n".encode())

    @staticmethod
    def _plain(request: Request, code: int, body: bytes) -> bytes:
        request.setResponseCode(code)
        request.setHeader(b"Content-Type", b"text/plain; charset=utf-8")
        return body

    @staticmethod
    def _json(request: Request, body: bytes) -> bytes:
        request.setHeader(b"Content-Type", b"application/json")
        return body

    def _events(self, request: Request) -> bytes:
        args = request.args or {}
        chosen = parse_filter(
            {
                name: [v.decode("utf-8", "replace") for v in args.get(name.encode(), [])]
                for name in ("level", "facility", "tubid", "text")
            }
        )
        after = self._after(request)
        limit = min(max(_int_arg(request, b"limit", MAX_PAGE), 0), MAX_PAGE)
        found = self.store.select(chosen, after, limit + 1)
        return self._json(request, events_body(found[:limit], self.store, more=len(found) > limit))

    def _after(self, request: Request) -> int:
        """The ``after`` seq asked for; -1 (from the start) if ``run`` names another run."""
        after = _int_arg(request, b"after", -1)
        run = _arg(request, b"run")
        return -1 if run is not None and run != self.store.run else after

    def _incidents(self, request: Request) -> bytes:
        return self._json(request, incidents_body(self.store))

    def _info(self, request: Request) -> bytes:
        body = info_body(self.store, self.source, live=self.live, state=self.state)
        return self._json(request, body)

    def _stream(self, request: Request) -> bytes | int:
        if request.method != b"GET":
            request.setHeader(b"Allow", b"GET")
            return self._plain(request, 405, b"the stream is GET only\n")
        if len(self.streams) >= MAX_STREAMS:
            return self._plain(request, 503, b"too many live pages open\n")
        after = self._after(request)
        last_id = request.getHeader(b"last-event-id")
        if last_id is not None:
            # the browser resuming: right after its last event if that was this run's,
            # else from the start (a viewer that restarted numbers from 0 again)
            parsed = parse_sse_id(last_id.decode("latin-1"))
            after = parsed[1] if parsed is not None and parsed[0] == self.store.run else -1
        request.setHeader(b"Content-Type", b"text/event-stream")
        stream = EventStream(request, self.store, after)
        self.streams.append(stream)
        request.notifyFinish().addBoth(self._stream_closed, stream)
        stream.start(sse_state(self.state) if self.live else b"")
        return server.NOT_DONE_YET

    def _stream_closed(self, reason: Any, stream: EventStream) -> None:
        stream.closed = True
        if stream in self.streams:
            self.streams.remove(stream)

    def _broadcast(self, event: ViewEvent) -> None:
        for stream in list(self.streams):
            stream.catch_up()

    def set_state(self, text: str) -> None:
        """Tell every open page, and those opened later, how the source is doing."""
        self.state = text
        for stream in list(self.streams):
            stream.send(sse_state(text))

    def close(self) -> None:
        """Stop following the store and end every open stream."""
        self._unsubscribe()
        for stream in list(self.streams):
            self.streams.remove(stream)
            stream.finish()
