"""``octavo-log tail``: target resolution, Foolscap's text layout, filters, saving,
and the command itself in a subprocess following a loopback logport."""

from __future__ import annotations

import argparse
import io
import os
import sys
from typing import Any

import pytest
from twisted.internet import defer
from twisted.internet.utils import getProcessOutputAndValue
from twisted.trial import unittest
from zope.interface import implementer

from octavo.logging._cli import tail
from octavo.logging._flogfile import read_flogfile
from octavo.logging._interfaces import RILogPublisher, RISubscription
from octavo.logging._publisher import LogPublisher
from octavo.tub import Referenceable
from octavo.tub._net._identity import create_certificate
from tests.tub._loopback import LoopbackTubs

from ._fakes import Collector, FakeLogger, fresh_path, turns

CERTS = [create_certificate() for _ in range(2)]
FURL = "pb://aaaabbbbccccddddeeeeffffgggghhhh@tcp:127.0.0.1:1/swiss"


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="octavo-log")
    tail.add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["tail", *argv])


def test_parser_options() -> None:
    args = parse("-c", "-v", "--save-to", "x.flog", "-t", "utc", "--level", "unusual", FURL)
    assert args.func is tail.run and args.target == FURL
    assert args.catch_up and args.verbose and args.save_to == "x.flog"
    assert args.timestamps == "utc" and args.level == 23
    assert parse("--level", "30", FURL).level == 30
    with pytest.raises(SystemExit):
        parse("--level", "LOUD", FURL)


def test_target_is_a_furl_a_furl_file_or_a_directory(tmp_path: Any) -> None:
    assert tail.resolve_target(FURL) == FURL
    (tmp_path / "logport.furl").write_text(FURL + "\n")
    assert tail.resolve_target(str(tmp_path)) == FURL
    assert tail.resolve_target(str(tmp_path / "logport.furl")) == FURL
    (tmp_path / "junk").write_text("hello")
    with pytest.raises(tail.TargetError, match="holds no FURL"):
        tail.resolve_target(str(tmp_path / "junk"))
    with pytest.raises(tail.TargetError, match="can't use tail target"):
        tail.resolve_target(str(tmp_path / "missing"))


def test_time_formats() -> None:
    assert tail.format_time(1_700_000_000.25, "utc") == "2023-11-14_22:13:20.250000Z"
    assert tail.format_time(1_700_000_000.25, "epoch") == "1700000000.250"
    assert tail.format_time(1_700_000_000.25, "short-local").endswith(".250")
    with pytest.raises(ValueError, match="unknown time format"):
        tail.format_time(1.0, "roman")


EVENT = {"num": 4, "time": 1_700_000_000.5, "level": 30, "format": "%(n)d apples", "n": 3}


def test_foolscap_layout_level_filter_and_verbose() -> None:
    out = io.StringIO()
    printer = tail.TailPrinter(out, timestamps="utc", min_level=25)
    printer("aaaabbbb", EVENT)
    printer("aaaabbbb", {**EVENT, "level": 20, "num": 5})
    printer("aaaabbbb", {**EVENT, "num": 6, "failure": "Traceback:\n  boom"})
    assert out.getvalue().splitlines() == [
        "2023-11-14_22:13:20.500000Z L30 []#4 3 apples",
        "2023-11-14_22:13:20.500000Z L30 []#6 3 apples",
        " FAILURE:",
        " Traceback:",
        "   boom",
    ]
    verbose = io.StringIO()
    tail.TailPrinter(verbose, verbose=True)("t", {"num": 1})
    assert verbose.getvalue() == "{'num': 1}\n"


def test_connected_banner_and_save_to(tmp_path: Any) -> None:
    out = io.StringIO()
    path = str(tmp_path / "saved.flog")
    printer = tail.TailPrinter(out, save_to=path, min_level=40)
    printer.connected(1234, {"b": "2", "a": "1"})
    printer("aaaabbbbccccdddd", EVENT)  # filtered from the screen, saved all the same
    printer.close()
    assert out.getvalue() == "Connected (to pid 1234)\nRemote Versions:\n a: 1\n b: 2\n"
    header, record = list(read_flogfile(path))
    assert header["header"]["type"] == "tail" and header["header"]["pid"] == 1234
    assert header["header"]["versions"] == {"b": "2", "a": "1"}
    assert record["from"] == "aaaabbbb" and record["d"] == EVENT


