"""Octavo's Quick start: Tubs calling each other, as a real program uses them.

A server Tub publishes a typed service (a RemoteInterface checked on both ends) under
an unguessable FURL. A client Tub reaches it over TLS (the server's certificate checked
against the TubID in the FURL), stores and fetches records sent by value (a Copyable),
passes one of its own objects for the server to call back, sees a badly typed call
refused before it leaves, and measures call latency and throughput. Then the
application server: ``octavo-server`` publishes an upload-file and a run-command
service from a fresh BASEDIR, and ``octavo-client`` uploads a file and runs the command
through their FURLs. Everything runs on 127.0.0.1, in a temporary directory, and stops
by itself.

Run it with the ``octavo`` distribution installed: ``python examples/quickstart.py``
(``python3 dev.py demo`` installs it into ``.venv/`` and runs this).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from twisted.internet import defer, task, threads
from zope.interface import implementer  # type: ignore[import-untyped,unused-ignore]

from octavo.api import (
    Copyable,
    ListOf,
    Referenceable,
    RemoteCopy,
    RemoteInterface,
    Tub,
    Violation,
)
from octavo.tub import InstanceOf, UnicodeConstraint

#: serial calls timed for the latency, and calls (100 in flight) for the throughput
LATENCY_CALLS = 300
THROUGHPUT_CALLS = 3000
IN_FLIGHT = 100


class Note(Copyable, RemoteCopy):
    """A record sent by value: the far end gets a Note with the same attributes."""

    copytype = "quickstart.Note.octavo"

    def __init__(self, title: str = "", words: int = 0) -> None:
        self.title = title
        self.words = words

    def __repr__(self) -> str:
        return f"Note({self.title!r}, words={self.words})"


#: constraints of the interfaces below (Foolscap's style: the defaults say the types)
TITLE = UnicodeConstraint(200)
A_NOTE = InstanceOf(Note)  # a Note, sent by value


class RIWatcher(RemoteInterface):
    """What the client hands the server to be told about new notes."""

    __remote_name__ = "RIWatcher.quickstart.octavo"

    def added(title=TITLE, count=int):  # type: ignore[no-untyped-def]  # noqa: N805
        return None


class RINotebook(RemoteInterface):
    """The server's service; each call is checked against this on both ends."""

    __remote_name__ = "RINotebook.quickstart.octavo"

    def add(note=A_NOTE):  # type: ignore[no-untyped-def]  # noqa: N805
        return int

    def titles():  # type: ignore[no-untyped-def,misc]
        return ListOf(TITLE)

    def get(title=TITLE):  # type: ignore[no-untyped-def]  # noqa: N805
        return A_NOTE

    def watch(watcher=RIWatcher):  # type: ignore[no-untyped-def]  # noqa: N805
        return None

    def ping():  # type: ignore[no-untyped-def,misc]
        return None


@implementer(RINotebook)
class Notebook(Referenceable):
    """The server's object: its remote_* methods are what other Tubs may call."""

    def __init__(self) -> None:
        self.notes: dict[str, Note] = {}
        self.watchers: list[Any] = []

    def remote_add(self, note: Note) -> int:
        self.notes[note.title] = note
        for watcher in self.watchers:  # tell every watcher, without waiting
            watcher.callRemoteOnly("added", title=note.title, count=len(self.notes))
        return len(self.notes)

    def remote_titles(self) -> list[str]:
        return sorted(self.notes)

    def remote_get(self, title: str) -> Note:
        return self.notes[title]

    def remote_watch(self, watcher: Any) -> None:
        self.watchers.append(watcher)

    def remote_ping(self) -> None:
        return None


@implementer(RIWatcher)
class Watcher(Referenceable):
    """The client's object, passed to the server by reference."""

    def __init__(self) -> None:
        self.heard: defer.Deferred[str] = defer.Deferred()

    def remote_added(self, title: str, count: int) -> None:
        print(f"  (the server called the client back: {title!r} added, {count} notes)")
        if not self.heard.called:
            self.heard.callback(title)


async def measure(notebook: Any) -> tuple[float, float]:
    """Mean serial call latency (ms) and calls per second with IN_FLIGHT in flight."""
    start = time.perf_counter()
    for _ in range(LATENCY_CALLS):
        await notebook.callRemote("ping")
    latency_ms = (time.perf_counter() - start) / LATENCY_CALLS * 1000

    async def worker(n: int) -> None:
        for _ in range(n):
            await notebook.callRemote("ping")

    start = time.perf_counter()
    share = THROUGHPUT_CALLS // IN_FLIGHT
    await defer.gatherResults([defer.ensureDeferred(worker(share)) for _ in range(IN_FLIGHT)])
    rate = share * IN_FLIGHT / (time.perf_counter() - start)
    return latency_ms, rate


