"""A bare Twisted TLS echo: the ceiling shown beside every RPC figure.

Both ends present a self-signed RSA-2048 certificate of the kind Tubs use, and TLS 1.3
is required. Frames are ``mode (1 byte) + length (4 bytes, big-endian) + payload``. The
server answers an ``E`` frame with the same frame (an echo: a small call and its answer)
and an ``A`` frame with an empty ``A`` frame (an upload and a short acknowledgement: a
call carrying a big argument and its small answer).
"""

from __future__ import annotations

import struct
from collections import deque
from typing import Any, cast

from OpenSSL import SSL
from twisted.internet import defer, protocol
from twisted.internet.interfaces import IHandshakeListener
from twisted.internet.ssl import CertificateOptions, PrivateCertificate, TLSVersion
from zope.interface import implementer  # type: ignore[import-untyped]

HEADER = struct.Struct(">cI")
MAX_FRAME = 16 * 1024 * 1024


def tls_options(cert_pem: str) -> CertificateOptions:
    """TLS 1.3 options presenting ``cert_pem``'s certificate and asking for the peer's."""
    pair = PrivateCertificate.loadPEM(cert_pem.encode("ascii"))  # type: ignore[no-untyped-call]
    options = CertificateOptions(
        privateKey=pair.privateKey.original,
        certificate=pair.original,
        raiseMinimumTo=TLSVersion.TLSv1_3,
    )
    ctx = options.getContext()
    # Ask for the peer's certificate and accept a self-signed one, as Tubs do.
    ctx.set_verify(SSL.VERIFY_PEER | SSL.VERIFY_CLIENT_ONCE, lambda *_: True)
    return options


class _Framer:
    """Splits a byte stream into (mode, payload) frames, joining each frame's pieces once."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._have = 0
        self._need = HEADER.size
        self._header: tuple[bytes, int] | None = None

    def feed(self, data: bytes) -> list[tuple[bytes, bytes]]:
        self._chunks.append(data)
        self._have += len(data)
        frames: list[tuple[bytes, bytes]] = []
        while self._have >= self._need:
            buf = b"".join(self._chunks)  # no copy when there is one piece
            if self._header is None:
                mode, length = HEADER.unpack_from(buf)
                if length > MAX_FRAME:
                    raise ValueError(f"echo frame of {length} bytes exceeds {MAX_FRAME}")
                self._header = (mode, length)
                self._need = length
                rest = buf[HEADER.size :]
            else:
                mode, length = self._header
                frames.append((mode, buf[:length]))
                self._header = None
                self._need = HEADER.size
                rest = buf[length:]
            self._chunks = [rest] if rest else []
            self._have = len(rest)
        return frames


class EchoServer(protocol.Protocol):
    """Answers each ``E`` frame with itself and each ``A`` frame with an empty ``A``."""

    def connectionMade(self) -> None:
        self._framer = _Framer()
        self._out: Any = cast(Any, self.transport)
        self._out.setTcpNoDelay(True)  # as Foolscap's Banana does

    def dataReceived(self, data: bytes) -> None:
        for mode, payload in self._framer.feed(data):
            if mode == b"E":
                self._out.write(HEADER.pack(mode, len(payload)) + payload)
            else:
                self._out.write(HEADER.pack(b"A", 0))


@implementer(IHandshakeListener)
class EchoClient(protocol.Protocol):
    """Sends frames and fires one Deferred per answer, in order."""

    def __init__(self) -> None:
        self._framer = _Framer()
        self._waiting: deque[defer.Deferred[bytes]] = deque()
        self.handshake: defer.Deferred[None] = defer.Deferred()

    def connectionMade(self) -> None:
        self._out: Any = cast(Any, self.transport)
        self._out.setTcpNoDelay(True)  # as Foolscap's Banana does

    def handshakeCompleted(self) -> None:
        self.handshake.callback(None)

    def request(self, mode: bytes, payload: bytes) -> defer.Deferred[bytes]:
        """Send one frame; the Deferred fires with the answer's payload."""
        d: defer.Deferred[bytes] = defer.Deferred()
        self._waiting.append(d)
        header = HEADER.pack(mode, len(payload))
        if len(payload) > 65536:  # big: no copy; small: one TLS record, as Banana sends
            self._out.write(header)
            self._out.write(payload)
        else:
            self._out.write(header + payload)
        return d

    def dataReceived(self, data: bytes) -> None:
        for _mode, payload in self._framer.feed(data):
            self._waiting.popleft().callback(payload)

    def close(self) -> None:
        """Close the connection."""
        self._out.loseConnection()

    def connectionLost(self, reason: Any = None) -> None:
        while self._waiting:
            self._waiting.popleft().errback(ConnectionError("echo connection lost"))
