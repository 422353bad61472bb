"""FoolscapLogger: events as Foolscap builds them, observers, bounded buffers, errors."""

from __future__ import annotations

from typing import Any

from twisted.internet.task import Clock
from twisted.python import failure
from twisted.trial.unittest import SynchronousTestCase

from octavo.logging import FoolscapLogger, format_message, log
from octavo.logging._logger import INTERNAL_ERROR_FACILITY


def _events(logger: FoolscapLogger) -> list[dict[str, Any]]:
    return sorted(logger.get_buffered_events(), key=lambda e: e["num"])


def test_msg_builds_foolscaps_event() -> None:
    """Positional args become message and args; num, time, incarnation, level are set."""
    logger = FoolscapLogger()
    n0 = logger.msg("hello")
    n1 = logger.msg("got %s and %s", 1, "x", level=log.UNUSUAL, facility="app/x", extra=5)
    assert (n0, n1) == (0, 1)
    first, second = _events(logger)
    assert first["message"] == "hello" and first["level"] == log.OPERATIONAL
    assert "args" not in first
    assert second["args"] == (1, "x") and second["facility"] == "app/x"
    assert second["extra"] == 5 and second["level"] == log.UNUSUAL
    assert first["incarnation"] == logger.incarnation
    assert isinstance(first["time"], float)
    assert format_message(second) == "got 1 and x"


def test_format_message_and_keyword_message() -> None:
    """format= is formatted with the event; message= is made a str; no message is ''."""
    logger = FoolscapLogger()
    logger.msg(format="%(who)s did %(what)d", who="bob", what=3)
    logger.msg(message=42)
    logger.msg()
    formatted, keyword, empty = _events(logger)
    assert format_message(formatted) == "bob did 3" and "message" not in formatted
    assert keyword["message"] == "42"
    assert empty["message"] == ""


def test_format_message_never_raises() -> None:
    """Bad formats give the message with ' [formatting failed]'; bytes are read as text."""
    assert format_message({"message": "a %s %s", "args": (1,)}) == "a %s %s [formatting failed]"
    assert format_message({"format": "%(missing)s"}) == "[no message] [formatting failed]"
    assert format_message({b"message": b"caf\xc3\xa9"}) == "café"
    assert format_message({}) == ""
    # as Foolscap does for args read back from JSON: a list is one argument
    assert format_message({"message": "a %s", "args": [1]}) == "a [1]"


def test_parent_and_explicit_num_are_kept() -> None:
    """parent= links events; a given num= is used as it is and does not move the count."""
    logger = FoolscapLogger()
    p = logger.msg("parent")
    logger.msg("child", parent=p)
    assert logger.msg("mine", num=100) == 100
    assert logger.msg("next") == 2
    assert _events(logger)[1]["parent"] == p


def test_stacktrace_true_records_the_stack() -> None:
    """stacktrace=True is replaced by the formatted stack of the call."""
    logger = FoolscapLogger()
    logger.msg("where", stacktrace=True)
    (ev,) = _events(logger)
    assert isinstance(ev["stacktrace"], list)
    assert any("test_stacktrace_true_records_the_stack" in line for line in ev["stacktrace"])


def test_generation_threshold_drops_events_below_it() -> None:
    """Per facility thresholds drop quieter events; the number is used all the same."""
    logger = FoolscapLogger()
    logger.set_generation_threshold(log.UNUSUAL, facility="chatty")
    assert logger.get_generation_threshold("chatty") == log.UNUSUAL
    assert logger.get_generation_threshold("other") == log.NOISY
    logger.msg("dropped", facility="chatty", level=log.OPERATIONAL)
    logger.msg("kept", facility="chatty", level=log.WEIRD)
    logger.msg("other", facility="other", level=log.OPERATIONAL)
    logger.msg("too quiet", level=5)
    assert [e["message"] for e in _events(logger)] == ["kept", "other"]


def test_buffers_keep_the_newest_per_facility_and_level() -> None:
    """Each (facility, level) keeps the last 100 events by default, or its own size."""
    logger = FoolscapLogger()
    for i in range(250):
        logger.msg("n", i=i)
        logger.msg("w", i=i, level=log.WEIRD)
    logger.set_buffer_size(log.NOISY, 3, facility="f")
    for i in range(10):
        logger.msg("f", i=i, facility="f", level=log.NOISY)
    events = _events(logger)
    assert [e["i"] for e in events if e["message"] == "n"] == list(range(150, 250))
    assert len([e for e in events if e["message"] == "w"]) == 100
    assert [e["i"] for e in events if e["message"] == "f"] == [7, 8, 9]


def test_resizing_an_existing_buffer_keeps_the_newest() -> None:
    """set_buffer_size on a buffer in use trims it to the newest events."""
    logger = FoolscapLogger()
    for i in range(10):
        logger.msg("x", i=i)
    logger.set_buffer_size(log.OPERATIONAL, 2)
    assert [e["i"] for e in _events(logger)] == [8, 9]


def test_number_of_buffers_is_bounded() -> None:
    """Past MAX_BUFFERS facility/level pairs, events share one overflow buffer."""
    logger = FoolscapLogger()
    logger.MAX_BUFFERS = 5
    for i in range(1000):
        logger.msg("x", facility=f"f{i}")
    events = _events(logger)
    assert len(events) == 5 + logger.DEFAULT_SIZELIMIT
    assert events[-1]["facility"] == "f999"


