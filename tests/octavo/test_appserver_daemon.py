"""octavo-server and octavo-client as processes: start in the background, stop, restart."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from pathlib import Path
from typing import IO

from twisted.trial.unittest import SynchronousTestCase

from ._appserver_support import TIMEOUT, make_basedir, run_script, script, temp_root, wait_for_port


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def read_until(stream: IO[str], text: str) -> str:
    """What ``stream`` gives up to and including ``text`` (bounded by TIMEOUT). Read
    from its file descriptor, not through its buffer: a line read ahead into the
    buffer would be invisible to ``select`` (the rest stays for ``communicate``)."""
    seen = b""
    want = text.encode()
    fd = stream.fileno()
    end = time.monotonic() + TIMEOUT
    while want not in seen:
        left = end - time.monotonic()
        assert left > 0 and select.select([fd], [], [], left)[0], seen.decode()
        data = os.read(fd, 65536)
        assert data, seen.decode()
        seen += data
    return seen.decode()


class Daemon(SynchronousTestCase):
    def setUp(self) -> None:
        self.root = temp_root(self)
        self.basedir, self.port = make_basedir(self.root)
        self.target = self.root / "target"
        self.target.mkdir()
        self.server = script("octavo-server")
        self.client = script("octavo-client")
        self.addCleanup(self.kill_leftover)

    def kill_leftover(self) -> None:
        pidfile = Path(self.basedir) / "twistd.pid"
        if pidfile.exists():
            pid = int(pidfile.read_text())
            if alive(pid):
                os.kill(pid, signal.SIGKILL)

    def add(self, *args: str) -> str:
        done = run_script([self.server, "add", self.basedir, *args])
        assert done.returncode == 0, done.stderr
        return next(w for w in done.stdout.split() if w.startswith("pb://"))

    def test_start_upload_run_stop_restart(self) -> None:
        """start daemonizes (pid file, log), the client uploads and runs a command, stop
        ends the process and removes the pid file; restart brings it back with the
        same FURLs."""
        up = self.add("upload-file", str(self.target))
        cmd = self.add("run-command", "--accept-stdin", str(self.target), "tr", "a-z", "A-Z")
        furlfile = self.root / "up.furl"
        furlfile.write_text(f"# the upload service\n{up}\n")
        started = run_script([self.server, "start", self.basedir])
        assert started.returncode == 0, started.stderr
        wait_for_port(self.port)
        pidfile = Path(self.basedir) / "twistd.pid"
        pid = int(pidfile.read_text())
        assert alive(pid)
        assert (Path(self.basedir) / "twistd.log").exists()

        f = self.root / "hello.txt"
        f.write_bytes(b"hello")
        done = run_script([self.client, "--furlfile", str(furlfile), "upload-file", str(f)])
        assert done.returncode == 0, done.stderr
        assert done.stdout == "hello.txt: uploaded\n"
        assert (self.target / "hello.txt").read_bytes() == b"hello"
        done = run_script([self.client, "--furl", cmd, "run-command", "--stdin"], input="shout\n")
        assert (done.returncode, done.stdout) == (0, "SHOUT\n"), done.stderr
        done = run_script([self.client, "--furl", cmd, "run-command"])
        assert (done.returncode, done.stdout) == (0, ""), done.stderr

        again = run_script([self.server, "restart", self.basedir])
        assert again.returncode == 0, again.stderr
        wait_for_port(self.port)
        new_pid = int(pidfile.read_text())
        assert new_pid != pid and not alive(pid)
        done = run_script([self.client, "--furl", up, "upload-file", str(f)])
        assert done.returncode == 0, done.stderr

        stopped = run_script([self.server, "stop", self.basedir])
        assert stopped.returncode == 0, stopped.stderr
        assert "terminated" in stopped.stderr
        assert not pidfile.exists() and not alive(new_pid)
        assert run_script([self.server, "stop", self.basedir]).returncode == 2

    def test_nodaemon_runs_in_the_foreground(self) -> None:
        """start --nodaemon stays attached, logs to stdout and stops on SIGTERM."""
        up = self.add("upload-file", str(self.target))
        proc = subprocess.Popen(
            [self.server, "start", "--nodaemon", self.basedir],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            assert proc.stdout is not None
            seen = read_until(proc.stdout, f"Listener starting on {self.port}")
            # a call answered proves its reactor runs (so its SIGTERM handler is set)
            done = run_script([self.client, "--furl", up, "upload-file", str(self.basedir)])
            assert done.returncode == 1 and "upload" not in done.stdout
            assert proc.poll() is None
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=TIMEOUT)
            out = seen + out
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate(timeout=TIMEOUT)
        assert proc.returncode == -signal.SIGTERM  # twistd ends with the signal it got
        assert "Server Running" in out and "Main loop terminated" in out

    def test_client_errors_are_one_line(self) -> None:
        """A FURL nobody serves, a missing file, no FURL at all: one line, exit 1."""
        up = self.add("upload-file", str(self.target))
        started = run_script([self.server, "start", self.basedir])
        assert started.returncode == 0, started.stderr
        wait_for_port(self.port)
        bad_furl = up.rsplit("/", 1)[0] + "/nosuchswissnumberxxxxxxxxxxxxxxxx"
        cases = [
            ([self.client, "--furl", bad_furl, "upload-file", str(self.root)], "find reference"),
            ([self.client, "--furl", up, "upload-file", str(self.root / "missing")], "missing"),
            ([self.client, "upload-file", str(self.root)], "--furl"),
            ([self.client, "--furlfile", str(self.root / "nofile"), "run-command"], "FURL file"),
        ]
        for argv, word in cases:
            done = run_script(argv)
            assert done.returncode == 1, (argv, done.stderr)
            lines = done.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("octavo-client: error: "), lines
            assert word in lines[0], lines
        assert run_script([self.server, "stop", self.basedir]).returncode == 0
