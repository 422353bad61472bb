"""The direct TLS reader of cork_tls_reads: a read's records decrypted straight to
the Broker over TLS 1.3, in one piece, everything unusual left to Twisted's path, and the writer
corked around the whole read either way. Real pyOpenSSL connections over memory
BIOs; the TLS layer is a stand-in with the parts the reader looks at."""

from __future__ import annotations

from typing import Any

import pytest
from OpenSSL import SSL
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.protocols.tls import TLSMemoryBIOProtocol

from octavo.banana import FAST_PATHS_ENV
from octavo.tub._broker._openssl_calls import openssl_calls
from octavo.tub._broker._tls_read import _receiver, cork_tls_reads
from octavo.tub._broker._writer import CorkedWriter

from ._tls_pair import counted, pair, records


@pytest.fixture(autouse=True, params=["openssl-calls", "pyopenssl-methods"])
def decrypting(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test twice: records read with OpenSSL's own calls (the fast paths on),
    and with pyOpenSSL's methods (off)."""
    monkeypatch.setenv(FAST_PATHS_ENV, "1" if request.param == "openssl-calls" else "0")
    return str(request.param)


class TLSLayer(TLSMemoryBIOProtocol):
    """A TLS layer in its connected state; Twisted's own reading is recorded."""

    def __init__(self, conn: SSL.Connection) -> None:  # no transport machinery
        self._tlsConnection = conn
        self._handshakeDone = True
        self._appSendBuffer: list[bytes] = []
        self._lostTLSConnection = False
        self._aborted = False
        self.twisted_reads: list[bytes] = []
        self.flushed = 0

    def dataReceived(self, data: bytes) -> None:
        self.twisted_reads.append(data)

    def _flushReceiveBIO(self) -> None:
        self.flushed += 1


class Transport:
    """What cork_tls_reads looks for: a TLS transport and its protocol."""

    TLS = True

    def __init__(self, tls: TLSLayer) -> None:
        self.protocol = tls


def reading(version: int | None = None) -> tuple[Any, TLSLayer, SSL.Connection, list[bytes]]:
    """A receiver over a fresh pair: (receive, the TLS layer, the far end, delivered)."""
    client, server = pair(version)
    tls = TLSLayer(server)
    got: list[bytes] = []
    receive = _receiver(tls, got.append)
    return receive, tls, client, got


def test_records_of_a_read_go_straight_to_the_broker_in_one_piece() -> None:
    """Four records (20,000 bytes take two) in two reads, the last record cut: the
    whole records of each read are delivered together, in order, and Twisted's path is
    never used."""
    receive, tls, far, got = reading()
    data = records(far, b"one", b"two", b"x" * 20_000)
    assert receive(data[:-100]) is True
    assert got == [b"onetwo" + b"x" * 16_384]  # (a record holds at most 16 KiB)
    assert receive(data[-100:]) is True
    assert got[1:] == [b"x" * (20_000 - 16_384)]
    assert tls.twisted_reads == []
    assert tls.flushed == 0


def test_a_message_cut_at_a_records_end_arrives_whole() -> None:
    """What one write sent in several records reaches the Broker as one piece, so a
    message across a record boundary is whole for the fast decoder."""
    receive, tls, far, got = reading()
    message = bytes(range(256)) * 200  # 51,200 bytes: four records
    far.sendall(message)
    assert receive(far.bio_read(1 << 17)) is True
    assert got == [message]
    assert tls.twisted_reads == []


def test_a_close_notify_is_left_to_twisted() -> None:
    """The records before it are delivered; the close_notify goes to Twisted's reading
    of the BIO, which shuts the connection down."""
    receive, tls, far, got = reading()
    far.sendall(b"last")
    far.shutdown()
    assert receive(far.bio_read(65536)) is True
    assert got == [b"last"]
    assert tls.flushed == 1


def test_a_tls_error_is_left_to_twisted() -> None:
    """A corrupted record: nothing delivered, Twisted's reading meets the error."""
    receive, tls, far, got = reading()
    data = bytearray(records(far, b"hello"))
    data[-1] ^= 0xFF
    assert receive(bytes(data)) is True
    assert got == []
    assert tls.flushed == 1
    assert SSL._lib.ERR_peek_error() == 0  # type: ignore[attr-defined] # (pyOpenSSL took it)


@pytest.mark.parametrize(
    ("name", "value"),
    [("_handshakeDone", False), ("_appSendBuffer", [b"held"]),
     ("_lostTLSConnection", True), ("_aborted", True)],
)  # fmt: skip
def test_an_unusual_tls_state_steps_aside(name: str, value: object) -> None:
    """Mid-handshake, with data held, lost or aborted: False, nothing read."""
    receive, tls, far, got = reading()
    setattr(tls, name, value)
    assert receive(records(far, b"hello")) is False
    assert got == []


def test_which_calls_read_the_records(decrypting: str) -> None:
    """With the fast paths on, an ordinary read never goes through pyOpenSSL's
    ``bio_write`` or ``recv`` (so no exception ends it); with them off, it does."""
    client, server = pair()
    used: list[str] = []
    bio_write, recv = server.bio_write, server.recv

    server.bio_write = counted(used, "bio_write", bio_write)  # type: ignore[method-assign]
    server.recv = counted(used, "recv", recv)  # type: ignore[method-assign]
    got: list[bytes] = []
    receive = _receiver(TLSLayer(server), got.append)
    assert receive is not None
    assert receive(records(client, b"one", b"two")) is True
    assert got == [b"onetwo"]
    if decrypting == "openssl-calls":
        assert openssl_calls(server) is not None
        assert used == []
    else:
        assert openssl_calls(server) is None
        assert used == ["bio_write", "recv", "recv", "recv"]  # the last one: WantReadError


def test_a_lost_connection_stops_the_reading() -> None:
    """The Broker's delivery loses the TLS connection: the close_notify after the
    records is not acted on here (the connection is going), and a later read is
    left alone."""
    client, server = pair()
    tls = TLSLayer(server)
    got: list[bytes] = []

    def deliver(data: bytes) -> None:
        got.append(data)
        tls._aborted = True

    receive = _receiver(tls, deliver)
    assert receive is not None
    client.sendall(b"one")
    client.sendall(b"two")
    client.shutdown()
    assert receive(client.bio_read(65536)) is True
    assert got == [b"onetwo"]
    assert tls.flushed == 0
    assert receive(b"\x17\x03\x03") is False  # (whatever comes: not read here)
    assert got == [b"onetwo"]


def test_only_tls_1_3_and_known_shapes_are_read_directly() -> None:
    """TLS 1.2 (where a read may start a renegotiation that must leave at once) and a
    layer without the parts read get no direct reader."""
    _, server = pair(SSL.TLS1_2_VERSION)
    assert _receiver(TLSLayer(server), print) is None
    assert _receiver(object(), print) is None
    odd = TLSLayer(server)
    odd._tlsConnection = object()  # type: ignore[assignment]
    assert _receiver(odd, print) is None


def test_the_writer_is_corked_around_a_direct_read() -> None:
    """Writes made while the records are delivered leave together at the read's end."""
    client, server = pair()
    tls = TLSLayer(server)
    writer = CorkedWriter(Clock())
    out = StringTransport()
    writer.attach(out)
    corked: list[bool] = []

    def deliver(data: bytes) -> None:
        corked.append(writer.corked)
        writer.write(b"answer to " + data)

    assert cork_tls_reads(Transport(tls), writer, deliver)
    tls.dataReceived(records(client, b"one", b"two"))
    assert corked == [True]  # (the read's records in one piece)
    assert out.value() == b"answer to onetwo"
    assert tls.twisted_reads == []
