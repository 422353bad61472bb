"""octavo.furl agrees with Foolscap 24.9's decode_furl and hint handlers, case by case.

Every disagreement must be one of the deliberate differences listed (by id) in
packages/furl/README.md; anything else fails the test.
"""

from __future__ import annotations

import importlib
import ipaddress
import random
import sys
import types
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from re import Pattern

import pytest
from foolscap.connections.tcp import DefaultTCP, convert_legacy_hint
from foolscap.furl import AUTH_STURDYREF_RE
from foolscap.furl import BadFURLError as FoolscapBadFURLError
from foolscap.furl import decode_furl as fs_decode_furl
from foolscap.furl import encode_furl as fs_encode_furl
from foolscap.ipb import InvalidHintError
from foolscap.referenceable import SturdyRef as FoolscapSturdyRef
from twisted.internet.testing import MemoryReactorClock

from octavo.furl import (
    BadFURLError,
    I2PHint,
    SturdyRef,
    TCPHint,
    TorHint,
    decode_furl,
    encode_furl,
    parse_furl,
    parse_hint,
)

README = Path(__file__).resolve().parents[2] / "packages" / "furl" / "README.md"
CASES = 4000
SEED = 20240924

# The deliberate differences; each id is a heading in the README.
D_PREFIX = "D1"  # text before "pb://" is refused
D_NEWLINE = "D2"  # newlines are refused
D_TUBID = "D3"  # the tubid must be 32 lowercase base32 characters
D_PORT = "D4"  # ports must be within 1-65535
D_DIGITS = "D5"  # only ASCII digits are digits
D_IPV6 = "D6"  # bracketed IPv6 hosts must be real IPv6 addresses
DIFFERENCE_IDS = (D_PREFIX, D_NEWLINE, D_TUBID, D_PORT, D_DIGITS, D_IPV6)

BASE32 = "abcdefghijklmnopqrstuvwxyz234567"
GOOD_TUBID = "ubnnhm7ehvhobtpdgrjonymzd3eopy6u"
ASCII_DIGITS = frozenset("0123456789")


# -- Foolscap's side -------------------------------------------------------------


def _load_hint_re(module: str, stubs: dict[str, dict[str, object]]) -> Pattern[str]:
    """Import a Foolscap hint handler whose transport library is absent, to read HINT_RE.

    The tor and i2p handlers import txtorcon / txi2p at module level but use them
    only when connecting; stand-in modules satisfy the import and are removed again.
    """
    names = [*stubs, module]
    saved = {name: sys.modules.get(name) for name in names}
    try:
        for name, attrs in stubs.items():
            stub = types.ModuleType(name)
            stub.__dict__.update(attrs)
            sys.modules[name] = stub
        sys.modules.pop(module, None)
        pattern: Pattern[str] = importlib.import_module(module).HINT_RE
        return pattern
    finally:
        for name, previous in saved.items():
            if previous is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous


TOR_HINT_RE = _load_hint_re("foolscap.connections.tor", {"txtorcon": {}})
I2P_HINT_RE = _load_hint_re(
    "foolscap.connections.i2p",
    {"txi2p": {}, "txi2p.sam": {"SAMI2PStreamClientEndpoint": object}},
)
REACTOR = MemoryReactorClock()


def foolscap_furl(text: str) -> tuple[str, list[str], str] | None:
    """Foolscap's decode_furl result, or None when it refuses the FURL."""
    try:
        tubid, hints, name = fs_decode_furl(text)
    except (ValueError, FoolscapBadFURLError):
        return None
    return tubid, hints, name


def foolscap_hint(hint: str) -> tuple[str, str, int | None] | None:
    """What Foolscap's default handlers make of a hint: (type, host, port), or None.

    Follows connection.get_endpoint: legacy conversion, then the handler for the type.
    """
    converted = convert_legacy_hint(hint)
    hint_type = converted.split(":", 1)[0] if ":" in converted else None
    if hint_type == "tcp":
        try:
            endpoint, host = DefaultTCP().hint_to_endpoint(converted, REACTOR, lambda s: None)
        except InvalidHintError:
            return None
        return ("tcp", host, endpoint._port)
    if hint_type == "tor":
        mo = TOR_HINT_RE.search(converted)
        return ("tor", mo.group(1), int(mo.group(2))) if mo else None
    if hint_type == "i2p":
        mo = I2P_HINT_RE.search(converted)
        if not mo:
            return None
        return ("i2p", mo.group(1), int(mo.group(3)) if mo.group(3) else None)
    return None


