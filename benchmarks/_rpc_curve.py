"""One point of the connection-count curve: N client Tubs x ``width`` calls in flight.

The client work is spread over two processes (one for a single connection), each
with its own client Tubs, so a client process is not what limits the server. Both
connect, say they are ready, and start calling on the same word; the first one
measures the server's answered calls, CPU time and system calls over a window, read
by the server itself at both ends, while the other keeps calling until the first is
done. Every subprocess has a timeout.
"""

from __future__ import annotations

import json
import selectors
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["curve_point"]

HERE = Path(__file__).resolve().parent
READY_SECONDS = 120.0


def curve_point(
    system: str,
    furl: str,
    connections: int,
    *,
    width: int = 10,
    seconds: float = 2.0,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """calls/s and server system calls per call at ``connections`` x ``width``."""
    split = [connections] if connections < 2 else [connections - connections // 2, connections // 2]
    procs: list[subprocess.Popen[str]] = []
    logs = []
    first = 0
    try:
        for k, n in enumerate(split):
            log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed below
            logs.append(log)
            args = [sys.executable, str(HERE / "_rpc_client.py"), "curve", system]
            args += ["--furl", furl, "--connections", str(n), "--first", str(first)]
            args += ["--width", str(width), "--seconds", str(seconds)]
            procs.append(
                subprocess.Popen(
                    [*args, *(["--measure"] if k == 0 else [])],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=log,
                    text=True,
                    env=env,
                )
            )
            first += n
        for proc, log in zip(procs, logs, strict=True):
            if not _ready(proc):
                log.seek(0)
                return {"error": f"curve client not ready: {log.read()[-1500:]}"}
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        outs = [procs[0].communicate(timeout=seconds + 120)[0]]
        # the others call until the measuring one is done
        outs += [proc.communicate("stop\n", timeout=60)[0] for proc in procs[1:]]
    except subprocess.TimeoutExpired:
        return {"error": f"curve point {connections} exceeded its time"}
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=15)
        for log in logs:
            log.close()
    if procs[0].returncode != 0 or not outs[0].strip():
        return {"error": f"curve client failed ({procs[0].returncode})"}
    result: dict[str, Any] = json.loads(outs[0].strip().splitlines()[-1])
    return result


def _ready(proc: subprocess.Popen[str]) -> bool:
    """Wait (bounded) for the client's ready line."""
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(READY_SECONDS):
            return False
    return "ready" in proc.stdout.readline()
