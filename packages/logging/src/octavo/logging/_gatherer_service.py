"""Running a gatherer from its directory (what ``gatherer.tac`` and ``run-gatherer`` do).

A gatherer directory, made by ``octavo-log create-gatherer`` or
``create-incident-gatherer``, holds ``port`` (a Twisted endpoint string to
listen on), ``location`` (the hints for its FURL), ``gatherer.json`` (which
kind, and the log gatherer's rotation settings); running it adds
``gatherer.pem`` (the Tub's identity, kept across runs) and
``log_gatherer.furl`` (the FURL Tubs are given as ``log-gatherer-furl``), as
Foolscap's gatherers do. ``gatherer.json`` may also set ``max_logports_per_peer``
and ``max_logports`` (the gatherers' defaults otherwise). SIGHUP rotates a log gatherer's file.
"""

from __future__ import annotations

import json
import os
import signal
from typing import Any

from twisted.application import service
from twisted.internet import reactor as global_reactor

from octavo.tub import Tub

from ._gatherer import LogGatherer
from ._incident_gatherer import IncidentGatherer

__all__ = ["CONFIG_FILE", "FURL_FILE", "GathererConfigError", "GathererService"]

CONFIG_FILE = "gatherer.json"
FURL_FILE = "log_gatherer.furl"


class GathererConfigError(ValueError):
    """The directory is not a usable gatherer directory, and why."""


def _read(basedir: str, name: str) -> str:
    try:
        with open(os.path.join(basedir, name), encoding="utf-8") as f:
            return f.read().strip()
    except OSError as e:
        raise GathererConfigError(
            f"{basedir} is not a gatherer directory (no {name}: {e.strerror}); "
            "make one with 'octavo-log create-gatherer' or 'create-incident-gatherer'"
        ) from None


def read_config(basedir: str) -> dict[str, Any]:
    """The settings in ``gatherer.json``, checked."""
    try:
        config = json.loads(_read(basedir, CONFIG_FILE))
    except ValueError as e:
        raise GathererConfigError(f"{basedir}/{CONFIG_FILE} is not valid JSON: {e}") from None
    if not isinstance(config, dict) or config.get("kind") not in ("log", "incident"):
        raise GathererConfigError(f"{basedir}/{CONFIG_FILE} names no gatherer kind")
    return config


class GathererService(service.MultiService):  # type: ignore[misc,unused-ignore]
    """A gatherer's Tub and the gatherer it serves, from a gatherer directory."""

    def __init__(self, basedir: str, *, verbose: bool = True) -> None:
        super().__init__()  # type: ignore[no-untyped-call,unused-ignore]
        self.basedir = os.path.abspath(basedir)
        config = read_config(self.basedir)
        self.port = _read(self.basedir, "port")
        self.location = _read(self.basedir, "location")
        self.kind: str = config["kind"]
        self.verbose = verbose
        self.gatherer: LogGatherer | IncidentGatherer
        limits = {k: config[k] for k in ("max_logports_per_peer", "max_logports") if k in config}
        for name, value in limits.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise GathererConfigError(f"{basedir}/{CONFIG_FILE}: {name} must be at least 1")
        if self.kind == "log":
            self.gatherer = LogGatherer(
                self.basedir,
                rotate=config.get("rotate"),
                rotate_size=config.get("rotate_size"),
                use_bzip=bool(config.get("bzip")),
                **limits,
            )
        else:
            self.gatherer = IncidentGatherer(self.basedir, **limits)
        self.tub = Tub(certFile=os.path.join(self.basedir, "gatherer.pem"))
        self.tub.setServiceParent(self)  # type: ignore[no-untyped-call,unused-ignore]
        self.furl: str | None = None
        self._old_sighup: Any = None

    def startService(self) -> None:
        """Start the Tub, listen, publish the gatherer's FURL, start gathering."""
        super().startService()  # type: ignore[no-untyped-call,unused-ignore]
        self.gatherer.start()
        self.tub.listenOn(self.port)
        self.tub.setLocation(self.location)
        self.furl = self.tub.registerReference(
            self.gatherer, furlFile=os.path.join(self.basedir, FURL_FILE)
        )
        if self.kind == "log" and hasattr(signal, "SIGHUP"):
            self._old_sighup = signal.signal(signal.SIGHUP, self._sighup)
        if self.verbose:
            print("Gatherer waiting at:", self.furl, flush=True)

    def _sighup(self, signum: int, frame: object) -> None:
        assert isinstance(self.gatherer, LogGatherer)
        reactor: Any = global_reactor
        reactor.callFromThread(self.gatherer.do_rotate)

    def stopService(self) -> Any:
        """Stop gathering and the Tub."""
        if self._old_sighup is not None:
            signal.signal(signal.SIGHUP, self._old_sighup)
            self._old_sighup = None
        self.gatherer.stop()
        return super().stopService()  # type: ignore[no-untyped-call,unused-ignore]
