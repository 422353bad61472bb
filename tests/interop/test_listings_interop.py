"""examples/listings against Foolscap 24.9: the same programs under both libraries.

Each listing imports its RPC names on one line (``from octavo.api import ...``). The
tests copy it into a temp dir with that line naming ``foolscap.api`` or ``octavo.api``
and run server and client as subprocesses on 127.0.0.1, each with a timeout: both
Octavo, both Foolscap, and mixed (Octavo server with Foolscap client, and the reverse).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

LISTINGS = Path(__file__).resolve().parents[2] / "examples" / "listings"
IMPORT_LINE = re.compile(r"^from octavo\.api import ", re.MULTILINE)
LIBS = {"octavo": "octavo.api", "foolscap": "foolscap.api"}
#: (server library, client library)
COMBOS = [
    ("octavo", "octavo"),
    ("foolscap", "foolscap"),
    ("octavo", "foolscap"),
    ("foolscap", "octavo"),
]
#: a bound on each process; the servers also get it as --timeout
TIMEOUT = 90
NAMES = [
    "pb2server.py",
    "pb2client.py",
    "pb3calculator.py",
    "pb3user.py",
    "copyable-send.py",
    "copyable-receive.py",
    "xfer-server.py",
    "xfer-client.py",
]


@pytest.mark.parametrize("name", NAMES)
def test_one_line_names_the_library(name: str) -> None:
    """Only the import line mentions octavo: rewriting it is the whole port."""
    lines = (LISTINGS / name).read_text().splitlines()
    mentions = [line for line in lines if "octavo" in line.replace("Octavo", "")]
    assert len(mentions) == 1, mentions
    assert IMPORT_LINE.match(mentions[0])


def ported(name: str, lib: str, into: Path) -> Path:
    """The listing with its import line naming ``LIBS[lib]``, written under ``into/lib``."""
    source = (LISTINGS / name).read_text()
    assert len(IMPORT_LINE.findall(source)) == 1
    out = into / lib / name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(IMPORT_LINE.sub(f"from {LIBS[lib]} import ", source))
    return out


class Server:
    """A listing's server in a subprocess, bounded by --timeout and a kill."""

    def __init__(self, script: Path, *args: str, cwd: Path, timeout: float = TIMEOUT) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(script), *args, "--timeout", str(timeout)],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )

    def wait_for_furl(self, furlfile: Path) -> str:
        """The FURL, once the server has written all of it."""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                out, err = self.proc.communicate()
                pytest.fail(f"server exited early:\n{out}\n{err}")
            if furlfile.exists():
                text = furlfile.read_text()
                if text.startswith("pb://") and text.endswith("\n"):
                    return text.strip()
            time.sleep(0.05)
        self.proc.kill()
        pytest.fail("the server wrote no FURL in time")

    def finish(self) -> list[str]:
        """Its stdout lines once it has stopped by itself (exit status 0)."""
        try:
            out, err = self.proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            pytest.fail(f"the server did not stop:\n{out}\n{err}")
        assert self.proc.returncode == 0, f"{out}\n{err}"
        return out.splitlines()


