"""Tub identity: certificates, TubIDs (as Foolscap derives them), certFile handling."""

from __future__ import annotations

import os
import stat

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from OpenSSL import SSL

from octavo.tub._errors import CertificateError
from octavo.tub._net._identity import (
    TubIdentity,
    base32_encode,
    create_certificate,
    make_incarnation,
    peer_tubid,
    shared_tls_context,
)
from octavo.tub._tub import Tub


@pytest.fixture(scope="module")
def cert_pem() -> bytes:
    return create_certificate()


def test_cert_data_round_trips(cert_pem):
    """getCertData() recreates the same identity."""
    t = Tub(certData=cert_pem)
    assert Tub(certData=t.getCertData()).getTubID() == t.getTubID()
    assert peer_tubid(t.myCertificate) == t.getTubID()


def test_certdata_and_certfile_together_is_an_error(tmp_path, cert_pem):
    """Giving both certData and certFile raises ValueError."""
    with pytest.raises(ValueError, match="not both"):
        Tub(certData=cert_pem, certFile=str(tmp_path / "c.pem"))


def test_certfile_created_private_and_reused(tmp_path):
    """certFile is created (mode 0600) on first use and reused afterwards."""
    path = str(tmp_path / "tub.pem")
    first = Tub(certFile=path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    second = Tub(certFile=path)
    assert first.getTubID() == second.getTubID()
    assert [p for p in os.listdir(tmp_path) if p.startswith(".tmp")] == []


def test_bad_cert_data_is_a_clear_error():
    """Garbage certData raises CertificateError naming the problem."""
    with pytest.raises(CertificateError, match="PEM"):
        TubIdentity.from_pem(b"not a certificate")


def test_mismatched_key_refused(cert_pem):
    """A certificate with someone else's key is refused."""
    other = create_certificate()
    cert_part = cert_pem.split(b"-----BEGIN PRIVATE KEY-----")[0]
    key_part = b"-----BEGIN PRIVATE KEY-----" + other.split(b"-----BEGIN PRIVATE KEY-----")[1]
    with pytest.raises(CertificateError, match="does not match"):
        TubIdentity.from_pem(cert_part + key_part)


def test_base32_and_incarnation():
    """TubID text is lower-case unpadded base32; incarnations are 16 hex digits."""
    assert base32_encode(b"\x00" * 5) == "aaaaaaaa"
    assert make_incarnation(lambda n: b"\x01" * n) == "0101010101010101"
    t = Tub(certData=create_certificate())
    before = t.getIncarnationString()
    t.make_incarnation()
    assert len(t.getIncarnationString()) == 16 and t.getIncarnationString() != before


def test_empty_certfile_is_filled(tmp_path):
    """An empty certFile gets a new certificate written into it, then reused."""
    path = tmp_path / "empty.pem"
    path.write_bytes(b"")
    first = Tub(certFile=str(path))
    assert path.read_bytes() == first.getCertData()
    assert Tub(certFile=str(path)).getTubID() == first.getTubID()


def test_one_tls_context_per_process(cert_pem):
    """Every connection of every Tub shares one SSL context (each its own cost ~24 KiB,
    0.5 ms to build); each connection presents its own Tub's certificate and key."""
    identity = TubIdentity.from_pem(cert_pem)
    first = identity.context_factory()
    assert identity.context_factory() is first
    other = TubIdentity.from_pem(create_certificate())
    client = first.clientConnectionForTLS(None)
    server = other.context_factory().serverConnectionForTLS(None)
    assert client.get_context() is server.get_context() is shared_tls_context()
    assert peer_tubid(client.get_certificate()) == identity.tubid
    assert peer_tubid(server.get_certificate()) == other.tubid


def test_shared_context_settings():
    """The shared context keeps no sessions and asks for the peer's certificate."""
    ctx = shared_tls_context()
    assert ctx.get_session_cache_mode() == SSL.SESS_CACHE_OFF
    assert ctx.get_verify_mode() == SSL.VERIFY_PEER | SSL.VERIFY_CLIENT_ONCE


def test_new_keys_are_ecdsa_p256_and_rsa_on_request():
    """A new Tub's key is ECDSA on P-256; ``key_type="rsa"`` makes Foolscap's kind."""
    key = TubIdentity.from_pem(Tub().getCertData()).crypto_key
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"
    rsa_key = TubIdentity.from_pem(create_certificate(key_type="rsa")).crypto_key
    assert isinstance(rsa_key, rsa.RSAPrivateKey) and rsa_key.key_size == 2048
    with pytest.raises(ValueError, match="key_type"):
        create_certificate(key_type="dsa")  # type: ignore[arg-type]


def test_rsa_certificate_round_trips():
    """An RSA certificate (what Foolscap makes) loads and recreates the same TubID."""
    pem = create_certificate(key_type="rsa")
    t = Tub(certData=pem)
    assert t.getCertData() == pem
    assert peer_tubid(t.myCertificate) == t.getTubID()


def _with_key(cert_pem: bytes, key: object) -> bytes:
    """``cert_pem``'s certificate followed by another private key."""
    key_pem = key.private_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert_pem.split(b"-----BEGIN PRIVATE KEY-----")[0] + key_pem


def test_keys_of_other_kinds_refused(cert_pem):
    """Ed25519 keys and EC keys on other curves are refused, naming the key."""
    with pytest.raises(CertificateError, match="Ed25519"):
        TubIdentity.from_pem(_with_key(cert_pem, ed25519.Ed25519PrivateKey.generate()))
    with pytest.raises(CertificateError, match="secp256k1"):
        TubIdentity.from_pem(_with_key(cert_pem, ec.generate_private_key(ec.SECP256K1())))


def test_key_of_the_other_type_does_not_match():
    """An RSA key under an ECDSA certificate, or the reverse, is refused."""
    ecdsa, rsa_pem = create_certificate(), create_certificate(key_type="rsa")
    rsa_key = serialization.load_pem_private_key(rsa_pem, password=None)
    ec_key = serialization.load_pem_private_key(ecdsa, password=None)
    with pytest.raises(CertificateError, match="does not match"):
        TubIdentity.from_pem(_with_key(ecdsa, rsa_key))
    with pytest.raises(CertificateError, match="does not match"):
        TubIdentity.from_pem(_with_key(rsa_pem, ec_key))
