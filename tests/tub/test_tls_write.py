"""direct_tls_writer leaves transports without a TLS layer of Twisted's alone, and
sends on an idle socket without registering it for writing; its direct sender
encrypts and sends with no Twisted layer between, handing what the socket does not
take to the reactor; send_written_now puts what negotiation wrote on the socket at
once.

That the Broker's bytes reach the far socket in the same turn is tested with real Tubs
in test_tub_calls.py."""

from __future__ import annotations

import errno
from collections.abc import Callable
from typing import Any

import pytest
from OpenSSL import SSL
from twisted.internet.abstract import FileDescriptor
from twisted.internet.testing import StringTransport

from octavo.banana import FAST_PATHS_ENV
from octavo.tub._broker._openssl_calls import openssl_calls
from octavo.tub._broker._tls_write import _send_idle, _sender, direct_tls_writer
from octavo.tub._net._send_now import send_written_now

from ._tls_pair import counted, pair, plain


@pytest.fixture(autouse=True, params=["openssl-calls", "pyopenssl-methods"])
def record_calls(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test twice: records made with OpenSSL's own calls (the fast paths on),
    and with pyOpenSSL's methods (off)."""
    monkeypatch.setenv(FAST_PATHS_ENV, "1" if request.param == "openssl-calls" else "0")
    return str(request.param)


def test_transports_without_tls_are_left_alone() -> None:
    """Plain, fake or unknown transports keep their own write()."""
    assert direct_tls_writer(StringTransport()) is None

    class OddTLS:
        TLS = True
        protocol = object()

    assert direct_tls_writer(OddTLS()) is None


class Reactor:
    """Records which descriptors are registered for writing."""

    def __init__(self) -> None:
        self.writers: set[object] = set()
        self.registrations = 0

    def addWriter(self, fd: object) -> None:
        if fd not in self.writers:
            self.registrations += 1
        self.writers.add(fd)

    def removeWriter(self, fd: object) -> None:
        self.writers.discard(fd)

    def removeReader(self, fd: object) -> None:
        pass


class Socket(FileDescriptor):
    """A socket of the reactor whose kernel takes at most ``room`` bytes a send."""

    def __init__(self, room: int) -> None:
        super().__init__(reactor=Reactor())  # type: ignore[arg-type]
        self.connected = 1
        self.room = room
        self.sent: list[bytes] = []

    def writeSomeData(self, data: bytes) -> int:
        taken = bytes(data[: self.room])
        self.sent.append(taken)
        return len(taken)


def encrypting(sock: Socket) -> Callable[[object, bytes], None]:
    """Stands for TLSMemoryBIOProtocol.write: hands the bytes on to the socket."""
    return lambda tls, data: sock.write(b"<" + data + b">")


def test_an_idle_socket_sends_without_registering() -> None:
    """Everything taken at once: sent, and the socket never registered for writing."""
    sock = Socket(room=1000)
    _send_idle(sock, object(), encrypting(sock), sock.doWrite, b"hello")
    assert sock.sent == [b"<hello>"]
    assert sock.reactor.registrations == 0  # type: ignore[attr-defined]
    assert "startWriting" not in sock.__dict__


def test_bytes_left_behind_are_left_to_the_reactor() -> None:
    """A partial send registers the socket, so the reactor sends the rest."""
    sock = Socket(room=3)
    _send_idle(sock, object(), encrypting(sock), sock.doWrite, b"hello")
    assert sock.sent == [b"<he"]
    assert sock in sock.reactor.writers  # type: ignore[attr-defined]
    sock.room = 1000
    sock.doWrite()
    assert b"".join(sock.sent) == b"<hello>"


def test_a_closing_tls_layer_is_left_to_the_reactor() -> None:
    """If the TLS layer gives up while writing (loseConnection), the socket is
    registered for writing so the reactor closes it as usual."""
    sock = Socket(room=1000)

    def failing(tls: object, data: bytes) -> None:
        sock.loseConnection()

    _send_idle(sock, object(), failing, sock.doWrite, b"x")
    assert sock.disconnecting
    assert sock in sock.reactor.writers  # type: ignore[attr-defined]


def test_written_bytes_leave_now() -> None:
    """What was written goes on the socket at once; the socket is left unregistered."""
    sock = Socket(room=1000)
    sock.write(b"HTTP/1.1 101 ")
    sock.write(b"Switching Protocols")
    assert sock.reactor.writers == {sock}  # type: ignore[attr-defined]
    send_written_now(sock)
    assert sock.sent == [b"HTTP/1.1 101 Switching Protocols"]
    assert sock.reactor.writers == set()  # type: ignore[attr-defined]
    send_written_now(sock)  # nothing buffered: no send
    assert len(sock.sent) == 1


def test_what_the_socket_cannot_take_is_left_to_the_reactor() -> None:
    """A partial send keeps the socket registered, so the reactor sends the rest."""
    sock = Socket(room=4)
    sock.write(b"decision")
    send_written_now(sock)
    assert sock.sent == [b"deci"]
    assert sock.reactor.writers == {sock}  # type: ignore[attr-defined]


def test_closing_or_foreign_transports_are_left_alone() -> None:
    """A closing socket, a transport that is not a socket of the reactor, or a TLS
    layer of an unknown shape keep their bytes for the reactor."""
    sock = Socket(room=1000)
    sock.write(b"bye")
    sock.disconnecting = True
    send_written_now(sock)
    assert sock.sent == []
    fake = StringTransport()
    fake.write(b"hello")
    send_written_now(fake)
    assert fake.value() == b"hello"
    odd = Socket(room=1000)
    odd.TLS = True  # type: ignore[attr-defined]
    odd.protocol = object()  # type: ignore[attr-defined]
    odd.write(b"hello")
    send_written_now(odd)
    assert odd.sent == []


# -- the direct sender: real TLS connections over memory BIOs, a socket double --------


class TLSLayer:
    """The parts of TLSMemoryBIOProtocol the sender reads."""

    def __init__(self, conn: SSL.Connection) -> None:
        self._tlsConnection = conn
        self._handshakeDone = True
        self._appSendBuffer: list[bytes] = []
        self._lostTLSConnection = False
        self.disconnecting = False


class KernelSocket:
    """Takes at most ``room`` bytes a send, or raises ``error``."""

    def __init__(self, room: int, error: OSError | None = None) -> None:
        self.room = room
        self.error = error
        self.sent: list[bytes] = []

    def send(self, data: bytes) -> int:
        if self.error is not None:
            raise self.error
        taken = bytes(data[: self.room])
        self.sent.append(taken)
        return len(taken)


class TLSSocket(Socket):
    """A socket of the reactor with a kernel socket under it."""

    def __init__(self, kernel: KernelSocket) -> None:
        super().__init__(room=kernel.room)
        self.socket = kernel

    def writeSomeData(self, data: bytes) -> Any:
        try:
            return self.socket.send(data)
        except OSError as e:  # as tcp.Connection.writeSomeData
            return 0 if e.errno == errno.EAGAIN else e


def _sending(room: int, error: OSError | None = None) -> tuple[Any, TLSSocket, TLSLayer, Any]:
    client, server = pair()
    sock = TLSSocket(KernelSocket(room, error))
    tls = TLSLayer(client)
    send = _sender(sock, tls)
    assert send is not None
    return send, sock, tls, server


def test_the_direct_sender_encrypts_and_sends_at_once() -> None:
    """The records of the data go out in one send; the far end reads the data back;
    the socket is never registered for writing and holds nothing."""
    send, sock, _tls, server = _sending(room=1 << 20)
    for data in (b"hello", b"x" * 40_000, b"bye"):
        assert send(data) is True
        assert plain(server, sock.socket.sent[-1]) == data
    assert len(sock.socket.sent) == 3
    assert sock.reactor.registrations == 0  # type: ignore[attr-defined]
    assert not sock._tempDataLen
    assert not sock.dataBuffer


def test_what_the_socket_does_not_take_goes_to_the_reactor() -> None:
    """A partial send: the rest of the records wait in the transport, registered for
    writing; once the reactor sends them, the far end reads the whole data."""
    send, sock, _tls, server = _sending(room=10)
    assert send(b"hello, world") is True
    assert sock in sock.reactor.writers  # type: ignore[attr-defined]
    sock.socket.room = 1 << 20
    sock.doWrite()
    assert plain(server, b"".join(sock.socket.sent)) == b"hello, world"
    assert sock.reactor.writers == set()  # type: ignore[attr-defined]


@pytest.mark.parametrize("code", [errno.EAGAIN, errno.EPIPE])
def test_a_socket_error_is_left_to_the_reactor(code: int) -> None:
    """EAGAIN or a broken socket: the records wait in the transport, registered for
    writing, so the reactor sends them later or meets the error and closes."""
    send, sock, _tls, _server = _sending(room=1 << 20, error=OSError(code, "no"))
    assert send(b"hello") is True
    assert sock in sock.reactor.writers  # type: ignore[attr-defined]
    assert sock._tempDataLen > len(b"hello")
    failed = sock.doWrite()  # what the reactor does next
    if code == errno.EAGAIN:
        assert failed is None
        assert sock in sock.reactor.writers  # type: ignore[attr-defined]
    else:
        assert failed is sock.socket.error  # the reactor closes the connection on it


@pytest.mark.parametrize(
    ("name", "value"),
    [("_handshakeDone", False), ("_appSendBuffer", [b"held"]),
     ("_lostTLSConnection", True), ("disconnecting", True)],
)  # fmt: skip
def test_an_unusual_tls_state_steps_aside(name: str, value: object) -> None:
    """Mid-handshake, with application data held, lost or closing: nothing is done
    (False), and Twisted's path writes."""
    send, sock, tls, _server = _sending(room=1 << 20)
    setattr(tls, name, value)
    assert send(b"hello") is False
    assert sock.socket.sent == []
    with pytest.raises(SSL.WantReadError):  # nothing was encrypted
        tls._tlsConnection.bio_read(65536)


def test_a_tls_error_steps_aside() -> None:
    """The TLS connection refuses the data: nothing sent, Twisted's path handles it."""
    send, sock, tls, _server = _sending(room=1 << 20)
    tls._tlsConnection.shutdown()
    tls._tlsConnection.bio_read(65536)  # (the close_notify)
    assert send(b"hello") is False
    assert sock.socket.sent == []
    assert SSL._lib.ERR_peek_error() == 0  # type: ignore[attr-defined] # (pyOpenSSL took it)


def test_which_calls_make_the_records(record_calls: str) -> None:
    """With the fast paths on, an ordinary send never goes through pyOpenSSL's ``send``
    or ``bio_read``; with them off, it does. Either way the far end reads the data,
    a byte string or another buffer."""
    client, server = pair()
    used: list[str] = []
    tls_send, bio_read = client.send, client.bio_read

    client.send = counted(used, "send", tls_send)  # type: ignore[method-assign]
    client.bio_read = counted(used, "bio_read", bio_read)  # type: ignore[method-assign]
    sock = TLSSocket(KernelSocket(1 << 20))
    send = _sender(sock, TLSLayer(client))
    assert send is not None
    assert send(b"hello") is True
    assert send(bytearray(b"world")) is True  # type: ignore[arg-type]
    assert plain(server, b"".join(sock.socket.sent)) == b"helloworld"
    if record_calls == "openssl-calls":
        assert openssl_calls(client) is not None
        assert used == []
    else:
        assert openssl_calls(client) is None
        assert used == ["send", "bio_read", "send", "bio_read"]


def test_unknown_shapes_get_no_direct_sender() -> None:
    """A TLS layer without the parts read, or a transport without a socket: None."""
    client, _server = pair()
    tls = TLSLayer(client)
    del tls._appSendBuffer
    assert _sender(TLSSocket(KernelSocket(10)), tls) is None
    assert _sender(Socket(room=10), TLSLayer(client)) is None
    odd = TLSLayer(client)
    odd._tlsConnection = object()  # type: ignore[assignment]
    assert _sender(TLSSocket(KernelSocket(10)), odd) is None
