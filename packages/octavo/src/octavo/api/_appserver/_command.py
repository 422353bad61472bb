"""The run-command service: Foolscap's ``execute(watcher)``, output streamed back.

The server runs its preconfigured command in its folder and calls the client's
``watcher`` with ``stdout(data)`` and ``stderr(data)`` as output comes, then
``done(signal, exitcode)``. With ``--accept-stdin`` ``execute`` answers a reference
with ``feed_stdin(data)`` and ``close_stdin()``; otherwise None, and the command's
stdin is closed at once. Output waits (the command's pipes are not read) while the
connection to the client is backed up, so a slow client cannot make us buffer it.
"""

from __future__ import annotations

import os
from typing import Any, cast

from twisted.internet import error, protocol
from twisted.internet.interfaces import IReactorProcess
from twisted.logger import Logger
from twisted.python.failure import Failure

from octavo.tub import Referenceable

from ._errors import BadRequestError, BusyError
from ._options import CommandOptions

_log = Logger()
MAX_RUNNING = 32  # commands at once per service (1 with --single-instance)


class _Output(protocol.ProcessProtocol):
    """Sends one command's output and end to the watcher."""

    def __init__(self, runner: CommandRunner, watcher: Any) -> None:
        self.runner = runner
        self.watcher = watcher
        self.options = runner.options

    def _send(self, method: str, data: bytes) -> None:
        self.watcher.callRemoteOnly(method, data)
        when_writable = getattr(self.watcher, "when_writable", None)
        if when_writable is None or self.transport is None:
            return
        ready = when_writable()
        if not ready.called:
            self.transport.pauseProducing()
            ready.addBoth(lambda _: self._resume())

    def _resume(self) -> None:
        if self.transport is not None:
            self.transport.resumeProducing()

    def outReceived(self, data: bytes) -> None:
        if self.options.log_stdout:
            _log.info("run-command stdout: {data!r}", data=data)
        if self.options.send_stdout:
            self._send("stdout", data)

    def errReceived(self, data: bytes) -> None:
        if self.options.log_stderr:
            _log.info("run-command stderr: {data!r}", data=data)
        if self.options.send_stderr:
            self._send("stderr", data)

    def processEnded(self, reason: Failure) -> None:
        value = reason.value
        signal = getattr(value, "signal", None)
        code = getattr(value, "exitCode", None)
        if isinstance(value, error.ProcessDone):
            code, signal = 0, None
        _log.info("run-command ended (signal={s}, rc={c})", s=signal, c=code)
        self.runner.running -= 1
        try:
            self.watcher.callRemoteOnly("done", signal, code)
        except Exception as e:  # the client is gone: nobody left to tell
            _log.info("run-command: could not report the end: {e}", e=e)


class CommandStdin(Referenceable):
    """What the client feeds the running command's stdin through."""

    def __init__(self, process: Any, log_stdin: bool) -> None:
        self.process = process
        self.log_stdin = log_stdin
        self.closed = False

    def remote_feed_stdin(self, data: Any) -> None:
        """Write ``data`` (bytes) to the command's stdin."""
        if not isinstance(data, bytes):
            raise BadRequestError(f"stdin takes bytes, not {type(data).__name__}")
        if self.closed:
            raise BadRequestError("stdin is already closed")
        if self.log_stdin:
            _log.info("run-command stdin: {data!r}", data=data)
        self.process.write(data)

    def remote_close_stdin(self) -> None:
        """Close the command's stdin (again: nothing happens)."""
        if not self.closed:
            self.closed = True
            self.process.closeStdin()


class CommandRunner(Referenceable):
    """Runs one preconfigured command for each client that asks."""

    def __init__(self, options: CommandOptions, reactor: IReactorProcess | None = None) -> None:
        if reactor is None:
            from twisted.internet import reactor as default  # noqa: PLC0415 - not at import time

            reactor = cast(IReactorProcess, default)
        self.options = options
        self.reactor: Any = reactor  # zope interfaces: mypy reads their methods oddly
        self.running = 0

    def remote_execute(self, watcher: Any) -> CommandStdin | None:
        """Start the command; its output and end go to ``watcher``."""
        if not callable(getattr(watcher, "callRemoteOnly", None)):
            raise BadRequestError("execute needs a reference to the client's watcher")
        if self.options.single_instance and self.running:
            raise BusyError("this command is already running (single-instance service)")
        if self.running >= MAX_RUNNING:
            raise BusyError(f"this service runs {MAX_RUNNING} commands at once; try later")
        o = self.options
        _log.info("run-command in {dir}: {argv}", dir=o.targetdir, argv=o.command)
        pp = _Output(self, watcher)
        assert self.reactor is not None
        process = self.reactor.spawnProcess(
            pp, o.command[0], list(o.command), dict(os.environ), o.targetdir
        )
        self.running += 1
        if not o.accept_stdin:
            process.closeStdin()
            return None
        stdin = CommandStdin(process, o.log_stdin)
        notify = getattr(watcher, "notifyOnDisconnect", None)
        if notify is not None:
            notify(stdin.remote_close_stdin)
        return stdin
