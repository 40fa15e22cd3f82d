"""Fixtures for the signing tests: keys from throwaway CAs, a small PDF/A-3b, a test TSA."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

PASSPHRASE = b"correct horse battery staple"
RESULTS = {"bundle": {"root_hash": "sha256:" + "ab" * 32}, "tool": {"version": "test"}}


@dataclass
class Keys:
    p12: Path
    ca_pem: Path
    ca_key: object
    ca_cert: object


def _make_keys(folder: Path, org: str) -> Keys:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    from auditkit.signing.keys import issue_keys

    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert, key, cert = issue_keys(org)
    p12 = folder / "signer.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"t", key, cert, [ca_cert], serialization.BestAvailableEncryption(PASSPHRASE)
        )
    )
    ca_pem = folder / "ca.pem"
    ca_pem.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    return Keys(p12, ca_pem, ca_key, ca_cert)


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return _make_keys(tmp_path_factory.mktemp("keys"), "Example Assurance LLP")


@pytest.fixture(scope="session")
def other_keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return _make_keys(tmp_path_factory.mktemp("other-keys"), "Mallory Certification Ltd")


def render_small_pdf(results: bytes, *, record_digest: bool = True) -> bytes:
    """A two-page PDF/A-3b with results.json attached, like a tiny report."""
    import weasyprint

    html = (
        "<html lang='en'><head><title>Test report</title>"
        "<style>@page { size: A4; font-family: 'DejaVu Sans' } html { font-family: 'DejaVu Sans' }"
        "</style></head><body><h1>Audit report</h1><p style='break-after: page'>Findings.</p>"
        "<h2>Sign-off</h2><div id='auditkit-signature' style='width:252pt;height:72pt'></div>"
        "</body></html>"
    )
    document = weasyprint.HTML(string=html).render()
    if record_digest:
        document.metadata.custom["AuditkitResultsSHA256"] = hashlib.sha256(results).hexdigest()
    attachment = weasyprint.Attachment(string=results, name="results.json", relationship="Data")
    return document.write_pdf(pdf_variant="pdf/a-3b", custom_metadata=True, attachments=[attachment])


@pytest.fixture(scope="session")
def results_bytes() -> bytes:
    return json.dumps(RESULTS, sort_keys=True).encode()


@pytest.fixture(scope="session")
def unsigned_pdf(results_bytes: bytes) -> bytes:
    return render_small_pdf(results_bytes)


@pytest.fixture(scope="session")
def signed_pdf(tmp_path_factory: pytest.TempPathFactory, keys: Keys, unsigned_pdf: bytes) -> Path:
    from auditkit.signing import sign_pdf

    out = tmp_path_factory.mktemp("signed") / "report.pdf"
    sign_pdf(unsigned_pdf, out, p12=keys.p12, passphrase=PASSPHRASE)
    return out


@pytest.fixture(scope="session")
def timestamper(keys: Keys) -> object:
    """pyHanko's in-process TSA with a time-stamping certificate from the test CA."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    from pyhanko.keys.internal import (
        translate_pyca_cryptography_cert_to_asn1,
        translate_pyca_cryptography_key_to_asn1,
    )
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # dummy TSA: RSA only
    now = dt.datetime.now(dt.UTC)
    ca_cert = keys.ca_cert
    tsa_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test TSA")]))
        .issuer_name(ca_cert.subject)  # type: ignore[attr-defined]
        .public_key(tsa_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(keys.ca_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    cert = translate_pyca_cryptography_cert_to_asn1(tsa_cert)
    key = translate_pyca_cryptography_key_to_asn1(tsa_key)
    return DummyTimeStamper(tsa_cert=cert, tsa_key=key)
