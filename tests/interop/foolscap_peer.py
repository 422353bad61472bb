"""A real Foolscap 24.9 Tub in its own process, driven by the interop tests.

Usage: ``python foolscap_peer.py [--certfile PATH] [--port N]``

It listens on 127.0.0.1, registers a ``Target`` object, prints ``FURL <furl>``
and then obeys one command per stdin line (``<id> <python-literal>``), answering
``R <id> <repr(result)>`` or ``E <id> <failure text>``:

- ``["call", furl, method, args]``: getReference(furl).callRemote(method, *args)
- ``["call_with_target", furl, method, args]``: the same, passing our Target
  object as the first argument
- ``["call_result", furl, method, args, method2, args2]``: call, then call
  ``method2`` on the reference that came back
- ``["iface", furl]``: getReference(furl); answer the interface name it announced
- ``["call_schema", furl, method, args, use_schema]``: callRemote with ``_useSchema``
- ``["stop"]``: stop the Tub and exit.
- gifts (third-party references): ``gift_give``, ``gift_count`` and the published
  ``gift-target``, described in the gifts block below.

A ``CopyTarget`` (Copyables, SturdyRefs, failure names) is registered as
``copytarget`` at the same location (see its block below).

It also registers ``Calc`` (RIPeerCalc: ``add(a=int, b=int) -> int``, and ``lie()``
answering a str where an int is due) as ``calc``.

Only the standard library, Twisted and Foolscap are used here.
"""

from __future__ import annotations

import ast
import gc
import os
import sys

from foolscap.api import Referenceable, RemoteInterface, Tub
from twisted.internet import defer, reactor, stdio
from twisted.protocols.basic import LineReceiver
from zope.interface import implementer


def literal(text):
    """ast.literal_eval, plus ``frozenset({...})`` (which repr produces)."""
    tree = ast.parse(text, mode="eval").body

    def conv(node):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "frozenset"
            and len(node.args) <= 1
            and not node.keywords
        ):
            return frozenset(conv(node.args[0]) if node.args else ())
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            items = [conv(e) for e in node.elts]
            return {ast.List: list, ast.Tuple: tuple, ast.Set: set}[type(node)](items)
        if isinstance(node, ast.Dict):
            return {conv(k): conv(v) for k, v in zip(node.keys, node.values, strict=True)}
        return ast.literal_eval(node)

    return conv(tree)


class Child(Referenceable):
    def __init__(self, name):
        self.name = name

    def remote_name(self):
        return self.name


class RIPeerCalc(RemoteInterface):
    __remote_name__ = "RIPeerCalc.octavo-interop.example"

    def add(a=int, b=int):  # noqa: N805 - Foolscap's spelling
        return int

    def lie():
        return int


@implementer(RIPeerCalc)
class Calc(Referenceable):
    def remote_add(self, a, b):
        return a + b

    def remote_lie(self):
        return "not an int"


class Target(Referenceable):
    def __init__(self):
        self.held = []

    def remote_echo(self, x):
        return x

    def remote_add(self, a, b=0):
        return a + b

    def remote_fail(self, msg):
        raise ValueError(msg)

    def remote_fail_key(self, msg):
        raise KeyError(msg)

    def remote_callback(self, ref, value):
        return ref.callRemote("got", value)

    def remote_make_child(self, name):
        return Child(name)

    def remote_hang(self):
        d = defer.Deferred()
        self.held.append(d)
        return d

    def remote_big(self, n):
        return b"x" * n

    def remote_exit(self):
        reactor.callLater(0.05, os._exit, 3)
        return defer.Deferred()

    def remote_tubid(self):
        return tub.getTubID()


# ======================================================================= gifts
# Third-party references (their-reference / decgift): this Tub as giver, receiver or
# host. The GiftTarget is published as ".../gift-target" (the FURL of ``target`` with
# its name replaced); the commands:
#
# - ``["gift_give", to_furl, method, args, host_furl, host_method, host_args]``:
#   get a reference R to ``host_furl`` (or, if ``host_method`` is not None, the
#   reference that ``R.callRemote(host_method, *host_args)`` returns), drop every other
#   local hold on it, and call ``to_furl``'s ``method(R, *args)``.
# - ``["gift_count"]``: gifts this Tub sent and still holds (not yet decgift'ed).


class GiftTarget(Referenceable):
    """Receives gifts and uses them (this Tub as receiver B)."""

    def __init__(self):
        self.kept = []

    def remote_use(self, ref, method, args):
        return ref.callRemote(method, *args)

    def remote_keep(self, ref):
        self.kept.append(ref)
        return type(ref).__name__

    def remote_call_kept(self, index, method, args):
        return self.kept[index].callRemote(method, *args)

    def remote_drop_kept(self):
        self.kept = []
        gc.collect()  # proxies caught in Deferred cycles are freed (and decref'd) now
        return True

    def remote_child(self, name):
        return Child(name)


def gift_give(to_furl, method, args, host_furl, *host_call):
    holder = {}

    def got_host(rref):
        if not host_call or host_call[0] is None:
            return rref
        host_method, host_args = host_call
        return rref.callRemote(host_method, *host_args)

    d = tub.getReference(host_furl)
    d.addCallback(got_host)
    d.addCallback(lambda gift: holder.update(gift=gift))
    d.addCallback(lambda _: tub.getReference(to_furl))
    d.addCallback(lambda to: to.callRemote(method, holder.pop("gift"), *args))
    return d


def gift_count():
    return sum(len(b.myGifts) for b in tub.brokers.values())


GIFT_COMMANDS = {"gift_give": gift_give, "gift_count": gift_count}

# =================================================================== end of gifts


