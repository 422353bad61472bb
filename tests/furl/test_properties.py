"""Property tests: any input either parses and round-trips, or raises BadFURLError."""

from __future__ import annotations

import contextlib

from hypothesis import example, given
from hypothesis import strategies as st

from octavo.furl import (
    BadFURLError,
    I2PHint,
    InvalidHint,
    TCPHint,
    TorHint,
    UnknownHint,
    decode_furl,
    encode_furl,
    parse_furl,
    parse_hint,
)

from .strategies import hint_texts, near_furls, tcp_hints, tubids, valid_furls

TUBID = "ubnnhm7ehvhobtpdgrjonymzd3eopy6u"


def _parse_or_bad(text: object) -> None:
    """Parse, allowing only BadFURLError; a result must round-trip exactly."""
    try:
        furl = parse_furl(text)  # type: ignore[arg-type]
    except BadFURLError:
        return
    assert str(furl) == text or str(furl).encode() == text
    assert parse_furl(str(furl)) == furl


@given(st.one_of(st.text(), st.binary(), near_furls()))
@example("pb://")
@example("pb://@/")
@example(f"pb://{TUBID}@/")
@example(f"pb://{TUBID}@,/x")
def test_any_input_parses_or_raises_bad_furl(text: str | bytes) -> None:
    """No str or bytes makes the parser raise anything but BadFURLError."""
    _parse_or_bad(text)
    with contextlib.suppress(BadFURLError):
        decode_furl(text)


@given(st.one_of(st.none(), st.integers(), st.lists(st.text()), st.floats()))
def test_non_text_input_is_bad_furl(value: object) -> None:
    """Values that are not str or bytes raise BadFURLError too."""
    try:
        parse_furl(value)  # type: ignore[arg-type]
    except BadFURLError:
        return
    raise AssertionError("accepted a non-text FURL")


@given(valid_furls())
def test_valid_furls_round_trip(text: str) -> None:
    """Every well-formed FURL parses, and str() gives back the same text."""
    furl = parse_furl(text)
    assert str(furl) == text
    assert [h.text for h in furl.hints] == decode_furl(text)[1]
    tubid, hints, name = decode_furl(text)
    assert tubid == furl.tubid
    assert name == furl.name
    assert parse_furl(encode_furl(furl.tubid + furl.tubid_extension, hints, name)) == furl


@given(hint_texts)
def test_any_hint_text_is_a_typed_value(text: str) -> None:
    """parse_hint never raises and always keeps the text verbatim."""
    hint = parse_hint(text)
    assert isinstance(hint, (TCPHint, TorHint, I2PHint, UnknownHint, InvalidHint))
    assert hint.text == text
    assert str(hint) == text


@given(tcp_hints())
def test_usable_tcp_hints_parse(text: str) -> None:
    """Every usable TCP hint gives a TCPHint whose normalised form parses to the same host."""
    hint = parse_hint(text)
    assert isinstance(hint, TCPHint)
    assert 1 <= hint.port <= 65535
    again = parse_hint(hint.normalized())
    assert isinstance(again, TCPHint)
    assert (again.host, again.port) == (hint.host, hint.port)


@given(
    tubids, st.lists(hint_texts, max_size=4), st.text(min_size=1).filter(lambda s: "\n" not in s)
)
def test_encode_then_parse(tubid: str, hints: list[str], name: str) -> None:
    """What encode_furl produces, parse_furl reads back into the same parts."""
    furl = parse_furl(encode_furl(tubid, hints, name))
    assert (furl.tubid, furl.location_hints, furl.name) == (tubid, hints, name)


def test_long_and_adversarial_inputs_finish() -> None:
    """Inputs that make backtracking regexes explode are handled in linear time."""
    n = 200_000
    cases = [
        "pb://" + "a" * n,
        "pb://" + "a" * n + "@" + ",".join(["h:1"] * (n // 4)) + "/n",
        f"pb://{TUBID}@tcp:h:" + "1" * n + "x/n",
        f"pb://{TUBID}@" + "1" * n + "x/n",
        f"pb://{TUBID}@tcp:[" + ":" * n + "]:1/n",
        f"pb://{TUBID}@tcp:[" + "a" * n + "%" + "b" * n + "]:1/n",
        f"pb://{TUBID}@i2p:" + "a" * n + ":" + "1" * n + "/n",
        f"pb://{TUBID}@" + "," * n + "/n",
        "pb://" + "pb://" * n,
        f"pb://{TUBID}@" + "h:1" + "/" * n,
    ]
    for text in cases:
        _parse_or_bad(text)
    furl = parse_furl(cases[1].replace("a" * n, TUBID + "a" * (n - 32)))
    assert len(furl.hints) == n // 4
    assert len(parse_furl(f"pb://{TUBID}@h:1/" + "n" * n).name) == n
    bad = parse_furl(cases[2]).hints[0]
    assert isinstance(bad, InvalidHint)
    assert len(bad.reason) < 300