def client(script: Path, *args: str, cwd: Path) -> list[str]:
    """Run a listing's client to the end (exit status 0); its stdout lines."""
    r = subprocess.run(
        [sys.executable, str(script), *args, "--timeout", str(TIMEOUT)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT + 10,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        check=False,
    )
    assert r.returncode == 0, f"{r.stdout}\n{r.stderr}"
    return r.stdout.splitlines()


@pytest.mark.parametrize(("server_lib", "client_lib"), COMBOS)
def test_pb2_math_service(tmp_path: Path, server_lib: str, client_lib: str) -> None:
    furlfile = tmp_path / "math.furl"
    server = Server(
        ported("pb2server.py", server_lib, tmp_path),
        *("--calls", "1", "--furlfile", str(furlfile), "--certfile", "pb2server.pem"),
        cwd=tmp_path,
    )
    furl = server.wait_for_furl(furlfile)
    assert furl.endswith("/math-service")
    assert client(ported("pb2client.py", client_lib, tmp_path), furl, cwd=tmp_path) == [
        "got a RemoteReference",
        "asking it to add 1+2",
        "the answer is 3",
    ]
    assert server.finish() == [f"the object is available at: {furl}", "stopped after 1 calls"]
    assert (tmp_path / "pb2server.pem").exists()


@pytest.mark.parametrize(("server_lib", "client_lib"), COMBOS)
def test_pb3_calculator_with_observer(tmp_path: Path, server_lib: str, client_lib: str) -> None:
    furlfile = tmp_path / "calc.furl"
    server = Server(
        ported("pb3calculator.py", server_lib, tmp_path),
        *("--calls", "6", "--furlfile", str(furlfile)),
        cwd=tmp_path,
    )
    server.wait_for_furl(furlfile)
    user = ported("pb3user.py", client_lib, tmp_path)
    out = client(user, "--furlfile", str(furlfile), cwd=tmp_path)
    # each event is its own call from the calculator to the Observer: they arrive in
    # the order sent, but may be printed before or after the answer of the same step
    events = [line for line in out if line.startswith("event: ")]
    assert events == ["event: push(2)", "event: push(3)", "event: add", "event: pop"]
    assert sorted(set(out) - set(events)) == ["the result is 5"]
    assert out.index("event: add") < out.index("the result is 5")
    assert server.finish()[-1] == "stopped after 6 calls"


@pytest.mark.parametrize(("server_lib", "client_lib"), COMBOS)
def test_copyable_user_records(tmp_path: Path, server_lib: str, client_lib: str) -> None:
    furlfile = tmp_path / "db.furl"
    server = Server(
        ported("copyable-send.py", server_lib, tmp_path),
        *("--calls", "2", "--furlfile", str(furlfile)),
        cwd=tmp_path,
    )
    furl = server.wait_for_furl(furlfile)
    receive = ported("copyable-receive.py", client_lib, tmp_path)
    assert client(receive, furl, cwd=tmp_path) == [
        "got a RemoteUserRecord",
        "Name: alice",
        "Age: 34",
        "Shoe Size: they wouldn't tell us",
    ]
    assert client(receive, furl, "--name", "bob", cwd=tmp_path)[1:3] == ["Name: bob", "Age: 25"]
    assert server.finish() == [f"the database is at: {furl}", "stopped after 2 calls"]


@pytest.mark.parametrize(("server_lib", "client_lib"), COMBOS)
def test_xfer_puts_a_file(tmp_path: Path, server_lib: str, client_lib: str) -> None:
    basedir, target = tmp_path / "private", tmp_path / "target"
    target.mkdir()
    local = tmp_path / "notes.bin"
    local.write_bytes(bytes(range(256)) * 40)
    server = Server(
        ported("xfer-server.py", server_lib, tmp_path),
        *("--basedir", str(basedir), "--mode", "0600", "0", str(target), "--calls", "1"),
        cwd=tmp_path,
    )
    furl = server.wait_for_furl(basedir / "receiver.furl")
    xfer = ported("xfer-client.py", client_lib, tmp_path)
    out = client(xfer, "--furlfile", str(basedir / "receiver.furl"), str(local), cwd=tmp_path)
    assert out == ["file transferred to notes.bin"]
    assert server.finish() == ["Server is listening on:", f" {furl}", "stopped after 1 uploads"]
    received = target / "notes.bin"
    assert received.read_bytes() == local.read_bytes()
    assert received.stat().st_mode & 0o777 == 0o600
    assert (basedir / "tub.pem").exists()


@pytest.mark.parametrize("lib", ["octavo", "foolscap"])
def test_xfer_server_keeps_its_furl(tmp_path: Path, lib: str) -> None:
    """Restarted on the same basedir, the server offers the same TubID and name."""
    basedir, target = tmp_path / "private", tmp_path / "target"
    target.mkdir()
    script = ported("xfer-server.py", lib, tmp_path)
    furls = []
    for _ in range(2):
        # nobody calls: each run stops after its --timeout
        server = Server(
            script, "--basedir", str(basedir), "0", str(target), cwd=tmp_path, timeout=3
        )
        out = server.finish()
        assert out[0] == "Server is listening on:"
        assert out[2] == "stopped after 0 uploads"
        furls.append(out[1].strip())
    assert (basedir / "receiver.furl").read_text().strip() == furls[1]
    (tubid0, rest0), (tubid1, rest1) = (f.split("@") for f in furls)
    assert tubid0 == tubid1
    assert rest0.rsplit("/", 1)[1] == rest1.rsplit("/", 1)[1]
