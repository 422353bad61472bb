"""Vocabulary: set-vocab / add-vocab sequences and VOCAB tokens."""

from __future__ import annotations

import pytest

from octavo.banana import BananaError, Decoder, Encoder, ObjectReceived, ViolationReceived

# Foolscap's vocab_v1 (initial-vocab-table-index 1)
VOCAB_V1 = [
    b"none", b"boolean", b"reference", b"dict", b"list", b"tuple", b"set", b"immutable-set",
    b"unicode", b"set-vocab", b"add-vocab", b"call", b"arguments", b"answer", b"error",
    b"my-reference", b"your-reference", b"their-reference", b"copyable", b"instance",
    b"module", b"class", b"method", b"function", b"attrdict",
]  # fmt: skip

OBJ = {"list": [1, "unicode", b"dict", ("x", None, True)], "b": {1, 2}}


def test_populated_table_matches_foolscap() -> None:
    """With vocab_v1 installed, opentypes and matching strings become VOCAB tokens
    (bytes recorded from a Foolscap Banana after populateVocabTable(vocab_v1))."""
    enc = Encoder(vocab=VOCAB_V1)
    data = enc.encode(["unicode", None])
    assert data == bytes.fromhex("0088048701880887088701890288008702890089")
    dec = Decoder(vocab=VOCAB_V1)
    dec.receive_data(data + enc.encode(OBJ))
    assert [e.obj for e in dec.events()] == [["unicode", None], OBJ]  # type: ignore[union-attr]


def test_set_vocab_matches_foolscap() -> None:
    """set-vocab, then an object using it: the bytes Foolscap's setOutgoingVocabulary sends."""
    enc = Encoder()
    data = enc.set_vocab([b"list", b"unicode", b"abc"]) + enc.encode(OBJ)
    assert data.hex() == (
        "008809827365742d766f636162008104826c69737401810782756e69636f646502810382616263"
        "008901880482646963740288018701826202890388038273657401810281038904880187008704"
        "890588008701810688018701870689048264696374078805827475706c65088801870182780889"
        "098804826e6f6e6509890a880782626f6f6c65616e01810a89078905890189"
    )
    dec = Decoder()
    dec.receive_data(data)
    assert dec.events() == [ObjectReceived(OBJ)]
    assert dec.vocab == {0: b"list", 1: b"unicode", 2: b"abc"}


def test_add_vocab() -> None:
    """add-vocab extends the table; later strings use the new entry."""
    enc = Encoder()
    dec = Decoder()
    first = enc.add_vocab("tuple")
    assert enc.add_vocab("tuple") == b""
    data = enc.encode((b"tuple", 1))
    assert b"tuple" not in data  # both the opentype and the bytes are abbreviated
    dec.receive_data(first + data)
    assert dec.events() == [ObjectReceived((b"tuple", 1))]
    assert dec.vocab == {0: b"tuple"}


def test_set_vocab_replaces() -> None:
    """A second set-vocab replaces the whole table on both sides."""
    enc = Encoder()
    dec = Decoder()
    dec.receive_data(enc.set_vocab(["a"]) + enc.set_vocab(["b", "c"]) + enc.encode(b"c"))
    assert dec.events() == [ObjectReceived(b"c")]
    assert dec.vocab == {0: b"b", 1: b"c"}
    assert enc.vocab == {b"b": 0, b"c": 1}


def test_vocab_strings_limited() -> None:
    """A vocabulary string over 100 bytes is refused."""
    enc = Encoder()
    dec = Decoder()
    dec.receive_data(enc.set_vocab([b"x" * 101]) + enc.encode(1))
    evs = dec.events()
    assert isinstance(evs[0], ViolationReceived)
    assert evs[1] == ObjectReceived(1)


def test_set_vocab_needs_int_keys() -> None:
    """A set-vocab with a non-INT key is a protocol error."""
    with pytest.raises(BananaError):
        Decoder().receive_data(b"\x00\x88\x09\x82set-vocab\x01\x82a")


def test_duplicate_vocab_refused() -> None:
    """set_vocab refuses duplicate strings."""
    with pytest.raises(ValueError):
        Encoder().set_vocab(["a", "a"])


def test_vocab_stream_any_chunking() -> None:
    """With vocab_v1, str-heavy values decode the same whole or byte by byte."""
    value = {f"k{i}": [i, "ab", ("x", "\u00e9" * i), None, True] for i in range(150)}
    enc = Encoder(vocab=VOCAB_V1)
    data = enc.encode(value) + enc.encode("top") + enc.encode(["unicode"])
    whole = Decoder(vocab=VOCAB_V1)
    whole.receive_data(data)
    parts = Decoder(vocab=VOCAB_V1)
    for i in range(len(data)):
        parts.receive_data(data[i : i + 1])
    expected = [ObjectReceived(value), ObjectReceived("top"), ObjectReceived(["unicode"])]
    assert whole.events() == expected
    assert parts.events() == expected


