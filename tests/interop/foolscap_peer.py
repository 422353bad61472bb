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

It also registers ``Calc`` (RIPeerCalc: ``add(a=int, b=int) -> int``, and ``lie()``
answering a str where an int is due) as ``calc``.

Only the standard library, Twisted and Foolscap are used here.
"""

from __future__ import annotations

import ast
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
    tub.registerReference(Calc(), "calc")
    stdio.StandardIO(Commands())
    reactor.run()


if __name__ == "__main__":
    main(sys.argv[1:])
