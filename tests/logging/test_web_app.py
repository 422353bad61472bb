"""Starting the web viewer: a file read once or followed, a log port, bad options."""

from __future__ import annotations

import bz2
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from twisted.internet import reactor
from twisted.internet.task import Clock
from twisted.trial import unittest

from octavo.logging._events import format_message
from octavo.logging._logger import FoolscapLogger
from octavo.logging._publisher import LogPublisher
from octavo.logging._web import ViewerError, ViewerOptions, start_viewer
from octavo.logging._web import _app as app_module
from octavo.logging._web._follow import FileFollower
from octavo.logging._web._store import EventStore
from octavo.logging._web._tail import FlogTail
from octavo.tub import Tub
from octavo.tub._net._identity import create_certificate
from tests.tub._loopback import LoopbackTubs

from ._fakes import FakeLogger, within
from ._web_http import get, open_stream, turns
from ._web_records import MAGIC, append, event, header, line, record, write_flogfile

CERT = create_certificate()
#: a FURL of a Tub nobody runs (port 1 on loopback refuses)
UNREACHABLE = "pb://aaaabbbbccccddddeeeeffffgggghhhh@tcp:127.0.0.1:1/x"


def scratch(test: Any, name: str = "app.flog") -> Path:
    """A path *name* in a folder removed after *test* (trial's mktemp writes under the cwd)."""
    folder = tempfile.mkdtemp(prefix="octavo-web-")
    test.addCleanup(shutil.rmtree, folder, True)
    return Path(folder) / name


class Following(unittest.SynchronousTestCase):
    def test_the_follower_reads_now_then_at_each_interval(self) -> None:
        flog = write_flogfile(scratch(self), [header(), record(event(1, "first"))])
        clock, store = Clock(), EventStore(format_message, 10)
        follower = FileFollower(clock, FlogTail(str(flog)), store, interval=0.5)
        follower.start()
        assert [e.num for e in store] == [1]
        append(flog, [record(event(2, "second"))])
        clock.advance(0.4)
        assert [e.num for e in store] == [1]
        clock.advance(0.1)
        assert [e.num for e in store] == [1, 2]
        follower.stop()
        assert clock.getDelayedCalls() == []

    def test_a_vanished_file_is_an_error_that_clears_when_it_returns(self) -> None:
        flog = write_flogfile(scratch(self), [record(event(1, "first"))])
        clock, store = Clock(), EventStore(format_message, 10)
        follower = FileFollower(clock, FlogTail(str(flog)), store, interval=1.0)
        follower.start()
        flog.unlink()
        clock.advance(1.0)
        assert follower.error is not None and "No such file" in follower.error
        write_flogfile(flog, [record(event(5, "again"))])
        clock.advance(1.0)
        assert follower.error is None
        assert [e.num for e in store] == [1, 5]
        follower.stop()


class Options(unittest.TestCase):
    async def refused(self, options: ViewerOptions, reason: str) -> None:
        with self.assertRaises(ViewerError) as caught:
            await start_viewer(reactor, options)
        assert reason in str(caught.exception), str(caught.exception)

    async def test_bad_sources_and_options_are_refused_by_name(self) -> None:
        missing = str(scratch(self))
        await self.refused(ViewerOptions(missing), "no such flogfile")
        notes = scratch(self)
        notes.write_text("hello\n", "utf-8")
        await self.refused(ViewerOptions(str(notes)), "not a flogfile")
        furl = "pb://abc@tcp:127.0.0.1:1/x"
        await self.refused(ViewerOptions(furl, follow=True), "--follow is for a growing file")
        await self.refused(ViewerOptions(missing, catch_up=True), "--catch-up is for a FURL")
        await self.refused(ViewerOptions(missing, port=70000), "--port 70000")
        await self.refused(ViewerOptions(missing, limit=0), "--max-events 0")
        await self.refused(ViewerOptions(missing, token="short"), "--token must be")
        await self.refused(ViewerOptions("pb://not a furl"), "cannot follow pb://not a furl")
        await self.refused(ViewerOptions(UNREACHABLE), "cannot follow " + UNREACHABLE)


class FromAFile(unittest.TestCase):
    async def test_a_followed_file_is_served_and_its_new_lines_streamed(self) -> None:
        flog = write_flogfile(scratch(self), [header(), record(event(1, "first"))])
        viewer = await start_viewer(reactor, ViewerOptions(str(flog), follow=True))
        self.addCleanup(viewer.stop)
        assert viewer.url == f"http://127.0.0.1:{viewer.port.getHost().port}/"
        code, _, body = await get(viewer.url + "info.json")
        assert code == 200 and json.loads(body)["live"] is True
        _, reader = await open_stream(viewer.url + "stream")
        await reader.wait_for(b"first")
        append(flog, [record(event(2, "appended later"))])
        await reader.wait_for(b"appended later")
        reader.disconnect()
        await reader.closed

    async def test_a_file_read_once_and_a_token(self) -> None:
        flog = write_flogfile(scratch(self), [record(event(n, f"e{n}")) for n in range(5)])
        token = "a-token-of-twenty-chars"
        viewer = await start_viewer(reactor, ViewerOptions(str(flog), token=token, limit=3))
        self.addCleanup(viewer.stop)
        assert viewer.url.endswith(f"/?token={token}")
        code, _, _ = await get(viewer.url.split("?")[0] + "events.json")
        assert code == 403
        code, _, body = await get(viewer.url.split("?")[0] + f"events.json?token={token}")
        decoded = json.loads(body)
        assert [e["num"] for e in decoded["events"]] == [2, 3, 4]
        assert decoded["dropped"] == 2


