"""strs past ``max_token_size`` that a constraint explicitly allows.

A str is a ``unicode`` sequence: OPEN, the index token, one STRING token holding its
UTF-8 body, CLOSE. A ``UnicodeConstraint(maxLength=N)`` (N code points) lets that body
take up to 4*N bytes, UTF-8's longest, past the decoder's limit too; the code points are
counted once the body has arrived. The admission rule is still the one for byte strings
(``Limits.check_size``, asking the unicode unslicer's ``token_allowance``); the fast
reader hands such bodies over to it. The suite runs with the fast paths on and off
(``OCTAVO_FAST_PATHS=0``).
"""

from __future__ import annotations

import tracemalloc

import pytest

from octavo.banana import (
    STRING,
    AnyStringConstraint,
    ByteStringConstraint,
    ChoiceOf,
    Decoder,
    DictOf,
    Encoder,
    ListOf,
    ObjectReceived,
    Optional,
    StringConstraint,
    TupleOf,
    UnicodeConstraint,
    ViolationReceived,
)
from octavo.banana._leaves import utf8_code_points

from .test_token_allowance import feed


def test_a_bounded_unicode_constraint_allows_4_bytes_a_code_point() -> None:
    """The allowance is for the body inside the unicode sequence (``body_allowance``):
    a STRING in the place of a str is a byte string, so ``token_allowance`` stays 0.
    ``StringConstraint`` is Foolscap's name for ``ByteStringConstraint`` (bytes)."""
    c = UnicodeConstraint(maxLength=5000)
    assert c.body_allowance(STRING) == 20_000
    assert c.token_allowance(STRING) == 0
    assert c.body_allowance(0x85) == 0  # LONGINT
    assert UnicodeConstraint().body_allowance(STRING) == 0  # no promise without a bound
    assert StringConstraint is ByteStringConstraint
    assert ChoiceOf(None, c).token_allowance(STRING) == 0


def test_code_points_are_counted_without_decoding() -> None:
    for s in ["", "abc", "é€😀x", "€" * 700_000 + "a"]:  # (the last spans two chunks)
        assert utf8_code_points(s.encode()) == len(s)


@pytest.mark.parametrize(
    ("constraint", "value"),
    [
        (UnicodeConstraint(maxLength=1000), "a" * 3000),  # ASCII past maxLength: refused
        (UnicodeConstraint(maxLength=2000), "€" * 1000),
        (ListOf(UnicodeConstraint(maxLength=2000)), ["€" * 1000, "b"]),
        (TupleOf(int, UnicodeConstraint(maxLength=2000)), (1, "😀" * 1000)),
        (DictOf(str, UnicodeConstraint(maxLength=2000)), {"k": "é" * 2000}),
        (Optional(UnicodeConstraint(maxLength=2000), ""), "€" * 1000),
        (ChoiceOf(None, UnicodeConstraint(maxLength=2000)), "€" * 1000),
        (ListOf(ChoiceOf(int, UnicodeConstraint(maxLength=2000))), [1, "€" * 1000]),
        (AnyStringConstraint(maxLength=2000), "€" * 1000),
    ],
    ids=["too long", "top", "list", "tuple", "dict value", "Optional", "ChoiceOf", "list of choice",
         "AnyString"],
)  # fmt: skip
def test_a_constraint_lets_a_bigger_str_through(constraint: object, value: object) -> None:
    """A str whose UTF-8 body (3,000 or 4,000 bytes) is past a 1,000-byte max_token_size
    passes where its constraint allows that many code points, and its body's bytes are
    counted in granted_token_bytes until its message ends."""
    dec = Decoder(constraint=constraint, max_token_size=1000)  # type: ignore[arg-type]
    data = Encoder().encode(value)
    dec.receive_data(data[:-1])
    if value == "a" * 3000:
        (event,) = dec.events()
        assert isinstance(event, ViolationReceived)
        assert "string too long (3000 > 1000)" in str(event.violation)
        assert dec.granted_token_bytes == 0
        return
    body = max(len(s.encode()) for s in _strs(value))
    assert dec.granted_token_bytes == body > 1000
    dec.receive_data(data[-1:])
    assert dec.events() == [ObjectReceived(value)]
    assert dec.granted_token_bytes == 0