@implementer(RISubscription)
class Sub(Referenceable):  # type: ignore[misc]
    def remote_unsubscribe(self) -> None:
        return None


@implementer(RILogPublisher)
class ThreeEvents(LogPublisher):
    """A logport that sends three events on subscription, then says when answered."""

    def __init__(self) -> None:
        super().__init__(FakeLogger())
        self.done: defer.Deferred[None] = defer.Deferred()

    def remote_subscribe_to_all(self, observer: Any, catch_up: bool = False) -> Sub:
        ds = [
            observer.callRemote("msg", {**EVENT, "num": n, "n": n, "level": 20 + 10 * n})
            for n in range(3)
        ]
        defer.gatherResults(ds).addBoth(self.done.callback)
        return Sub()


class TailCommand(LoopbackTubs, unittest.TestCase):
    async def test_follow_prints_through_a_live_follower(self) -> None:
        source = self.make_tub(CERTS[0])
        logger = FakeLogger()
        furl = source.registerReference(LogPublisher(logger))
        out = io.StringIO()
        printer = tail.TailPrinter(out, timestamps="epoch")
        follower = await tail.follow(self.make_tub(CERTS[1]), furl, printer, False)
        await turns()
        logger.emit(9)
        seen = Collector()
        follower.observer._on_event = lambda t, e: (printer(t, e), seen(t, e))  # type: ignore[assignment]
        logger.emit(10)
        await seen.wait_for(1)
        await follower.stop()
        lines = out.getvalue().splitlines()
        assert lines[0] == "Connecting.." and lines[1].startswith("Connected (to pid ")
        assert "1.000 L20 []#10 e10" in lines

    async def test_the_command_in_a_subprocess(self) -> None:
        source = self.make_tub(CERTS[0])
        publisher = ThreeEvents()
        furlfile = fresh_path(self)
        source.registerReference(publisher, furlFile=furlfile)
        saved = fresh_path(self) + ".flog"
        script = (
            "import argparse, sys\n"
            "from octavo.logging._cli import tail\n"
            "p = argparse.ArgumentParser(); s = p.add_subparsers()\n"
            "tail.add_parser(s)\n"
            "a = p.parse_args(sys.argv[1:])\n"
            "sys.exit(a.func(a))\n"
        )
        run = getProcessOutputAndValue(
            sys.executable,
            ["-c", script, "tail", "-t", "epoch", "-l", "30", "-s", saved, furlfile],
            env=dict(os.environ),
        )
        await publisher.done
        await source.stopService()  # the logport goes away: tail says so and exits
        out, err, code = await run
        lines = out.decode().splitlines()
        assert code == 0, err
        assert lines[0] == "Connecting.." and lines[1].startswith("Connected (to pid ")
        assert "1700000000.500 L30 []#1 1 apples" in lines
        assert "1700000000.500 L40 []#2 2 apples" in lines
        assert not any("#0 " in line for line in lines)  # L20: below --level
        assert lines[-1] == "Disconnected"
        assert [r["d"]["num"] for r in list(read_flogfile(saved))[1:]] == [0, 1, 2]


def test_commands_plug_into_octavo_log(monkeypatch: Any, tmp_path: Any) -> None:
    """With "tail" and "gatherers" in _main.COMMANDS (log-core's list), octavo-log
    parses and runs them next to its own commands."""
    from octavo.logging._cli import _main, gatherers

    monkeypatch.setattr(_main, "COMMANDS", (*_main.COMMANDS, "tail", "gatherers"))
    parser = _main.build_parser()
    assert parser.parse_args(["tail", "-c", FURL]).func is tail.run
    assert parser.parse_args(["run-gatherer", "d"]).func is gatherers.run_gatherer
    assert parser.parse_args(["dump", "x.flog"]).command == "dump"
    assert _main.main(["tail", str(tmp_path / "missing")]) == 1
    assert _main.main(["run-gatherer", str(tmp_path)]) == 1
