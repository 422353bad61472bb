"""Certificates move between Foolscap 24.9 and Octavo with the same TubID."""

from __future__ import annotations

import pytest
from foolscap.api import Tub as FTub

from octavo.tub._net._identity import create_certificate
from octavo.tub._tub import Tub


@pytest.fixture(scope="module")
def cert_pem() -> bytes:
    return create_certificate()


def test_our_certificate_loads_in_foolscap_with_same_tubid(cert_pem):
    """A certificate we make gives Foolscap's Tub the same TubID as ours."""
    ours = Tub(certData=cert_pem)
    theirs = FTub(certData=cert_pem)
    assert ours.getTubID() == theirs.getTubID()
    assert len(ours.getTubID()) == 32


def test_foolscap_certificate_loads_here_with_same_tubid():
    """A certificate Foolscap makes gives our Tub the same TubID as Foolscap's."""
    theirs = FTub()
    ours = Tub(certData=theirs.getCertData())
    assert ours.getTubID() == theirs.getTubID()
    assert ours.getShortTubID() == theirs.getTubID()[:4]


def test_our_rsa_certificate_loads_in_foolscap_with_same_tubid():
    """An RSA certificate we make (Foolscap's kind of key) does too."""
    pem = create_certificate(key_type="rsa")
    assert Tub(certData=pem).getTubID() == FTub(certData=pem).getTubID()