def _strs(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    return [v for v in value if isinstance(v, str)]  # type: ignore[attr-defined]


def test_elsewhere_the_limit_holds_for_strs() -> None:
    """Without a bound, for a dict key, or for a byte string in the place of a bounded
    str, the limit refuses (named), the body is skipped and decoding goes on."""
    enc = Encoder()
    for constraint, value, good in [
        (None, "a" * 3000, "next"),
        (UnicodeConstraint(), "a" * 3000, "next"),
        (DictOf(str, UnicodeConstraint(maxLength=5000)), {"k" * 3000: "v"}, {"k": "v"}),
        (ChoiceOf(bytes, UnicodeConstraint(maxLength=5000)), b"a" * 3000, b"next"),
    ]:
        dec = Decoder(constraint=constraint, max_token_size=1000)
        events = feed(dec, enc.encode(value) + enc.encode(good))
        assert isinstance(events[0], ViolationReceived), (constraint, events)
        assert "3000>1000 (max_token_size" in str(events[0].violation)
        assert events[1] == ObjectReceived(good)
        assert dec.granted_token_bytes == 0


def test_max_length_counts_code_points() -> None:
    """maxLength=1000 takes 1,000 code points of up to 4 bytes each and refuses 1,001,
    however few bytes they take; the connection's next object decodes."""
    enc = Encoder()
    c = UnicodeConstraint(maxLength=1000)
    for value in ["😀" * 1000, "€" * 1000, "a" * 999 + "😀", "é" * 1000]:
        dec = Decoder(constraint=c, max_token_size=100)
        assert feed(dec, enc.encode(value), chunk=500) == [ObjectReceived(value)]
    for value, why in [
        ("€" * 1001, "(1001 > 1000)"),
        ("a" * 1000 + "😀", "(1001 > 1000)"),
        ("é" * 1001, "(1001 > 1000)"),
        ("😀" * 1001, "(4004 bytes > 4*1000)"),  # (more bytes than 1,000 can take: at its header)
    ]:
        dec = Decoder(constraint=c, max_token_size=100)
        events = feed(dec, enc.encode(value) + enc.encode("next"), chunk=500)
        assert isinstance(events[0], ViolationReceived), value[:3]
        assert f"string too long {why}" in str(events[0].violation)
        assert events[1] == ObjectReceived("next")


def test_a_header_past_the_allowance_is_refused_before_its_body() -> None:
    """A body announced bigger than 4*maxLength is refused at its header: the refusal
    comes with the first feed, the body is skipped unread (never held) as it arrives,
    and the next object decodes."""
    enc = Encoder()
    data = enc.encode("a" * 5_000_000) + enc.encode("next")
    dec = Decoder(constraint=UnicodeConstraint(maxLength=1_000_000), max_token_size=1000)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        dec.receive_data(data[:100])
        (event,) = dec.events()
        assert isinstance(event, ViolationReceived)
        assert "string too long (5000000 bytes > 4*1000000)" in str(event.violation)
        with memoryview(data) as view:
            for i in range(100, len(data), 65536):
                dec.receive_data(bytes(view[i : i + 65536]))
        held = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert dec.events() == [ObjectReceived("next")]
    assert dec.skipped_bytes > 4_999_000
    assert held < 1_000_000, held


def peaks_while_decoding(value: str, constraint: object, chunk: int = 65536) -> tuple[int, int]:
    """Peak traced bytes while the body of ``value`` arrives in ``chunk``-byte feeds (all
    but the last), and until the str is taken (or refused): the stream itself is made
    before tracing starts."""
    data = Encoder().encode(value)
    size = len(value.encode())
    del value
    dec = Decoder(constraint=constraint, max_token_size=1000)  # type: ignore[arg-type]
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        with memoryview(data) as view:
            for i in range(0, len(data) - chunk, chunk):
                piece = bytes(view[i : i + chunk])  # as a socket read gives them
                if not dec.take_body(piece):
                    dec.receive_data(piece)
                del piece
            arriving = tracemalloc.get_traced_memory()[1] - base
            dec.receive_data(bytes(view[i + chunk :]))
        (event,) = dec.events()
        if isinstance(event, ObjectReceived):
            assert len(event.obj.encode()) == size  # type: ignore[attr-defined]
        del event
        return arriving, tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    ("text", "size", "decoded"),
    [("a", 10_000_000, 2.1), ("a", 50_000_000, 2.1), ("€", 12_000_000, 2.5)],
    ids=["10MB", "50MB", "12MB of 3-byte code points"],
)
def test_a_big_str_takes_at_most_1_5x_its_size_while_arriving(
    text: str, size: int, decoded: float
) -> None:
    """Its UTF-8 body is collected as a byte string's is (a buffer grown as it arrives):
    under 1.5x its size until it is all here. Decoding it then holds the body and the
    str at once: under 2.1x for ASCII (1 byte a code point each); a non-ASCII body is
    decoded a MiB at a time and joined, under 2.5x for 3-byte code points (2 bytes
    each in the str, the pieces and the str; CPython's decoder alone would take 4x)."""
    n = size // len(text.encode())
    value = text * n
    arriving, peak = peaks_while_decoding(value, UnicodeConstraint(maxLength=n))
    assert arriving < 1.5 * size, arriving / size
    assert peak < decoded * size, peak / size


def test_a_str_with_too_many_code_points_is_refused_undecoded() -> None:
    """A 40 MB body of ASCII and one 4-byte code point, within the 4*maxLength bytes of
    maxLength=10,000,000 but 40,000,000 code points: refused by counting them, without
    building the 160 MB str that would be (4 bytes a code point)."""
    value = "a" * 39_999_996 + "😀"
    arriving, peak = peaks_while_decoding(value, UnicodeConstraint(maxLength=10_000_000))
    assert arriving < 1.5 * 40_000_000, arriving
    assert peak < 1.5 * 40_000_000, peak