def test_same_initial_table_is_shared_until_changed() -> None:
    """Encoders (and decoders) given the same initial table share its dictionary; one
    that adds a word gets its own copy and the others keep the table as it was."""
    a, b = Encoder(vocab=VOCAB_V1), Encoder(vocab=VOCAB_V1)
    assert a._vocab is b._vocab
    added = a.add_vocab(b"extra")
    assert added
    assert a._vocab is not b._vocab
    assert b"extra" in a.vocab and b"extra" not in b.vocab
    assert b.encode([b"extra"]) == Encoder(vocab=VOCAB_V1).encode([b"extra"])
    c = Encoder(vocab=VOCAB_V1)
    assert b"extra" not in c.vocab

    d, e = Decoder(vocab=VOCAB_V1), Decoder(vocab=VOCAB_V1)
    assert d._vocab is e._vocab
    d.receive_data(added)  # an add-vocab sequence: only d learns the word
    assert d.vocab_word(len(VOCAB_V1)) == b"extra"
    assert e.vocab_word(len(VOCAB_V1)) is None
    assert Decoder(vocab=VOCAB_V1).vocab_word(len(VOCAB_V1)) is None


def test_a_decoder_given_a_table_builds_only_its_tables() -> None:
    """A decoder made with an initial vocabulary builds the fast tables of that table
    alone (not the empty table's first: a fresh registry's first decoder paid both)."""
    from octavo.banana import default_unslicers

    registry = default_unslicers()
    registry.unregister(("decimal",))  # a change of its own: tables (and cache) of its own
    assert registry.cache == {}
    table = ("alpha", "beta")
    d = Decoder(unslicers=registry, vocab=table)
    assert list(registry.cache) == [(b"alpha", b"beta")]
    d.receive_data(Encoder(vocab=table).encode("beta"))
    assert [e.obj for e in d.events() if isinstance(e, ObjectReceived)] == ["beta"]


def test_pause_at_boundary_hands_back_the_rest() -> None:
    """pause_at_boundary: the decoder stops after a top-level message and
    take_unparsed hands back the rest (never a header it keeps for the next feed)."""
    from octavo.banana import Decoder, ObjectReceived, serialize

    d = Decoder()
    d.pause_at_boundary = True
    first, second = serialize([1, "a", (2, 3)]), serialize({"k": [b"v"]})
    d.receive_data(first + second)
    assert [e.obj for e in d.events() if isinstance(e, ObjectReceived)] == [[1, "a", (2, 3)]]
    rest = d.take_unparsed()
    assert rest == second
    assert d.take_unparsed() == b""
    d.receive_data(rest)
    assert [e.obj for e in d.events() if isinstance(e, ObjectReceived)] == [{"k": [b"v"]}]
    d.receive_data(second[:1])  # a header cut short: kept, not handed back
    assert d.take_unparsed() == b""
    d.receive_data(second[1:])
    assert [e.obj for e in d.events() if isinstance(e, ObjectReceived)] == [{"k": [b"v"]}]


def test_copies_share_fast_tables_until_a_one_token_opentype_changes() -> None:
    """A registry's copy uses the same fast tables (a Tub's registry is a copy of the
    process one with its own copyable opener: it builds none); registering an opentype
    of several index tokens keeps them, one of a single token gives the changed
    registry tables of its own and leaves the other's as they were."""
    from octavo.banana import default_unslicers
    from octavo.banana._tables import fast_tables
    from octavo.banana._unslicers import ListUnslicer

    source = default_unslicers()
    source.unregister(("decimal",))  # its own cache, empty
    table = ("alpha", "beta")
    Decoder(unslicers=source, vocab=table)
    tables = source.cache[(b"alpha", b"beta")]
    copy = source.copy()
    copy.register(("copyable",), lambda ot: ListUnslicer(), extra_index_tokens=1)
    d = Decoder(unslicers=copy, vocab=table)
    assert d._tables is tables and copy.version == source.version
    assert copy.lookup(("copyable", "x"))[0] is not None  # the general path finds it
    copy.register(("decimal",), lambda ot: ListUnslicer())
    assert copy.version != source.version and copy.cache == {}
    words = tables.words
    fresh = fast_tables(copy, words, (b"alpha", b"beta"))
    assert fresh is not tables and b"\x07\x82decimal" in fresh.custom_top
    assert b"\x07\x82decimal" not in tables.custom_top
    assert source.cache[(b"alpha", b"beta")] is tables
    d.receive_data(Encoder(vocab=table).encode("beta"))  # refreshed for the change
    assert d._tables is not tables
    assert [e.obj for e in d.events() if isinstance(e, ObjectReceived)] == ["beta"]