# -- ours ------------------------------------------------------------------------


def octavo_hint(hint: str) -> tuple[str, str, int | None] | None:
    """Our typed hint reduced to the same (type, host, port) shape."""
    parsed = parse_hint(hint)
    if isinstance(parsed, (TCPHint, TorHint)):
        return (parsed.hint_type, parsed.host, parsed.port)
    if isinstance(parsed, I2PHint):
        return ("i2p", parsed.address, parsed.port)
    return None


# -- classifying the deliberate differences --------------------------------------


def furl_difference(text: str) -> str | None:
    """Which deliberate difference explains Foolscap accepting a FURL we refuse."""
    mo = AUTH_STURDYREF_RE.search(text)
    assert mo is not None
    if mo.start() > 0 or not text.startswith("pb://"):
        return D_PREFIX
    if "\n" in text:
        return D_NEWLINE
    tubid = mo.group(1)
    if len(tubid) < 32 or not all(c in BASE32 for c in tubid[:32]):
        return D_TUBID
    return None


def _port_digits(hint: str) -> str:
    return hint.rpartition(":")[2]


def hint_difference(hint: str) -> str | None:
    """Which deliberate difference explains Foolscap using a hint we cannot."""
    if "\n" in hint:
        return D_NEWLINE
    if any(c.isdigit() and c not in ASCII_DIGITS for c in hint):
        return D_DIGITS
    digits = _port_digits(hint)
    if digits and all(c in ASCII_DIGITS for c in digits) and not 1 <= int(digits) <= 65535:
        return D_PORT
    if "[" in hint and "]" in hint:
        inner = hint[hint.index("[") + 1 : hint.rindex("]")]
        try:
            ipaddress.IPv6Address(inner)
        except ValueError:
            return D_IPV6
    return None


# -- the generator ---------------------------------------------------------------


def _pick(rng: random.Random, *choices: Callable[[], str]) -> str:
    return rng.choice(choices)()


def _junk(rng: random.Random, alphabet: str, high: int = 8) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, high)))


JUNK = "abcXYZ019-._:[]%@,/ \n\t\u0661\u212a=+"
PORTS = [
    "1",
    "80",
    "443",
    "46529",
    "65535",
    "0",
    "65536",
    "99999",
    "080",
    "00001",
    "",
    "8x",
    "\u0668\u0660",
    "1" * 12,
    "-1",
    " 80",
    "80\n",
]
HOSTS = [
    "example.com",
    "localhost",
    "a-b.c-d",
    "127.0.0.1",
    "10.0.0.255",
    "999.1.1.1",
    "1.2.3",
    "x",
    "-",
    ".",
    "ho st",
    "h_st",
    "h\u00f6st",
    "\u0661.\u0662.\u0663.\u0664",
    "abcdefghijklmnop.onion",
    "",
]
IPV6 = [
    "::1",
    "::",
    "fe80::1%en0",
    "fe80::1%eth0.1",
    "::ffff:1.2.3.4",
    "2001:DB8::a",
    "1:2:3:4:5:6:7:8",
    "1:2:3:4:5:6:7:8:9",
    "abc",
    "11.2.3.4",
    ":::",
    "::g",
    "::1%",
    "::1%e/0",
    "::ffff:1.2.3",
    "::ffff:1.2.3.4%en0",
    "::1:\u0661.2.3.4",
    "1::2::3",
]
TYPES = ["tcp", "tor", "i2p", "unix", "systemd", "TCP", "x-y", "9p", "", "[::1]"]


def generate_hint(rng: random.Random) -> str:
    """One hint, usable or not, drawn from the shapes Foolscap's handlers see."""
    port = rng.choice(PORTS)
    host = rng.choice(HOSTS)
    return _pick(
        rng,
        lambda: f"tcp:{host}:{port}",
        lambda: f"tcp:[{rng.choice(IPV6)}]:{port}",
        lambda: f"{host}:{port}",
        lambda: f"tor:{host}:{port}",
        lambda: f"tor:[{rng.choice(IPV6)}]:{port}",
        lambda: f"i2p:{host}" + (f":{port}" if rng.random() < 0.5 else ""),
        lambda: f"{rng.choice(TYPES)}:{_junk(rng, JUNK.replace(',', '').replace('/', ''))}",
        lambda: _junk(rng, JUNK.replace(",", "").replace("/", ""), 12),
        lambda: f"[{rng.choice(IPV6)}]:{port}",
    )


