"""FURL, SturdyRef and TubRef values, decode_furl and encode_furl."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from octavo.furl import (
    FURL,
    BadFURLError,
    InvalidHint,
    SturdyRef,
    TCPHint,
    TubRef,
    UnknownHint,
    check_tubid,
    decode_furl,
    encode_furl,
    parse_furl,
)

TUBID = "ubnnhm7ehvhobtpdgrjonymzd3eopy6u"
OTHER = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
DEMO = f"pb://{TUBID}@tcp:127.0.0.1:46529,tcp:[::1]:46529/calculator"


def test_parse_demo_furl() -> None:
    """The README's FURL parses into its tubid, two TCP hints and its name."""
    furl = parse_furl(DEMO)
    assert furl.tubid == TUBID
    assert furl.tubid_extension == ""
    assert furl.hints == (
        TCPHint("127.0.0.1", 46529, "tcp:127.0.0.1:46529"),
        TCPHint("::1", 46529, "tcp:[::1]:46529"),
    )
    assert furl.name == "calculator"
    assert str(furl) == DEMO
    assert furl.location_hints == ["tcp:127.0.0.1:46529", "tcp:[::1]:46529"]


@pytest.mark.parametrize(
    "text",
    [
        f"pb://{TUBID}@/name",
        f"pb://{TUBID}@h:1/name",
        f"pb://{TUBID}extension.v2/stuff@h:1/name",
        f"pb://{TUBID}@unix:x,tcp:h:1,bad hint,tcp:h:0/a/b/c@d,e",
        f"pb://{TUBID}@@weird/n",
        f"pb://{TUBID}@tcp:h:1/ name with spaces and \u00e9 ",
        f"pb://{TUBID}@tcp:h:1/\r\t",
    ],
)
def test_str_round_trip(text: str) -> None:
    """str() of a parsed FURL is exactly the text parsed."""
    furl = parse_furl(text)
    assert str(furl) == text
    assert parse_furl(str(furl)) == furl
    assert repr(furl) == f"FURL({text!r})"


def test_tubid_extension_is_kept() -> None:
    """Only the first 32 tubid characters are the tubid; the rest is kept, not checked."""
    furl = parse_furl(f"pb://{TUBID}XYZ!/q@h:1/n")
    assert furl.tubid == TUBID
    assert furl.tubid_extension == "XYZ!/q"
    assert decode_furl(str(furl)) == (TUBID, ["h:1"], "n")


def test_name_is_everything_after_the_first_slash() -> None:
    """The name may hold slashes, commas and at-signs."""
    furl = parse_furl(f"pb://{TUBID}@a:1,b:2/x/y,z@w")
    assert furl.name == "x/y,z@w"
    assert furl.location_hints == ["a:1", "b:2"]


def test_unknown_and_invalid_hints_are_reported_not_dropped() -> None:
    """Hints no handler understands stay in the FURL, typed and in order."""
    furl = parse_furl(f"pb://{TUBID}@unix:s,tcp:h:70000,h:1/n")
    assert furl.hints[0] == UnknownHint("unix", "s", "unix:s")
    assert isinstance(furl.hints[1], InvalidHint)
    assert furl.invalid_hints == (furl.hints[1],)
    assert furl.hints[2] == TCPHint("h", 1, "h:1", legacy=True)


