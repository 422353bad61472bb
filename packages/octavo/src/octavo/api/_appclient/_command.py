"""``run-command``: the watcher the server streams output to, and stdin forwarding.

The exit code is the command's; 127 if a signal ended it; 3 if the connection was
lost first (Foolscap's codes).
"""

from __future__ import annotations

import threading
from typing import IO, Any

from twisted.internet import defer, threads
from twisted.internet.interfaces import IReactorFromThreads

from octavo.tub import Referenceable

CHUNK = 64 * 1024
LOST = 3
SIGNALLED = 127


class Watcher(Referenceable):
    """Receives ``stdout``, ``stderr`` and ``done`` from the server."""

    def __init__(self, stdout: IO[bytes], stderr: IO[bytes]) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self.finished: defer.Deferred[int] = defer.Deferred()

    def remote_stdout(self, data: bytes) -> None:
        if isinstance(data, bytes):
            self.stdout.write(data)
            self.stdout.flush()

    def remote_stderr(self, data: bytes) -> None:
        if isinstance(data, bytes):
            self.stderr.write(data)
            self.stderr.flush()

    def remote_done(self, signal: Any, exitcode: Any) -> None:
        if signal:
            self.finish(SIGNALLED)
        else:
            self.finish(exitcode if isinstance(exitcode, int) else SIGNALLED)

    def finish(self, code: int) -> None:
        if not self.finished.called:
            self.finished.callback(code)


def _forward_stdin(reactor: IReactorFromThreads, source: IO[bytes], stdin_ref: Any) -> None:
    """In a thread: send ``source`` chunk by chunk, each once the last was taken."""
    try:
        while True:
            data = source.read1(CHUNK) if hasattr(source, "read1") else source.read(CHUNK)
            if not data:
                break
            threads.blockingCallFromThread(reactor, stdin_ref.callRemote, "feed_stdin", data)
        threads.blockingCallFromThread(reactor, stdin_ref.callRemote, "close_stdin")
    except Exception:  # the connection is gone: the watcher reports that
        return


async def run_command(
    rref: Any,
    stdout: IO[bytes],
    stderr: IO[bytes],
    stdin: IO[bytes] | None,
    reactor: IReactorFromThreads,
) -> int:
    """Start the service's command; stream its output; return its exit code.

    ``stdin``: what to send if the server takes stdin (None: close it at once).
    """
    watcher = Watcher(stdout, stderr)
    rref.notifyOnDisconnect(watcher.finish, LOST)
    stdin_ref = await rref.callRemote("execute", watcher)
    if stdin_ref is not None:
        if stdin is None:
            await stdin_ref.callRemote("close_stdin")
        else:
            t = threading.Thread(
                target=_forward_stdin, args=(reactor, stdin, stdin_ref), daemon=True
            )
            t.start()
    return await watcher.finished
