"""A Tub's identity: its self-signed certificate, private key and TubID.

The TubID is the lower-case, unpadded RFC 4648 base32 encoding of the SHA-1
digest of the DER-encoded certificate, which is how Foolscap derives it, so a
certificate written by Foolscap loads here with the same TubID and vice versa.
Certificates are RSA-2048 keys self-signed with SHA-256 under the common name
``newpb_thingy``, as Foolscap makes them.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from OpenSSL import SSL, crypto
from twisted.internet.ssl import CertificateOptions

from octavo.tub._errors import CertificateError

__all__ = [
    "TubIdentity",
    "base32_encode",
    "create_certificate",
    "make_incarnation",
    "peer_tubid",
    "tubid_from_der",
    "write_private_file",
]

_COMMON_NAME = "newpb_thingy"
_VALIDITY = datetime.timedelta(days=365)

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


def create_certificate(*, now: datetime.datetime | None = None, key_size: int = 2048) -> bytes:
    """Make a new self-signed certificate and key, returned as PEM bytes.

    The result holds the certificate followed by the PKCS#8 private key, the
    layout Foolscap's ``Tub.getCertData()`` produces and its ``certData=`` reads.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
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


def _verify_callback(
    conn: SSL.Connection, cert: crypto.X509, errno: int, depth: int, ok: int
) -> bool:
    # Accept self-signed and out-of-date certificates but nothing else (a bad
    # signature is still refused); the TubID check pins the actual certificate.
    return errno in _ACCEPTABLE_VERIFY_ERRORS


class _TubContextFactory(CertificateOptions):
    """TLS options presenting our certificate and asking for the peer's, without CA checks."""

    def __init__(self, cert: x509.Certificate, key: rsa.RSAPrivateKey) -> None:
        super().__init__()
        self._tub_cert = cert
        self._tub_key = key
        self._tub_context: SSL.Context | None = None

    def getContext(self) -> SSL.Context:
        if self._tub_context is None:
            ctx: SSL.Context = super().getContext()
            ctx.use_certificate(self._tub_cert)
            ctx.use_privatekey(self._tub_key)
            ctx.check_privatekey()
            ctx.set_verify(SSL.VERIFY_PEER | SSL.VERIFY_CLIENT_ONCE, _verify_callback)
            self._tub_context = ctx
        return self._tub_context


@dataclass(frozen=True)
class TubIdentity:
    """A loaded certificate and key, with the TubID they give."""

    cert_data: bytes
    certificate: crypto.X509
    private_key: crypto.PKey
    tubid: str
    crypto_certificate: x509.Certificate
    crypto_key: rsa.RSAPrivateKey

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
        if not isinstance(key, rsa.RSAPrivateKey):
            raise CertificateError("certData must hold an RSA private key")
        cert_key = cert.public_key()
        if not isinstance(cert_key, rsa.RSAPublicKey) or (
            cert_key.public_numbers() != key.public_key().public_numbers()
        ):
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

    def context_factory(self) -> CertificateOptions:
        """Return TLS options presenting this certificate and requesting the peer's.

        One per identity, so every connection of a Tub shares one ``SSL.Context`` (as
        Foolscap's Tub does): a context per connection cost each one about 16 KiB.
        """
        return self._context_factory

    @cached_property
    def _context_factory(self) -> CertificateOptions:
        return _TubContextFactory(self.crypto_certificate, self.crypto_key)


def peer_tubid(x509_cert: crypto.X509 | None) -> str | None:
    """Return the TubID of a peer's certificate, or None when it sent none."""
    if x509_cert is None:
        return None
    der = x509_cert.to_cryptography().public_bytes(serialization.Encoding.DER)
    return tubid_from_der(der)


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