class Commands(LineReceiver):
    delimiter = b"\n"
    MAX_LENGTH = 1 << 26

    def connectionMade(self):
        self.transport.write(b"FURL " + FURL.encode() + b"\n")

    def lineReceived(self, line):
        ident, _, body = line.decode().partition(" ")
        cmd = literal(body)
        if cmd[0] == "stop":
            d = tub.stopService()
            d.addBoth(lambda _: reactor.stop())
            return
        if cmd[0] in GIFT_COMMANDS:
            d = defer.maybeDeferred(GIFT_COMMANDS[cmd[0]], *cmd[1:])
            d.addCallbacks(
                lambda res: self.answer("R", ident, repr(res)),
                lambda f: self.answer("E", ident, f"{f.type.__name__}: {f.getErrorMessage()}"),
            )
            return
        if cmd[0] in ("iface", "call_schema"):
            self.schema_command(ident, cmd)
            return
        kind, furl, method, args = cmd[:4]
        if kind == "call_with_target":
            args = [TARGET, *args]
        d = tub.getReference(furl)
        d.addCallback(lambda rref: rref.callRemote(method, *args))
        if kind == "call_result":
            method2, args2 = cmd[4], cmd[5]
            d.addCallback(lambda rref: rref.callRemote(method2, *args2))
        d.addCallbacks(
            lambda res: self.answer("R", ident, repr(res)),
            lambda f: self.answer("E", ident, f"{f.type.__name__}: {f.getErrorMessage()}"),
        )

    def schema_command(self, ident, cmd):
        d = tub.getReference(cmd[1])
        if cmd[0] == "iface":
            d.addCallback(lambda rref: rref.tracker.interfaceName)
        else:
            method, args, use_schema = cmd[2:5]
            d.addCallback(lambda rref: rref.callRemote(method, *args, _useSchema=use_schema))
        d.addCallbacks(
            lambda res: self.answer("R", ident, repr(res)),
            lambda f: self.answer("E", ident, f"{f.type}: {f.getErrorMessage()}"),
        )

    def answer(self, kind, ident, text):
        self.transport.write(f"{kind} {ident} {text}".replace("\n", " ").encode() + b"\n")


# ==== Copyables and failure names (branch copyable) ==================================
# A second object, registered as "copytarget" next to the Target (its FURL is the
# Target's with the last segment replaced), for the tests of
# tests/interop/test_copyable_interop.py.

from foolscap.api import Copyable, RemoteCopy  # noqa: E402
from foolscap.copyable import AttributeDictConstraint  # noqa: E402
from foolscap.ipb import DeadReferenceError  # noqa: E402
from foolscap.referenceable import SturdyRef  # noqa: E402
from foolscap.tokens import BananaError, RemoteException, Violation  # noqa: E402

SHARED_ERRORS = {
    "Violation": Violation,
    "BananaError": BananaError,
    "RemoteException": RemoteException,
    "DeadReferenceError": DeadReferenceError,
}


class Card(Copyable):
    typeToCopy = "interop.Card"

    def __init__(self, rank, suit):
        self.rank = rank
        self.suit = suit


class RemoteCard(RemoteCopy):
    copytype = "interop.Card"
    stateSchema = AttributeDictConstraint(("rank", int), ("suit", str))


class Stranger(Copyable):
    typeToCopy = "interop.NobodyKnowsMe"


def describe(obj):
    if isinstance(obj, RemoteCard):
        return ["RemoteCard", obj.rank, obj.suit]
    return [type(obj).__name__]


def error_report(f):
    """A failure as the tests see it: its type, the start of its traceback text, and
    which of the shared error classes it matches."""
    head = getattr(f, "traceback", "")[:21]
    return ["failure", f.type.__module__ + "." + f.type.__name__, head] + [
        name for name, cls in sorted(SHARED_ERRORS.items()) if f.check(cls)
    ]


class CopyTarget(Referenceable):
    def remote_describe(self, card):
        return describe(card)

    def remote_deal(self, rank):
        return Card(rank, "clubs")

    def remote_stranger(self):
        return Stranger()

    def remote_sturdy(self, furl):
        return SturdyRef(furl)

    def remote_check_sturdy(self, ref):
        return [type(ref).__name__, ref.getURL(), ref.getTubRef().getTubID()]

    def remote_raise(self, name):
        raise SHARED_ERRORS[name]("foolscap raised " + name)

    def remote_exchange(self, taker, rank, suit):
        """Send a Card to the caller's ``take``; describe what comes back."""
        d = taker.callRemote("take", Card(rank, suit))
        d.addCallbacks(describe, error_report)
        return d

    def remote_call_and_report(self, ref, method, *args):
        """Call ``method`` on the caller's object; report the result or its failure."""
        d = ref.callRemote(method, *args)
        d.addCallbacks(lambda res: ["result", res], error_report)
        return d


def setup_copyables(tub):
    tub.registerReference(CopyTarget(), "copytarget")


# ==== end of the Copyables block =======================================================


def main(argv):
    global tub, FURL, TARGET  # noqa: PLW0603 (a one-shot script)
    certfile = argv[argv.index("--certfile") + 1] if "--certfile" in argv else None
    port = argv[argv.index("--port") + 1] if "--port" in argv else "0"
    tub = Tub(certFile=certfile) if certfile else Tub()
    tub.setOption("expose-remote-exception-types", True)
    tub.startService()
    listener = tub.listenOn(f"tcp:{port}:interface=127.0.0.1")
    tub.setLocation(f"127.0.0.1:{listener.getPortnum()}")
    TARGET = Target()
    FURL = tub.registerReference(TARGET, "target")
    tub.registerReference(GiftTarget(), "gift-target")  # the gifts block
    setup_copyables(tub)
    tub.registerReference(Calc(), "calc")
    stdio.StandardIO(Commands())
    reactor.run()


if __name__ == "__main__":
    main(sys.argv[1:])
