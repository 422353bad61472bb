"""The inbound vocabulary's limits, and its fast tables kept current in O(1) per change."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from octavo.banana import (
    BananaError,
    Decoder,
    Encoder,
    ListUnslicer,
    ObjectReceived,
    b128_encode,
    default_unslicers,
)
from octavo.banana._tables import FastTables
from octavo.banana._vocabulary import _SHARED_VOCABS

from .test_vocab import VOCAB_V1

FAST = [True, False]


def _int(n: int) -> bytes:
    return b128_encode(n) + b"\x81"


def _str(b: bytes) -> bytes:
    return b128_encode(len(b)) + b"\x82" + b


def _seq(count: int, name: bytes, body: bytes) -> bytes:
    return b128_encode(count) + b"\x88" + _str(name) + body + b128_encode(count) + b"\x89"


def add_vocab(index: int, word: bytes, count: int = 0) -> bytes:
    """An add-vocab sequence (OPEN number ``count``) setting ``index`` to ``word``."""
    return _seq(count, b"add-vocab", _int(index) + _str(word))


def set_vocab(words: dict[int, bytes], count: int = 0) -> bytes:
    """A set-vocab sequence (OPEN number ``count``) of ``words``."""
    return _seq(count, b"set-vocab", b"".join(_int(i) + _str(w) for i, w in words.items()))


def _ok(fast: bool, **limits: Any) -> Decoder:
    return Decoder(fast_paths=fast, **limits)


@pytest.mark.parametrize("fast", FAST)
def test_defaults(fast: bool) -> None:
    """Defaults well above what Foolscap sends (25 words of at most 100 bytes)."""
    dec = _ok(fast)
    assert dec.max_vocab_entries == 4096
    assert dec.max_vocab_bytes == 256 * 1024
    dec = Decoder(vocab=VOCAB_V1, fast_paths=fast)
    dec.receive_data(Encoder(vocab=VOCAB_V1).encode(["unicode", {"dict": None}]))
    assert dec.events() == [ObjectReceived(["unicode", {"dict": None}])]


@pytest.mark.parametrize("fast", FAST)
def test_set_vocab_entries_limit(fast: bool) -> None:
    """A set-vocab of max_vocab_entries passes; one more entry is a BananaError."""
    words = {i: b"w%d" % i for i in range(50)}
    dec = _ok(fast, max_vocab_entries=50)
    enc = Encoder()
    dec.receive_data(set_vocab(words) + enc.encode(b"after"))
    assert dec.events() == [ObjectReceived(b"after")]
    assert len(dec.vocab) == 50
    dec = _ok(fast, max_vocab_entries=50)
    with pytest.raises(
        BananaError, match=r"set-vocab of more than 50 entries \(max_vocab_entries\)"
    ):
        dec.receive_data(set_vocab({**words, 50: b"x"}))
    assert dec.failed


@pytest.mark.parametrize("fast", FAST)
def test_set_vocab_bytes_limit(fast: bool) -> None:
    """A set-vocab whose words hold max_vocab_bytes passes; one byte more is refused."""
    words = dict.fromkeys(range(10), b"x" * 10)
    dec = _ok(fast, max_vocab_bytes=100)
    dec.receive_data(set_vocab(words) + Encoder().encode(1))
    assert dec.events() == [ObjectReceived(1)]
    dec = _ok(fast, max_vocab_bytes=100)
    with pytest.raises(BananaError, match=r"more than 100 bytes of words \(max_vocab_bytes\)"):
        dec.receive_data(set_vocab({**words, 9: b"x" * 11}))


@pytest.mark.parametrize("fast", FAST)
def test_huge_set_vocab_is_refused_as_it_arrives(fast: bool) -> None:
    """A set-vocab of a million entries is refused after 4097 of them, never collected:
    fed in 64 KiB pieces, the decoder fails within the first few pieces."""
    head = b"\x00\x88\x09\x82set-vocab"
    dec = _ok(fast)
    fed = 0
    piece = b"".join(_int(i) + _str(b"w") for i in range(20_000))
    with pytest.raises(BananaError, match="max_vocab_entries"):
        dec.receive_data(head)
        for _ in range(1_000_000 // 20_000):
            for i in range(0, len(piece), 65536):
                fed += len(piece[i : i + 65536])
                dec.receive_data(piece[i : i + 65536])
    assert fed < 200_000


@pytest.mark.parametrize("fast", FAST)
def test_add_vocab_entries_limit(fast: bool) -> None:
    """add-vocab up to max_vocab_entries passes (replacing a word is no new entry);
    the one past it is a BananaError."""
    dec = _ok(fast, max_vocab_entries=100)
    stream = b"".join(add_vocab(i, b"w%d" % i, i) for i in range(100))
    stream += add_vocab(7, b"list", 100) + Encoder().encode([1])
    dec.receive_data(stream)
    assert dec.events() == [ObjectReceived([1])]
    assert len(dec.vocab) == 100
    with pytest.raises(BananaError, match=r"add-vocab past 100 entries \(max_vocab_entries\)"):
        dec.receive_data(add_vocab(100, b"one more"))


@pytest.mark.parametrize("fast", FAST)
def test_add_vocab_bytes_limit(fast: bool) -> None:
    """add-vocab up to max_vocab_bytes passes, counting the initial table and what a
    replaced word gives back; a byte more is a BananaError."""
    dec = Decoder(vocab=[b"abcd"], max_vocab_bytes=20, fast_paths=fast)
    dec.receive_data(add_vocab(1, b"x" * 16) + add_vocab(0, b"") + add_vocab(2, b"yyyy"))
    assert dec.vocab == {0: b"", 1: b"x" * 16, 2: b"yyyy"}
    with pytest.raises(BananaError, match=r"add-vocab past 20 bytes of words \(max_vocab_bytes\)"):
        dec.receive_data(add_vocab(3, b"z"))


def test_3000_add_vocabs_are_linear() -> None:
    """3,000 add-vocab messages keep one dictionary and one set of tables, updated in
    place (the tables are not rebuilt per change)."""
    dec = Decoder(vocab=VOCAB_V1)
    dec.receive_data(add_vocab(25, b"first"))
    tables = dec._tables
    words = tables.words
    dec.receive_data(b"".join(add_vocab(26 + i, b"w%d" % i, i + 1) for i in range(3000)))
    assert dec._tables is tables and tables.words is words
    assert len(dec.vocab) == 25 + 3001


def test_changed_vocabularies_are_not_cached() -> None:
    """set-vocab and add-vocab on many decoders grow neither the registry's cache nor
    the shared vocabularies, and leave the shared tables as they were."""
    registry = default_unslicers()
    Decoder(unslicers=registry, vocab=[b"a", b"b"])  # (two shared initial tables)
    shared = Decoder(unslicers=registry, vocab=VOCAB_V1)._tables
    cache_before = dict(registry.cache)
    shared_before = dict(_SHARED_VOCABS)
    snapshot = (dict(shared.words), dict(shared.kinds_top), dict(shared.custom_top))
    for n in range(50):
        dec = Decoder(unslicers=registry, vocab=VOCAB_V1)
        dec.receive_data(add_vocab(n, b"list") + add_vocab(100 + n, b"w%d" % n, 1))
        other = Decoder(unslicers=registry, vocab=[b"a", b"b"])
        other.receive_data(set_vocab({n: b"tuple", n + 1: b"z%d" % n}))
    assert registry.cache == cache_before
    assert shared_before == _SHARED_VOCABS
    assert (dict(shared.words), dict(shared.kinds_top), dict(shared.custom_top)) == snapshot
    assert Decoder(unslicers=registry, vocab=VOCAB_V1)._tables is shared


# -- the incremental tables equal fresh ones -----------------------------------------


class PickUnslicer(ListUnslicer):
    """A registered opentype of one index token (the custom tables)."""

    opentype = ("pick",)


def _registry() -> Any:
    reg = default_unslicers()
    reg.register(("pick",), lambda ot: PickUnslicer(), top_level=True, nested=True)
    return reg


_WORDS = [b"list", b"tuple", b"dict", b"unicode", b"none", b"boolean", b"reference", b"set"]
_WORDS += [b"pick", b"add-vocab", b"x", b""]
_CHANGES = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.integers(0, 12), st.sampled_from(_WORDS)),
        st.tuples(
            st.just("set"),
            st.dictionaries(st.integers(0, 12), st.sampled_from(_WORDS), max_size=8),
        ),
    ),
    max_size=12,
)


def _stream(initial: list[bytes], changes: list[Any]) -> bytes:
    out = []
    for n, change in enumerate(changes):
        if change[0] == "add":
            out.append(add_vocab(change[1], change[2], n))
        else:
            out.append(set_vocab(change[1], n))
    return b"".join(out)


def _probe(indices: list[int], count: int) -> bytes:
    """Messages opening a sequence by each VOCAB index and holding one INT and the
    word as a VOCAB value, each in a list."""
    out = []
    for i in indices:
        inner = b128_encode(count + 1) + b"\x88" + b128_encode(i) + b"\x87" + _int(1)
        inner += b128_encode(count + 1) + b"\x89"
        body = b128_encode(i) + b"\x87" + inner
        out.append(_seq(count, b"list", body))
        count += 2
    return b"".join(out)


def _outcome(dec: Decoder, data: bytes) -> tuple[list[str], str | None]:
    try:
        dec.receive_data(data)
    except BananaError as e:
        return [repr(ev) for ev in dec.events()], str(e.args)
    return [repr(ev) for ev in dec.events()], None


@settings(max_examples=150, deadline=None)
@given(st.sampled_from([[], VOCAB_V1[:6], VOCAB_V1]), _CHANGES)
def test_incremental_tables_equal_fresh_ones(initial: list[bytes], changes: list[Any]) -> None:
    """After any add-vocab/set-vocab sequence the decoder's tables equal tables built
    anew from its vocabulary, and the fast paths on and off decode the same."""
    registry = _registry()
    data = _stream(initial, changes)
    outcomes = []
    for fast in FAST:
        dec = Decoder(unslicers=registry, vocab=initial, fast_paths=fast)
        dec.receive_data(data)
        assert dec.events() == []
        tables = dec._tables
        fresh = FastTables(registry, dict(dec.vocab))
        for field in ("version", "words", "kinds_top", "kinds_nested", "custom_top"):
            assert getattr(tables, field) == getattr(fresh, field), field
        assert tables.custom_nested == fresh.custom_nested
        indices = sorted(dec.vocab)
        outcomes.append(_outcome(dec, _probe(indices, len(changes))))
    assert outcomes[0] == outcomes[1]
