"""Incidents: qualifier, reporter (history + trailing events), files, classification."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from octavo.logging import (
    FlogWriter,
    FoolscapLogger,
    IncidentClassifier,
    IncidentQualifier,
    NonTrailingIncidentReporter,
    log,
    read_flogfile,
)
from octavo.logging._incidents import IncidentClassifierError, incident_name

NAME = re.compile(r"^incident-\d{4}-\d\d-\d\d--\d\d-\d\d-\d\dZ-[a-z2-7]{7}$")
START = 1_725_192_000.0  # 2024-09-01 12:00:00 UTC


def test_incident_name_is_foolscaps() -> None:
    """UTC time to the second with a Z, then 4 random bytes in lowercase base32."""
    assert incident_name(START, b"\x00\x01\x02\x03") == "incident-2024-09-01--12-00-00Z-aaaqeay"
    assert NAME.match(incident_name(START, os.urandom(4)))


class IncidentTests(SynchronousTestCase):
    """Recording incident files on a Clock."""

    def setUp(self) -> None:
        self.clock = Clock()
        self.clock.advance(START)
        self.logger = FoolscapLogger(clock=self.clock)
        self.dir = tempfile.mkdtemp(prefix="octavo-incidents-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.recorded: list[tuple[str, dict[str, Any]]] = []
        self.logger.addImmediateIncidentObserver(lambda n, t: self.recorded.append((n, t)))

    def turns(self, n: int = 3) -> None:
        for _ in range(n):
            self.clock.advance(0)

    def test_no_incident_without_a_log_dir(self) -> None:
        """Until setLogDir, severe events declare nothing."""
        self.logger.msg("bad", level=log.BAD)
        self.assertEqual(self.logger.incidents_declared, 0)

    def test_incident_records_history_trigger_and_trailing_events(self) -> None:
        """The file: header with the trigger, the history by number, then what follows."""
        self.logger.setLogDir(self.dir)
        self.logger.msg("before", level=log.NOISY)
        self.logger.msg("also before", facility="app")
        trigger_num = self.logger.msg("it went wrong", level=log.WEIRD, facility="app")
        self.assertEqual(self.logger.incidents_declared, 1)
        reporter = self.logger.get_active_incident_reporter()
        assert reporter is not None
        base = os.path.join(self.logger.logdir or "", reporter.name)  # type: ignore[attr-defined]
        self.assertTrue(os.path.exists(base + ".flog"))
        self.assertTrue(os.path.exists(base + ".flog.bz2.tmp"))
        self.logger.msg("after", level=log.OPERATIONAL)
        self.turns()
        self.clock.advance(5.0)  # TRAILING_DELAY
        self.logger.msg("too late")
        self.turns()
        self.assertFalse(os.path.exists(base + ".flog"))
        self.assertFalse(os.path.exists(base + ".flog.bz2.tmp"))
        path = base + ".flog.bz2"
        self.assertEqual(self.logger.recent_recorded_incidents, [path])
        self.assertEqual(self.logger.incidents_recorded, 1)
        (name, trigger) = self.recorded[0]
        self.assertRegex(name, NAME)
        self.assertTrue(name.startswith("incident-2024-09-01--12-00-00Z-"))
        self.assertEqual(trigger["num"], trigger_num)
        records = list(read_flogfile(path))
        header = records[0]["header"]
        self.assertEqual(header["type"], "incident")
        self.assertEqual(header["trigger"]["message"], "it went wrong")
        self.assertEqual(header["trigger"]["incarnation"], list(self.logger.incarnation))
        self.assertEqual(header["pid"], os.getpid())
        self.assertIn("versions", header)
        self.assertEqual(
            [r["d"]["message"] for r in records[1:]],
            ["before", "also before", "it went wrong", "after"],
        )
        self.assertEqual({r["from"] for r in records[1:]}, {"local"})

    def test_trailing_event_limit(self) -> None:
        """At most 100 trailing events; the next one ends the recording early."""
        self.logger.setLogDir(self.dir)
        self.logger.msg("trigger", level=log.BAD)
        for i in range(150):
            self.logger.msg("trailing", i=i)
        self.turns()
        self.assertEqual(len(self.recorded), 1)
        records = list(read_flogfile(self.logger.recent_recorded_incidents[0]))
        trailing = [r["d"]["i"] for r in records[1:] if r["d"]["message"] == "trailing"]
        self.assertEqual(trailing, list(range(100)))

    def test_second_trigger_while_recording_is_not_a_new_incident(self) -> None:
        """A trigger during recording is declared but recorded in the same file."""
        self.logger.setLogDir(self.dir)
        self.logger.msg("first", level=log.WEIRD)
        self.logger.msg("second", level=log.SCARY)
        self.turns()
        self.clock.advance(5.0)
        self.turns()
        self.assertEqual((self.logger.incidents_declared, len(self.recorded)), (2, 1))
        records = list(read_flogfile(self.logger.recent_recorded_incidents[0]))
        self.assertEqual([r["d"]["message"] for r in records[1:]], ["first", "second"])

    def test_custom_qualifier_and_reporter(self) -> None:
        """setIncidentQualifier chooses triggers; a non-trailing reporter ends at once."""

        class OnlyMarked(IncidentQualifier):
            def check_event(self, ev: dict[str, Any]) -> bool:
                return bool(ev.get("marked"))

        self.logger.setIncidentQualifier(OnlyMarked())
        self.logger.setIncidentReporterFactory(NonTrailingIncidentReporter)
        self.logger.setLogDir(self.dir)
        self.logger.msg("bad but unmarked", level=log.BAD)
        self.logger.msg("marked", marked=True)
        self.logger.msg("after")
        self.turns()
        self.assertEqual(len(self.recorded), 1)
        records = list(read_flogfile(self.logger.recent_recorded_incidents[0]))
        self.assertEqual(records[0]["header"]["trigger"]["message"], "marked")
        self.assertEqual(records[-1]["d"]["message"], "marked")

    def test_bad_hooks_are_refused(self) -> None:
        """A qualifier without event() or a reporter factory that is not callable."""
        with self.assertRaises(TypeError):
            self.logger.setIncidentQualifier(object())  # type: ignore[arg-type]
        with self.assertRaises(TypeError):
            self.logger.setIncidentReporterFactory("nope")  # type: ignore[arg-type]

    def test_recent_incidents_are_bounded(self) -> None:
        """Only the last 20 incident file names are remembered."""
        self.logger.setIncidentReporterFactory(NonTrailingIncidentReporter)
        self.logger.setLogDir(self.dir)
        for i in range(25):
            self.logger.msg("bad", level=log.BAD, i=i)
            self.turns()
        self.assertEqual(self.logger.incidents_recorded, 25)
        self.assertEqual(len(self.logger.recent_recorded_incidents), 20)

    def test_unwritable_log_dir_does_not_reach_the_caller(self) -> None:
        """An incident that cannot be written becomes an internal error, not an exception."""
        self.logger.setLogDir(self.dir)
        os.chmod(self.dir, 0o500)
        self.addCleanup(os.chmod, self.dir, 0o700)
        if os.access(self.dir, os.W_OK):  # root ignores the mode
            self.logger.logdir = os.path.join(self.dir, "missing", "deeper")
        self.logger.msg("bad", level=log.BAD)
        events = list(self.logger.get_buffered_events())
        self.assertTrue(any(e.get("facility") == "foolscap/internal-error" for e in events))
        self.assertIsNone(self.logger.get_active_incident_reporter())


def _incident(path: Path, trigger: dict[str, Any]) -> str:
    with FlogWriter(str(path), "incident", trigger=trigger) as w:
        w.write_event(trigger, "tub", 1.0)
    return str(path)


def test_classifier_functions(tmp_path: Path) -> None:
    """Categories from every classifier; 'unknown' when none gives one."""
    c = IncidentClassifier()
    c.add_classifier(lambda t: "disk" if "disk" in t["message"] else None)
    c.add_classifier(lambda t: ["net", "timeout"] if "timeout" in t["message"] else [])
    disk = _incident(tmp_path / "a.flog.bz2", {"message": "disk full", "num": 1})
    both = _incident(tmp_path / "b.flog.bz2", {"message": "disk timeout", "num": 2})
    other = _incident(tmp_path / "c.flog.bz2", {"message": "hmm", "num": 3})
    assert c.classify_incident(c.load_incident(disk)) == {"disk"}
    assert c.classify_incident(c.load_incident(both)) == {"disk", "net", "timeout"}
    assert c.classify_incident(c.load_incident(other)) == {"unknown"}
    header, events = c.load_incident(disk)
    assert header["trigger"]["num"] == 1 and events[0]["message"] == "disk full"


def test_classifier_plugin_files(tmp_path: Path) -> None:
    """classify_*.py files of a directory each give a classify_incident function."""
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "classify_foo.py").write_text(
        "def classify_incident(trigger):\n    return 'foo' if trigger.get('foo') else None\n"
    )
    (plugins / "other.py").write_text("raise SystemExit('never loaded')\n")
    c = IncidentClassifier()
    c.add_classify_files(str(plugins))
    assert len(c.classifiers) == 1
    path = _incident(tmp_path / "i.flog.bz2", {"message": "x", "foo": True})
    assert c.classify_incident(c.load_incident(path)) == {"foo"}


def test_classifier_errors_are_typed(tmp_path: Path) -> None:
    """A broken plug-in, a missing function, a non-incident file: IncidentClassifierError."""
    plugins = tmp_path / "p"
    plugins.mkdir()
    (plugins / "classify_bad.py").write_text("this is not python\n")
    with pytest.raises(IncidentClassifierError, match=r"classify_bad\.py failed to load"):
        IncidentClassifier().add_classify_files(str(plugins))
    (plugins / "classify_bad.py").write_text("x = 1\n")
    with pytest.raises(IncidentClassifierError, match="defines no classify_incident"):
        IncidentClassifier().add_classify_files(str(plugins))
    with pytest.raises(IncidentClassifierError, match="cannot list"):
        IncidentClassifier().add_classify_files(str(tmp_path / "missing"))
    plain = tmp_path / "plain.flog"
    with FlogWriter(str(plain), "log-file-observer"):
        pass
    with pytest.raises(IncidentClassifierError, match="not an incident file"):
        IncidentClassifier().load_incident(str(plain))
    c = IncidentClassifier()
    c.add_classifier(lambda t: 1 / 0)
    inc = _incident(tmp_path / "z.flog.bz2", {"message": "x"})
    with pytest.raises(IncidentClassifierError, match="ZeroDivisionError"):
        c.classify_incident(c.load_incident(inc))