def generate_tubid(rng: random.Random) -> str:
    """A tubid: mostly good, sometimes extended, short, upper-case or with bad characters."""
    good = "".join(rng.choice(BASE32) for _ in range(32))
    if rng.random() < 0.6:
        return good
    return _pick(
        rng,
        lambda: GOOD_TUBID,
        lambda: good + _junk(rng, JUNK.replace("@", "")),
        lambda: good[: rng.randint(0, 31)],
        good.upper,
        lambda: good[:-1] + rng.choice("018=\u212a A"),
        lambda: good[:5] + "\n" + good[6:],
    )


def generate_name(rng: random.Random) -> str:
    """An object name: usually a swissnum, sometimes empty or full of separators."""
    if rng.random() < 0.6:
        return "".join(rng.choice(BASE32) for _ in range(32))
    return _pick(
        rng,
        lambda: "".join(rng.choice(BASE32) for _ in range(32)),
        lambda: "calculator",
        lambda: "",
        lambda: _junk(rng, JUNK),
        lambda: "a/b@c,d",
    )


def generate_furl(rng: random.Random) -> str:
    """A FURL-like string: a valid FURL, one with a mutation, or junk."""
    if rng.random() < 0.05:
        return _junk(rng, JUNK + "pb:/", 40)
    prefix = rng.choice(["pb://"] * 12 + ["", "PB://", "pb:/", "xpb://", "pb://@x/"])
    hints = [generate_hint(rng) for _ in range(rng.choice([0, 1, 1, 2, 2, 3, 4]))]
    if rng.random() < 0.05:
        hints.insert(rng.randint(0, len(hints)), "")
    at = "@" if rng.random() < 0.97 else ""
    slash = "/" if rng.random() < 0.97 else ""
    text = f"{prefix}{generate_tubid(rng)}{at}{','.join(hints)}{slash}{generate_name(rng)}"
    if rng.random() < 0.03:
        text += "\n"
    return text


def generated_cases() -> Iterator[str]:
    """CASES FURL-like strings from a fixed seed (the same run every time)."""
    rng = random.Random(SEED)
    for _ in range(CASES):
        yield generate_furl(rng)


# -- the tests -------------------------------------------------------------------


def test_readme_lists_every_deliberate_difference() -> None:
    """Each difference id the comparison may use is documented in the package README."""
    text = README.read_text(encoding="utf-8")
    for ident in DIFFERENCE_IDS:
        assert f"**{ident}" in text, ident


def test_generated_furls_agree_with_foolscap() -> None:
    """Over 4,000 generated FURLs, our parse matches Foolscap's, or differs as documented."""
    outcomes: Counter[str] = Counter()
    hints_compared = 0
    for text in generated_cases():
        theirs = foolscap_furl(text)
        try:
            ours = decode_furl(text)
        except BadFURLError:
            ours = None
        if theirs is None:
            assert ours is None, f"we accept what Foolscap refuses: {text!r}"
            outcomes["both refuse"] += 1
            continue
        if ours is None:
            why = furl_difference(text)
            assert why is not None, f"we refuse what Foolscap accepts: {text!r}"
            outcomes[why] += 1
            continue
        assert ours == theirs, text
        outcomes["both accept"] += 1
        furl = parse_furl(text)
        assert str(furl) == text
        assert fs_encode_furl(*theirs) == encode_furl(*ours)
        for hint in furl.hints:
            hints_compared += 1
            fs_view = foolscap_hint(hint.text)
            our_view = octavo_hint(hint.text)
            if fs_view == our_view:
                outcomes["hint agrees"] += 1
                if fs_view is not None:
                    outcomes[f"usable {fs_view[0]} hint agrees"] += 1
                if isinstance(hint, TCPHint) and hint.legacy:
                    assert hint.normalized() == convert_legacy_hint(hint.text)
                continue
            assert our_view is None, f"hint {hint.text!r}: ours {our_view}, Foolscap {fs_view}"
            why = hint_difference(hint.text)
            assert why is not None, f"hint {hint.text!r}: Foolscap uses it as {fs_view}, we do not"
            outcomes[f"hint {why}"] += 1
    # The generator must exercise both sides of the grammar, not just one.
    assert outcomes["both accept"] >= 1000, outcomes
    assert outcomes["both refuse"] >= 100, outcomes
    assert hints_compared >= 1000, outcomes
    assert outcomes["hint agrees"] >= 900, outcomes
    for kind in ("tcp", "tor", "i2p"):
        assert outcomes[f"usable {kind} hint agrees"] >= 50, outcomes
    for ident in (D_PREFIX, D_NEWLINE, D_TUBID):
        assert outcomes[ident] > 0, outcomes
    for ident in (D_PORT, D_DIGITS, D_IPV6):
        assert outcomes[f"hint {ident}"] > 0, outcomes