class ARestartedViewer(unittest.TestCase):
    async def test_a_page_reconnecting_to_a_restarted_viewer_is_told_to_start_again(
        self,
    ) -> None:
        """The viewer stops and starts again on the same port (a new process): its
        numbering starts again, with a new run. The stream the page reopens, with the
        last id it had, starts with the new run and brings every event from the first,
        none left out because its seq was at or under the page's last one."""
        flog = write_flogfile(scratch(self), [record(event(n, f"e{n}")) for n in range(5)])
        first = await start_viewer(reactor, ViewerOptions(str(flog), follow=True))
        _, reader = await open_stream(first.url + "stream")
        data = await reader.wait_for(f"id: {first.store.run}-4\n".encode())
        assert data.startswith(f'retry: 2000\n\nevent: run\ndata: "{first.store.run}"'.encode())
        port = first.port.getHost().port
        await first.stop()
        await reader.closed
        # the file was replaced meanwhile: three events, where the page saw five
        write_flogfile(flog, [record(event(n, f"new {n}")) for n in range(3)])
        second = await start_viewer(reactor, ViewerOptions(str(flog), follow=True, port=port))
        self.addCleanup(second.stop)
        assert second.url == first.url and second.store.run != first.store.run
        last = f"{first.store.run}-4".encode()
        _, page = await open_stream(second.url + "stream", {b"Last-Event-ID": [last]})
        data = await page.wait_for(f"id: {second.store.run}-2\n".encode())
        run_message = f'event: run\ndata: "{second.store.run}"\n\n'.encode()
        assert data.startswith(b"retry: 2000\n\n" + run_message)
        assert [m for m in (b"new 0", b"new 1", b"new 2") if m in data] == [
            b"new 0",
            b"new 1",
            b"new 2",
        ]
        # the query the page opens its stream with after an error: the old run voids after=4
        query = f"stream?after=4&run={first.store.run}"
        _, again = await open_stream(second.url + query)
        data = await again.wait_for(f"id: {second.store.run}-2\n".encode())
        assert f"id: {second.store.run}-0\n".encode() in data
        for stream in (page, again):
            stream.disconnect()
            await stream.closed


class Errors(unittest.TestCase):
    async def test_an_error_in_a_request_shows_no_traceback(self) -> None:
        flog = write_flogfile(scratch(self), [record(event(1, "x"))])
        viewer = await start_viewer(reactor, ViewerOptions(str(flog)))
        self.addCleanup(viewer.stop)

        def broken(*_: object) -> bytes:
            raise RuntimeError("secret detail")

        self.patch(viewer.resource, "_info", broken)
        code, _, body = await get(viewer.url + "info.json")
        assert code == 500
        assert b"secret detail" not in body and b"Traceback" not in body
        assert len(self.flushLoggedErrors(RuntimeError)) == 1


class FromACompressedFile(unittest.TestCase):
    async def test_a_bz2_flogfile_is_read_and_its_bad_lines_counted(self) -> None:
        flog = scratch(self, "app.flog.bz2")
        text = MAGIC + line(header()) + "{not json\n" + line(record(event(1, "packed")))
        flog.write_bytes(bz2.compress(text.encode()))
        viewer = await start_viewer(reactor, ViewerOptions(str(flog)))
        self.addCleanup(viewer.stop)
        _, _, body = await get(viewer.url + "info.json")
        info = json.loads(body)
        assert (info["live"], info["held"], info["rejected"]) == (False, 1, 1)
        assert "line 3: not JSON" in info["last_rejection"]

    async def test_a_followed_bz2_flogfile_streams_what_is_appended(self) -> None:
        """--follow on a .bz2 file: its events, then those of a bzip2 stream appended later."""
        flog = scratch(self, "app.flog.bz2")
        text = MAGIC + line(header()) + line(record(event(1, "packed")))
        flog.write_bytes(bz2.compress(text.encode()))
        viewer = await start_viewer(reactor, ViewerOptions(str(flog), follow=True))
        self.addCleanup(viewer.stop)
        _, reader = await open_stream(viewer.url + "stream")
        await reader.wait_for(b'"text":"packed"')
        with flog.open("ab") as f:
            f.write(bz2.compress(line(record(event(2, "appended"))).encode()))
        await reader.wait_for(b'"text":"appended"')
        reader.disconnect()
        await reader.closed


