"""direct_tls_writer leaves transports without a TLS layer of Twisted's alone, and
sends on an idle socket without registering it for writing; send_written_now puts
what negotiation wrote on the socket at once.

That the Broker's bytes reach the far socket in the same turn is tested with real Tubs
in test_tub_calls.py."""

from __future__ import annotations

from collections.abc import Callable

from twisted.internet.abstract import FileDescriptor
from twisted.internet.testing import StringTransport

from octavo.tub._broker._tls_write import _send_idle, direct_tls_writer
from octavo.tub._net._send_now import send_written_now


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
