"""octavo-server/octavo-client against Foolscap 24.9's flappserver/flappclient.

Every program runs as a subprocess of this test (each bounded by a timeout), on
127.0.0.1 only: Foolscap's flappclient against an octavo-server, octavo-client
against a flappserver, and each server on a BASEDIR the other one made.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from twisted.trial.unittest import SynchronousTestCase

TIMEOUT = 60
BIN = os.path.dirname(sys.executable)


def tool(name: str) -> str:
    path = os.path.join(BIN, name)
    assert os.path.exists(path), f"{name} is not installed next to {sys.executable}"
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(argv: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        **kw,
    )


def furl_of(out: str) -> str:
    return next(w for w in out.split() if w.startswith("pb://"))


class AppServerInterop(SynchronousTestCase):
    def setUp(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="octavo-appserver-interop-"))
        self.addCleanup(shutil.rmtree, self.root, True)
        self.target = self.root / "target"
        self.target.mkdir()
        self.port = free_port()
        self.basedir = str(self.root / "server")
        self.payload = self.root / "payload.bin"
        self.payload.write_bytes(os.urandom(3 * 1024 * 1024 + 17))  # four 1 MiB blocks

    def create(self, program: str) -> None:
        done = run(
            [
                tool(program),
                "create",
                "--port",
                f"tcp:{self.port}:interface=127.0.0.1",
                "--location",
                f"tcp:127.0.0.1:{self.port}",
                self.basedir,
            ]
        )
        assert os.path.isdir(self.basedir), done.stderr + done.stdout

    def add(self, program: str, *args: str) -> str:
        done = run([tool(program), "add", self.basedir, *args])
        assert done.returncode == 0, done.stderr + done.stdout
        return furl_of(done.stdout)

    def serve(self, argv: list[str], cwd: str | None = None) -> None:
        """Run a server in the foreground until the test ends; wait until it listens."""
        proc = subprocess.Popen(
            argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )

        def stop() -> None:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.communicate(timeout=TIMEOUT)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.communicate(timeout=TIMEOUT)
            elif proc.stdout is not None:
                proc.stdout.close()

        self.addCleanup(stop)
        end = time.monotonic() + TIMEOUT
        while time.monotonic() < end:
            assert proc.poll() is None, "the server exited early"
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("the server never listened")

    def serve_octavo(self) -> None:
        self.serve([tool("octavo-server"), "start", "--nodaemon", self.basedir])

    def serve_foolscap(self) -> None:
        # flappserver start hands its arguments to twistd: the same, in the foreground
        self.serve(
            [
                tool("twistd"),
                "--nodaemon",
                "--no_save",
                "--pidfile=",
                "--python",
                "flappserver.tac",
            ],
            cwd=self.basedir,
        )

    def check_upload_and_run(self, client: str, up: str, cmd: str) -> None:
        """``client`` uploads the payload and runs the command (stdin, output, exit code)."""
        done = run([tool(client), "--furl", up, "upload-file", str(self.payload)])
        assert done.returncode == 0, done.stderr
        assert "payload.bin: uploaded" in done.stdout
        assert (self.target / "payload.bin").read_bytes() == self.payload.read_bytes()
        assert not [n for n in os.listdir(self.target) if n.endswith(".partial")]
        argv = [tool(client), "--furl", cmd, "run-command"]
        if client == "octavo-client":
            argv.append("--stdin")
        done = run(argv, input="some input\n")
        assert done.returncode == 7, (done.returncode, done.stderr)
        assert done.stdout == "out:SOME INPUT\n", done.stdout
        assert "err:line" in done.stderr

    def command_args(self) -> list[str]:
        script = (
            "import sys; d = sys.stdin.read(); print('out:' + d.upper(), end='');"
            " print('err:line', file=sys.stderr); sys.exit(7)"
        )
        return ["run-command", "--accept-stdin", str(self.target), sys.executable, "-c", script]

    def setup_services(self, maker: str) -> tuple[str, str]:
        self.create(maker)
        up = self.add(maker, "upload-file", str(self.target))
        cmd = self.add(maker, *self.command_args())
        return up, cmd

    def test_flappclient_against_octavo_server(self) -> None:
        up, cmd = self.setup_services("octavo-server")
        self.serve_octavo()
        self.check_upload_and_run("flappclient", up, cmd)

    def test_octavo_client_against_flappserver(self) -> None:
        up, cmd = self.setup_services("flappserver")
        self.serve_foolscap()
        self.check_upload_and_run("octavo-client", up, cmd)

    def test_octavo_server_runs_a_flappserver_basedir(self) -> None:
        """A BASEDIR made by flappserver create/add is served by octavo-server, with the
        same FURLs (its key and services.json are read as they are)."""
        up, cmd = self.setup_services("flappserver")
        self.serve_octavo()
        self.check_upload_and_run("flappclient", up, cmd)
        self.check_upload_and_run("octavo-client", up, cmd)
        assert not [n for n in os.listdir(self.basedir) if n.startswith("octavo")]

    def test_flappserver_reads_an_octavo_basedir(self) -> None:
        """flappserver list and flappserver itself use a BASEDIR octavo-server made."""
        up, cmd = self.setup_services("octavo-server")
        listed = run([tool("flappserver"), "list", self.basedir])
        assert listed.returncode == 0, listed.stderr
        assert up in listed.stdout and cmd in listed.stdout
        self.serve_foolscap_on_octavo_tac()
        self.check_upload_and_run("flappclient", up, cmd)

    def serve_foolscap_on_octavo_tac(self) -> None:
        # Foolscap's own AppServer, on the octavo BASEDIR (its tub.pem, port, services)
        tac = Path(self.basedir) / "flappserver-check.tac"
        tac.write_text(
            "from twisted.application import service\n"
            "from foolscap.appserver.server import AppServer\n"
            "application = service.Application('flappserver')\n"
            "AppServer().setServiceParent(application)\n"
        )
        self.serve(
            [tool("twistd"), "--nodaemon", "--no_save", "--pidfile=", "--python", tac.name],
            cwd=self.basedir,
        )

    def test_refusals_reach_flappclient(self) -> None:
        """An octavo-server refuses an upload past its quota from flappclient with a
        named error, removes the partial file, and goes on serving."""
        self.create("octavo-server")
        up = self.add("octavo-server", "upload-file", "--max-size", "1000", str(self.target))
        self.serve_octavo()
        done = run([tool("flappclient"), "--furl", up, "upload-file", str(self.payload)])
        assert done.returncode != 0
        assert "QuotaExceededError" in done.stderr + done.stdout
        assert os.listdir(self.target) == []
        small = self.root / "small.txt"
        small.write_bytes(b"fits")
        done = run([tool("flappclient"), "--furl", up, "upload-file", str(small)])
        assert done.returncode == 0, done.stderr
        assert (self.target / "small.txt").read_bytes() == b"fits"
