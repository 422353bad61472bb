"""JSON bodies for the viewer's endpoints (sans-IO): safe to embed, bounded in size."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ._model import ViewEvent
from ._store import EventStore

#: Most events one /events.json answer carries; the page asks again while ``more`` is true.
MAX_PAGE = 5000
MAX_INCIDENTS = 1000

_UNSAFE = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}


def encode(value: Any) -> bytes:
    """*value* as compact ASCII JSON with ``<``, ``>`` and ``&`` escaped too."""
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    return text.translate(_UNSAFE).encode("ascii")


def events_body(events: Iterable[ViewEvent], store: EventStore, *, more: bool) -> bytes:
    """The /events.json answer: the events, the store's counters and whether more follow."""
    listed = [e.as_json() for e in events]
    return encode(
        {
            "run": store.run,
            "events": listed,
            "last": listed[-1]["seq"] if listed else None,
            "next": store.next_seq,
            "more": more,
            "held": len(store),
            "limit": store.limit,
            "dropped": store.dropped,
            "rejected": store.rejected,
        }
    )


def incidents_body(store: EventStore, limit: int = MAX_INCIDENTS) -> bytes:
    """The /incidents.json answer: the newest incident events, oldest first."""
    return encode({"incidents": [e.as_json() for e in store.incidents(limit)]})


def info_body(store: EventStore, source: str, *, live: bool, state: str = "") -> bytes:
    """The /info.json answer: where the events come from and the headers seen."""
    return encode(
        {
            "run": store.run,
            "source": source,
            "live": live,
            "state": state,
            "headers": list(store.headers),
            "held": len(store),
            "limit": store.limit,
            "dropped": store.dropped,
            "rejected": store.rejected,
            "last_rejection": store.last_rejection,
        }
    )


def sse_state(text: str) -> bytes:
    """A server-sent-events message telling the page how its source is doing."""
    return b"event: state\ndata: %s\n\n" % encode(text)


def sse_run(run: str) -> bytes:
    """The message each stream starts with: the run of the store whose seqs it sends."""
    return b"event: run\ndata: %s\n\n" % encode(run)


def sse_id(run: str, seq: int) -> str:
    """The id of the SSE message carrying event *seq* of the store of *run*: ``run-seq``."""
    return f"{run}-{seq}"


def parse_sse_id(last_id: str) -> tuple[str, int] | None:
    """(run, seq) of an id made by :func:`sse_id`; None for anything else."""
    run, sep, seq = last_id.rpartition("-")
    if not sep or not seq.isascii() or not seq.isdigit() or len(seq) > 20:
        return None
    return run, int(seq)


def sse_message(event: ViewEvent, run: str) -> bytes:
    """One server-sent-events message carrying *event*, its id ``run-seq`` (:func:`sse_id`)."""
    ident = sse_id(run, event.seq).encode("ascii")
    return b"id: %s\nevent: log\ndata: %s\n\n" % (ident, encode(event.as_json()))
