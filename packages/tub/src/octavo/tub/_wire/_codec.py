"""The PB sequences on octavo.banana's extension point: slicer and unslicer registries.

Inbound, the registry is the same for every PB connection of a host: ``call``,
``answer`` and ``error`` at the top level only; ``arguments``, the three reference
sequences, the failure copyable and other copyables (``("copyable", NAME)``, found
through the host's registry of copytypes: a Tub's) nested. Outbound, what is sent by
reference, as a proxy or as a failure depends on the host's classes, so
:func:`pb_codec` is given them (the Twisted glue builds one codec at import time, and
one per Tub registry of copytypes with :meth:`PBCodec.with_copyables`).
"""

from __future__ import annotations

import types
from dataclasses import dataclass, replace

from octavo.banana import SlicerRegistry, UnslicerRegistry, default_unslicers

from ._calls import (
    AnswerUnslicer,
    Arguments,
    ArgumentsUnslicer,
    CallUnslicer,
    ErrorUnslicer,
    slice_answer,
    slice_arguments,
    slice_call,
    slice_error,
)
from ._copyables import CopyableLookup, register_copyable_opener
from ._failures import FAILURE_CLASSNAME, FailureUnslicer, slice_failure
from ._messages import AnswerMessage, CallMessage, ErrorMessage
from ._reference_sequences import (
    MyReferenceUnslicer,
    TheirReferenceUnslicer,
    YourReferenceUnslicer,
    slice_callable,
    slice_referenceable,
    slice_remote_reference,
)

__all__ = ["PBCodec", "pb_codec", "pb_unslicers"]


@dataclass(frozen=True)
class PBCodec:
    """What every PB connection of one host shares: the two registries, and the
    class of the failures the host makes from the wire (``make_failure``)."""

    slicers: SlicerRegistry
    unslicers: UnslicerRegistry
    failure_type: type

    def with_copyables(self, copyables: CopyableLookup) -> PBCodec:
        """This codec, reading ``copyable`` sequences through ``copyables`` (e.g. a
        Tub's registry); a new codec each time, for the caller to keep.

        Its registry is a copy of this one's with the copyable opener replaced (an
        opentype of two index tokens), so its decoders use this codec's fast tables:
        a fresh Tub's first connection builds none."""
        unslicers = self.unslicers.copy()
        register_copyable_opener(unslicers, copyables)
        return replace(self, unslicers=unslicers)


def pb_unslicers(copyables: CopyableLookup | None = None) -> UnslicerRegistry:
    """The inbound registry of a PB connection, finding copytypes in ``copyables``
    (None: no copyable but the failure is read)."""
    reg = default_unslicers()
    reg.register(("call",), lambda ot: CallUnslicer(), top_level=True, nested=False)
    reg.register(("answer",), lambda ot: AnswerUnslicer(), top_level=True, nested=False)
    reg.register(("error",), lambda ot: ErrorUnslicer(), top_level=True, nested=False)
    reg.register(("arguments",), lambda ot: ArgumentsUnslicer(), top_level=False, nested=True)
    reg.register(("my-reference",), lambda ot: MyReferenceUnslicer(), top_level=False)
    reg.register(("your-reference",), lambda ot: YourReferenceUnslicer(), top_level=False)
    reg.register(("their-reference",), lambda ot: TheirReferenceUnslicer(), top_level=False)
    reg.register(
        ("copyable", FAILURE_CLASSNAME),
        lambda ot: FailureUnslicer(),
        top_level=False,
        nested=True,
    )
    if copyables is not None:
        register_copyable_opener(reg, copyables)
    return reg


def pb_codec(
    *,
    referenceable: type,
    remote_reference: type,
    failure: type,
    copied_failure: type,
    copyables: CopyableLookup | None = None,
) -> PBCodec:
    """The codec for a host whose objects sent by reference are ``referenceable``
    instances (bound methods and functions go by reference too), whose proxies are
    ``remote_reference`` instances, whose failures are ``failure`` instances, which
    makes ``copied_failure`` instances from the wire and reads copyables through
    ``copyables`` (the encoder's copyable slicers are the host's to add)."""
    reg = SlicerRegistry()
    reg.register(CallMessage, slice_call)
    reg.register(Arguments, slice_arguments)
    reg.register(AnswerMessage, slice_answer)
    reg.register(ErrorMessage, slice_error)
    reg.register(failure, slice_failure)
    reg.register(referenceable, slice_referenceable)
    reg.register(types.MethodType, slice_callable)
    reg.register(types.FunctionType, slice_callable)
    reg.register(remote_reference, slice_remote_reference)
    return PBCodec(reg, pb_unslicers(copyables), copied_failure)
