"""An SSE stream is paced by its connection: paused, it writes nothing; resumed, it catches up."""

from __future__ import annotations

from typing import Any

from octavo.logging._events import format_message
from octavo.logging._web._store import EventStore
from octavo.logging._web._stream import EventStream

from ._web_records import event, record


class FakeRequest:
    """Records what a stream writes; pauses its producer once *pause_after* writes are in."""

    def __init__(self, pause_after: int | None = None) -> None:
        self.writes: list[bytes] = []
        self.producer: Any = None
        self.finished = False
        self.pause_after = pause_after

    def registerProducer(self, producer: Any, streaming: bool) -> None:
        assert streaming
        self.producer = producer

    def unregisterProducer(self) -> None:
        self.producer = None

    def write(self, data: bytes) -> None:
        self.writes.append(data)
        if self.pause_after is not None and len(self.writes) >= self.pause_after:
            self.pause_after = None
            self.producer.pauseProducing()

    def finish(self) -> None:
        self.finished = True

    def ids(self) -> list[int]:
        """The seqs of the events written, checking that each id is ``RUN-seq``."""
        ids = [w.split(b"\n")[0][4:].decode() for w in self.writes if w.startswith(b"id: ")]
        assert all(i.startswith(RUN + "-") for i in ids), ids
        return [int(i.split("-")[1]) for i in ids]


RUN = "run1"


def store_with(count: int) -> EventStore:
    store = EventStore(format_message, 1000, run=RUN)
    for n in range(count):
        store.add(record(event(n, f"e{n}")))
    return store


def test_the_backlog_follows_the_preamble() -> None:
    """retry and the store's run first, then every held event after *after*."""
    request = FakeRequest()
    EventStream(request, store_with(5), after=1).start()
    assert request.writes[0] == b'retry: 2000\n\nevent: run\ndata: "run1"\n\n'
    assert request.ids() == [2, 3, 4]


def test_a_paused_stream_writes_nothing_and_catches_up_on_resume() -> None:
    """The store is the buffer: nothing piles up in the stream while paused."""
    store = store_with(10)
    request = FakeRequest(pause_after=4)
    stream = EventStream(request, store, after=-1)
    stream.start()
    assert request.ids() == [0, 1, 2]
    for n in range(10, 15):
        store.add(record(event(n, f"e{n}")))
        stream.catch_up()
    assert request.ids() == [0, 1, 2]
    stream.resumeProducing()
    assert request.ids() == list(range(15))


def test_a_stopped_stream_writes_no_more_and_finish_ends_it_once() -> None:
    """stopProducing: the connection is gone; finish() then ends nothing twice."""
    store = store_with(2)
    request = FakeRequest()
    stream = EventStream(request, store, after=-1)
    stream.start()
    stream.stopProducing()
    store.add(record(event(2, "late")))
    stream.catch_up()
    assert request.ids() == [0, 1]
    stream.finish()
    assert not request.finished
    live = EventStream(FakeRequest(), store, after=-1)
    live.start()
    live.finish()
    live.finish()
    assert live.request.finished and live.request.producer is None
