"""HTTP helpers for the web viewer's loopback tests: a served resource, GETs, an SSE reader."""

from __future__ import annotations

from typing import Any

from twisted.internet import defer, reactor
from twisted.internet.protocol import Protocol
from twisted.python.failure import Failure
from twisted.web.client import Agent
from twisted.web.http_headers import Headers
from twisted.web.iweb import IResponse
from twisted.web.server import Site

from octavo.logging._web._resources import ViewerResource


def serve(test: Any, resource: ViewerResource) -> str:
    """Serve *resource* on 127.0.0.1 for the length of *test*; returns its base URL."""
    port = reactor.listenTCP(0, Site(resource), interface="127.0.0.1")  # type: ignore[attr-defined]
    test.addCleanup(port.stopListening)
    test.addCleanup(resource.close)
    return f"http://127.0.0.1:{port.getHost().port}"


async def get(
    url: str, headers: dict[bytes, list[bytes]] | None = None, method: bytes = b"GET"
) -> tuple[int, Headers, bytes]:
    """(code, headers, body) of one request to *url*."""
    agent = Agent(reactor)
    response: IResponse = await agent.request(method, url.encode(), Headers(headers or {}))
    reader = StreamReader()
    response.deliverBody(reader)
    await reader.closed
    return response.code, response.headers, reader.data


class StreamReader(Protocol):
    """Collects an SSE body; ``wait_for(text)`` fires once *text* has arrived."""

    def __init__(self) -> None:
        self.data = b""
        self.closed: defer.Deferred[None] = defer.Deferred()
        self._waiting: list[tuple[bytes, defer.Deferred[bytes]]] = []

    def dataReceived(self, data: bytes) -> None:
        self.data += data
        still = []
        for text, d in self._waiting:
            if text in self.data:
                d.callback(self.data)
            else:
                still.append((text, d))
        self._waiting = still

    def connectionLost(self, reason: Failure = Failure(Exception())) -> None:  # noqa: B008
        self.closed.callback(None)

    def wait_for(self, text: bytes) -> defer.Deferred[bytes]:
        d: defer.Deferred[bytes] = defer.Deferred()
        if text in self.data:
            d.callback(self.data)
        else:
            self._waiting.append((text, d))
        return d

    def disconnect(self) -> None:
        assert self.transport is not None
        self.transport.stopProducing()  # type: ignore[attr-defined]


async def open_stream(
    url: str, headers: dict[bytes, list[bytes]] | None = None
) -> tuple[IResponse, StreamReader]:
    """GET an SSE *url*; returns the response and the reader its body goes to."""
    response: IResponse = await Agent(reactor).request(b"GET", url.encode(), Headers(headers or {}))
    reader = StreamReader()
    response.deliverBody(reader)
    return response, reader


async def turns(n: int = 5) -> None:
    """Let the reactor run *n* times."""
    for _ in range(n):
        d: defer.Deferred[None] = defer.Deferred()
        reactor.callLater(0, d.callback, None)  # type: ignore[attr-defined]
        await d
