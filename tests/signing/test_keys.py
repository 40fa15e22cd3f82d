"""auditkit keys init: a private CA and an EC P-256 signing certificate in PKCS#12."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12

from auditkit.errors import IntegrityError, UsageError
from auditkit.signing.keys import init_keys, load_signer


def test_init_writes_p12_and_ca(tmp_path: Path) -> None:
    keyset = init_keys(tmp_path, org="Example Assurance LLP", passphrase=b"s3cret")
    assert keyset.p12 == tmp_path / "signer.p12"
    assert stat.S_IMODE(keyset.p12.stat().st_mode) == 0o600
    key, cert, chain = pkcs12.load_key_and_certificates(keyset.p12.read_bytes(), b"s3cret")
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"
    ca = x509.load_pem_x509_certificate(keyset.ca_pem.read_bytes())
    assert [c.fingerprint(ca.signature_hash_algorithm) for c in chain] == [  # type: ignore[arg-type]
        ca.fingerprint(ca.signature_hash_algorithm)  # type: ignore[arg-type]
    ]
    assert cert is not None
    # CA: self-signed, CA:true, keyCertSign
    assert ca.issuer == ca.subject
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert ca.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign is True
    # signer: issued by the CA, digitalSignature + nonRepudiation, key identifiers chained
    assert cert.issuer == ca.subject
    cert.verify_directly_issued_by(ca)
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    assert "Example Assurance LLP" in keyset.signer_subject


def test_refuses_to_overwrite_and_empty_passphrase(tmp_path: Path) -> None:
    init_keys(tmp_path, org="Org", passphrase=b"x")
    with pytest.raises(UsageError, match="already exists"):
        init_keys(tmp_path, org="Org", passphrase=b"x")
    init_keys(tmp_path, org="Org", passphrase=b"x", force=True)
    with pytest.raises(UsageError, match="empty passphrase"):
        init_keys(tmp_path / "..", org="Org", passphrase=b"")


def test_wrong_passphrase_is_an_integrity_error(tmp_path: Path) -> None:
    keyset = init_keys(tmp_path, org="Org", passphrase=b"right")
    assert load_signer(keyset.p12, b"right").cert is not None
    with pytest.raises(IntegrityError) as info:
        load_signer(keyset.p12, b"wrong")
    assert info.value.exit_code == 4
