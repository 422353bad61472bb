"""Foolscap's initial vocabulary tables, which negotiation picks and the codec preloads.

Both ends of a connection agree on one table by index during negotiation (checked
with :func:`hash_vocab_table`); from then on a VOCAB token with number ``i`` stands
for the table's ``i``-th string in both directions.
"""

from __future__ import annotations

import hashlib

__all__ = ["INITIAL_VOCAB_TABLES", "VOCAB_RANGE", "hash_vocab_table"]

#: index -> words (``foolscap.vocab.INITIAL_VOCAB_TABLES``)
INITIAL_VOCAB_TABLES: dict[int, tuple[bytes, ...]] = {
    0: (),
    1: (
        b"none", b"boolean", b"reference", b"dict", b"list", b"tuple", b"set",
        b"immutable-set", b"unicode", b"set-vocab", b"add-vocab", b"call", b"arguments",
        b"answer", b"error", b"my-reference", b"your-reference", b"their-reference",
        b"copyable", b"instance", b"module", b"class", b"method", b"function", b"attrdict",
    ),
}  # fmt: skip

#: the lowest and highest table index we offer
VOCAB_RANGE = (min(INITIAL_VOCAB_TABLES), max(INITIAL_VOCAB_TABLES))


def hash_vocab_table(index: int) -> str:
    """The 4-hex-digit check value of initial vocab table ``index`` (as Foolscap sends it)."""
    data = b"\x00".join(INITIAL_VOCAB_TABLES[index])
    return hashlib.sha1(data).hexdigest()[:4]  # SHA-1: the wire format
