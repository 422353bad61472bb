"""Eventual-send: later turns, FIFO order, flushing."""

from __future__ import annotations

from typing import Any

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from octavo.tub import _eventual
from octavo.tub._eventual import EventualQueue, queue_for


class EventualQueueTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.q = EventualQueue(self.clock)

    def test_runs_on_a_later_turn(self) -> None:
        """Nothing runs until the clock turns; then the callable gets its arguments."""
        got: list[Any] = []
        self.q.eventually(lambda *a, **kw: got.append((a, kw)), 1, x=2)
        self.assertEqual(got, [])
        self.clock.advance(0)
        self.assertEqual(got, [((1,), {"x": 2})])

    def test_fifo_order(self) -> None:
        """Callables run in the order they were queued."""
        got: list[int] = []
        for i in range(20):
            self.q.eventually(got.append, i)
        self.clock.advance(0)
        self.assertEqual(got, list(range(20)))

    def test_queued_during_a_turn_waits_for_the_next(self) -> None:
        """Something queued by a running callable runs after everything already queued."""
        got: list[str] = []

        def first() -> None:
            got.append("first")
            self.q.eventually(got.append, "third")

        self.q.eventually(first)
        self.q.eventually(got.append, "second")
        self.clock.advance(0)
        self.assertEqual(got, ["first", "second", "third"])

    def test_fire_eventually(self) -> None:
        """fireEventually fires with its value after earlier eventual-sends."""
        got: list[Any] = []
        self.q.eventually(got.append, "before")
        self.q.fireEventually("value").addCallback(got.append)
        self.assertEqual(got, [])
        self.clock.advance(0)
        self.assertEqual(got, ["before", "value"])

    def test_flush_waits_for_an_empty_queue(self) -> None:
        """flush fires only once the queue is empty, including chained sends."""
        got: list[Any] = []
        flushed: list[Any] = []
        self.q.eventually(lambda: self.q.eventually(got.append, 2))
        self.q.flush().addCallback(lambda _: flushed.append(list(got)))
        self.assertEqual(flushed, [])
        self.clock.advance(0)
        self.assertEqual(flushed, [[2]])
        self.assertEqual(self.successResultOf(self.q.flush()), None)

    def test_exception_is_logged_and_the_rest_run(self) -> None:
        """A failing callable is logged; later callables still run."""
        got: list[int] = []

        def boom() -> None:
            raise ZeroDivisionError("x")

        self.q.eventually(boom)
        self.q.eventually(got.append, 1)
        self.clock.advance(0)
        self.assertEqual(got, [1])
        self.assertEqual(len(self.flushLoggedErrors(ZeroDivisionError)), 1)

    def test_queue_for_is_one_per_clock(self) -> None:
        """queue_for returns the same queue for the same clock, another for another."""
        self.assertIs(queue_for(self.clock), queue_for(self.clock))
        self.assertIsNot(queue_for(self.clock), queue_for(Clock()))

    def test_module_functions_use_the_global_reactor_queue(self) -> None:
        """eventually / fireEventually / flushEventualQueue share the reactor's queue."""
        from twisted.internet import reactor

        q = queue_for(reactor)  # type: ignore[arg-type]
        self.assertIs(queue_for(), q)
        before = q.pending()
        _eventual.eventually(lambda: None)
        d = _eventual.fireEventually(5)
        self.assertEqual(q.pending(), before + 2)
        self.assertNoResult(d)
        self.assertNoResult(_eventual.flushEventualQueue())
        # run the turn by hand and cancel the reactor call, so nothing outlives the test
        timer = q._timer
        q._turn()
        if timer is not None and timer.active():
            timer.cancel()
        self.assertEqual(self.successResultOf(d), 5)
