"""Is an upload streamed? Peak memory of octavo-server and octavo-client per file size.

For each size (default 16 MiB and 1 GiB; ``APPSERVER_UPLOAD_SIZES_MB=16,1024``) a
sparse source file is made, an ``octavo-server start --nodaemon`` is started on a
fresh BASEDIR on 127.0.0.1 with one upload-file service, and ``octavo-client
upload-file`` sends the file. Reported: seconds, the server's peak RSS (VmHWM from
/proc, read before it is stopped) and the client's (``ru_maxrss`` of the waited
child). If the upload is streamed, both peaks stay flat as the file grows 64-fold;
the server holds one 1 MiB block per upload, the client one read answer.

``python benchmarks/run.py appserver_upload`` in an env with the packages (``tox -e
bench -- appserver_upload``). Linux only (/proc). Measured, never asserted.
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

from _harness import Report

TIMEOUT = 1800
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_listening(port: int) -> None:
    end = time.monotonic() + 60
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"octavo-server never listened on {port}")


def _vmhwm_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM")


def _run(argv: list[str]) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, check=True)
    return done.stdout


def measure(size_mb: int) -> dict[str, float]:
    """One upload of ``size_mb`` MiB through a real server and client process."""
    root = Path(tempfile.mkdtemp(prefix="bench-appserver-"))
    try:
        target = root / "target"
        target.mkdir()
        source = root / "big.bin"
        with source.open("wb") as f:
            f.truncate(size_mb * 1024 * 1024)
        port = _free_port()
        basedir = str(root / "server")
        _run(
            [
                str(BIN / "octavo-server"),
                "create",
                "--port",
                f"tcp:{port}:interface=127.0.0.1",
                "--location",
                f"127.0.0.1:{port}",
                basedir,
            ]
        )
        out = _run([str(BIN / "octavo-server"), "add", basedir, "upload-file", str(target)])
        furl = next(w for w in out.split() if w.startswith("pb://"))
        server = subprocess.Popen(
            [str(BIN / "octavo-server"), "start", "--nodaemon", basedir],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_listening(port)
            idle_kib = _vmhwm_kib(server.pid)
            start = time.perf_counter()
            client = subprocess.Popen(
                [
                    str(BIN / "octavo-client"),
                    "--furl",
                    furl,
                    "upload-file",
                    "--no-progress",
                    str(source),
                ],
                stdout=subprocess.DEVNULL,
            )
            _, status, usage = os.wait4(client.pid, 0)
            client.returncode = os.waitstatus_to_exitcode(status)
            seconds = time.perf_counter() - start
            if client.returncode != 0:
                raise RuntimeError(f"octavo-client failed with {client.returncode}")
            server_kib = _vmhwm_kib(server.pid)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
        assert (target / "big.bin").stat().st_size == size_mb * 1024 * 1024
        return {
            "seconds": round(seconds, 1),
            "server_idle_mib": round(idle_kib / 1024, 1),
            "server_peak_mib": round(server_kib / 1024, 1),
            "client_peak_mib": round(usage.ru_maxrss / 1024, 1),
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run() -> Report:
    """Measure each size and tabulate (what ``benchmarks/run.py appserver_upload`` calls)."""
    sizes = [int(s) for s in os.environ.get("APPSERVER_UPLOAD_SIZES_MB", "16,1024").split(",")]
    rep = Report("appserver_upload")
    rows: list[list[object]] = []
    for size in sizes:
        r = measure(size)
        rep.data[str(size)] = r
        rows.append(
            [
                f"{size:,} MiB",
                r["seconds"],
                r["server_idle_mib"],
                r["server_peak_mib"],
                r["client_peak_mib"],
                round(size / r["seconds"], 1),
            ]
        )
    rep.table(
        "octavo-client upload-file to octavo-server over 127.0.0.1",
        ["file", "s", "server RSS idle MiB", "server peak MiB", "client peak MiB", "MiB/s"],
        rows,
    )
    return rep


if __name__ == "__main__":
    print(run().render())
