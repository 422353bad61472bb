"""direct_tls_writer leaves transports without a TLS layer of Twisted's alone.

That the Broker's bytes reach the far socket in the same turn is tested with real Tubs
in test_tub_calls.py."""

from __future__ import annotations

from twisted.internet.testing import StringTransport

from octavo.tub._broker._tls_write import direct_tls_writer


def test_transports_without_tls_are_left_alone() -> None:
    """Plain, fake or unknown transports keep their own write()."""
    assert direct_tls_writer(StringTransport()) is None

    class OddTLS:
        TLS = True
        protocol = object()

    assert direct_tls_writer(OddTLS()) is None