class FromALogPort(LoopbackTubs, unittest.TestCase):
    async def test_events_of_a_log_port_reach_the_page(self) -> None:
        logger = FakeLogger([{"num": 0, "message": "buffered", "level": 20, "time": 0.5}])
        source = self.make_tub(create_certificate())
        furl = source.registerReference(LogPublisher(logger))
        viewer = await start_viewer(reactor, ViewerOptions(furl, catch_up=True))
        self.addCleanup(viewer.stop)
        _, reader = await open_stream(viewer.url + "stream")
        await reader.wait_for(b"buffered")
        await turns()
        logger.emit(1)
        data = await reader.wait_for(b'"text":"e1"')
        assert source.getTubID().encode() in data
        assert viewer.store.headers[0]["type"] == "log-port"
        await source.stopService()
        await reader.wait_for(b'event: state\ndata: "the log port is gone: reconnecting"')
        reader.disconnect()
        await reader.closed
        _, _, body = await get(viewer.url + "info.json")
        assert json.loads(body)["state"] == "the log port is gone: reconnecting"


class FromALogPortThatComesBack(unittest.TestCase):
    """The followed Tub stops and starts again (same certificate, port and FURL)."""

    def serve(
        self, logger: FoolscapLogger, port: int, publisher: LogPublisher | None = None
    ) -> tuple[Tub, str, int]:
        tub = Tub(certData=CERT)
        tub.startService()
        self.addCleanup(tub.stopService)
        number = tub.listenOn(f"tcp:{port}:interface=127.0.0.1").getPortnum()
        tub.setLocation(f"127.0.0.1:{number}")
        publisher = LogPublisher(logger) if publisher is None else publisher
        return tub, str(tub.registerReference(publisher, name="logport")), number

    async def test_a_refusal_is_shown_and_the_viewer_asks_again(self) -> None:
        """The restarted log port refuses the viewer's subscription (the connection stays
        up): the page's status says why, and once the port accepts, events flow again."""
        self.patch(app_module, "RECONNECT_DELAY", 0.05)
        self.patch(app_module, "RECONNECT_MAX_DELAY", 0.2)
        source, furl, port = self.serve(FoolscapLogger(), 0)
        viewer = await start_viewer(reactor, ViewerOptions(furl))
        self.addCleanup(viewer.stop)
        _, reader = await open_stream(viewer.url + "stream")
        await reader.wait_for(b'event: state\ndata: ""')
        await source.stopService()
        await reader.wait_for(b'data: "the log port is gone: reconnecting"')
        logger = FoolscapLogger()
        publisher = LogPublisher(logger, max_subscriptions=1)
        release = publisher.limits.acquire("someone else")  # the only slot is taken
        self.serve(logger, port, publisher)
        data = await reader.wait_for(b'data: "the log port refused the subscription')
        assert b"too many logport subscriptions (at most 1 in all)" in data
        _, _, body = await get(viewer.url + "info.json")
        assert json.loads(body)["state"].startswith("the log port refused the subscription")
        release()
        await within(lambda: viewer.resource.state == "")
        await turns()
        logger.msg("accepted at last")
        await reader.wait_for(b"accepted at last")
        reader.disconnect()
        await reader.closed

    async def test_the_viewer_reconnects_and_the_page_resumes(self) -> None:
        """Events after the restart reach the page; a page reconnecting with Last-Event-ID
        gets exactly the events it had not seen."""
        self.patch(app_module, "RECONNECT_DELAY", 0.05)
        self.patch(app_module, "RECONNECT_MAX_DELAY", 0.2)
        logger = FoolscapLogger()
        source, furl, port = self.serve(logger, 0)
        viewer = await start_viewer(reactor, ViewerOptions(furl))
        self.addCleanup(viewer.stop)
        _, reader = await open_stream(viewer.url + "stream")
        await reader.wait_for(b'event: state\ndata: ""')
        await turns()
        logger.msg("before the restart")
        await reader.wait_for(b"before the restart")
        await source.stopService()
        await reader.wait_for(b'data: "the log port is gone: reconnecting"')
        reader.disconnect()  # the page's stream drops too, while the source is away
        await reader.closed
        last_seen = viewer.store.next_seq - 1
        logger = FoolscapLogger()
        logger.msg("logged while the viewer was away")
        _, again, _ = self.serve(logger, port)
        assert again == furl
        await within(lambda: viewer.resource.state == "" and len(viewer.store) == 2)
        logger.msg("after the restart")
        _, page = await open_stream(
            viewer.url + "stream", {b"Last-Event-ID": [f"{viewer.store.run}-{last_seen}".encode()]}
        )
        data = await page.wait_for(b"after the restart")
        assert b"before the restart" not in data
        assert data.count(b"logged while the viewer was away") == 1
        assert b'event: state\ndata: ""' in data
        assert [h["type"] for h in viewer.store.headers] == ["log-port", "log-port"]
        page.disconnect()
        await page.closed
