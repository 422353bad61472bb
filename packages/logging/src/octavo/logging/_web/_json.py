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


def sse_message(event: ViewEvent) -> bytes:
    """One server-sent-events message carrying *event*, with its seq as the id."""
    return b"id: %d\nevent: log\ndata: %s\n\n" % (event.seq, encode(event.as_json()))
