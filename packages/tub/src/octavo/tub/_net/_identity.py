"""A Tub's identity: its self-signed certificate, private key and TubID.

The TubID is the lower-case, unpadded RFC 4648 base32 encoding of the SHA-1
digest of the DER-encoded certificate, which is how Foolscap derives it, so a
certificate written by Foolscap loads here with the same TubID and vice versa.
Certificates are self-signed with SHA-256 under the common name ``newpb_thingy``, as
Foolscap makes them. A new Tub's key is ECDSA on P-256 (Foolscap makes RSA-2048 keys):
both ends' TLS handshake work is half that of RSA-2048 (~1.4 ms against ~2.7 ms for a
fresh key, measured with pyOpenSSL's memory BIOs), the first signature with a freshly
loaded key costs no more than later ones (RSA's ~0.5 ms against ~0.25 ms), and Foolscap
24.9 loads, presents and accepts such certificates (TLS checks the signature whatever
the key type; the TubID is the certificate's digest). RSA keys (Foolscap's, or
``create_certificate(key_type="rsa")``) and EC keys on P-256, P-384 or P-521 load.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import functools
import hashlib
import os
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import NameOID
from OpenSSL import SSL, crypto
from twisted.internet.interfaces import (
    IOpenSSLClientConnectionCreator,
    IOpenSSLServerConnectionCreator,
)
from twisted.internet.ssl import CertificateOptions
from zope.interface import implementer  # type: ignore[import-untyped,unused-ignore]

from octavo.tub._errors import CertificateError

__all__ = [
    "TubIdentity",
    "TubKey",
    "TubTLS",
    "base32_encode",
    "create_certificate",
    "make_incarnation",
    "peer_tubid",
    "shared_tls_context",
    "tubid_from_der",
    "write_private_file",
]

_COMMON_NAME = "newpb_thingy"
_VALIDITY = datetime.timedelta(days=365)
_RSA_KEY_SIZE = 2048
#: the curves whose keys a Tub's certificate may hold
_CURVES = (ec.SECP256R1, ec.SECP384R1, ec.SECP521R1)

#: what a Tub's private key may be
TubKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

# OpenSSL verification results that are acceptable for a self-signed peer:
# only the signature matters, since the TubID pins the certificate itself.
_X509_V_OK = 0
_X509_V_ERR_CERT_NOT_YET_VALID = 9
_X509_V_ERR_CERT_HAS_EXPIRED = 10
_X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT = 18
_X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN = 19
_ACCEPTABLE_VERIFY_ERRORS = frozenset(
    {
        _X509_V_OK,
        _X509_V_ERR_CERT_NOT_YET_VALID,
        _X509_V_ERR_CERT_HAS_EXPIRED,
        _X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT,
        _X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN,
    }
)


def base32_encode(data: bytes) -> str:
    """Encode bytes as Foolscap does: RFC 4648 base32, lower case, no padding."""
    return base64.b32encode(data).decode("ascii").lower().rstrip("=")


def tubid_from_der(der: bytes) -> str:
    """Return the TubID naming the DER-encoded certificate ``der``."""
    return base32_encode(hashlib.sha1(der).digest())  # SHA-1: the wire format


def make_incarnation(urandom: Callable[[int], bytes] = os.urandom) -> str:
    """Return a fresh incarnation string: 16 hex digits from ``urandom``."""
    return binascii.hexlify(urandom(8)).decode("ascii")


def create_certificate(
    *, now: datetime.datetime | None = None, key_type: Literal["ecdsa", "rsa"] = "ecdsa"
) -> bytes:
    """Make a new self-signed certificate and key, returned as PEM bytes.

    The result holds the certificate followed by the PKCS#8 private key, the
    layout Foolscap's ``Tub.getCertData()`` produces and its ``certData=`` reads.
    ``key_type``: ``"ecdsa"`` (P-256, the default) or ``"rsa"`` (2048 bits, the key
    Foolscap makes).
    """
    key: TubKey
    if key_type == "ecdsa":
        key = ec.generate_private_key(ec.SECP256R1())
    elif key_type == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=_RSA_KEY_SIZE)
    else:
        raise ValueError(f"key_type must be 'ecdsa' or 'rsa', not {key_type!r}")
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, _COMMON_NAME)])
    start = now if now is not None else datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + _VALIDITY)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert_pem + key_pem


def _public_der(public_key: CertificatePublicKeyTypes) -> bytes:
    """A public key as DER SubjectPublicKeyInfo (what a certificate holds)."""
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _verify_callback(
    conn: SSL.Connection, cert: crypto.X509, errno: int, depth: int, ok: int
) -> bool:
    # Accept self-signed and out-of-date certificates but nothing else (a bad
    # signature is still refused); the TubID check pins the actual certificate.
    return errno in _ACCEPTABLE_VERIFY_ERRORS


@functools.cache
def shared_tls_context() -> SSL.Context:
    """The process's one ``SSL.Context`` for every Tub connection, both roles.

    Twisted's ``CertificateOptions`` defaults (TLS 1.2 or later, its cipher list, no
    compression, no session cache or tickets), peer certificate requested, verified
    by :func:`_verify_callback`. It holds no certificate: each connection is given its
    Tub's (:meth:`TubTLS.connection`), so a Tub needs no context of its own. Building
    a context costs about 0.5 ms (``SSL_CTX_new`` alone 0.13 ms), which a fresh Tub
    used to pay on its first connection; Foolscap 24.9 pays it on every connection.
    Nothing is resumed across connections (no session cache, no tickets), so sharing
    the context shares no secrets between Tubs.
    """
    ctx: SSL.Context = CertificateOptions().getContext()
    ctx.set_verify(SSL.VERIFY_PEER | SSL.VERIFY_CLIENT_ONCE, _verify_callback)
    return ctx


@implementer(IOpenSSLClientConnectionCreator, IOpenSSLServerConnectionCreator)
class TubTLS:
    """What ``startTLS`` is given: makes a TLS connection presenting one Tub's
    certificate (either role) on the shared context."""

    def __init__(self, certificate: crypto.X509, private_key: crypto.PKey) -> None:
        self._certificate = certificate
        self._private_key = private_key

    def connection(self) -> SSL.Connection:
        """A new ``SSL.Connection`` with our certificate and key (about 13 us)."""
        conn = SSL.Connection(shared_tls_context(), None)
        with warnings.catch_warnings():
            # pyOpenSSL prefers cryptography objects here, but converts them on every
            # call (~95 us for the pair); ours were converted once, when loaded.
            warnings.simplefilter("ignore", DeprecationWarning)
            conn.use_certificate(self._certificate)
            conn.use_privatekey(self._private_key)
        return conn

    def clientConnectionForTLS(self, tlsProtocol: object) -> SSL.Connection:
        """IOpenSSLClientConnectionCreator: the connection of the side that dialled."""
        return self.connection()

    def serverConnectionForTLS(self, tlsProtocol: object) -> SSL.Connection:
        """IOpenSSLServerConnectionCreator: the connection of the side that accepted."""
        return self.connection()


@dataclass(frozen=True)
class TubIdentity:
    """A loaded certificate and key, with the TubID they give."""

    cert_data: bytes
    certificate: crypto.X509
    private_key: crypto.PKey
    tubid: str
    crypto_certificate: x509.Certificate
    crypto_key: TubKey

    @classmethod
    def from_pem(cls, cert_data: bytes) -> TubIdentity:
        """Load PEM bytes holding one certificate and its private key."""
        if isinstance(cert_data, str):
            cert_data = cert_data.encode("ascii")
        if not isinstance(cert_data, bytes):
            raise CertificateError(f"certData must be bytes, not {type(cert_data).__name__}")
        try:
            cert = x509.load_pem_x509_certificate(cert_data)
            # certData is the Tub's own secret, not peer input: skip the slow
            # (~75 ms) RSA self-consistency proof; the key must still match the
            # certificate below, and OpenSSL checks the pair again for TLS.
            key = serialization.load_pem_private_key(
                cert_data, password=None, unsafe_skip_rsa_key_validation=True
            )
        except ValueError as e:
            raise CertificateError(f"certData is not a PEM certificate and key: {e}") from e
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise CertificateError(
                f"certData holds a {type(key).__name__}; a Tub's key must be RSA or EC "
                "(P-256, P-384, P-521)"
            )
        if isinstance(key, ec.EllipticCurvePrivateKey) and not isinstance(key.curve, _CURVES):
            raise CertificateError(
                f"certData's EC key is on {key.curve.name}; a Tub's key must be RSA "
                "or EC on P-256, P-384 or P-521"
            )
        if _public_der(cert.public_key()) != _public_der(key.public_key()):
            raise CertificateError("certData's private key does not match its certificate")
        der = cert.public_bytes(serialization.Encoding.DER)
        return cls(
            cert_data=cert_data,
            certificate=crypto.X509.from_cryptography(cert),
            private_key=crypto.PKey.from_cryptography_key(key),
            tubid=tubid_from_der(der),
            crypto_certificate=cert,
            crypto_key=key,
        )

    @classmethod
    def generate(cls) -> TubIdentity:
        """Make a new identity with a fresh certificate."""
        return cls.from_pem(create_certificate())

    def context_factory(self) -> TubTLS:
        """What ``startTLS`` takes: TLS presenting this certificate and requesting the
        peer's, on the process's shared context (:func:`shared_tls_context`; a context
        per connection cost each one about 16 KiB, one per Tub 0.5 ms to build)."""
        return self._context_factory

    @cached_property
    def _context_factory(self) -> TubTLS:
        return TubTLS(self.certificate, self.private_key)


def peer_tubid(x509_cert: crypto.X509 | None) -> str | None:
    """Return the TubID of a peer's certificate, or None when it sent none."""
    if x509_cert is None:
        return None
    # The DER straight from OpenSSL (5 us; through cryptography's object, 54 us).
    return tubid_from_der(crypto.dump_certificate(crypto.FILETYPE_ASN1, x509_cert))


def write_private_file(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, readable by the owner only."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