def test_bad_input_becomes_an_internal_error_event() -> None:
    """An exception while logging is logged as an internal error, never raised."""
    logger = FoolscapLogger()
    num = logger.msg("x", level="not a number")
    (ev,) = _events(logger)
    assert ev["num"] == num
    assert ev["facility"] == INTERNAL_ERROR_FACILITY and ev["level"] == log.WEIRD
    assert "internal error in log._msg" in ev["message"]


def test_failing_immediate_observer_does_not_reach_the_caller() -> None:
    """An immediate observer that raises is reported as an internal error."""
    logger = FoolscapLogger()
    seen: list[str] = []

    def observer(ev: dict[str, Any]) -> None:
        seen.append(ev["message"])
        if ev.get("facility") != INTERNAL_ERROR_FACILITY:
            raise RuntimeError("boom")

    logger.addImmediateObserver(observer)
    logger.msg("hello")
    assert seen[0] == "hello"
    assert "boom" in seen[1]
    logger.removeImmediateObserver(observer)
    logger.msg("quiet")
    assert len(seen) == 2


def test_huge_unreprable_arguments_give_a_bounded_internal_error() -> None:
    """The internal-error text stays short whatever was passed."""
    logger = FoolscapLogger()
    logger.msg("x" * 100_000, level=object())
    (ev,) = _events(logger)
    assert len(ev["message"]) < 2000


class ObserverTests(SynchronousTestCase):
    """Observers get events on a later turn of the logger's clock."""

    def test_observer_called_eventually(self) -> None:
        """Nothing is delivered until the clock turns; then every event, in order."""
        clock = Clock()
        logger = FoolscapLogger(clock=clock)
        got: list[dict[str, Any]] = []
        logger.addObserver(got.append)
        logger.msg("one")
        logger.msg("two")
        self.assertEqual(got, [])
        clock.advance(0)
        self.assertEqual([e["message"] for e in got], ["one", "two"])
        logger.removeObserver(got.append)
        logger.msg("three")
        clock.advance(0)
        self.assertEqual(len(got), 2)

    def test_immediate_observer_called_at_once(self) -> None:
        """An immediate observer sees the event before msg returns."""
        logger = FoolscapLogger(clock=Clock())
        got: list[dict[str, Any]] = []
        logger.addImmediateObserver(got.append)
        logger.msg("now")
        self.assertEqual(got[0]["message"], "now")


class ErrTests(SynchronousTestCase):
    """err() logs failures as Foolscap does."""

    def test_err_of_current_exception(self) -> None:
        """Inside except, err() records a Failure, why and isError."""
        logger = FoolscapLogger()
        try:
            raise ValueError("bad thing")
        except ValueError:
            logger.err(_why="while testing", facility="app")
        (ev,) = _events(logger)
        self.assertIsInstance(ev["failure"], failure.Failure)
        self.assertTrue(ev["failure"].check(ValueError))
        self.assertIn("bad thing", ev["failure"].getTraceback())
        self.assertEqual((ev["why"], ev["isError"], ev["facility"]), ("while testing", 1, "app"))

    def test_err_of_exception_and_of_other_values(self) -> None:
        """An exception becomes a Failure; anything else its repr as the message."""
        logger = FoolscapLogger()
        logger.err(KeyError("k"))
        logger.err({"not": "an exception"}, "why")
        exc, other = _events(logger)
        self.assertTrue(exc["failure"].check(KeyError))
        self.assertEqual(other["message"], "{'not': 'an exception'}")
        self.assertEqual(other["why"], "why")

    def test_err_without_exception_does_not_raise(self) -> None:
        """err() outside an except block logs a note instead of raising."""
        logger = FoolscapLogger()
        logger.err()
        (ev,) = _events(logger)
        self.assertIn("without a current exception", ev["message"])
        self.assertEqual(ev["isError"], 1)


def test_public_module_mirrors_foolscap() -> None:
    """octavo.logging.log has Foolscap's module-level names, bound to theLogger."""
    for name in [
        "msg",
        "err",
        "setLogDir",
        "explain_facility",
        "set_buffer_size",
        "set_generation_threshold",
        "get_generation_threshold",
        "bridgeLogsFromTwisted",
        "bridgeLogsToTwisted",
        "format_message",
        "theLogger",
    ]:
        assert hasattr(log, name), name
    num = log.msg("through the module", facility="test/public")
    assert any(e["num"] == num for e in log.theLogger.get_buffered_events())
    log.explain_facility("test/public", "events of this test")
    assert log.theLogger.facility_explanations["test/public"] == "events of this test"


def test_format_message_bounds_what_a_peer_can_ask_for() -> None:
    """Huge field widths, '*' widths, deep nesting: '[formatting failed]', quickly."""
    assert format_message({"format": "%(num)999999999d", "num": 1}).endswith("[formatting failed]")
    assert format_message({"message": "%*d", "args": (5, 1)}).endswith("[formatting failed]")
    assert format_message({"message": "%.5000f", "args": (1.0,)}).endswith("[formatting failed]")
    assert format_message({"format": "%(n)10d|%(n)-4d|%(f).2f", "n": 7, "f": 1.0}) == (
        "         7|7   |1.00"
    )
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    assert format_message({"message": "%s", "args": (deep,)}).endswith("[formatting failed]")

    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("no")

    assert format_message({"message": Unprintable(), "args": ()}) == (
        "[unprintable message] [formatting failed]"
    )
