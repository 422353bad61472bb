"""Bridges to and from twisted.logger and Python's logging, without loops."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from twisted.internet.task import Clock
from twisted.logger import Logger, LogLevel, LogPublisher, formatEvent

from octavo.logging import FoolscapLogger, log
from octavo.logging._bridges import (
    FoolscapHandler,
    bridgeLogsFromLogging,
    bridgeLogsFromTwisted,
    bridgeLogsToLogging,
    bridgeLogsToTwisted,
    unbridgeLogsFromTwisted,
)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def logger(clock: Clock) -> FoolscapLogger:
    return FoolscapLogger(clock=clock)


@pytest.fixture
def publisher(logger: FoolscapLogger) -> Iterator[LogPublisher]:
    pub = LogPublisher()
    yield pub


def _messages(logger: FoolscapLogger) -> list[str]:
    events = sorted(logger.get_buffered_events(), key=lambda e: e["num"])
    return [log.format_message(e) for e in events]


def test_from_twisted(logger: FoolscapLogger, publisher: LogPublisher) -> None:
    """Twisted events arrive as Foolscap events with level, time, system, from-twisted."""
    bridge = bridgeLogsFromTwisted("tub1", publisher, logger)
    assert bridgeLogsFromTwisted("tub2", publisher, logger) is bridge
    tlog = Logger(namespace="app.part", observer=publisher)
    tlog.info("hello {who}", who="world")
    tlog.warn("careful")
    try:
        1 / 0  # noqa: B018
    except ZeroDivisionError:
        tlog.failure("it broke")
    events = sorted(logger.get_buffered_events(), key=lambda e: e["num"])
    assert events[0]["message"] == "hello world"
    assert events[0]["level"] == log.OPERATIONAL and events[0]["tubID"] == "tub1"
    assert events[0]["from-twisted"] is True and events[0]["isError"] == 0
    assert events[0]["log_namespace"] == "app.part"
    assert isinstance(events[0]["time"], float)
    assert events[1]["level"] == log.WEIRD
    # Logger.failure is "critical": logging.CRITICAL, as in Foolscap
    assert events[2]["isError"] == 1 and events[2]["level"] == logging.CRITICAL
    assert "it broke" in events[2]["message"] and "ZeroDivisionError" in events[2]["message"]
    unbridgeLogsFromTwisted(publisher, bridge)
    tlog.info("not bridged")
    assert len(_messages(logger)) == 3


def test_to_twisted(logger: FoolscapLogger, clock: Clock) -> None:
    """Events at OPERATIONAL and above, not Foolscap's own, go to Twisted's logger."""
    got: list[dict[str, Any]] = []
    observer = bridgeLogsToTwisted(foolscap_logger=logger, twisted_logger=got.append)
    logger.msg("noise", level=log.NOISY)
    logger.msg("weird %s", "thing", level=log.WEIRD)
    logger.msg("internal", facility="foolscap/negotiation")
    logger.msg("bad", level=log.BAD)
    clock.advance(0)
    assert [formatEvent(e) for e in got] == ["weird thing", "bad"]
    assert got[0]["log_level"] == LogLevel.warn and got[1]["log_level"] == LogLevel.error
    assert got[0]["from-foolscap"] is True and got[0]["level"] == log.WEIRD
    logger.removeObserver(observer)


def test_to_twisted_with_filter_and_failure(logger: FoolscapLogger, clock: Clock) -> None:
    """A filter chooses the events; a failure's traceback follows the text."""
    got: list[dict[str, Any]] = []
    bridgeLogsToTwisted(lambda e: e["level"] >= log.SCARY, logger, got.append)
    logger.msg("weird", level=log.WEIRD)
    logger.err(ValueError("nope"), "while testing", level=log.BAD)
    clock.advance(0)
    assert len(got) == 1
    assert "ValueError" in formatEvent(got[0]) and "nope" in formatEvent(got[0])