@pytest.mark.parametrize(
    "hint",
    [
        "tcp:example.com:80",
        "tcp:127.0.0.1:46529",
        "tcp:[::1]:46529",
        "tcp:[fe80::1%en0]:9",
        "tcp:[::ffff:1.2.3.4]:80",
        "example.com:080",
        "tor:123",
        "tor:abc.onion:80",
        "tor:1.2.3.4:80",
        "i2p:abc.i2p",
        "i2p:abc.i2p:81",
        "unix:s",
        "tcp:a:b:80",
        "tcp:[1::2]x:80",
        "i2p:a:b:c",
    ],
)
def test_hand_picked_hints_agree(hint: str) -> None:
    """Hints at the edges of Foolscap's grammar read the same in both."""
    assert octavo_hint(hint) == foolscap_hint(hint)


@pytest.mark.parametrize(
    ("hint", "why"),
    [
        ("tcp:h:0", D_PORT),
        ("tcp:h:65536", D_PORT),
        ("h:99999", D_PORT),
        ("tor:h:70000", D_PORT),
        ("tcp:h:\u0668\u0660", D_DIGITS),
        ("tcp:\u0661.\u0662.\u0663.\u0664:80", D_DIGITS),
        ("tcp:[abc]:80", D_IPV6),
        ("tcp:[11.2.3.4]:80", D_IPV6),
        ("tcp:h:80\n", D_NEWLINE),
    ],
)
def test_documented_hint_differences(hint: str, why: str) -> None:
    """Hints Foolscap would try but we refuse are exactly the documented ones."""
    assert foolscap_hint(hint) is not None
    assert octavo_hint(hint) is None
    assert hint_difference(hint) == why


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (f"junk pb://{GOOD_TUBID}@h:1/n", D_PREFIX),
        (f"pb://@x/pb://{GOOD_TUBID}@h:1/n", D_PREFIX),
        (f"pb://{GOOD_TUBID}@h:1/n\n", D_NEWLINE),
        (f"pb://{GOOD_TUBID}\n@h:1/n", D_NEWLINE),
        ("pb://abc@h:1/n", D_TUBID),
        (f"pb://{GOOD_TUBID.upper()}@h:1/n", D_TUBID),
        (f"pb://{GOOD_TUBID[:-1]}\u212a@h:1/n", D_TUBID),
    ],
)
def test_documented_furl_differences(text: str, why: str) -> None:
    """FURLs Foolscap accepts but we refuse are exactly the documented ones."""
    assert foolscap_furl(text) is not None
    with pytest.raises(BadFURLError):
        parse_furl(text)
    assert furl_difference(text) == why


def test_sturdyref_and_tubref_identity_match_foolscap() -> None:
    """Equality of SturdyRefs and TubRefs agrees with Foolscap's for pairs of FURLs."""
    texts = [
        f"pb://{GOOD_TUBID}@tcp:h:1/a",
        f"pb://{GOOD_TUBID}ext@tcp:other:2,unix:x/a",
        f"pb://{GOOD_TUBID}@tcp:h:1/b",
        f"pb://{'a' * 32}@tcp:h:1/a",
        f"pb://{'a' * 32}@/b",
    ]
    for x in texts:
        for y in texts:
            fx, fy = FoolscapSturdyRef(x), FoolscapSturdyRef(y)
            ox, oy = SturdyRef(x), SturdyRef(y)
            assert (ox == oy) == (fx == fy), (x, y)
            assert (hash(ox) == hash(oy)) == (hash(fx) == hash(fy)), (x, y)
            assert (ox.getTubRef() == oy.getTubRef()) == (fx.getTubRef() == fy.getTubRef())
            assert (ox < oy) == (fx < fy), (x, y)
        fx, ox = FoolscapSturdyRef(x), SturdyRef(x)
        assert (ox.tubID, ox.locationHints, ox.name) == (fx.tubID, fx.locationHints, fx.name)
        assert ox.getURL() == fx.getURL()
        assert str(ox.getTubRef()) == str(fx.getTubRef())
        assert ox.getTubRef().getLocations() == fx.getTubRef().getLocations()
        assert ox.getTubRef().getShortTubID() == fx.getTubRef().getShortTubID()
