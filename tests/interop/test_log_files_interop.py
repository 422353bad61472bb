"""Flogfiles and incident files between octavo.logging and a real Foolscap 24.9.

Foolscap writes (tests/interop/foolscap_logfiles.py, in a child process) and we read,
dump, filter and classify; we write and Foolscap's reader and ``flogtool`` read. The
dumps are compared line for line with ``flogtool dump``'s.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from foolscap.logging import flogfile as foolscap_flogfile
from foolscap.logging.cli import run_flogtool
from foolscap.logging.incident import IncidentClassifier as FoolscapClassifier
from twisted.internet.task import Clock

from octavo.logging import FlogWriter, FoolscapLogger, IncidentClassifier, log, read_flogfile
from octavo.logging._cli._main import main

HERE = Path(__file__).parent
ENV = {**os.environ, "TZ": "UTC", "PYTHONDONTWRITEBYTECODE": "1"}
ENV.pop("FLOGFILE", None)
NAME = re.compile(r"^incident-\d{4}-\d\d-\d\d--\d\d-\d\d-\d\dZ-[a-z2-7]{7}\.flog\.bz2$")


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *argv], env=ENV, capture_output=True, text=True, timeout=120, check=False
    )


def flogtool(*argv: str) -> str:
    """flogtool's stdout, from Foolscap's own entry point."""
    out, err = run_flogtool(list(argv), run_by_human=False)
    assert err == ""
    return str(out)


def octavo_log(*argv: str) -> str:
    """octavo-log's stdout."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert main(list(argv)) == 0
    assert err.getvalue() == ""
    return out.getvalue()


def _foolscap_records(path: str) -> list[dict[str, Any]]:
    return list(foolscap_flogfile.get_events(path))


def _ours(path: str) -> list[dict[str, Any]]:
    errors: list[object] = []
    records = list(read_flogfile(path, errors.append))
    assert errors == []
    return records


DUMP_OPTIONS = [[], ["-v"], ["-n"], ["--rx-time"], ["-t", "utc"], ["-t", "long-local"]]


@pytest.fixture(scope="module", params=["foolscap.flog", "foolscap.flog.bz2"])
def foolscap_file(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("fl") / request.param)
    done = _run(str(HERE / "foolscap_logfiles.py"), "logfile", path)
    assert done.returncode == 0, done.stderr
    return path


def test_we_read_foolscaps_flogfile(foolscap_file: str) -> None:
    """Our reader gives exactly the records Foolscap's reader gives, contents checked."""
    ours = _ours(foolscap_file)
    assert ours == _foolscap_records(foolscap_file)
    header = ours[0]["header"]
    assert header["type"] == "log-file-observer" and header["threshold"] == log.NOISY
    assert header["versions"]["foolscap"] == "24.9.0"
    events = [r["d"] for r in ours[1:]]
    texts = [log.format_message(e) for e in events]
    assert texts[:4] == ["hello ['world']", "bob did 3 things", "parent", "child"]
    assert events[3]["parent"] == events[2]["num"] and events[3]["extra"] == {"k": [1, 2]}
    assert events[4]["data"]["@"] == "UnJSONable" and events[4]["data"]["repr"] == "b'\\x01\\x02'"
    f = events[5]["failure"]
    assert f["@"] == "Failure" and "it broke" in f["traceback"] and events[5]["isError"] == 1
    assert events[5]["why"] == "while testing"


@pytest.mark.parametrize("options", DUMP_OPTIONS)
def test_our_dump_of_foolscaps_file_matches_flogtool(
    foolscap_file: str, options: list[str]
) -> None:
    """octavo-log dump prints what flogtool dump prints, line for line."""
    theirs = flogtool("dump", *options, foolscap_file)
    assert theirs.count("\n") > 5
    assert octavo_log("dump", *options, foolscap_file) == theirs


@pytest.mark.parametrize(
    "options",
    [["--above", "WEIRD"], ["--strip-facility", "app"], ["--from", "loc"], ["--after", "0"]],
)
def test_filter_matches_flogtool_filter(
    foolscap_file: str, tmp_path: Path, options: list[str]
) -> None:
    """octavo-log filter keeps the records flogtool filter keeps."""
    theirs, ours = str(tmp_path / "t.flog"), str(tmp_path / "o.flog")
    flogtool("filter", *options, foolscap_file, theirs)
    octavo_log("filter", *options, foolscap_file, ours)
    assert _ours(ours) == _foolscap_records(theirs)
    assert len(_ours(ours)) < len(_ours(foolscap_file)) or options[0] in ("--from", "--after")


@pytest.fixture(scope="module")
def foolscap_incident(tmp_path_factory: pytest.TempPathFactory) -> str:
    directory = tmp_path_factory.mktemp("inc")
    done = _run(str(HERE / "foolscap_logfiles.py"), "incident", str(directory))
    assert done.returncode == 0, done.stderr
    name = done.stdout.strip()
    assert sorted(os.listdir(directory)) == [name + ".flog.bz2"]
    return str(directory / (name + ".flog.bz2"))