def test_strict_mode_rejects_unusable_hints() -> None:
    """With strict=True a hint no handler can use makes the FURL an error naming it."""
    text = f"pb://{TUBID}@tcp:h:1,tcp:h:70000/n"
    with pytest.raises(BadFURLError, match="70000"):
        parse_furl(text, strict=True)
    with pytest.raises(BadFURLError, match="70000"):
        FURL.from_string(text, strict=True)
    assert parse_furl(f"pb://{TUBID}@unix:x/n", strict=True).hints[0].hint_type == "unix"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "does not start with 'pb://'"),
        (f"http://{TUBID}@h:1/n", "does not start with 'pb://'"),
        (f"xpb://{TUBID}@h:1/n", "does not start with 'pb://'"),
        (f"PB://{TUBID}@h:1/n", "does not start with 'pb://'"),
        (f"pb://{TUBID}@h:1/n\n", "newline"),
        (f"pb://{TUBID}h:1/n", "no '@'"),
        ("pb://@h:1/n", "empty tubid"),
        ("pb://abc@h:1/n", "shorter than 32"),
        (f"pb://{TUBID.upper()}@h:1/n", "not lowercase base32 ('U' at position 0)"),
        (f"pb://{TUBID[:31]}1@h:1/n", "('1' at position 31)"),
        (f"pb://{TUBID[:31]}\u212a@h:1/n", "not lowercase base32"),
        (f"pb://{TUBID}@h:1", "no '/'"),
        (f"pb://{TUBID}@h:1/", "empty object name"),
        (f"pb://{TUBID}@h:1,/n", "hint 2"),
        (f"pb://{TUBID}@,h:1/n", "hint 1"),
        (f"pb://{TUBID}@,/n", "hint 1"),
    ],
)
def test_bad_furls_name_the_wrong_part(text: str, words: str) -> None:
    """Every malformed FURL raises BadFURLError, a ValueError, naming what is wrong."""
    with pytest.raises(BadFURLError) as info:
        parse_furl(text)
    assert words in str(info.value)
    assert isinstance(info.value, ValueError)
    with pytest.raises(BadFURLError):
        decode_furl(text)


def test_bad_input_types_and_encodings() -> None:
    """Bytes are read as UTF-8; other types and undecodable bytes are BadFURLError."""
    assert parse_furl(DEMO.encode()) == parse_furl(DEMO)
    assert decode_furl(DEMO.encode())[0] == TUBID
    with pytest.raises(BadFURLError, match="UTF-8"):
        parse_furl(b"pb://\xff@h:1/n")
    with pytest.raises(BadFURLError, match="not int"):
        parse_furl(5)  # type: ignore[arg-type]
    with pytest.raises(BadFURLError, match="not NoneType"):
        decode_furl(None)  # type: ignore[arg-type]


def test_long_error_messages_are_shortened() -> None:
    """An error about a huge FURL quotes only its start."""
    with pytest.raises(BadFURLError) as info:
        parse_furl("pb://" + "a" * 100_000)
    assert len(str(info.value)) < 300


def test_equality_and_hash_follow_sturdyref() -> None:
    """Two FURLs are equal and hash alike when tubid and name match, whatever the hints."""
    a = parse_furl(f"pb://{TUBID}@tcp:h:1/n")
    b = parse_furl(f"pb://{TUBID}ext@tcp:other:2,unix:x/n")
    c = parse_furl(f"pb://{TUBID}@tcp:h:1/m")
    d = parse_furl(f"pb://{OTHER}@tcp:h:1/n")
    assert a == b
    assert hash(a) == hash(b)
    assert a != c
    assert a != d
    assert len({a, b, c, d}) == 3
    assert a != str(a)
    assert (a == str(a)) is False
    assert sorted([a, d, c]) == [d, c, a]
    assert a <= b
    assert a >= b
    assert a > c


def test_furl_is_immutable() -> None:
    """A FURL cannot be changed after it is made."""
    furl = parse_furl(DEMO)
    with pytest.raises(dataclasses.FrozenInstanceError):
        furl.name = "other"  # type: ignore[misc]
    assert not hasattr(furl, "__dict__")


def test_furl_pickles() -> None:
    """A FURL survives pickling unchanged."""
    furl = parse_furl(DEMO)
    again = pickle.loads(pickle.dumps(furl))
    assert again == furl
    assert str(again) == DEMO


def test_from_parts_and_constructor_check_their_inputs() -> None:
    """Building a FURL from parts parses string hints and refuses bad parts."""
    furl = FURL.from_parts(TUBID, ["tcp:h:1", b"unix:x"], "n")
    assert str(furl) == f"pb://{TUBID}@tcp:h:1,unix:x/n"
    assert FURL(TUBID, furl.hints, "n") == furl
    assert str(FURL(TUBID, ("h:2",), "n", "ext")) == f"pb://{TUBID}ext@h:2/n"  # type: ignore[arg-type]
    with pytest.raises(BadFURLError, match="tubid"):
        FURL.from_parts("short", [], "n")
    with pytest.raises(BadFURLError, match="empty"):
        FURL.from_parts(TUBID, [""], "n")
    with pytest.raises(BadFURLError, match="','"):
        FURL.from_parts(TUBID, ["a:1,b:2"], "n")
    with pytest.raises(BadFURLError, match="'/'"):
        FURL.from_parts(TUBID, ["unix:/x"], "n")
    with pytest.raises(BadFURLError, match="single string"):
        FURL.from_parts(TUBID, "tcp:h:1", "n")
    with pytest.raises(BadFURLError, match="name"):
        FURL.from_parts(TUBID, [], "")
    with pytest.raises(BadFURLError, match="newline"):
        FURL.from_parts(TUBID, [], "a\nb")
    with pytest.raises(BadFURLError, match="extension"):
        FURL.from_parts(TUBID, [], "n", "a@b")
    with pytest.raises(BadFURLError, match="not int"):
        FURL.from_parts(TUBID, [3], "n")  # type: ignore[list-item]


