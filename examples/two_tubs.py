"""Two Tubs calling each other over loopback TLS: what Octavo is for.

A server Tub publishes a Referenceable under an unguessable FURL; a client Tub turns
the FURL into a RemoteReference (TLS, and the server's certificate checked against the
TubID in the FURL) and calls it. The client passes one of its own objects along, and the
server calls back through it. Everything stops by itself within a few seconds.

Run it with octavo-tub installed: ``python examples/two_tubs.py`` (``python3 dev.py
demo`` installs it into ``.venv/`` and runs this).
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer, task

from octavo.tub import Referenceable, RemoteException, Tub


class Calculator(Referenceable):  # type: ignore[misc]
    """The server's object: methods named remote_* can be called from other Tubs."""

    def remote_add(self, a: int, b: int) -> int:
        return a + b

    def remote_describe(self, value: Any) -> str:
        return f"the server got {type(value).__name__} {value!r}"

    def remote_notify(self, listener: Any, text: str) -> Any:
        # listener is a RemoteReference to an object of the client: call it back
        return listener.callRemote("hear", text.upper())


class Listener(Referenceable):  # type: ignore[misc]
    """The client's object, sent to the server as an argument."""

    def remote_hear(self, text: str) -> str:
        print(f"  client's Listener heard: {text!r}")
        return "thanks"


async def run(reactor: Any) -> None:
    server = Tub()
    server.startService()
    port = server.listenOn("tcp:0:interface=127.0.0.1").getPortnum()
    server.setLocation(f"127.0.0.1:{port}")
    furl = server.registerReference(Calculator(), "calculator")
    print(f"server Tub {server.getShortTubID()} published:\n  {furl}")

    client = Tub()
    client.startService()
    try:
        calc = await client.getReference(furl)
        print(f"client Tub {client.getShortTubID()} connected; calling over TLS:")
        print("  add(2, 3) ->", await calc.callRemote("add", 2, 3))
        print("  add(a=40, b=2) ->", await calc.callRemote("add", a=40, b=2))
        value = {"list": [1, 2.5, None], "bytes": b"\x00\xff", "tuple": ("x", True)}
        print("  describe(...) ->", await calc.callRemote("describe", value))
        print("  notify(Listener(), 'hello') ->", end=" ", flush=True)
        print(repr(await calc.callRemote("notify", Listener(), "hello")))
        try:
            await calc.callRemote("divide", 1, 0)
        except RemoteException as e:  # the far end's failure, as a CopiedFailure
            remote = e.failure
            print(f"  divide(1, 0) -> {remote.type_name}: {remote.getErrorMessage()[:60]}")
    finally:
        await defer.gatherResults([client.stopService(), server.stopService()])
    print("both Tubs stopped.")


def main() -> None:
    task.react(lambda reactor: defer.ensureDeferred(run(reactor)))


if __name__ == "__main__":
    main()
