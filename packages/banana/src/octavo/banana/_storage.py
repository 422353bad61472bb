"""``serialize``/``unserialize``: Banana as a pickle-like storage format."""

from __future__ import annotations

from ._constraints import Constraint
from ._decoder import Decoder
from ._encoder import Encoder, encode_message
from ._errors import BananaError
from ._events import ErrorReceived, ObjectReceived, ViolationReceived
from ._registry import UnslicerRegistry
from ._slicers import SlicerRegistry

__all__ = ["serialize", "unserialize"]


_STORAGE_ENCODER = Encoder()  # read-only: encode_message never changes it


def serialize(obj: object, *, slicers: SlicerRegistry | None = None) -> bytes:
    """Encode ``obj`` exactly as ``foolscap.storage.serialize`` does (no vocabulary).

    ``slicers`` adds encoders for more Python types (e.g. octavo-tub's
    ``copyable_slicers()`` for Copyables), as ``unslicers`` adds opentypes to
    :func:`unserialize`.
    """
    if slicers is None:
        return encode_message(_STORAGE_ENCODER, obj, 0)[0]
    return Encoder(slicers=slicers).encode(obj)


def unserialize(
    data: bytes,
    *,
    constraint: Constraint | None = None,
    max_depth: int = 500,
    max_token_size: int = 16 * 1024 * 1024,
    unslicers: UnslicerRegistry | None = None,
    context: object = None,
) -> object:
    """Decode one object, as ``foolscap.storage.unserialize`` does.

    ``unslicers`` and ``context`` are passed to the Decoder (extra opentypes, e.g.
    octavo-tub's ``their-reference`` for ``Tub.unserialize``).
    Raises Violation if the object is rejected, BananaError if the bytes are
    not a complete, valid Banana stream of exactly one object.
    """
    dec = Decoder(
        unslicers=unslicers,
        context=context,
        constraint=constraint,
        max_depth=max_depth,
        max_token_size=max_token_size,
    )
    dec.receive_data(data)
    events = dec.events()
    for ev in events:
        if isinstance(ev, ViolationReceived):
            raise ev.violation
        if isinstance(ev, ErrorReceived):
            raise BananaError(f"ERROR token: {ev.message!r}")
    objs = [ev.obj for ev in events if isinstance(ev, ObjectReceived)]
    if len(objs) != 1:
        raise BananaError(f"expected one object, got {len(objs)}")
    if not dec.at_message_boundary:
        raise BananaError("trailing data after the object")
    return objs[0]
