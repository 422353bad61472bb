"""``octavo-log create-gatherer`` / ``create-incident-gatherer`` / ``run-gatherer``,
and the gatherer.tac they write, run as twistd would load it."""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import sys
from typing import Any

import pytest
from twisted.application import service
from twisted.internet.utils import getProcessOutputAndValue
from twisted.persisted import sob
from twisted.trial import unittest

from octavo.logging._cli import gatherers
from octavo.logging._flogfile import read_flogfile
from octavo.logging._gatherer import LogGatherer
from octavo.logging._gatherer_service import GathererConfigError, GathererService
from octavo.logging._logger import FoolscapLogger
from octavo.logging._plugin import LoggingPlugin
from octavo.tub._net._identity import create_certificate
from octavo.tub._options import LOGGING_PLUGIN, register_plugin_factory, unregister_plugin_factory
from tests.tub._loopback import LoopbackTubs

from ._fakes import fresh_path, turns
from .test_gatherer import until

CERT = create_certificate()


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="octavo-log")
    gatherers.add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(list(argv))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_create_gatherer_writes_the_directory(tmp_path: Any) -> None:
    basedir = str(tmp_path / "g")
    args = parse(
        "create-gatherer", basedir, "--location", "tcp:example.org:3117",
        "--rotate", "3600", "--rotate-size", "1000000", "--bzip",
    )  # fmt: skip
    out = io.StringIO()
    gatherers.create(args, "log", out)
    assert sorted(os.listdir(basedir)) == ["gatherer.json", "gatherer.tac", "location", "port"]
    with open(os.path.join(basedir, "port")) as f:
        assert f.read() == "tcp:3117\n"
    with open(os.path.join(basedir, "gatherer.json")) as f:
        assert json.load(f) == {
            "kind": "log", "rotate": 3600.0, "rotate_size": 1000000, "bzip": True,
        }  # fmt: skip
    assert "twistd -y gatherer.tac" in out.getvalue()
    assert args.func(args) == 0  # again, through the command: same files


def test_create_refuses_a_port_of_zero_and_needs_a_location(tmp_path: Any) -> None:
    args = parse("create-incident-gatherer", str(tmp_path), "-l", "x", "-p", "tcp:0")
    with pytest.raises(gatherers.CreateError, match="fixed TCP port"):
        gatherers.create(args, "incident", io.StringIO())
    with pytest.raises(SystemExit):
        parse("create-gatherer", str(tmp_path))
    with pytest.raises(SystemExit):
        parse("create-gatherer", str(tmp_path), "-l", "x", "--rotate", "-5")


@pytest.mark.parametrize("kind", ["log", "incident"])
def test_gatherer_json_may_set_the_logport_limits(tmp_path: Any, kind: str) -> None:
    """max_logports_per_peer and max_logports in gatherer.json reach the gatherer; bad
    values are refused by name."""
    basedir = str(tmp_path / "g")
    command = "create-gatherer" if kind == "log" else "create-incident-gatherer"
    gatherers.create(parse(command, basedir, "-l", "tcp:example.org:3117"), kind, io.StringIO())
    path = os.path.join(basedir, "gatherer.json")
    with open(path) as f:
        config = json.load(f)
    with open(path, "w") as f:
        json.dump({**config, "max_logports_per_peer": 3, "max_logports": 7}, f)
    limits = GathererService(basedir, verbose=False).gatherer.limits
    assert (limits.per_peer, limits.total) == (3, 7)
    with open(path, "w") as f:
        json.dump({**config, "max_logports": 0}, f)
    with pytest.raises(GathererConfigError, match="max_logports must be at least 1"):
        GathererService(basedir, verbose=False)


def test_not_a_gatherer_directory(tmp_path: Any) -> None:
    with pytest.raises(GathererConfigError, match="not a gatherer directory"):
        GathererService(str(tmp_path))
    assert gatherers.run_gatherer(parse("run-gatherer", str(tmp_path))) == 1


class RunningFromTheTac(LoopbackTubs, unittest.TestCase):
    async def test_tac_runs_a_log_gatherer_that_tubs_can_reach(self) -> None:
        basedir = os.path.abspath(fresh_path(self))
        port = free_port()
        args = parse(
            "create-gatherer", basedir, "-q", "-p", f"tcp:{port}:interface=127.0.0.1",
            "-l", f"tcp:127.0.0.1:{port}",
        )  # fmt: skip
        gatherers.create(args, "log", io.StringIO())
        application = sob.loadValueFromFile(os.path.join(basedir, "gatherer.tac"), "application")
        top = service.IService(application)
        (svc,) = list(top)
        assert isinstance(svc, GathererService)
        svc.verbose = False
        top.startService()
        self.addCleanup(top.stopService)
        with open(os.path.join(basedir, "log_gatherer.furl")) as f:
            assert f.read().strip() == svc.furl
        logger = FoolscapLogger()
        register_plugin_factory(LOGGING_PLUGIN, lambda tub: LoggingPlugin(tub, logger))
        self.addCleanup(unregister_plugin_factory, LOGGING_PLUGIN)
        source = self.make_tub(CERT)
        source.setOption("log-gatherer-furlfile", os.path.join(basedir, "log_gatherer.furl"))
        gatherer = svc.gatherer
        assert isinstance(gatherer, LogGatherer)
        await until(lambda: gatherer.stats.subscribed == 1)
        await turns(2)
        for i in range(5):
            source.log("hello", i=i)
        await until(lambda: gatherer.stats.written[source.getTubID()] == 5)
        assert gatherer.current_file is not None
        got = [r["d"]["i"] for r in list(read_flogfile(gatherer.current_file))[1:]]
        assert got == list(range(5))


class RunGathererCommand(unittest.TestCase):
    async def test_run_gatherer_in_a_subprocess_until_interrupted(self) -> None:
        basedir = os.path.abspath(fresh_path(self))
        port = free_port()
        args = parse(
            "create-incident-gatherer", basedir, "-q", "-p", f"tcp:{port}:interface=127.0.0.1",
            "-l", f"tcp:127.0.0.1:{port}",
        )  # fmt: skip
        gatherers.create(args, "incident", io.StringIO())
        script = (
            "import argparse, os, signal, sys\n"
            "from twisted.internet import reactor\n"
            "from octavo.logging._cli import gatherers\n"
            "p = argparse.ArgumentParser(); gatherers.add_parser(p.add_subparsers())\n"
            "a = p.parse_args(sys.argv[1:])\n"
            # stop once the FURL file is written: the command ran and published
            "def check():\n"
            "    if os.path.exists(os.path.join(a.basedir, 'log_gatherer.furl')):\n"
            "        os.kill(os.getpid(), signal.SIGINT)\n"
            "    else:\n"
            "        reactor.callLater(0.05, check)\n"
            "reactor.callWhenRunning(check)\n"
            "sys.exit(a.func(a))\n"
        )
        out, err, code = await getProcessOutputAndValue(
            sys.executable, ["-c", script, "run-gatherer", basedir], env=dict(os.environ)
        )
        assert code == 0, err
        assert out.decode().startswith("Gatherer waiting at: pb://")
        assert sorted(os.listdir(basedir)) == [
            "classified", "gatherer.json", "gatherer.pem", "gatherer.tac", "incidents",
            "location", "log_gatherer.furl", "port",
        ]  # fmt: skip
