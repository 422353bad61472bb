"""Hypothesis strategies for FURLs: well-formed parts, and text close to FURLs."""

from __future__ import annotations

from hypothesis import strategies as st

BASE32 = "abcdefghijklmnopqrstuvwxyz234567"
DNS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-"

tubids = st.text(alphabet=BASE32, min_size=32, max_size=32)
dns_names = st.text(alphabet=DNS, min_size=1, max_size=20)
ports = st.integers(min_value=1, max_value=65535)
ipv6 = st.ip_addresses(v=6).map(str)


@st.composite
def tcp_hints(draw: st.DrawFn) -> str:
    """A usable tcp:HOST:PORT or legacy HOST:PORT hint."""
    port = draw(ports)
    kind = draw(st.sampled_from(["dns", "ipv4", "ipv6", "legacy"]))
    if kind == "ipv6":
        return f"tcp:[{draw(ipv6)}]:{port}"
    if kind == "ipv4":
        return f"tcp:{draw(st.ip_addresses(v=4))}:{port}"
    if kind == "legacy":
        return f"{draw(dns_names)}:{port}"
    return f"tcp:{draw(dns_names)}:{port}"


# Pieces that sit near the grammar's edges.
NASTY = [
    "pb://",
    "@",
    "/",
    ",",
    ":",
    "[",
    "]",
    "%",
    ".",
    "tcp:",
    "tor:",
    "i2p:",
    "\n",
    "\r",
    "\x00",
    "\u0661",
    "\u212a",
    "0",
    "9" * 30,
    "65536",
    "::",
    "::ffff:",
    "1.2.3.4",
    " ",
]

hint_texts = st.one_of(
    tcp_hints(),
    st.builds(lambda h, p: f"tor:{h}:{p}", dns_names, ports),
    st.builds(lambda h: f"i2p:{h}", dns_names),
    st.text(alphabet=st.characters(blacklist_characters=",/\n"), min_size=1, max_size=30),
    st.lists(
        st.sampled_from([n for n in NASTY if n not in {",", "/", "\n", "pb://"}]), min_size=1
    ).map("".join),
)
names = st.text(alphabet=st.characters(blacklist_characters="\n"), min_size=1, max_size=40)


@st.composite
def valid_furls(draw: st.DrawFn) -> str:
    """A FURL our parser must accept (its hints may still be unusable)."""
    ext = draw(st.text(alphabet=st.characters(blacklist_characters="@\n"), max_size=8))
    hints = draw(st.lists(hint_texts, max_size=5))
    return f"pb://{draw(tubids)}{ext}@{','.join(hints)}/{draw(names)}"


@st.composite
def near_furls(draw: st.DrawFn) -> str:
    """Text built from FURL pieces and nasty fragments: often valid, often not."""
    pieces = draw(
        st.lists(
            st.one_of(
                st.sampled_from(NASTY),
                tubids,
                hint_texts,
                st.text(max_size=5),
            ),
            max_size=12,
        )
    )
    return "".join(pieces)
