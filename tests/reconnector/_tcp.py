"""A tiny line-greeting server and a connect-once over TCP4ClientEndpoint, loopback only.

The client's attempt succeeds only when the server greets it with ``hello``, so a test
can hold an attempt in flight (TCP connected, no greeting yet) for as long as it likes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet.defer import Deferred, DeferredList, succeed
from twisted.internet.endpoints import TCP4ClientEndpoint, TCP4ServerEndpoint, connectProtocol
from twisted.internet.interfaces import IListeningPort
from twisted.internet.protocol import Factory, Protocol
from twisted.python.failure import Failure

GREETING = b"hello\n"


class _ServerProtocol(Protocol):
    factory: GreetingServer

    def connectionMade(self) -> None:
        self.lost: Deferred[None] = Deferred()
        self.factory.accepted += 1
        self.factory.connections.append(self)
        for waiter in self.factory._accept_waiters:
            waiter.callback(None)
        self.factory._accept_waiters = []
        if self.factory.greet:
            self.transport.write(GREETING)

    def connectionLost(self, reason: Failure = None) -> None:  # type: ignore[assignment]
        self.factory.connections.remove(self)
        self.lost.callback(None)


class GreetingServer(Factory):
    """Accepts on 127.0.0.1 and greets each client (unless ``greet`` is False)."""

    protocol = _ServerProtocol

    def __init__(self, reactor: Any, *, greet: bool = True) -> None:
        self.reactor = reactor
        self.greet = greet
        self.accepted = 0
        self.connections: list[_ServerProtocol] = []
        self.port: IListeningPort | None = None
        self._accept_waiters: list[Deferred[None]] = []

    async def start(self, port: int = 0) -> int:
        """Listen (on ``port``, or a free one) and return the port number."""
        endpoint = TCP4ServerEndpoint(self.reactor, port, interface="127.0.0.1")
        self.port = await endpoint.listen(self)
        return int(self.port.getHost().port)

    def next_accept(self) -> Deferred[None]:
        """Fire when the next client connection is accepted."""
        waiter: Deferred[None] = Deferred()
        self._accept_waiters.append(waiter)
        return waiter

    def release(self) -> None:
        """Greet every connected client now."""
        for conn in self.connections:
            conn.transport.write(GREETING)

    async def stop(self) -> None:
        """Stop listening and drop every connection; return when all are gone."""
        if self.port is not None:
            port, self.port = self.port, None
            await port.stopListening()
        lost = [conn.lost for conn in self.connections]
        for conn in list(self.connections):
            conn.transport.loseConnection()
        await DeferredList(lost)


class _ClientProtocol(Protocol):
    def __init__(self) -> None:
        self.ready: Deferred[TCPRef] = Deferred()
        self.lost: Deferred[None] = Deferred()
        self.connected_ = False
        self.made = False
        self._buffer = b""
        self._observers: list[tuple[Callable[..., object], tuple[Any, ...], dict[str, Any]]] = []

    def connectionMade(self) -> None:
        self.connected_ = self.made = True

    def dataReceived(self, data: bytes) -> None:
        if self.ready.called:
            return
        self._buffer = (self._buffer + data)[-64:]
        if GREETING in self._buffer:
            self.ready.callback(TCPRef(self))

    def connectionLost(self, reason: Failure = None) -> None:  # type: ignore[assignment]
        self.connected_ = False
        if not self.ready.called:
            self.ready.errback(reason)
        observers, self._observers = self._observers, []
        for callback, args, kwargs in observers:
            callback(*args, **kwargs)
        self.lost.callback(None)


class TCPRef:
    """The reference a successful attempt yields: reports its loss via connectionLost."""

    def __init__(self, protocol: _ClientProtocol) -> None:
        self.protocol = protocol

    def notifyOnDisconnect(self, callback: Callable[..., object], *args: Any, **kwargs: Any) -> int:
        self.protocol._observers.append((callback, args, kwargs))
        return len(self.protocol._observers)

    def disconnect(self) -> Deferred[None]:
        """Close the connection from the client side; fire once it is gone."""
        if self.protocol.connected_:
            self.protocol.transport.loseConnection()
        return self.protocol.lost


class TCPConnector:
    """Connect-once over TCP4ClientEndpoint; remembers every client it made for cleanup."""

    def __init__(self, reactor: Any, port: int) -> None:
        self.endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port, timeout=5)
        self.clients: list[_ClientProtocol] = []
        self.attempts = 0
        self.failures = 0
        self._failure_waiters: list[tuple[int, Deferred[None]]] = []

    def __call__(self) -> Deferred[TCPRef]:
        self.attempts += 1
        proto = _ClientProtocol()
        self.clients.append(proto)
        connecting = connectProtocol(self.endpoint, proto)

        def cancel(_: Deferred[TCPRef]) -> None:
            if not connecting.called:
                connecting.cancel()
            elif proto.connected_:
                proto.transport.abortConnection()

        result: Deferred[TCPRef] = Deferred(cancel)

        def forward(outcome: object) -> None:
            if not result.called:
                if isinstance(outcome, Failure):
                    result.errback(outcome)
                else:
                    result.callback(outcome)  # type: ignore[arg-type]
            if isinstance(outcome, Failure):
                self._failed()  # after the Reconnector has seen it

        def connected(_: object) -> None:
            proto.ready.addBoth(forward)

        connecting.addCallbacks(connected, forward)
        return result

    def _failed(self) -> None:
        self.failures += 1
        due = [w for w in self._failure_waiters if w[0] <= self.failures]
        self._failure_waiters = [w for w in self._failure_waiters if w[0] > self.failures]
        for _, waiter in due:
            waiter.callback(None)

    def after_failures(self, count: int) -> Deferred[None]:
        """Fire once ``count`` attempts in total have failed."""
        if self.failures >= count:
            return succeed(None)
        waiter: Deferred[None] = Deferred()
        self._failure_waiters.append((count, waiter))
        return waiter

    async def close_all(self) -> None:
        """Close every client connection this connector made and wait for each to go."""
        for proto in self.clients:
            if proto.connected_:
                proto.transport.loseConnection()
        await DeferredList([p.lost for p in self.clients if p.made])
