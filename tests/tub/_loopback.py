"""A test-case mixin for Tubs that listen on loopback and stop with the test."""

from __future__ import annotations

from typing import Any

from octavo.tub._tub import Tub


class LoopbackTubs:
    """``make_tub(cert)``: a started Tub listening on 127.0.0.1, stopped at cleanup."""

    addCleanup: Any  # (from the TestCase this is mixed into)

    def make_tub(self, cert: bytes) -> Tub:
        t = Tub(certData=cert)
        t.startService()
        self.addCleanup(t.stopService)
        port = t.listenOn("tcp:0:interface=127.0.0.1").getPortnum()
        t.setLocation(f"127.0.0.1:{port}")
        return t
