"""The web viewer's Twisted Web resource, served on 127.0.0.1 and asked over real HTTP."""

from __future__ import annotations

import json

from twisted.trial import unittest

from octavo.logging._events import format_message
from octavo.logging._web import _resources
from octavo.logging._web._access import choose_policy
from octavo.logging._web._resources import ViewerResource
from octavo.logging._web._store import EventStore

from ._web_http import get, open_stream, serve, turns
from ._web_records import TUBID, event, header, record


def filled_store() -> EventStore:
    """A header, eight NOISY-to-BAD events numbered 0..7, and one WEIRD incident among them."""
    store = EventStore(format_message, 100, run="R1")
    store.add(header(versions={"app": "1.0"}))
    for n, level in enumerate([10, 20, 20, 23, 20, 30, 20, 10]):
        store.add(record(event(n, f"event {n} <i>", level=level, facility=f"app.f{n % 2}")))
    return store


class Resource(unittest.TestCase):
    def setUp(self) -> None:
        self.store = filled_store()
        self.resource = ViewerResource(
            self.store, choose_policy("127.0.0.1", 0, None), source="app.flog", live=True
        )
        self.base = serve(self, self.resource)
        port = int(self.base.rsplit(":", 1)[1])
        self.resource.policy = choose_policy("127.0.0.1", port, None)

    async def json(self, path: str) -> dict[str, object]:
        code, headers, body = await get(self.base + path)
        assert code == 200, (code, body)
        assert headers.getRawHeaders(b"content-type") == [b"application/json"]
        decoded: dict[str, object] = json.loads(body)
        return decoded

    async def test_the_page_and_its_files_are_served_with_strict_headers(self) -> None:
        code, headers, body = await get(self.base + "/")
        assert code == 200
        assert headers.getRawHeaders(b"content-type") == [b"text/html; charset=utf-8"]
        assert b'<script src="static/app.js" defer>' in body
        (csp,) = headers.getRawHeaders(b"content-security-policy") or []
        assert b"script-src 'self'" in csp and b"default-src 'none'" in csp
        assert headers.getRawHeaders(b"x-content-type-options") == [b"nosniff"]
        assert headers.getRawHeaders(b"referrer-policy") == [b"no-referrer"]
        code, headers, body = await get(self.base + "/static/app.js")
        assert (code, headers.getRawHeaders(b"content-type")) == (
            200,
            [b"text/javascript; charset=utf-8"],
        )
        assert b"textContent" in body and b"innerHTML" not in body
        code, headers, _ = await get(self.base + "/static/style.css")
        assert headers.getRawHeaders(b"content-type") == [b"text/css; charset=utf-8"]

    async def test_events_json_lists_filters_and_pages(self) -> None:
        everything = await self.json("/events.json")
        assert [e["num"] for e in everything["events"]] == list(range(8))  # type: ignore[attr-defined]
        assert (everything["more"], everything["held"], everything["dropped"]) == (False, 8, 0)
        weird = await self.json("/events.json?level=23")
        assert [e["num"] for e in weird["events"]] == [3, 5]  # type: ignore[attr-defined]
        odd = await self.json("/events.json?facility=app.f1&text=EVENT")
        assert [e["num"] for e in odd["events"]] == [1, 3, 5, 7]  # type: ignore[attr-defined]
        none = await self.json(f"/events.json?tubid=x{TUBID}")
        assert none["events"] == []
        page = await self.json("/events.json?after=2&limit=3")
        assert [e["num"] for e in page["events"]] == [3, 4, 5]  # type: ignore[attr-defined]
        assert (page["more"], page["last"]) == (True, 5)

    async def test_bodies_carry_peer_markup_only_as_escaped_json(self) -> None:
        _, _, body = await get(self.base + "/events.json")
        assert b"<i>" not in body and b"\\u003ci\\u003e" in body

    async def test_bad_query_parameters_get_400_naming_them(self) -> None:
        code, _, body = await get(self.base + "/events.json?level=loud")
        assert (code, body) == (400, b"bad request: level is 'loud', not an integer\n")
        code, _, body = await get(self.base + "/events.json?after=soon")
        assert code == 400 and b"after" in body
        code, _, body = await get(self.base + "/events.json?after=%C2%B2")
        assert code == 400 and b"after" in body
        code, _, body = await get(self.base + "/events.json?limit=" + "9" * 30)
        assert code == 400 and b"limit" in body

    async def test_incidents_and_info(self) -> None:
        incidents = await self.json("/incidents.json")
        assert [e["num"] for e in incidents["incidents"]] == [5]  # type: ignore[attr-defined]
        info = await self.json("/info.json")
        assert (info["source"], info["live"], info["held"]) == ("app.flog", True, 8)
        assert info["run"] == "R1"
        assert info["headers"] == [
            {"type": "log-file-observer", "pid": 4242, "versions": {"app": "1.0"}}
        ]

    async def test_unknown_paths_and_other_methods_are_refused(self) -> None:
        code, _, _ = await get(self.base + "/etc/passwd")
        assert code == 404
        code, headers, _ = await get(self.base + "/events.json", method=b"POST")
        assert code == 405
        assert headers.getRawHeaders(b"allow") == [b"GET, HEAD"]
        code, headers, _ = await get(self.base + "/stream", method=b"HEAD")
        assert (code, headers.getRawHeaders(b"allow")) == (405, [b"GET"])
        assert self.resource.streams == []
        code, _, body = await get(self.base + "/events.json", method=b"HEAD")
        assert (code, body) == (200, b"")

    async def test_the_stream_sends_the_backlog_then_each_new_event(self) -> None:
        response, reader = await open_stream(self.base + "/stream?after=5")
        assert response.headers.getRawHeaders(b"content-type") == [b"text/event-stream"]
        await reader.wait_for(b"id: R1-7\n")
        assert b"retry: 2000\n\n" in reader.data
        assert b"id: R1-5\n" not in reader.data and b"id: R1-6\n" in reader.data
        self.store.add(record(event(8, "live one")))
        data = await reader.wait_for(b"id: R1-8\n")
        last = data.rsplit(b"data: ", 1)[1]
        assert json.loads(last)["text"] == "live one"
        assert len(self.resource.streams) == 1
        reader.disconnect()
        await reader.closed
        for _ in range(20):
            if not self.resource.streams:
                break
            await turns()
        assert self.resource.streams == []

    async def test_a_reconnecting_stream_resumes_after_its_last_event_id(self) -> None:
        _, reader = await open_stream(self.base + "/stream", {b"Last-Event-ID": [b"R1-6"]})
        data = await reader.wait_for(b"id: R1-7\n")
        assert b"id: R1-6\n" not in data
        assert data.startswith(b'retry: 2000\n\nevent: run\ndata: "R1"\n\n')
        reader.disconnect()
        await reader.closed

    async def test_a_last_event_id_of_another_run_starts_from_the_beginning(self) -> None:
        """A viewer that restarted numbers from 0 again: an id of the run before (or one
        without a run) names none of its events, so the stream sends them all, after the
        run message that tells the page its numbers are void."""
        for last_id in [b"R0-6", b"6", b"R1-x", b"-6", b"R1-" + b"9" * 30]:
            _, reader = await open_stream(self.base + "/stream", {b"Last-Event-ID": [last_id]})
            data = await reader.wait_for(b"id: R1-7\n")
            assert data.startswith(b'retry: 2000\n\nevent: run\ndata: "R1"\n\n')
            assert b"id: R1-0\n" in data, last_id
            reader.disconnect()
            await reader.closed

    async def test_after_counts_only_with_this_run(self) -> None:
        """``after`` with ``run`` naming another run is ignored, for the stream and pages."""
        page = await self.json("/events.json?after=5&run=R0")
        assert [e["num"] for e in page["events"]] == list(range(8))  # type: ignore[attr-defined]
        assert page["run"] == "R1"
        page = await self.json("/events.json?after=5&run=R1")
        assert [e["num"] for e in page["events"]] == [6, 7]  # type: ignore[attr-defined]
        _, reader = await open_stream(self.base + "/stream?after=5&run=R0")
        data = await reader.wait_for(b"id: R1-7\n")
        assert b"id: R1-0\n" in data
        reader.disconnect()
        await reader.closed
        _, reader = await open_stream(self.base + "/stream?after=5&run=R1")
        data = await reader.wait_for(b"id: R1-7\n")
        assert b"id: R1-5\n" not in data and b"id: R1-6\n" in data
        reader.disconnect()
        await reader.closed

    async def test_streams_are_bounded(self) -> None:
        self.patch(_resources, "MAX_STREAMS", 1)
        _, reader = await open_stream(self.base + "/stream")
        await reader.wait_for(b"id: R1-7\n")
        code, _, body = await get(self.base + "/stream")
        assert (code, body) == (503, b"too many live pages open\n")
        reader.disconnect()
        await reader.closed

    async def test_close_ends_open_streams(self) -> None:
        _, reader = await open_stream(self.base + "/stream")
        await reader.wait_for(b"id: R1-7\n")
        self.resource.close()
        await reader.closed
        assert self.resource.streams == []
