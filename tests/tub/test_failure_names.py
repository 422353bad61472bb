"""Shared error classes travel under Foolscap's names and match either way."""

from __future__ import annotations

import pytest
from twisted.python.failure import Failure

from octavo.tub import (
    BananaError,
    CopiedFailure,
    DeadReferenceError,
    RemoteException,
    UnknownMethodError,
    Violation,
)
from octavo.tub._broker._failure import failure_state
from octavo.tub._failure_names import FOOLSCAP_NAMES, wire_name


def _failure(exc: Exception) -> Failure:
    try:
        raise exc
    except Exception:
        return Failure()


@pytest.mark.parametrize(
    ("exc", "name"),
    [
        (Violation("no"), b"foolscap.tokens.Violation"),
        (BananaError("bad"), b"foolscap.tokens.BananaError"),
        (DeadReferenceError("gone"), b"foolscap.ipb.DeadReferenceError"),
        (RemoteException(None), b"foolscap.tokens.RemoteException"),
        (KeyError("k"), b"builtins.KeyError"),
    ],
)
def test_shared_errors_are_sent_under_foolscaps_names(exc: Exception, name: bytes) -> None:
    """The type and the parents of a shared error carry Foolscap's qualified names."""
    state = failure_state(_failure(exc), unsafe_tracebacks=False)
    assert state["type"] == name
    assert state["parents"][0] == name
    assert b"octavo" not in b"".join(state["parents"])


def test_a_subclass_keeps_its_own_name_and_maps_its_bases() -> None:
    """A class of ours not in the table keeps its name; its shared bases are mapped."""

    class Mine(Violation):
        pass

    state = failure_state(_failure(Mine("x")), unsafe_tracebacks=False)
    assert state["type"].endswith(b"Mine")
    assert b"foolscap.tokens.Violation" in state["parents"]


@pytest.mark.parametrize("cls", sorted(FOOLSCAP_NAMES, key=lambda c: c.__name__))
def test_copied_failure_with_foolscaps_name_checks_as_ours(cls: type[Exception]) -> None:
    """A failure copied from Foolscap matches our class, by class or by either name."""
    name = FOOLSCAP_NAMES[cls]
    f = CopiedFailure(name, "v", "", [name, "builtins.Exception", "builtins.BaseException"])
    assert f.check(cls) is cls
    assert f.check(name) == name
    assert f.check(KeyError, cls) is cls
    assert f.check(Exception) is Exception
    assert f.trap(cls) is cls


def test_copied_failure_with_our_old_names_checks_as_foolscaps() -> None:
    """A failure named with Octavo's own qualified names matches Foolscap's names too."""
    ours = wire_name.__module__  # any name not in the table stays as it is
    assert wire_name(ours) == ours
    qual = f"{Violation.__module__}.{Violation.__qualname__}"
    f = CopiedFailure(qual, "v", "", [qual, "builtins.Exception"])
    assert f.check("foolscap.tokens.Violation") == "foolscap.tokens.Violation"
    assert f.check(Violation) is Violation


def test_check_refuses_what_does_not_match() -> None:
    """Unrelated classes and names do not match; a refused trap re-raises."""
    f = CopiedFailure("foolscap.tokens.Violation", "v", "", ["foolscap.tokens.Violation"])
    assert f.check(BananaError, KeyError, "foolscap.tokens.BananaError") is None
    assert f.check(UnknownMethodError) is None
    with pytest.raises(RemoteException):
        f.trap(KeyError)