def test_twisted_both_ways_does_not_loop(
    logger: FoolscapLogger, clock: Clock, publisher: LogPublisher
) -> None:
    """With both bridges on one publisher, each event crosses once."""
    bridge = bridgeLogsFromTwisted(None, publisher, logger)
    bridgeLogsToTwisted(foolscap_logger=logger, twisted_logger=publisher)
    seen: list[dict[str, Any]] = []
    publisher.addObserver(seen.append)
    Logger(observer=publisher).info("from twisted")
    logger.msg("from foolscap")
    for _ in range(5):
        clock.advance(0)
    assert sorted(_messages(logger)) == ["from foolscap", "from twisted"]
    assert [formatEvent(e) for e in seen] == ["from twisted", "from foolscap"]
    unbridgeLogsFromTwisted(publisher, bridge)


@pytest.fixture
def pylogger() -> Iterator[logging.Logger]:
    lg = logging.getLogger("octavo_test_bridge")
    lg.propagate = False
    lg.setLevel(logging.DEBUG)
    yield lg
    lg.handlers.clear()


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_from_logging(logger: FoolscapLogger, pylogger: logging.Logger) -> None:
    """A logging record becomes an event with its level, name, time and exception."""
    handler = bridgeLogsFromLogging("octavo_test_bridge", logger)
    assert isinstance(handler, FoolscapHandler)
    pylogger.info("hello %s", "there")
    try:
        raise KeyError("k")
    except KeyError:
        pylogger.exception("failed")
    first, second = sorted(logger.get_buffered_events(), key=lambda e: e["num"])
    assert first["message"] == "hello there" and first["level"] == logging.INFO
    assert first["facility"] == "octavo_test_bridge" and first["from-logging"] is True
    assert second["isError"] == 1 and second["failure"].check(KeyError)


def test_to_logging(logger: FoolscapLogger, clock: Clock, pylogger: logging.Logger) -> None:
    """Events go to PREFIX.facility at their level, marked from_foolscap."""
    capture = _Capture()
    pylogger.addHandler(capture)
    bridgeLogsToLogging(foolscap_logger=logger, prefix="octavo_test_bridge")
    logger.msg("one %d", 1, facility="app/sub", level=log.WEIRD)
    logger.msg("two")
    logger.msg("noise", level=log.NOISY)
    clock.advance(0)
    assert [r.getMessage() for r in capture.records] == ["one 1", "two"]
    assert capture.records[0].levelno == logging.WARNING
    assert capture.records[1].name == "octavo_test_bridge"
    assert getattr(capture.records[0], "from_foolscap", False) is True


def test_logging_both_ways_does_not_loop(
    logger: FoolscapLogger, clock: Clock, pylogger: logging.Logger
) -> None:
    """A FoolscapHandler on the loggers that the events go to passes nothing back."""
    capture = _Capture()
    pylogger.addHandler(capture)
    bridgeLogsFromLogging("octavo_test_bridge", logger)
    bridgeLogsToLogging(foolscap_logger=logger, prefix="octavo_test_bridge")
    logger.msg("from foolscap")
    pylogger.warning("from logging")
    for _ in range(5):
        clock.advance(0)
    assert sorted(_messages(logger)) == ["from foolscap", "from logging"]
    assert [r.getMessage() for r in capture.records] == ["from logging", "from foolscap"]


def test_twisted_to_logging_chain_does_not_come_back(
    logger: FoolscapLogger, clock: Clock, pylogger: logging.Logger
) -> None:
    """Foolscap -> Twisted -> Python logging (Twisted's STDLib observer) -> not back."""
    from twisted.logger import STDLibLogObserver

    publisher = LogPublisher()
    publisher.addObserver(STDLibLogObserver(name="octavo_test_bridge"))
    bridgeLogsToTwisted(foolscap_logger=logger, twisted_logger=publisher)
    bridgeLogsFromLogging("octavo_test_bridge", logger)
    logger.msg("only once")
    for _ in range(5):
        clock.advance(0)
    assert _messages(logger) == ["only once"]
