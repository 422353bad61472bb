"""Tub options: one table from Foolscap's option names to :class:`TubOptions` fields.

Theory of operation: a Tub keeps its settings in one :class:`TubOptions` object.
``Tub.setOption(name, value)`` looks ``name`` up in :data:`OPTIONS` (Foolscap's
spelling -> field, coercion, and the Broker keyword the field feeds, if any),
coerces the value and stores it; anything not in the table is a ``KeyError``.
The Tub shows the fields the Broker reads under Foolscap's attribute names
(``tub.keepaliveTimeout``, ``tub.unsafeTracebacks``, ...) through
:class:`OptionAttribute`, so there is one place each setting lives, and
``Tub.clone`` copies the whole object with ``dataclasses.replace``. A new option
(``max-message-size``, say) is a field here and a row in :data:`OPTIONS`; with
``broker_arg`` set, every new Broker gets it as that constructor keyword.

The log options (``logport-furlfile``, ``log-gatherer-furl``,
``log-gatherer-furlfile``, ``bridge-twisted-logs``) are handled by a plug-in:
an entry point in the group ``octavo.tub.plugins`` named ``logging`` whose
object is a factory ``factory(tub) -> TubLoggingPlugin``. octavo-logging
provides it; without it those options fail with :class:`MissingPluginError`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from importlib.metadata import entry_points
from types import MappingProxyType
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

__all__ = [
    "LOG_OPTIONS",
    "OPTIONS",
    "PLUGIN_GROUP",
    "Option",
    "OptionAttribute",
    "TubLoggingPlugin",
    "TubOptions",
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


# -- the options --------------------------------------------------------------------


@dataclass
class TubOptions:
    """Every setting of one Tub, with Foolscap's defaults.

    Those with a Foolscap-style name are set by name (:data:`OPTIONS`; the limits
    are Octavo's own); ``unsafe_tracebacks`` and
    ``debug_banana`` are Foolscap attributes with no option name
    (``tub.unsafeTracebacks = False``).
    """

    #: ``logLocalFailures``: log failures of inbound calls that we executed.
    log_local_failures: bool = False
    #: ``logRemoteFailures``: log failures of our calls reported by the far end.
    log_remote_failures: bool = False
    #: ``keepaliveTimeout``: seconds of silence before we PING (None: never).
    keepalive_timeout: int | None = 4 * 60
    #: ``disconnectTimeout``: seconds of silence before we drop a connection (None: never).
    disconnect_timeout: int | None = None
    #: ``handle-old-duplicate-connections``: seconds after which a duplicate offer that
    #: does not identify itself replaces the old connection (True is 60; None: never).
    handle_old_duplicate_connections: int | None = None
    #: ``expose-remote-exception-types``: remote failures match their class names
    #: (``check``/``trap``); False wraps them in RemoteException.
    expose_remote_exception_types: bool = True
    #: ``accept-gifts``: follow third-party references we receive.
    accept_gifts: bool = True
    #: ``max-connections``: connections (established or negotiating) at once; a new
    #: inbound one past it is refused during negotiation ("too many connections").
    max_connections: int = 10_000
    #: ``max-negotiating-connections``: inbound connections still negotiating at once.
    max_negotiating_connections: int = 500
    #: ``negotiation-timeout``: seconds an inbound connection has to finish negotiating.
    negotiation_timeout: float = 120.0
    #: ``max-inbound-calls``: a peer's calls running at once; more wait unread.
    max_inbound_calls: int = 10_000
    #: ``max-references-per-peer``: our objects one peer may hold references to; past
    #: it, sending one more to that peer fails with a Violation.
    max_references_per_peer: int = 100_000
    #: ``max-pending-gifts``: third-party references (gifts) received from one peer and
    #: not resolved yet; one more is refused with a Violation (a gift loop, or a flood).
    max_pending_gifts: int = 1_000
    #: ``max-message-size``: bytes one inbound message may take on the wire; a bigger
    #: one is a protocol error that closes that connection. The bytes of byte strings
    #: that a constraint allowed past ``max-token-size`` come on top.
    max_message_size: int = 64 * 1024 * 1024
    #: ``max-token-size``: bytes one byte string (STRING token) of an inbound message
    #: may take (the Banana decoder's ``max_token_size``); a bigger one is refused with
    #: a Violation (its body skipped, never buffered) and the connection goes on. An
    #: argument or result whose constraint allows more
    #: (``ByteStringConstraint(maxLength=N)``) may take up to N bytes.
    max_token_size: int = 16 * 1024 * 1024
    #: ``max-vocab-entries``: entries a peer's inbound vocabulary table may hold
    #: (``set-vocab``/``add-vocab``; past it the connection closes). None: the Banana
    #: decoder's default (``octavo.banana.Decoder``, 4,096).
    max_vocab_entries: int | None = None
    #: ``max-vocab-bytes``: total bytes of the words in that table. None: the
    #: decoder's default (256 KiB).
    max_vocab_bytes: int | None = None
    #: ``max-message-objects``: objects one inbound message may make; a message
    #: past it is refused with a Violation and the connection goes on. None: the
    #: decoder's default (200,000).
    max_message_objects: int | None = None
    #: Foolscap's ``unsafeTracebacks``: send full tracebacks in the failures we return.
    unsafe_tracebacks: bool = True
    #: Foolscap's ``debugBanana`` (we only ever log message summaries).
    debug_banana: bool = False

    def set(self, name: str, value: object) -> None:
        """Set the option Foolscap calls ``name``; unknown names raise KeyError."""
        option = OPTIONS.get(name)
        if option is None:
            raise KeyError(f"unknown option name '{name}'")
        setattr(self, option.field, option.coerce(name, value))

    def broker_arguments(self) -> dict[str, Any]:
        """The Broker constructor keywords these options set (``Option.broker_arg``),
        with ``codec_limits`` for the decoder's (``Option.codec_arg``, when set)."""
        arguments = {o.broker_arg: getattr(self, o.field) for o in OPTIONS.values() if o.broker_arg}
        limits = {o.codec_arg: getattr(self, o.field) for o in OPTIONS.values() if o.codec_arg}
        arguments["codec_limits"] = {k: v for k, v in limits.items() if v is not None}
        return arguments


def coerce_bool(name: str, value: object) -> bool:
    """Foolscap's bool(value) for boolean options."""
    return bool(value)


def coerce_timeout(name: str, value: object) -> int:
    """An integer number of seconds for a timeout option."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError(f"option {name!r} needs a number of seconds, not {value!r}")
    return int(value)


def coerce_optional_timeout(name: str, value: object) -> int | None:
    """A number of seconds, or None for "never"."""
    return None if value is None else coerce_timeout(name, value)


def coerce_count(name: str, value: object) -> int:
    """A positive whole number (a limit)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"option {name!r} needs a whole number, not {value!r}")
    n = int(value)
    if n < 1:
        raise ValueError(f"option {name!r} must be at least 1, not {n}")
    return n