def test_we_read_foolscaps_incident(foolscap_incident: str) -> None:
    """Foolscap's incident file: its name, header, history and trailing event."""
    assert NAME.match(os.path.basename(foolscap_incident))
    ours = _ours(foolscap_incident)
    assert ours == _foolscap_records(foolscap_incident)
    header, events = IncidentClassifier().load_incident(foolscap_incident)
    assert header["type"] == "incident" and header["trigger"]["message"] == "the trigger"
    assert [e.get("message") for e in events][-2:] == ["the trigger", "trailing"]
    classifier = IncidentClassifier()
    classifier.add_classifier(lambda t: "app" if t.get("facility") == "app" else None)
    assert classifier.classify_incident((header, events)) == {"app"}


@pytest.mark.parametrize("options", [[], ["-v"], ["-n"]])
def test_our_dump_of_foolscaps_incident_matches(foolscap_incident: str, options: list[str]) -> None:
    """The trigger is marked [INCIDENT-TRIGGER] by both tools alike."""
    theirs = flogtool("dump", *options, foolscap_incident)
    assert octavo_log("dump", *options, foolscap_incident) == theirs
    if not options:
        assert "the trigger [INCIDENT-TRIGGER]" in theirs


def _our_events(logger: FoolscapLogger) -> None:
    logger.msg("hello %s", "world")
    logger.msg(format="%(who)s did %(n)d things", who="bob", n=3, facility="app/sub")
    p = logger.msg("parent", level=log.UNUSUAL)
    logger.msg("child", parent=p, level=log.NOISY)
    logger.msg("raw bytes", data=b"\x01\x02")
    logger.err(ValueError("it broke"), "while testing", facility="app")


@pytest.mark.parametrize("name", ["ours.flog", "ours.flog.bz2"])
def test_foolscap_reads_our_flogfile(tmp_path: Path, name: str) -> None:
    """Foolscap's reader and flogtool dump read our file; the dumps are the same."""
    clock = Clock()
    logger = FoolscapLogger(clock=clock)
    path = str(tmp_path / name)
    written: list[dict[str, Any]] = []
    logger.addImmediateObserver(written.append)
    _our_events(logger)
    with FlogWriter(path, "log-file-observer", pid=os.getpid(), threshold=log.NOISY) as w:
        for ev in written:
            w.write_event(ev, "local", 5.0)
    theirs = _foolscap_records(path)
    assert theirs == _ours(path)
    events = [r["d"] for r in theirs[1:]]
    assert [e["num"] for e in events] == list(range(6))
    assert events[4]["data"]["@"] == "UnJSONable"
    assert events[5]["failure"]["@"] == "Failure" and "it broke" in events[5]["failure"]["str"]
    for options in DUMP_OPTIONS:
        dumped = flogtool("dump", *options, path)
        assert octavo_log("dump", *options, path) == dumped
    assert "local#1 " in dumped and ": bob did 3 things" in flogtool("dump", path)


def test_console_script_dumps_foolscaps_file(foolscap_file: str) -> None:
    """The octavo-log program itself, in a child process, prints flogtool's dump."""
    done = _run("-m", "octavo.logging._cli._main", "dump", foolscap_file)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == flogtool("dump", foolscap_file)


def test_foolscap_reads_our_incident(tmp_path: Path) -> None:
    """Our incident file: Foolscap's classifier loads it and flogtool marks the trigger."""
    clock = Clock()
    clock.advance(1_725_192_000)
    logger = FoolscapLogger(clock=clock)
    logger.setLogDir(str(tmp_path))
    _our_events(logger)
    logger.msg("the trigger", level=log.WEIRD, facility="app")
    logger.msg("trailing")
    for _ in range(3):
        clock.advance(0)
    clock.advance(5)
    for _ in range(3):
        clock.advance(0)
    (path,) = logger.recent_recorded_incidents
    assert NAME.match(os.path.basename(path))
    assert os.listdir(tmp_path) == [os.path.basename(path)]
    header, events = FoolscapClassifier().load_incident(path)
    assert header["type"] == "incident" and header["trigger"]["message"] == "the trigger"
    assert [e.get("message") for e in events][-2:] == ["the trigger", "trailing"]
    dumped = flogtool("dump", path)
    assert "the trigger [INCIDENT-TRIGGER]" in dumped
    assert octavo_log("dump", path) == dumped
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "classify_app.py").write_text(
        "def classify_incident(t):\n    return 'app' if t.get('facility') == 'app' else None\n"
    )
    theirs = flogtool("classify-incident", "-c", str(plugins), path)
    assert theirs == f"{path}: app\n"
    assert octavo_log("classify-incident", "-c", str(plugins), path) == theirs
