"""Foolscap's log methods of the Tub, served by the octavo-logging plug-in.

The plug-in (see ``_options.find_plugin_factory``) is loaded the first time
something needs it: a log option, ``getLogPort``, ``tub.log``. Without it the
log options and the logport fail with :class:`MissingPluginError` saying what
to install, and ``tub.log`` goes to Twisted's logger instead, so application
code that logs through its Tub works either way.
"""

from __future__ import annotations

from typing import Any

from twisted.logger import Logger

from ._errors import MissingPluginError
from ._options import LOGGING_PLUGIN, TubLoggingPlugin, find_plugin_factory

__all__ = ["TubLogging"]

# the namespace tub.log has used since it lived in _tub.py
_log = Logger(namespace="octavo.tub._tub")


def _twisted_level(level: object) -> str:
    """Twisted's level name for a Foolscap numeric level (NOISY 10, OPERATIONAL 20, BAD 40)."""
    if not isinstance(level, int):
        return "info"
    if level < 20:
        return "debug"
    if level < 30:
        return "info"
    return "warn" if level < 40 else "error"


class TubLogging:
    """One Tub's logging plug-in, loaded on first use."""

    def __init__(self, tub: object) -> None:
        self._tub = tub
        self._plugin: TubLoggingPlugin | None = None

    def plugin(self, needed_for: str) -> TubLoggingPlugin:
        """The plug-in; MissingPluginError naming ``needed_for`` if it is not installed."""
        if self._plugin is None:
            factory = find_plugin_factory(LOGGING_PLUGIN)
            if factory is None:
                raise MissingPluginError(
                    f"Tub option '{needed_for}' needs octavo-logging, which is not installed "
                    "(pip install octavo-logging)"
                )
            self._plugin = factory(self._tub)
        return self._plugin

    def location_set(self) -> None:
        """Tell a loaded plug-in that the Tub's location is now set."""
        if self._plugin is not None:
            self._plugin.location_set()

    def log(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> object:
        """Foolscap's ``log.msg`` through the plug-in, or Twisted's logger without it."""
        if self._plugin is None and find_plugin_factory(LOGGING_PLUGIN) is None:
            message = args[0] if args else kwargs.get("format", "")
            emit = getattr(_log, _twisted_level(kwargs.get("level")))
            emit("{message}", message=message, tubID=kwargs.get("tubID"), foolscap_event=kwargs)
            return None
        return self.plugin("log").log(*args, **kwargs)
