"""Integration: real loopback TCP through Twisted endpoints, on the real reactor (bounded)."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

from twisted.internet import reactor
from twisted.internet.defer import Deferred, DeferredQueue
from twisted.internet.error import ConnectionRefusedError
from twisted.trial.unittest import TestCase

from octavo.reconnector import Reconnector, State

from ._tcp import GreetingServer, TCPConnector, TCPRef

FAST = {"initial_delay": 0.02, "factor": 2.0, "max_delay": 0.2, "jitter": 0.1}


def run(coro: Coroutine[Any, Any, None]) -> Deferred[None]:
    return Deferred.fromCoroutine(coro)


class ReconnectorOverTCP(TestCase):
    """Reconnector scenarios against a real server on 127.0.0.1."""

    timeout = 20

    async def _free_port(self) -> int:
        """A port that was just free on 127.0.0.1 (nothing listens on it now)."""
        probe = GreetingServer(reactor)
        port = await probe.start()
        await probe.stop()
        return port

    def _server(self, **kwargs: Any) -> GreetingServer:
        server = GreetingServer(reactor, **kwargs)
        self.addCleanup(lambda: run(server.stop()))
        return server

    def _reconnector(
        self, port: int, **kwargs: Any
    ) -> tuple[Reconnector[TCPRef], TCPConnector, DeferredQueue[TCPRef]]:
        connector = TCPConnector(reactor, port)
        refs: DeferredQueue[TCPRef] = DeferredQueue()
        rc: Reconnector[TCPRef] = Reconnector(connector, refs.put, clock=reactor, **kwargs)
        # cleanups run last-in first-out: stop the reconnector, then close its clients
        self.addCleanup(lambda: run(connector.close_all()))
        self.addCleanup(rc.stop)
        return rc, connector, refs

    def test_server_restart_on_same_port(self) -> Deferred[None]:
        """A server stopped and restarted on its port gets a new connection and cb runs again."""

        async def body() -> None:
            server = self._server()
            port = await server.start()
            rc, _connector, refs = self._reconnector(port, **FAST)
            rc.startConnecting()
            first = await refs.get()
            lost: Deferred[None] = Deferred()
            first.notifyOnDisconnect(lost.callback, None)
            await server.stop()
            await lost
            self.assertIn(rc.state, (State.WAITING, State.CONNECTING))
            self.assertEqual(await server.start(port), port)
            second = await refs.get()
            self.assertIsNot(second, first)
            self.assertIsNot(second.protocol, first.protocol)
            self.assertEqual(server.accepted, 2)
            self.assertIs(rc.state, State.CONNECTED)
            self.assertIs(rc.currentConnection, second)

        return run(body())

    def test_server_unreachable_for_a_while(self) -> Deferred[None]:
        """Refused attempts back off and retry until the server appears, then cb runs."""

        async def body() -> None:
            port = await self._free_port()
            rc, connector, refs = self._reconnector(port, **FAST)
            rc.startConnecting()
            await connector.after_failures(3)
            last = rc.getLastFailure()
            assert last is not None
            self.assertTrue(last.check(ConnectionRefusedError))
            self.assertEqual(refs.pending, [])
            server = self._server()
            await server.start(port)
            ref = await refs.get()
            self.assertIsInstance(ref, TCPRef)
            self.assertIsNone(rc.getLastFailure())
            self.assertGreaterEqual(connector.attempts, 4)
            self.assertEqual(rc.getReconnectionInfo().state, "connected")

        return run(body())

    def test_reset_during_wait(self) -> Deferred[None]:
        """reset() during a long wait connects at once instead of after the wait."""

        async def body() -> None:
            port = await self._free_port()
            rc, connector, refs = self._reconnector(
                port, initial_delay=60.0, factor=1.0, max_delay=60.0, jitter=0.0
            )
            rc.startConnecting()
            await connector.after_failures(1)
            self.assertIs(rc.state, State.WAITING)
            delay = rc.getDelayUntilNextAttempt()
            assert delay is not None
            self.assertGreater(delay, 50.0)  # far beyond this test's 20 s timeout
            server = self._server()
            await server.start(port)
            rc.reset()
            await refs.get()
            self.assertEqual(connector.attempts, 2)
            self.assertIsNone(rc.getDelayUntilNextAttempt())

        return run(body())

    def test_stop_connecting_during_attempt(self) -> Deferred[None]:
        """stopConnecting() while an attempt is in flight: its late success never reaches cb."""

        async def body() -> None:
            server = self._server(greet=False)
            port = await server.start()
            rc, connector, refs = self._reconnector(port, **FAST)
            accepted = server.next_accept()
            rc.startConnecting()
            await accepted
            self.assertIs(rc.state, State.CONNECTING)
            rc.stopConnecting()
            self.assertIs(rc.state, State.STOPPING)
            stopped = rc.whenStopped()
            server.release()  # the attempt now succeeds, after the stop
            await stopped
            self.assertIs(rc.state, State.STOPPED)
            self.assertEqual(refs.pending, [])
            self.assertEqual(refs.waiting, [])
            self.assertEqual(connector.attempts, 1)
            self.assertEqual(server.accepted, 1)
            self.assertIsNone(rc.getDelayUntilNextAttempt())

        return run(body())

    def test_stop_cancels_attempt_in_flight(self) -> Deferred[None]:
        """stop() during an attempt aborts that TCP connection and fires when stopped."""

        async def body() -> None:
            server = self._server(greet=False)
            port = await server.start()
            rc, connector, refs = self._reconnector(port, **FAST)
            accepted = server.next_accept()
            rc.startConnecting()
            await accepted
            server_side = server.connections[0].lost
            await rc.stop()
            await server_side  # the server saw the aborted connection go away
            self.assertIs(rc.state, State.STOPPED)
            self.assertEqual(refs.pending, [])
            self.assertEqual(connector.attempts, 1)

        return run(body())

    def test_async_iteration_over_reconnections(self) -> Deferred[None]:
        """async for over connections() sees a new connection after a server-side drop."""

        async def body() -> None:
            server = self._server()
            port = await server.start()
            rc, _connector, _refs = self._reconnector(port, **FAST)
            rc.startConnecting()
            seen: list[TCPRef] = []
            async for ref in rc.connections():
                seen.append(ref)
                if len(seen) == 2:
                    rc.stopConnecting()
                else:
                    lost: Deferred[None] = Deferred()
                    ref.notifyOnDisconnect(lost.callback, None)
                    server.connections[0].transport.loseConnection()
                    await lost
            self.assertEqual(len(seen), 2)
            self.assertIs(rc.state, State.STOPPED)
            await seen[1].disconnect()

        return run(body())