def test_sturdyref_is_foolscap_compatible() -> None:
    """SturdyRef(url) offers Foolscap's attributes and methods and equals the FURL."""
    ref = SturdyRef(DEMO)
    assert isinstance(ref, FURL)
    assert ref.tubID == TUBID
    assert ref.locationHints == ["tcp:127.0.0.1:46529", "tcp:[::1]:46529"]
    assert ref.name == "calculator"
    assert ref.url == DEMO
    assert ref.getURL() == DEMO
    assert str(ref) == DEMO
    assert ref == parse_furl(DEMO)
    assert hash(ref) == hash(parse_furl(DEMO))
    assert repr(ref) == f"SturdyRef({DEMO!r})"
    with pytest.raises(BadFURLError):
        SturdyRef("pb://nope")


def test_tubref_identity_is_the_tubid() -> None:
    """TubRefs are equal and hash alike by tubid alone, as Foolscap's TubRef."""
    a = parse_furl(DEMO).getTubRef()
    b = TubRef(TUBID)
    assert a == b
    assert hash(a) == hash(b)
    assert {a: 1}[b] == 1
    assert a != TubRef(OTHER)
    assert TubRef(OTHER) < a
    assert a != TUBID
    assert str(a) == f"pb://{TUBID}"
    assert a.getTubID() == a.tubID == TUBID
    assert a.getShortTubID() == "ubnn"
    assert a.getLocations() == a.locationHints == ["tcp:127.0.0.1:46529", "tcp:[::1]:46529"]
    assert parse_furl(DEMO).tubref == a
    assert TubRef(TUBID, ["tcp:h:1"]).hints == (TCPHint("h", 1, "tcp:h:1"),)  # type: ignore[arg-type]
    with pytest.raises(BadFURLError):
        TubRef("x")


def test_check_tubid() -> None:
    """check_tubid accepts exactly 32 lowercase base32 characters."""
    assert check_tubid(TUBID) == TUBID
    for bad in ("", TUBID + "a", TUBID[:-1] + "0", TUBID[:-1] + "=", TUBID.upper()):
        with pytest.raises(BadFURLError):
            check_tubid(bad)


def test_decode_furl_matches_foolscap_shape() -> None:
    """decode_furl returns (tubID, [hint strings], name) as Foolscap's does."""
    assert decode_furl(DEMO) == (TUBID, ["tcp:127.0.0.1:46529", "tcp:[::1]:46529"], "calculator")
    assert decode_furl(f"pb://{TUBID}@/n") == (TUBID, [], "n")


def test_encode_furl() -> None:
    """encode_furl joins the parts as Foolscap does, and refuses parts that would not parse."""
    assert encode_furl(TUBID, ["tcp:127.0.0.1:46529", "tcp:[::1]:46529"], "calculator") == DEMO
    assert encode_furl(TUBID.encode(), [b"h:1"], b"n") == f"pb://{TUBID}@h:1/n"
    assert encode_furl(TUBID + "ext", [], "n") == f"pb://{TUBID}ext@/n"
    hints = parse_furl(DEMO).hints
    assert encode_furl(TUBID, hints, "calculator") == DEMO
    tubid, hint_list, name = decode_furl(DEMO)
    assert encode_furl(tubid, hint_list, name) == DEMO
    for args in [
        ("short", [], "n"),
        (TUBID.upper(), [], "n"),
        (TUBID + "@", [], "n"),
        (TUBID, [""], "n"),
        (TUBID, ["a,b"], "n"),
        (TUBID, ["a/b"], "n"),
        (TUBID, [], ""),
        (TUBID, [], "a\nb"),
    ]:
        with pytest.raises(BadFURLError):
            encode_furl(*args)
