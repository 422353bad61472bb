"""The octavo-tub plug-in: a Tub's log options, logport and log gatherers.

``octavo.tub`` finds :func:`plugin_factory` through the entry point ``logging``
in the group ``octavo.tub.plugins`` and makes one :class:`LoggingPlugin` per
Tub, on first use. As in Foolscap:

- ``logport-furlfile``: where the logport's FURL is kept (written once the Tub
  has a location, and reused across runs);
- ``log-gatherer-furl`` (a FURL or a list of them) and ``log-gatherer-furlfile``
  (a file of FURLs, one a line): once the Tub has a location, it keeps a
  connection to each gatherer (reconnecting as ``Tub.connectTo`` does) and on
  each connection calls ``logport(tubid, logport)`` on it;
- ``bridge-twisted-logs``: copy Twisted's log events into ours (True, or a
  Twisted log publisher for tests; False is refused).
"""

from __future__ import annotations

import os
from typing import Any

from twisted.logger import LogPublisher

from octavo.tub import NoLocationError

from ._bridges import bridgeLogsFromTwisted
from ._publisher import LogPublisher as Logport
from ._publisher import PublishingLogger

__all__ = ["LoggingPlugin", "plugin_factory"]


def _default_logger() -> Any:
    from . import log  # noqa: PLC0415 - log imports the logger; load it when first needed

    return log.theLogger


class LoggingPlugin:
    """One Tub's logging: implements octavo.tub's ``TubLoggingPlugin``."""

    def __init__(self, tub: Any, logger: PublishingLogger | None = None) -> None:
        self._tub = tub
        self._logger: Any = logger if logger is not None else _default_logger()
        self._logport: Logport | None = None
        self._logport_furl: str | None = None
        self._logport_furlfile: str | None = None
        self._gatherer_furls: list[str] = []
        self._gatherer_furlfile: str | None = None
        #: gatherer FURL -> the Reconnector keeping us connected to it
        self.gatherer_connectors: dict[str, Any] = {}

    # -- options -----------------------------------------------------------------

    def set_option(self, name: str, value: object) -> object:
        """Apply one of the log options (see the module docstring)."""
        if name == "logport-furlfile":
            self._logport_furlfile = _path(name, value)
            self._maybe_write_logport_furlfile()
        elif name == "log-gatherer-furl":
            if self._gatherer_furls:
                raise ValueError("option 'log-gatherer-furl' is already set")
            self._gatherer_furls = _furls(name, value)
            self._maybe_connect_to_gatherers()
        elif name == "log-gatherer-furlfile":
            if self._gatherer_furlfile:
                raise ValueError("option 'log-gatherer-furlfile' is already set")
            self._gatherer_furlfile = _path(name, value)
            self._maybe_connect_to_gatherers()
        elif name == "bridge-twisted-logs":
            return self._bridge_twisted_logs(value)
        else:
            raise KeyError(f"unknown log option name '{name}'")
        return None

    def _bridge_twisted_logs(self, value: object) -> object:
        if value is False:
            raise ValueError("option 'bridge-twisted-logs': cannot unbridge Twisted logs")
        tubid = self._tub.getTubID()
        if value is True:
            return bridgeLogsFromTwisted(tubid, foolscap_logger=self._logger)
        if not isinstance(value, LogPublisher):
            raise TypeError(
                "option 'bridge-twisted-logs' takes True or a twisted.logger.LogPublisher, "
                f"not {type(value).__name__}"
            )
        return bridgeLogsFromTwisted(tubid, twisted_logger=value, foolscap_logger=self._logger)

    def location_set(self) -> None:
        """The Tub has a location: write the logport FURL file, reach the gatherers."""
        self._maybe_write_logport_furlfile()
        self._maybe_connect_to_gatherers()

    # -- the logport ----------------------------------------------------------------

    def get_log_port(self) -> Logport:
        """The Tub's logport (NoLocationError before ``setLocation``)."""
        if not self._tub.locationHints:
            raise NoLocationError("the logport needs the Tub's location: call setLocation()")
        if self._logport is None:
            self._logport = Logport(self._logger)
        return self._logport

    def get_log_port_furl(self) -> str:
        """The logport's FURL (kept in the logport-furlfile, if one is set)."""
        if self._logport_furl is None:
            logport = self.get_log_port()
            self._logport_furl = str(
                self._tub.registerReference(logport, furlFile=self._logport_furlfile)
            )
        return self._logport_furl

    def _maybe_write_logport_furlfile(self) -> None:
        if self._logport_furlfile and self._tub.locationHints:
            self.get_log_port_furl()

    # -- gatherers ---------------------------------------------------------------------

    def gatherer_furls(self) -> list[str]:
        """The gatherers' FURLs: from the option, then from the FURL file (if readable)."""
        furls = list(self._gatherer_furls)
        if self._gatherer_furlfile:
            try:
                with open(self._gatherer_furlfile, encoding="utf-8") as f:
                    furls += [line.strip() for line in f if line.strip()]
            except (OSError, UnicodeDecodeError):
                pass
        return furls

    def _maybe_connect_to_gatherers(self) -> None:
        if not self._tub.locationHints:
            return
        for furl in self.gatherer_furls():
            if furl not in self.gatherer_connectors:
                self.gatherer_connectors[furl] = self._tub.connectTo(furl, self._gatherer_connected)

    def _gatherer_connected(self, gatherer: Any) -> None:
        self.get_log_port_furl()  # name the logport (its FURL file) before handing it out
        tubid = self._tub.getTubID().encode("ascii")
        gatherer.callRemoteOnly("logport", tubid, self.get_log_port())

    # -- events ------------------------------------------------------------------------

    def log(self, *args: object, **kwargs: object) -> object:
        """Foolscap's ``log.msg`` (the Tub adds ``tubID``); returns the event number."""
        return self._logger.msg(*args, **kwargs)


def _path(name: str, value: object) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"option {name!r} needs a file name, not {type(value).__name__}")
    return os.fspath(value)


def _furls(name: str, value: object) -> list[str]:
    items = [value] if isinstance(value, (str, bytes)) else value
    if not isinstance(items, (list, tuple)):
        raise TypeError(f"option {name!r} needs a FURL or a list of FURLs, not {value!r}")
    out = []
    for item in items:
        furl = item.decode("utf-8") if isinstance(item, bytes) else item
        if not isinstance(furl, str) or not furl.startswith("pb:"):
            raise TypeError(f"option {name!r}: {item!r} is not a FURL")
        out.append(furl)
    return out


def plugin_factory(tub: Any) -> LoggingPlugin:
    """The entry point: the logging plug-in for ``tub``."""
    return LoggingPlugin(tub)
