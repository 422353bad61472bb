"""TubOptions: Foolscap's option names, their coercions, and how a Tub shows and copies them."""

from __future__ import annotations

import dataclasses
import inspect

import pytest
from twisted.internet.testing import MemoryReactorClock

from octavo.banana import Decoder
from octavo.tub._broker._broker import Broker
from octavo.tub._net._identity import create_certificate
from octavo.tub._options import OPTIONS, TubOptions
from octavo.tub._tub import Tub

CERT = create_certificate()

#: (option name, value given, value stored) for every row of OPTIONS.
ROUND_TRIPS = [
    ("logLocalFailures", 1, True),
    ("logRemoteFailures", "yes", True),
    ("keepaliveTimeout", "30", 30),
    ("disconnectTimeout", 90.5, 90),
    ("handle-old-duplicate-connections", 7, 7),
    ("expose-remote-exception-types", 0, False),
    ("accept-gifts", False, False),
    ("max-connections", "300", 300),
    ("max-negotiating-connections", 20, 20),
    ("negotiation-timeout", "2.5", 2.5),
    ("max-inbound-calls", 50, 50),
    ("max-references-per-peer", 1000, 1000),
    ("max-pending-gifts", "12", 12),
    ("max-message-size", 1 << 20, 1 << 20),
    ("max-token-size", "60000000", 60_000_000),
    ("max-vocab-entries", "100", 100),
    ("max-vocab-bytes", 5000, 5000),
    ("max-message-objects", 7, 7),
]

#: The Tub attribute (Foolscap's name) that shows each field.
TUB_ATTRIBUTES = {
    "log_local_failures": "logLocalFailures",
    "log_remote_failures": "logRemoteFailures",
    "keepalive_timeout": "keepaliveTimeout",
    "disconnect_timeout": "disconnectTimeout",
    "expose_remote_exception_types": "expose_remote_exception_types",
    "accept_gifts": "accept_gifts",
    "unsafe_tracebacks": "unsafeTracebacks",
    "debug_banana": "debugBanana",
}

#: A value other than the default for every field (a new field must be added here).
NOT_DEFAULTS = {
    "log_local_failures": True,
    "log_remote_failures": True,
    "keepalive_timeout": 5,
    "disconnect_timeout": 50,
    "handle_old_duplicate_connections": 60,
    "expose_remote_exception_types": False,
    "accept_gifts": False,
    "unsafe_tracebacks": False,
    "debug_banana": True,
    "max_connections": 7,
    "max_negotiating_connections": 3,
    "negotiation_timeout": 9.0,
    "max_inbound_calls": 11,
    "max_references_per_peer": 13,
    "max_pending_gifts": 31,
    "max_message_size": 17,
    "max_token_size": 37,
    "max_vocab_entries": 19,
    "max_vocab_bytes": 23,
    "max_message_objects": 29,
}


def make_tub() -> Tub:
    return Tub(certData=CERT, reactor=MemoryReactorClock())


def field_names() -> set[str]:
    return {f.name for f in dataclasses.fields(TubOptions)}


def test_round_trips_cover_every_option():
    """The round-trip table below names every option in OPTIONS."""
    assert {name for name, _, _ in ROUND_TRIPS} == set(OPTIONS)


@pytest.mark.parametrize(("name", "given", "stored"), ROUND_TRIPS)
def test_option_round_trips(name, given, stored):
    """setOption(name, v) stores the coerced value in its field and shows it on the Tub."""
    t = make_tub()
    assert t.setOption(name, given) is None
    field = OPTIONS[name].field
    assert getattr(t._options, field) == stored
    assert type(getattr(t._options, field)) is type(stored)
    if field in TUB_ATTRIBUTES:
        assert getattr(t, TUB_ATTRIBUTES[field]) == stored


@pytest.mark.parametrize(("name", "given", "stored"), ROUND_TRIPS)
def test_option_names_work_as_bytes(name, given, stored):
    """Option names given as bytes are decoded (Foolscap's six.ensure_str)."""
    t = make_tub()
    t.setOption(name.encode(), given)
    assert getattr(t._options, OPTIONS[name].field) == stored


@pytest.mark.parametrize("name", ["keepaliveTimeout", "disconnectTimeout"])
def test_timeouts_take_none_for_never(name):
    """A timeout of None turns keepalives (or the idle disconnect) off."""
    t = make_tub()
    t.setOption(name, 10)
    t.setOption(name, None)
    assert getattr(t._options, OPTIONS[name].field) is None


def test_duplicate_connection_threshold():
    """handle-old-duplicate-connections: True is 60 seconds, False turns it off."""
    t = make_tub()
    assert t._options.handle_old_duplicate_connections is None
    t.setOption("handle-old-duplicate-connections", True)
    assert t._options.handle_old_duplicate_connections == 60
    t.setOption("handle-old-duplicate-connections", False)
    assert t._options.handle_old_duplicate_connections is None