def _tool(name: str) -> str:
    """The console script ``name`` installed beside this Python (or on PATH)."""
    here = Path(sys.executable).parent / name
    return os.fspath(here) if here.exists() else name


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _run(*argv: str, cwd: str | None = None) -> str:
    """Run a command (60 s at most); show it and what it printed; its stdout."""
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=cwd, check=True)
    shown = " ".join(os.path.basename(a) if a.startswith("/") else a for a in argv)
    print(f"  $ {shown}")
    for line in (done.stdout + done.stderr).splitlines():
        print(f"    {line}")
    return done.stdout


def app_server() -> None:
    """octavo-server with two services in a temporary BASEDIR, used by octavo-client."""
    server, client = _tool("octavo-server"), _tool("octavo-client")
    with tempfile.TemporaryDirectory(prefix="octavo-quickstart-") as tmp:
        base, incoming, work = (os.path.join(tmp, d) for d in ("server", "incoming", "work"))
        os.mkdir(incoming)
        os.mkdir(work)
        port = _free_port()
        _run(
            server, "create", "--port", f"tcp:{port}:interface=127.0.0.1",
            "--location", f"tcp:127.0.0.1:{port}", base,
        )  # fmt: skip
        upload_furl = _run(server, "add", base, "upload-file", incoming).split()[-1]
        command_furl = _run(server, "add", base, "run-command", incoming, "ls", "-l").split()[-1]
        daemon = subprocess.Popen(
            [server, "start", "--nodaemon", base],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,  # its start-up lines, read (and dropped) below
            text=True,
        )
        try:
            assert daemon.stdout is not None
            deadline = time.monotonic() + 30
            while "Server Running" not in daemon.stdout.readline():
                if time.monotonic() > deadline or daemon.poll() is not None:
                    raise RuntimeError("octavo-server did not start")
            threading.Thread(target=daemon.stdout.read, daemon=True).start()  # drain its log
            print("  (octavo-server started in the foreground, listening on 127.0.0.1)")
            report = Path(work, "report.txt")
            report.write_text("measured by the Quick start\n" * 100)
            _run(
                client,
                "--furl",
                upload_furl,
                "upload-file",
                "--no-progress",
                "report.txt",
                cwd=work,
            )
            _run(client, "--furl", command_furl, "run-command")
        finally:
            daemon.terminate()
            daemon.wait(timeout=30)
    print("octavo-server stopped, its BASEDIR removed.")


async def run(reactor: Any) -> None:
    server = Tub()
    server.startService()
    port = server.listenOn("tcp:0:interface=127.0.0.1").getPortnum()
    server.setLocation(f"127.0.0.1:{port}")
    furl = server.registerReference(Notebook(), "notebook")
    print(f"server Tub {server.getShortTubID()} published its notebook at\n  {furl}")

    client = Tub()
    client.startService()
    try:
        notebook = await client.getReference(furl)
        print(f"client Tub {client.getShortTubID()} connected over TLS; calling:")
        watcher = Watcher()
        await notebook.callRemote("watch", watcher)
        print("  watch(Watcher()) -> passed a reference to a client object")
        print(
            "  add(Note('groceries', 3)) ->", await notebook.callRemote("add", Note("groceries", 3))
        )
        await watcher.heard  # (the callback above: sent without waiting, so await it)
        print("  add(Note('poem', 120)) ->", await notebook.callRemote("add", Note("poem", 120)))
        print("  titles() ->", await notebook.callRemote("titles"))
        note = await notebook.callRemote("get", "poem")
        print(f"  get('poem') -> {note!r}, a {type(note).__name__} sent by value")
        try:
            await notebook.callRemote("add", "not a Note")
        except Violation as e:
            print(f"  add('not a Note') -> refused before sending: {str(e)[:70]}")
        latency_ms, rate = await measure(notebook)
        print(
            f"  {LATENCY_CALLS} serial calls: {latency_ms:.3f} ms each; "
            f"{THROUGHPUT_CALLS} calls, {IN_FLIGHT} in flight: {rate:,.0f} calls/s"
        )
    finally:
        await defer.gatherResults([client.stopService(), server.stopService()])
    print("both Tubs stopped.\n\nThe application server (Foolscap's flappserver/flappclient):")
    await threads.deferToThread(app_server)


def main() -> None:
    task.react(lambda reactor: defer.ensureDeferred(run(reactor)))


if __name__ == "__main__":
    main()
