"""Tub options (Foolscap's names) and the plug-in point for the logging options.

The log options (``logport-furlfile``, ``log-gatherer-furl``,
``log-gatherer-furlfile``, ``bridge-twisted-logs``) are handled by a plug-in:
an entry point in the group ``octavo.tub.plugins`` named ``logging`` whose
object is a factory ``factory(tub) -> TubLoggingPlugin``. octavo-logging
provides it; without it those options fail with :class:`MissingPluginError`.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "LOG_OPTIONS",
    "PLUGIN_GROUP",
    "TubLoggingPlugin",
    "find_plugin_factory",
    "register_plugin_factory",
    "unregister_plugin_factory",
]

PLUGIN_GROUP = "octavo.tub.plugins"
LOGGING_PLUGIN = "logging"
LOG_OPTIONS = frozenset(
    {"logport-furlfile", "log-gatherer-furl", "log-gatherer-furlfile", "bridge-twisted-logs"}
)

_registered: dict[str, Any] = {}


@runtime_checkable
class TubLoggingPlugin(Protocol):
    """What octavo-logging provides for one Tub."""

    def set_option(self, name: str, value: object) -> object:
        """Apply log option ``name`` (one of LOG_OPTIONS); return what Foolscap returns."""
        ...

    def location_set(self) -> None:
        """The Tub's location is now set (log-gatherer connections may start)."""
        ...

    def get_log_port(self) -> object:
        """The Tub's logport Referenceable (Foolscap's ``Tub.getLogPort``)."""
        ...

    def get_log_port_furl(self) -> str:
        """The FURL of the Tub's logport (Foolscap's ``Tub.getLogPortFURL``)."""
        ...

    def log(self, *args: object, **kwargs: object) -> object:
        """Record one event for this Tub (``tubID`` is in kwargs); return its number."""
        ...


def register_plugin_factory(name: str, factory: Any) -> None:
    """Register a plug-in factory in-process (takes precedence over entry points)."""
    _registered[name] = factory


def unregister_plugin_factory(name: str) -> None:
    """Remove a factory registered with register_plugin_factory."""
    _registered.pop(name, None)


def find_plugin_factory(name: str) -> Any | None:
    """The factory for plug-in ``name``, from the registry or entry points, or None."""
    if name in _registered:
        return _registered[name]
    for ep in entry_points(group=PLUGIN_GROUP):
        if ep.name == name:
            return ep.load()
    return None


def coerce_bool(value: object) -> bool:
    """Foolscap's bool(value) for boolean options."""
    return bool(value)


def coerce_timeout(name: str, value: object) -> int:
    """An integer number of seconds for a timeout option."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError(f"option {name!r} needs a number of seconds, not {value!r}")
    return int(value)
