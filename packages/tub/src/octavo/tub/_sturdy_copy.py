"""``SturdyRef`` by value: Foolscap's ``foolscap.SturdyRef`` copytype.

A SturdyRef (or any FURL) is sent as Foolscap sends its ``SturdyRef``: copytype
``foolscap.SturdyRef`` and the attributes ``locationHints``, ``url``, ``tubID`` and
``name`` (text). It arrives as an :class:`octavo.furl.SturdyRef` parsed from ``url``
alone (the other attributes are checked for shape, never trusted); a malformed FURL
is a Violation of the call carrying it.
"""

from __future__ import annotations

from typing import Any

from octavo.banana import ListOf, Optional, UnicodeConstraint, Violation
from octavo.furl import FURL, BadFURLError, SturdyRef

from ._copy_registry import registerCopier, registerRemoteCopyFactory
from ._copy_schema import AttributeDictConstraint
from ._wire._reference_sequences import MAX_URL

__all__ = ["STURDYREF_COPYTYPE", "STURDYREF_SCHEMA"]

STURDYREF_COPYTYPE = "foolscap.SturdyRef"

#: what a SturdyRef's state may hold (the url is the only attribute used)
STURDYREF_SCHEMA = AttributeDictConstraint(
    ("url", UnicodeConstraint(MAX_URL)),
    ("locationHints", Optional(ListOf(UnicodeConstraint(MAX_URL), maxLength=1000))),
    ("tubID", Optional(UnicodeConstraint(1000))),
    ("name", Optional(UnicodeConstraint(MAX_URL))),
)


def _sturdy_state(furl: FURL) -> tuple[str, dict[str, Any]]:
    # the attribute order of Foolscap's SturdyRef.__dict__
    return STURDYREF_COPYTYPE, {
        "locationHints": furl.locationHints,
        "url": str(furl),
        "tubID": furl.tubid,
        "name": furl.name,
    }


def _make_sturdy(state: dict[str, Any]) -> SturdyRef:
    try:
        return SturdyRef(state["url"])
    except (BadFURLError, ValueError) as e:
        raise Violation(f"bad SturdyRef url: {e}") from None


registerCopier(FURL, _sturdy_state)
registerRemoteCopyFactory(STURDYREF_COPYTYPE, _make_sturdy, STURDYREF_SCHEMA)
