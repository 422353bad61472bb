"""The typed examples of examples/: each runs as a program and stops by itself.

Each runs as ``python examples/NAME.py`` in a subprocess with a timeout; the tests
check what it prints (tox -e typecheck checks the same files with mypy).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TIMEOUT = 90


def run_example(name: str) -> list[str]:
    """Its stdout lines; it must exit 0 within TIMEOUT seconds."""
    r = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        check=False,
    )
    assert r.returncode == 0, f"{r.stdout}\n{r.stderr}"
    return r.stdout.splitlines()


def test_echo() -> None:
    out = run_example("echo.py")
    assert out[0].startswith("echo service at 127.0.0.1:")
    assert out[0].endswith("/echo")
    echoed = out[1:-1]
    assert len(echoed) == 11
    assert all(line.endswith("  same") for line in echoed), echoed
    kinds = [line.split()[0] for line in echoed]
    assert set(kinds) == {"str", "bytes", "int", "float", "NoneType", "bool", "list", "tuple"} | {
        "dict",
        "set",
    }
    assert "b'\\x00bytes\\xff'" in out[2]
    assert out[-1] == "the server echoed 11 values"


def test_calculator() -> None:
    assert run_example("calculator.py") == [
        "add(2, 3) = 5",
        "apply('*', 1.5, 4) = 6.0",
        "total([1, 2, 3]) = 6",
        "total([1, 2, 3], start=10) = 16",
        "remember('e', 2.72) = {'e': 2.72, 'pi': 3.14}",  # dicts travel with sorted keys
        "remember('pi', None) = {'e': 2.72}",
        "apply('/', 1, 0) failed remotely: builtins.ZeroDivisionError: division by zero",
        "  is it a ZeroDivisionError? True",
        "add(1, 'two') refused before sending: Violation",
        "apply('%', 1, 2) refused before sending: Violation",
        "total(['x']) refused before sending: Violation",
    ]


def test_chat() -> None:
    out = run_example("chat.py")
    screens: dict[str, list[str]] = {"alice": [], "bob": []}
    story = []
    for line in out:
        if line.startswith("  [") and "'s screen] " in line:
            who, said = line[3:].split("'s screen] ", 1)
            screens[who].append(said)
        else:
            story.append(line)
    assert story == [
        "alice joins",
        "bob joins",
        "in the room: ['alice', 'bob']",
        "alice says hello",
        "  heard by 2 members",
        "bob answers",
        "  heard by 2 members",
        "bob cannot join as alice: the name 'alice' is taken",
        "alice leaves",
        "in the room: ['bob']",
        "bob's Tub stops without leaving",
        "the room dropped bob",
        "in the room: []",
    ]
    assert screens["alice"] == [
        "*: alice joined",
        "*: bob joined",
        "alice: hello, bob",
        "bob: hi alice!",
    ]
    assert screens["bob"] == [
        "*: bob joined",
        "alice: hello, bob",
        "bob: hi alice!",
        "*: alice left (said goodbye)",
    ]
    # each push arrives before the call that caused it is answered
    assert out.index("  [alice's screen] *: bob joined") < out.index(
        "in the room: ['alice', 'bob']"
    )
    assert out.index("  [bob's screen] *: alice left (said goodbye)") < out.index(
        "in the room: ['bob']"
    )


def test_filestore() -> None:
    notes, blob = hashlib.sha256(b"buy milk\n"), hashlib.sha256(bytes(range(256)))
    assert run_example("filestore.py") == [
        f"put notes.txt: 9 bytes, sha256 {notes.hexdigest()[:16]}...",
        f"put blob.bin: 256 bytes, sha256 {blob.hexdigest()[:16]}...",
        "  listed a FileInfo: blob.bin (256 bytes)",
        "  listed a FileInfo: notes.txt (9 bytes)",
        "got Document 'notes.txt': b'buy milk\\n'",
        "delete notes.txt: True",
        "delete notes.txt again: False",
        "get notes.txt: builtins.KeyError",
        "put huge.bin refused by the store: True",
        "files left: ['blob.bin']",
    ]


def test_quickstart() -> None:
    """The README's first command runs this: Tubs calling each other, then the app
    server used through its client, all on 127.0.0.1."""
    out = run_example("quickstart.py")
    text = "\n".join(out)
    assert out[0].startswith("server Tub ") and out[1].strip().startswith("pb://")
    assert "  add(Note('groceries', 3)) -> 1" in out
    assert "  (the server called the client back: 'groceries' added, 1 notes)" in out
    assert "  titles() -> ['groceries', 'poem']" in out
    assert "  get('poem') -> Note('poem', words=120), a Note sent by value" in out
    assert any(line.startswith("  add('not a Note') -> refused before sending") for line in out)
    assert any(" serial calls: " in line and " calls/s" in line for line in out)
    assert "both Tubs stopped." in out
    assert "    report.txt: uploaded" in out
    assert out[-2].endswith(" report.txt"), text  # ls -l in the upload folder
    assert out[-1] == "octavo-server stopped, its BASEDIR removed."
