"""A Tub serving a log port, for the browser test: ``python -m tests.logging._web_logport``.

It prints the log port's FURL (one line, flushed), then logs one event per line of its
stdin: ``LEVEL MESSAGE`` (LEVEL a number). It stops, and with it the log port, when its
stdin closes.
"""

from __future__ import annotations

import sys
from typing import Any

from twisted.internet import reactor, stdio
from twisted.protocols.basic import LineReceiver

from octavo.logging._logger import FoolscapLogger
from octavo.logging._publisher import LogPublisher
from octavo.tub import Tub


class Lines(LineReceiver):
    """Each stdin line becomes one event; the end of stdin stops the reactor."""

    delimiter = b"\n"

    def __init__(self, logger: FoolscapLogger) -> None:
        self.logger = logger

    def lineReceived(self, line: bytes) -> None:
        level, _, message = line.decode("utf-8").partition(" ")
        self.logger.msg(message, level=int(level), facility="logport.test")

    def connectionLost(self, reason: Any = None) -> None:
        reactor.stop()  # type: ignore[attr-defined]


def main() -> None:
    """Serve the log port until stdin closes."""
    logger = FoolscapLogger()
    tub = Tub()
    tub.startService()
    port = tub.listenOn("tcp:0:interface=127.0.0.1").getPortnum()
    tub.setLocation(f"127.0.0.1:{port}")
    furl = tub.registerReference(LogPublisher(logger))
    print(furl, flush=True)
    stdio.StandardIO(Lines(logger))
    reactor.run()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
    sys.exit(0)
