"""A server's system calls, counted by ``perf stat`` while a figure is measured.

The parent starts each Tub server under ``perf stat -e raw_syscalls:sys_enter``, with
counting off (``-D -1``), a control FIFO and an interval print (:func:`perf_command`).
The server's ``syscalls(on)`` method switches counting on before a measured phase and
off after it, returning the running total (:class:`ServerSyscalls`), so the client
gets the server's system calls of exactly that phase. perf counts in the kernel and
does not stop the process (``strace`` would, changing how calls batch). Without
``perf`` (or the right to trace) the count is None and the tables say "-".
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

__all__ = ["ENV", "ServerSyscalls", "perf_command"]

EVENT = "raw_syscalls:sys_enter"
#: environment variable naming the control FIFO, its ack FIFO and the output file
ENV = "RPC_PERF_FILES"
INTERVAL_MS = 50


def perf_command(tmpdir: str) -> tuple[list[str], dict[str, str]]:
    """The command prefix that runs a server under perf, and the environment that
    tells the server where its controls are; both empty when perf cannot count."""
    perf = shutil.which("perf")
    if perf is None:
        return [], {}
    probe = subprocess.run(
        [perf, "stat", "-e", EVENT, "-x", ",", "--", "true"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if probe.returncode != 0 or "not counted" in probe.stderr or "not supported" in probe.stderr:
        return [], {}
    ctl, ack, out = (str(Path(tmpdir) / name) for name in ("ctl", "ack", "out"))
    os.mkfifo(ctl)
    os.mkfifo(ack)
    prefix = [perf, "stat", "-D", "-1", "-e", EVENT, "-x", ",", "-I", str(INTERVAL_MS)]
    prefix += ["--control", f"fifo:{ctl},{ack}", "-o", out, "--"]
    return prefix, {ENV: os.pathsep.join((ctl, ack, out))}


class ServerSyscalls:
    """Inside the server: switch perf's counting on and off, read the total."""

    def __init__(self) -> None:
        files = os.environ.get(ENV, "")
        self._paths = files.split(os.pathsep) if files else []
        self._ctl: int | None = None
        self._ack: int | None = None

    def switch(self, on: bool) -> int | None:
        """Counting on (``on``) or off; the system calls counted so far, or None."""
        if len(self._paths) != 3:
            return None
        ctl, ack, out = self._paths
        if self._ctl is None:
            self._ctl = os.open(ctl, os.O_WRONLY)
            self._ack = os.open(ack, os.O_RDONLY)
        assert self._ack is not None
        os.write(self._ctl, b"enable\n" if on else b"disable\n")
        os.read(self._ack, 64)
        if on:
            return None
        time.sleep(3 * INTERVAL_MS / 1000)  # perf prints the last interval
        total = 0
        for line in Path(out).read_text().splitlines():
            fields = line.split(",")
            if len(fields) > 2 and fields[1].strip().isdigit():
                total += int(fields[1])
        return total
