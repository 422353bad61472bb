"""An echo service: the smallest Octavo server and client, in one program.

A server Tub publishes an ``Echo`` under a FURL; a client Tub gets a reference from
the FURL and sends values of each kind Foolscap carries, which come back equal. The
interface is declared with annotations, so ``rref.call(RIEcho.echo, ...)`` is checked
by mypy and the schema (``Any`` here: every value is welcome) at run time. All on
127.0.0.1; it stops by itself. Run it: ``python examples/echo.py``.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

from twisted.internet import defer, task
from zope.interface import implementer  # type: ignore[import-untyped,unused-ignore]

from octavo.tub import Referenceable, RemoteInterface, Tub


class RIEcho(RemoteInterface):
    """What the echo service offers (the declarations are the schema; see README)."""

    __remote_name__ = "RIEcho.examples.octavo"

    @abstractmethod
    def echo(self, value: Any) -> Any:
        """The value, sent back."""


@implementer(RIEcho)
class Echo(Referenceable):
    """The server's object: counts what it echoes."""

    def __init__(self) -> None:
        self.echoed = 0

    def remote_echo(self, value: Any) -> Any:
        self.echoed += 1
        return value


async def run(reactor: object) -> None:
    server, client = Tub(), Tub()
    for t in (server, client):
        t.startService()
    try:
        port = server.listenOn("tcp:0:interface=127.0.0.1").getPortnum()
        server.setLocation(f"127.0.0.1:{port}")
        echo = Echo()
        furl = server.registerReference(echo, "echo")
        print("echo service at", furl.split("@")[1])
        rref = await client.getReference(furl)
        values: list[Any] = [
            "text \N{SNOWMAN}",
            b"\x00bytes\xff",
            42,
            2**70,
            -1.5,
            None,
            True,
            [1, [2, 3]],
            (1, "two"),
            {"key": [b"value"]},
            {1, 2, 3},
        ]
        for value in values:
            back = await rref.call(RIEcho.echo, value)
            print(
                f"  {type(value).__name__:<8} {back!r}  {'same' if back == value else 'DIFFERENT'}"
            )
        print(f"the server echoed {echo.echoed} values")
    finally:
        await defer.gatherResults([client.stopService(), server.stopService()])


if __name__ == "__main__":
    # the whole demo takes a few seconds; a bound in case something hangs
    task.react(lambda reactor: defer.ensureDeferred(run(reactor)).addTimeout(60, reactor))