def coerce_seconds(name: str, value: object) -> float:
    """A positive number of seconds."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError(f"option {name!r} needs a number of seconds, not {value!r}")
    seconds = float(value)
    if not seconds > 0:
        raise ValueError(f"option {name!r} must be more than 0 seconds, not {value!r}")
    return seconds


def coerce_duplicate_threshold(name: str, value: object) -> int | None:
    """Foolscap's handle-old-duplicate-connections: True is 60 seconds, False is off."""
    if value is True:
        return 60
    return None if value is False else coerce_timeout(name, value)


@dataclass(frozen=True)
class Option:
    """One row of :data:`OPTIONS`."""

    #: The TubOptions field that holds the value.
    field: str
    #: ``coerce(name, value)``: the value to store, or TypeError/ValueError.
    coerce: Callable[[str, object], object]
    #: The Broker constructor keyword this option is passed as (None: not passed).
    broker_arg: str | None = None
    #: The Banana decoder keyword this option is passed as, in the Broker's
    #: ``codec_limits`` (None: not passed; nor is the value None).
    codec_arg: str | None = None


#: Foolscap's option names (what ``Tub.setOption`` takes) -> where each value goes.
OPTIONS: Mapping[str, Option] = MappingProxyType(
    {
        "logLocalFailures": Option("log_local_failures", coerce_bool),
        "logRemoteFailures": Option("log_remote_failures", coerce_bool),
        "keepaliveTimeout": Option(
            "keepalive_timeout", coerce_optional_timeout, broker_arg="keepalive_timeout"
        ),
        "disconnectTimeout": Option(
            "disconnect_timeout", coerce_optional_timeout, broker_arg="disconnect_timeout"
        ),
        "handle-old-duplicate-connections": Option(
            "handle_old_duplicate_connections", coerce_duplicate_threshold
        ),
        "expose-remote-exception-types": Option("expose_remote_exception_types", coerce_bool),
        "accept-gifts": Option("accept_gifts", coerce_bool),
        "max-connections": Option("max_connections", coerce_count),
        "max-negotiating-connections": Option("max_negotiating_connections", coerce_count),
        "negotiation-timeout": Option("negotiation_timeout", coerce_seconds),
        "max-inbound-calls": Option(
            "max_inbound_calls", coerce_count, broker_arg="max_inbound_calls"
        ),
        "max-references-per-peer": Option(
            "max_references_per_peer", coerce_count, broker_arg="max_references"
        ),
        "max-pending-gifts": Option(
            "max_pending_gifts", coerce_count, broker_arg="max_pending_gifts"
        ),
        "max-message-size": Option("max_message_size", coerce_count, broker_arg="max_message_size"),
        "max-token-size": Option("max_token_size", coerce_count, codec_arg="max_token_size"),
        "max-vocab-entries": Option(
            "max_vocab_entries", coerce_count, codec_arg="max_vocab_entries"
        ),
        "max-vocab-bytes": Option("max_vocab_bytes", coerce_count, codec_arg="max_vocab_bytes"),
        "max-message-objects": Option(
            "max_message_objects", coerce_count, codec_arg="max_message_objects"
        ),
    }
)


# -- Foolscap's attribute names on the Tub --------------------------------------------

T = TypeVar("T")


class HasOptions(Protocol):
    """An object that keeps its settings in a TubOptions (the Tub)."""

    _options: TubOptions


class OptionAttribute(Generic[T]):
    """A Tub attribute under its Foolscap name whose value lives in the Tub's TubOptions.

    Read on the class it gives the default (``Tub.keepaliveTimeout == 240``, as in
    Foolscap); on a Tub, that Tub's value; assigning sets the option.
    """

    def __init__(self, field: str) -> None:
        (default,) = (f.default for f in fields(TubOptions) if f.name == field)
        self._default: Any = default
        self._field = field

    def __get__(self, obj: HasOptions | None, owner: type | None = None) -> T:
        value: T = self._default if obj is None else getattr(obj._options, self._field)
        return value

    def __set__(self, obj: HasOptions, value: T) -> None:
        setattr(obj._options, self._field, value)
