"""The run-command service with real child processes and a fake client watcher."""

from __future__ import annotations

import sys
from typing import Any

from twisted.internet import defer
from twisted.trial import unittest

from octavo.api._appserver._command import (
    MAX_RUNNING,
    CommandRunner,
    CommandStdin,
    _Output,
)
from octavo.api._appserver._errors import BadRequestError, BusyError
from octavo.api._appserver._options import CommandOptions

from ._appserver_support import temp_root


class FakeWatcher:
    """Records what the service sends; ``done`` fires when the command ends."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []
        self.done: defer.Deferred[tuple[Any, Any]] = defer.Deferred()
        self.on_disconnect: list[Any] = []

    def callRemoteOnly(self, method: str, *args: Any) -> None:
        if method == "done":
            self.done.callback(args)
        else:
            self.events.append((method, args[0]))

    def notifyOnDisconnect(self, cb: Any) -> None:
        self.on_disconnect.append(cb)

    def output(self, name: str) -> bytes:
        return b"".join(d for m, d in self.events if m == name)


def py(code: str) -> tuple[str, ...]:
    return (sys.executable, "-c", code)


class RunCommand(unittest.TestCase):
    def runner(self, code: str, **kw: Any) -> CommandRunner:
        return CommandRunner(CommandOptions(str(temp_root(self)), py(code), **kw))

    async def test_output_and_exit_code_stream_back(self) -> None:
        """stdout and stderr go to the watcher as they come, then done(None, code); the
        command runs in TARGETDIR; stdin is closed at once when not accepted."""
        r = self.runner(
            "import os, sys; sys.stdout.write(os.getcwd()); sys.stdout.flush();"
            " sys.stderr.write('oops'); sys.stdin.read(); sys.exit(3)"
        )
        watcher = FakeWatcher()
        assert r.remote_execute(watcher) is None
        assert await watcher.done == (None, 3)
        assert watcher.output("stdout").decode() == r.options.targetdir
        assert watcher.output("stderr") == b"oops"
        assert r.running == 0

    async def test_no_stdout_no_stderr(self) -> None:
        r = self.runner(
            "import sys; print('a'); print('b', file=sys.stderr)",
            send_stdout=False,
            send_stderr=False,
        )
        watcher = FakeWatcher()
        r.remote_execute(watcher)
        assert await watcher.done == (None, 0)
        assert watcher.events == []

    async def test_stdin(self) -> None:
        """With --accept-stdin execute answers the stdin object; bytes go through, a
        str is refused, and closing twice is harmless; a disconnect closes it."""
        r = self.runner("import sys; sys.stdout.write(sys.stdin.read().upper())", accept_stdin=True)
        watcher = FakeWatcher()
        stdin = r.remote_execute(watcher)
        assert isinstance(stdin, CommandStdin)
        stdin.remote_feed_stdin(b"hello ")
        with self.assertRaises(BadRequestError):
            stdin.remote_feed_stdin("text")
        stdin.remote_feed_stdin(b"world")
        assert watcher.on_disconnect == [stdin.remote_close_stdin]
        stdin.remote_close_stdin()
        stdin.remote_close_stdin()
        with self.assertRaises(BadRequestError):
            stdin.remote_feed_stdin(b"late")
        assert await watcher.done == (None, 0)
        assert watcher.output("stdout") == b"HELLO WORLD"

    async def test_single_instance(self) -> None:
        """A single-instance command refuses a second run while the first runs, and
        runs again once it has ended."""
        r = self.runner("import sys; sys.stdin.read()", accept_stdin=True, single_instance=True)
        first = FakeWatcher()
        stdin = r.remote_execute(first)
        with self.assertRaises(BusyError):
            r.remote_execute(FakeWatcher())
        assert stdin is not None
        stdin.remote_close_stdin()
        assert await first.done == (None, 0)
        again = FakeWatcher()
        r.remote_execute(again).remote_close_stdin()
        assert await again.done == (None, 0)

    async def test_signal(self) -> None:
        r = self.runner("import os, signal; os.kill(os.getpid(), signal.SIGTERM)")
        watcher = FakeWatcher()
        r.remote_execute(watcher)
        signal, _code = await watcher.done
        assert signal == 15

    def test_commands_at_once_are_bounded(self) -> None:
        """Past MAX_RUNNING commands of one service a new run is refused."""
        r = self.runner("pass")
        r.running = MAX_RUNNING
        with self.assertRaises(BusyError) as e:
            r.remote_execute(FakeWatcher())
        assert str(MAX_RUNNING) in str(e.exception)

    def test_output_waits_while_the_client_is_backed_up(self) -> None:
        """While the watcher's connection is past its high-water mark the command's
        pipes are not read; they are again once it drains."""
        r = self.runner("pass")
        watcher = FakeWatcher()
        drained: defer.Deferred[None] = defer.Deferred()
        watcher.when_writable = lambda: drained  # type: ignore[attr-defined]
        calls: list[str] = []

        class Transport:
            def pauseProducing(self) -> None:
                calls.append("pause")

            def resumeProducing(self) -> None:
                calls.append("resume")

        out = _Output(r, watcher)
        out.transport = Transport()  # type: ignore[assignment]
        out.outReceived(b"chunk")
        assert calls == ["pause"] and watcher.events == [("stdout", b"chunk")]
        drained.callback(None)
        assert calls == ["pause", "resume"]
        watcher.when_writable = lambda: defer.succeed(None)  # type: ignore[attr-defined]
        out.errReceived(b"more")
        assert calls == ["pause", "resume"]

    def test_garbage_watcher_is_refused(self) -> None:
        r = self.runner("pass")
        for garbage in [None, 12, "watcher", b"x"]:
            with self.assertRaises(BadRequestError):
                r.remote_execute(garbage)
        assert r.running == 0
