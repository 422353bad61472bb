"""The web viewer on files a real Foolscap 24.9 wrote: texts, nesting, failures, triggers.

Foolscap writes in a child process (tests/interop/foolscap_logfiles.py); the viewer's store
takes the records our reader gives, and its texts match Foolscap's own format_message.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from foolscap.logging.log import format_message as foolscap_format

from octavo.logging import read_flogfile
from octavo.logging._events import format_message
from octavo.logging._web._store import EventStore

HERE = Path(__file__).parent
ENV = {**os.environ, "TZ": "UTC", "PYTHONDONTWRITEBYTECODE": "1"}
ENV.pop("FLOGFILE", None)


def foolscap_writes(*argv: str) -> str:
    """Run foolscap_logfiles.py with *argv*; its stdout."""
    done = subprocess.run(
        [sys.executable, str(HERE / "foolscap_logfiles.py"), *argv],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def viewer_store(path: str) -> EventStore:
    """The viewer's store, loaded as `web-viewer PATH` loads it."""
    store = EventStore(format_message)
    for record in read_flogfile(path, on_error=lambda err: store.reject(str(err))):
        store.add(record)
    assert store.rejected == 0, store.last_rejection
    return store


@pytest.mark.parametrize("name", ["foolscap.flog", "foolscap.flog.bz2"])
def test_a_foolscap_logfile_in_the_viewer(tmp_path: Path, name: str) -> None:
    """Every event shown, with Foolscap's text; the child nests under its parent."""
    path = str(tmp_path / name)
    foolscap_writes("logfile", path)
    store = viewer_store(path)
    events = list(store)
    records = [r for r in read_flogfile(path) if "d" in r]
    assert [e.text for e in events] == [foolscap_format(r["d"]) for r in records]
    by_text = {e.text: e for e in events}
    assert by_text["child"].parent_key == by_text["parent"].key
    assert by_text["bob did 3 things"].facility == "app/sub"
    (failed,) = [e for e in events if e.failure is not None]
    assert "it broke" in failed.failure  # type: ignore[operator]
    assert [e.text for e in store.incidents(10)] == ["the trigger", "after"]
    assert store.headers[0]["type"] == "log-file-observer"


def test_a_foolscap_incident_in_the_viewer(tmp_path: Path) -> None:
    """The incident header marks its triggering event, which is listed among incidents."""
    name = foolscap_writes("incident", str(tmp_path)).strip()
    store = viewer_store(str(tmp_path / (name + ".flog.bz2")))
    assert store.headers[0]["type"] == "incident"
    triggers = [e.text for e in store if e.trigger]
    assert triggers == ["the trigger"]
    assert [e.text for e in store.incidents(10)] == ["the trigger"]
    assert [e.text for e in store][-1] == "trailing"