@pytest.mark.parametrize(
    ("name", "value", "error"),
    [
        ("keepaliveTimeout", True, TypeError),
        ("keepaliveTimeout", object(), TypeError),
        ("disconnectTimeout", [1], TypeError),
        ("disconnectTimeout", "soon", ValueError),
        ("handle-old-duplicate-connections", None, TypeError),
        ("handle-old-duplicate-connections", "x", ValueError),
        ("max-connections", 0, ValueError),
        ("max-connections", 2.5, TypeError),
        ("max-inbound-calls", True, TypeError),
        ("negotiation-timeout", 0, ValueError),
        ("negotiation-timeout", None, TypeError),
    ],
)
def test_coercion_errors(name, value, error):
    """A value that is not a number of seconds is refused and the option keeps its value."""
    t = make_tub()
    before = dataclasses.asdict(t._options)
    with pytest.raises(error):
        t.setOption(name, value)
    assert dataclasses.asdict(t._options) == before


@pytest.mark.parametrize("name", ["no-such-option", "keepalive_timeout", "unsafeTracebacks"])
def test_unknown_names_are_keyerror(name):
    """Names not in the table (field names and attribute-only settings too) raise KeyError."""
    with pytest.raises(KeyError) as e:
        make_tub().setOption(name, 1)
    assert e.value.args == (f"unknown option name '{name}'",)
    with pytest.raises(KeyError):
        TubOptions().set(name, 1)


def test_every_row_names_a_field():
    """Each option stores into a TubOptions field, and no two options share one."""
    rows = [o.field for o in OPTIONS.values()]
    assert set(rows) <= field_names()
    assert len(rows) == len(set(rows))


def test_every_broker_arg_is_a_broker_keyword():
    """Options passed to new Brokers name keywords of the Broker constructor."""
    params = inspect.signature(Broker.__init__).parameters
    args = {o.broker_arg for o in OPTIONS.values() if o.broker_arg}
    assert args == {
        "keepalive_timeout",
        "disconnect_timeout",
        "max_inbound_calls",
        "max_references",
        "max_pending_gifts",
        "max_message_size",
    }
    assert args <= set(params)
    options = TubOptions(keepalive_timeout=3, disconnect_timeout=9)
    assert options.broker_arguments() == {
        "keepalive_timeout": 3,
        "disconnect_timeout": 9,
        "max_inbound_calls": 10_000,
        "max_references": 100_000,
        "max_pending_gifts": 1_000,
        "max_message_size": 64 * 1024 * 1024,
        # None: the decoder's own defaults; max_token_size's default is the decoder's
        "codec_limits": {"max_token_size": 16 * 1024 * 1024},
    }
    options.set("max-vocab-entries", 100)
    options.set("max-message-objects", 7)
    limits = options.broker_arguments()["codec_limits"]
    assert limits == {
        "max_token_size": 16 * 1024 * 1024,
        "max_vocab_entries": 100,
        "max_message_objects": 7,
    }


def test_every_codec_arg_is_a_decoder_keyword():
    """Each codec_arg is a keyword octavo.banana.Decoder takes."""
    params = inspect.signature(Decoder).parameters
    args = {o.codec_arg for o in OPTIONS.values() if o.codec_arg}
    assert args == {
        "max_token_size",
        "max_vocab_entries",
        "max_vocab_bytes",
        "max_message_objects",
    }
    assert args <= set(params)


def test_class_attributes_are_the_defaults():
    """Read on the class, each Foolscap attribute gives TubOptions' default."""
    defaults = TubOptions()
    for field, attr in TUB_ATTRIBUTES.items():
        assert getattr(Tub, attr) == getattr(defaults, field), attr


def test_tub_attributes_write_through():
    """Assigning a Foolscap attribute (tub.unsafeTracebacks = False) sets the option."""
    t, other = make_tub(), make_tub()
    for field, attr in TUB_ATTRIBUTES.items():
        setattr(t, attr, NOT_DEFAULTS[field])
        assert getattr(t._options, field) == NOT_DEFAULTS[field]
        assert getattr(t, attr) == NOT_DEFAULTS[field]
    assert other._options == TubOptions()
    assert Tub.unsafeTracebacks is True  # the class is untouched


def test_not_defaults_cover_every_field():
    """The clone test below changes every field of TubOptions (add new fields there)."""
    assert set(NOT_DEFAULTS) == field_names()
    defaults = TubOptions()
    for name, value in NOT_DEFAULTS.items():
        assert getattr(defaults, name) != value, name


def test_clone_copies_every_field():
    """clone() copies every option, and the copies are independent afterwards."""
    t = make_tub()
    for name, value in NOT_DEFAULTS.items():
        setattr(t._options, name, value)
    c = t.clone()
    assert c._options is not t._options
    for f in dataclasses.fields(TubOptions):
        assert getattr(c._options, f.name) == NOT_DEFAULTS[f.name], f.name
    c.setOption("keepaliveTimeout", 1)
    assert t.keepaliveTimeout == 5


def test_clone_copies_hint_handlers():
    """clone() copies the connection-hint handlers, as its own table."""
    t = make_tub()
    t.removeAllConnectionHintHandlers()
    c = t.clone()
    assert c._connectionHandlers == {} and c._connectionHandlers is not t._connectionHandlers
