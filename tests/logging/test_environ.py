"""FLOGFILE, FLOGLEVEL, FLOGTWISTED and FLOGTOTWISTED, as Foolscap reads them."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from twisted.internet.task import Clock
from twisted.logger import LogPublisher, formatEvent

from octavo.logging import FoolscapLogger, log, read_flogfile
from octavo.logging._bridges import _twisted_bridges
from octavo.logging._environ import LogFileObserver, apply_environment


def _apply(env: dict[str, str], logger: FoolscapLogger) -> tuple[Any, str]:
    err = io.StringIO()
    stopped: list[LogFileObserver] = []
    observer = apply_environment(logger, env, err, at_shutdown=stopped.append)
    if observer is not None:
        assert stopped == [observer]
    return observer, err.getvalue()


def test_flogfile_saves_events_at_floglevel(tmp_path: Path) -> None:
    """FLOGFILE writes events at FLOGLEVEL and above, and leaves the environment."""
    clock = Clock()
    logger = FoolscapLogger(clock=clock)
    path = tmp_path / "out.flog.bz2"
    env = {"FLOGFILE": str(path), "FLOGLEVEL": "UNUSUAL"}
    observer, err = _apply(env, logger)
    assert "FLOGFILE" not in env and err == ""
    logger.msg("quiet", level=log.OPERATIONAL)
    logger.msg("loud", level=log.WEIRD)
    clock.advance(0)
    observer.stop()
    logger.msg("after stop", level=log.BAD)
    clock.advance(0)
    records = list(read_flogfile(str(path)))
    header = records[0]["header"]
    assert header["type"] == "log-file-observer" and header["threshold"] == log.UNUSUAL
    assert header["pid"] == os.getpid()
    assert [r["d"]["message"] for r in records[1:]] == ["loud"]
    assert records[1]["from"] == "local"


def test_unwritable_flogfile_and_bad_floglevel_are_reported(tmp_path: Path) -> None:
    """A file that cannot be made and a level that is no level go to stderr, not raised."""
    logger = FoolscapLogger(clock=Clock())
    observer, err = _apply(
        {"FLOGFILE": str(tmp_path / "no" / "such" / "dir.flog"), "FLOGLEVEL": "LOUD"}, logger
    )
    assert observer is None
    assert "FLOGLEVEL: unknown log level 'LOUD'" in err
    assert "FLOGFILE: unable to write to" in err


def test_flogtotwisted_sends_events_at_floglevel(monkeypatch: Any) -> None:
    """FLOGTOTWISTED bridges non-Foolscap events at FLOGLEVEL and above to Twisted."""
    got: list[dict[str, Any]] = []
    monkeypatch.setattr("octavo.logging._environ.bridgeLogsToTwisted", _capture_to(got))
    clock = Clock()
    logger = FoolscapLogger(clock=clock)
    _apply({"FLOGTOTWISTED": "1", "FLOGLEVEL": "30"}, logger)
    logger.msg("low", level=log.UNUSUAL)
    logger.msg("high", level=log.WEIRD)
    logger.msg("own", level=log.BAD, facility="foolscap.negotiation")
    clock.advance(0)
    assert [formatEvent(e) for e in got] == ["high"]


def _capture_to(got: list[dict[str, Any]]) -> Any:
    from octavo.logging._bridges import bridgeLogsToTwisted

    def bridge(filter: Any, foolscap_logger: FoolscapLogger) -> Any:
        return bridgeLogsToTwisted(filter, foolscap_logger, got.append)

    return bridge


def test_flogtwisted_bridges_twisted_into_the_logger(monkeypatch: Any) -> None:
    """FLOGTWISTED copies Twisted's events into the logger."""
    publisher = LogPublisher()
    clock = Clock()
    logger = FoolscapLogger(clock=clock)
    from octavo.logging._bridges import bridgeLogsFromTwisted

    monkeypatch.setattr(
        "octavo.logging._environ.bridgeLogsFromTwisted",
        lambda foolscap_logger: bridgeLogsFromTwisted(None, publisher, foolscap_logger),
    )
    _apply({"FLOGTWISTED": ""}, logger)
    publisher({"log_format": "from {who}", "who": "twisted", "log_level": None})
    assert [e["message"] for e in logger.get_buffered_events()] == ["from twisted"]
    _twisted_bridges.pop((id(publisher), id(logger)))


def test_flogfile_applies_on_first_import(tmp_path: Path) -> None:
    """In a fresh process, importing octavo.logging.log starts the FLOGFILE."""
    path = tmp_path / "start.flog"
    script = textwrap.dedent(
        """
        import os
        from twisted.internet import reactor
        from octavo.logging import log
        assert "FLOGFILE" not in os.environ
        log.msg("from the child", level=log.UNUSUAL)
        log.msg("too quiet", level=log.NOISY)
        reactor.callWhenRunning(reactor.callLater, 0, reactor.stop)
        reactor.run()
        """
    )
    env = {**os.environ, "FLOGFILE": str(path), "FLOGLEVEL": "OPERATIONAL"}
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=60)
    records = list(read_flogfile(str(path)))
    assert [r["d"]["message"] for r in records[1:]] == ["from the child"]
