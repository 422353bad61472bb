"""One page's server-sent-events stream, paced by its connection (no unbounded buffer).

The stream is the push producer of its request: while the connection's send buffer is
full, Twisted pauses it and it writes nothing; on resume it catches up from the store,
which holds what it missed (or as much of it as the store still keeps).
"""

from __future__ import annotations

from typing import Any

from twisted.internet.interfaces import IPushProducer
from zope.interface import implementer  # type: ignore[import-untyped,unused-ignore]

from ._json import sse_message, sse_run
from ._store import EventStore

#: Most events one catch-up writes before looking at the pause flag again.
BATCH = 256


@implementer(IPushProducer)
class EventStream:
    """Writes the store's events after seq ``last`` to *request*, as the connection allows."""

    def __init__(self, request: Any, store: EventStore, after: int) -> None:
        self.request = request
        self.store = store
        self.last = after
        self.paused = False
        self.closed = False

    def start(self, first: bytes = b"") -> None:
        """Send the SSE preamble and the store's run, then *first* (a state message), then
        the backlog, then follow the store. The browser reconnects a dropped stream after
        ``retry`` ms, sending the last id it got (``Last-Event-ID``): it resumes right
        after it, or from the start if that id was another run's (the run message tells
        the page that the numbering started again)."""
        self.request.registerProducer(self, True)
        self.request.write(b"retry: 2000\n\n" + sse_run(self.store.run) + first)
        self.catch_up()

    def catch_up(self) -> None:
        """Write every held event after ``last`` until done or paused."""
        while not (self.paused or self.closed):
            events = self.store.after(self.last, BATCH)
            if not events:
                return
            for event in events:
                self.request.write(sse_message(event, self.store.run))
                self.last = event.seq
                if self.paused or self.closed:
                    return

    def send(self, message: bytes) -> None:
        """Write one out-of-band message (a state change), unless the stream is closed."""
        if not self.closed:
            self.request.write(message)

    def pauseProducing(self) -> None:
        """The connection's buffer is full: write nothing until resumed."""
        self.paused = True

    def resumeProducing(self) -> None:
        """The buffer drained: send what arrived meanwhile."""
        self.paused = False
        self.catch_up()

    def stopProducing(self) -> None:
        """The connection is gone."""
        self.closed = True

    def finish(self) -> None:
        """End the response (the page reconnects on its own if it is still open)."""
        if not self.closed:
            self.closed = True
            self.request.unregisterProducer()
            self.request.finish()
