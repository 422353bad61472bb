"""Helpers for the application server tests: BASEDIRs on a free loopback port."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from octavo.api._appserver._admin import create_basedir

TIMEOUT = 60


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_basedir(root: Path, name: str = "server") -> tuple[str, int]:
    """A new BASEDIR listening on a free loopback port; (its path, the port)."""
    port = free_port()
    basedir = str(root / name)
    create_basedir(basedir, f"tcp:{port}:interface=127.0.0.1", f"127.0.0.1:{port}", 0o022)
    return basedir, port


def script(name: str) -> str:
    """The console script ``name`` installed next to this Python."""
    path = os.path.join(os.path.dirname(sys.executable), name)
    assert os.path.exists(path), f"{name} is not installed in {os.path.dirname(path)}"
    return path


def temp_root(case: Any) -> Path:
    """A new temporary folder (absolute), removed when the test ends."""
    root = Path(tempfile.mkdtemp(prefix="octavo-appserver-"))
    case.addCleanup(shutil.rmtree, root, True)
    return root


def wait_for_port(port: int, deadline: float = TIMEOUT) -> None:
    """Block until 127.0.0.1:port accepts connections (AssertionError past ``deadline`` s)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port} after {deadline} s")


def run_script(argv: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
    """Run a console script to its end (bounded by TIMEOUT), capturing its output."""
    return subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, check=False, **kw)
