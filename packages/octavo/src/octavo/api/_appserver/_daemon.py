"""``start``, ``stop`` and ``restart``: the server under twistd, with a pid file and a log.

In the background twistd writes ``twistd.pid`` and ``twistd.log`` in BASEDIR, as
flappserver's does; ``--nodaemon`` runs it in the foreground, logging to stdout.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import IO

from twisted.scripts import twistd

from ._basedir import TAC_FILE, check_basedir, load_services, read_config
from ._errors import BasedirError

PIDFILE = "twistd.pid"
LOGFILE = "twistd.log"


def start(basedir: str, nodaemon: bool, stderr: IO[str]) -> int:
    """Run the server of ``basedir`` under twistd (returns when it stops or forks)."""
    check_basedir(basedir)
    read_config(basedir)
    load_services(basedir)
    # BASEDIR's own octavo-server.tac if it has one; else (a BASEDIR flappserver made)
    # the same application from our package, so that nothing is added to BASEDIR.
    tac = os.path.join(basedir, TAC_FILE)
    if not os.path.exists(tac):
        tac = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_application.py")
    tac = os.path.abspath(tac)
    os.chdir(basedir)
    argv = ["twistd", "--no_save", "--pidfile", PIDFILE, "--python", tac]
    if nodaemon:
        argv.insert(1, "--nodaemon")
    else:
        argv[1:1] = ["--logfile", LOGFILE]
    print("Launching Server...", file=stderr, flush=True)
    sys.argv = argv
    twistd.run()  # type: ignore[no-untyped-call,unused-ignore]
    return 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError as e:
        if e.errno == errno.ESRCH:
            return False
        raise
    return True


def stop(
    basedir: str,
    stderr: IO[str],
    *,
    timeout: float = 15.0,
    sleep: Callable[[float], None] = time.sleep,
    quiet: bool = False,
) -> int:
    """SIGTERM the running server, SIGKILL it after ``timeout`` seconds.

    0: stopped; 2: nothing was running (Foolscap's codes).
    """
    pidfile = os.path.join(basedir, PIDFILE)
    try:
        with open(pidfile) as f:
            text = f.read().strip()
    except FileNotFoundError:
        if not quiet:
            print(f"{basedir} has no running server (no {PIDFILE})", file=stderr)
        return 2
    if not text.isdigit():
        raise BasedirError(f"{pidfile} does not hold a process id: {text[:20]!r}")
    pid = int(text)
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        os.unlink(pidfile)
        print(f"process {pid} was not running; removed {PIDFILE}", file=stderr)
        return 2
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            break
        sleep(0.1)
    else:
        print(f"process {pid} ignored SIGTERM for {timeout:g} s: sending SIGKILL", file=stderr)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(pidfile)
    print(f"process {pid} terminated", file=stderr)
    return 0
