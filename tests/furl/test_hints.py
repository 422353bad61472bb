"""Location hints parse into typed values, as Foolscap's hint handlers read them."""

from __future__ import annotations

import dataclasses

import pytest

from octavo.furl import (
    I2PHint,
    InvalidHint,
    TCPHint,
    TorHint,
    UnknownHint,
    parse_hint,
)


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("tcp:example.com:80", "example.com", 80),
        ("tcp:127.0.0.1:46529", "127.0.0.1", 46529),
        ("tcp:[::1]:46529", "::1", 46529),
        ("tcp:[fe80::1%en0]:1", "fe80::1%en0", 1),
        ("tcp:[::ffff:1.2.3.4]:65535", "::ffff:1.2.3.4", 65535),
        ("tcp:[2001:DB8::a]:443", "2001:DB8::a", 443),
        ("tcp:a-b.c:0080", "a-b.c", 80),
        ("tcp:localhost:1", "localhost", 1),
    ],
)
def test_tcp_hints(text: str, host: str, port: int) -> None:
    """A tcp:HOST:PORT hint gives its host (no brackets) and port, and keeps its text."""
    hint = parse_hint(text)
    assert hint == TCPHint(host, port, text)
    assert str(hint) == text
    assert hint.normalized() == text
    assert hint.is_ipv6 == text.startswith("tcp:[")


@pytest.mark.parametrize(
    ("text", "host", "port", "normalized"),
    [
        ("example.com:80", "example.com", 80, "tcp:example.com:80"),
        ("10.0.0.1:0099", "10.0.0.1", 99, "tcp:10.0.0.1:99"),
        # As in Foolscap, a TYPE followed by digits only is an old-style TCP hint.
        ("tor:123", "tor", 123, "tcp:tor:123"),
        ("tcp:80", "tcp", 80, "tcp:tcp:80"),
    ],
)
def test_legacy_hints(text: str, host: str, port: int, normalized: str) -> None:
    """HOST:PORT is a legacy TCP hint, normalised to tcp:HOST:PORT as Foolscap does."""
    hint = parse_hint(text)
    assert hint == TCPHint(host, port, text, legacy=True)
    assert hint.normalized() == normalized
    assert str(hint) == text


def test_tor_and_i2p_hints() -> None:
    """tor:HOST:PORT and i2p:ADDR[:PORT] parse into their own types."""
    assert parse_hint("tor:abcdef.onion:80") == TorHint("abcdef.onion", 80, "tor:abcdef.onion:80")
    assert parse_hint("tor:1.2.3.4:9") == TorHint("1.2.3.4", 9, "tor:1.2.3.4:9")
    assert parse_hint("i2p:abc.b32.i2p") == I2PHint("abc.b32.i2p", None, "i2p:abc.b32.i2p")
    assert parse_hint("i2p:abc.i2p:81") == I2PHint("abc.i2p", 81, "i2p:abc.i2p:81")


@pytest.mark.parametrize(
    ("text", "hint_type", "body"),
    [
        ("unix:/tmp/sock", "unix", "/tmp/sock"),
        ("systemd:fd=3", "systemd", "fd=3"),
        ("TCP:host:80", "TCP", "host:80"),
        ("x-new+v2.0:a:b:c", "x-new+v2.0", "a:b:c"),
        ("future:", "future", ""),
    ],
)
def test_unknown_hints_are_kept(text: str, hint_type: str, body: str) -> None:
    """Any other TYPE:... is an UnknownHint holding its type, body and text."""
    assert parse_hint(text) == UnknownHint(hint_type, body, text)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("tcp:host:0", "out of range"),
        ("tcp:host:65536", "out of range"),
        ("host:99999", "out of range"),
        ("tcp:host:" + "9" * 5000, "out of range"),
        ("tcp:host:", "missing port"),
        ("tcp:host:8x", "not a decimal number"),
        ("tcp:host:\u0661\u0662", "not a decimal number"),
        ("tcp:", "HOST:PORT"),
        ("tcp:ho st:80", "not a DNS name"),
        ("tcp::80", "not a DNS name"),
        ("tcp:a:b:80", "not a DNS name"),
        ("tcp:[::1:80", "unterminated"),
        ("tcp:[abc]:80", "not an IPv6 address"),
        ("tcp:[11.2.3.4]:80", "IPv6"),
        ("tcp:[::1%]:80", "zone id"),
        ("tcp:[::1%e/0]:80", "zone id"),
        ("tcp:[::ffff:1.2.3]:80", "IPv4 tail"),
        ("tcp:[::g]:80", "bad IPv6 address"),
        ("tor:[::1]:80", "not allowed"),
        ("tor:host", "HOST:PORT"),
        ("i2p:bad_addr", "I2P address"),
        ("i2p:abc.i2p:0", "out of range"),
        ("nocolon", "no TYPE: prefix"),
        ("[::1]:80", "needs the tcp: prefix"),
        (":foo", "not a name"),
        ("9p:x", "not a name"),
        ("a b:x", "not a name"),
    ],
)
def test_invalid_hints_say_why(text: str, words: str) -> None:
    """A hint no handler can use becomes an InvalidHint whose reason names the problem."""
    hint = parse_hint(text)
    assert isinstance(hint, InvalidHint)
    assert hint.text == text
    assert words in hint.reason
    assert len(hint.reason) < 200


def test_hints_are_frozen_and_slotted() -> None:
    """Hint values are immutable, slotted dataclasses."""
    hint = parse_hint("tcp:h:1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        hint.port = 2  # type: ignore[misc,union-attr]
    for cls in (TCPHint, TorHint, I2PHint, UnknownHint, InvalidHint):
        assert "__slots__" in cls.__dict__
        assert not hasattr(parse_hint("tcp:h:1"), "__dict__")


def test_hint_type_names() -> None:
    """Each hint reports its type: tcp, tor, i2p, the written TYPE, or None if invalid."""
    assert parse_hint("h:1").hint_type == "tcp"
    assert parse_hint("tor:h:1").hint_type == "tor"
    assert parse_hint("i2p:h").hint_type == "i2p"
    assert parse_hint("zz:h").hint_type == "zz"
    assert parse_hint("zz").hint_type is None


def test_parse_hint_rejects_non_strings() -> None:
    """parse_hint is for str; anything else is a TypeError (a programming error)."""
    with pytest.raises(TypeError):
        parse_hint(b"tcp:h:1")  # type: ignore[arg-type]
