"""Tools that are not auditkit accept the signed report: poppler's pdfsig (with NSS) and pyHanko."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import Keys

# pdfsig (poppler-utils) and certutil (libnss3-tools) are required: .ci/run installs them.


def _pdfsig(*args: str) -> str:
    # pdfsig exits 0 even when the digest does not match: only its text tells.
    done = subprocess.run(["pdfsig", *args], capture_output=True, text=True, timeout=60)
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def nss_db(tmp_path_factory: pytest.TempPathFactory, keys: Keys) -> str:
    assert shutil.which("certutil"), "certutil missing: apt-get install libnss3-tools"
    folder = tmp_path_factory.mktemp("nss")
    db = f"sql:{folder}"
    subprocess.run(["certutil", "-N", "--empty-password", "-d", db], check=True, timeout=60)
    # pdfsig checks the chain for e-mail (S/MIME) signing: the CA needs the second trust flag;
    # "C,," (TLS only) leaves poppler 22.12 saying "Certificate issuer isn't Trusted".
    subprocess.run(
        ["certutil", "-A", "-n", "auditkit-ca", "-t", "C,C,", "-i", str(keys.ca_pem), "-d", db],
        check=True,
        timeout=60,
    )
    return db


def test_pdfsig_valid_and_total_document_signed(signed_pdf: Path) -> None:
    text = _pdfsig(str(signed_pdf))
    assert "Signature Validation: Signature is Valid." in text
    assert "Total document signed" in text
    assert "Signature Field Name: AuditorSignature" in text


def test_pdfsig_trusts_chain_with_ca_in_fresh_nss_db(signed_pdf: Path, nss_db: str) -> None:
    text = _pdfsig("-nssdir", nss_db, str(signed_pdf))
    assert "Certificate Validation: Certificate is Trusted." in text
    assert "Signature is Valid." in text


def test_pdfsig_without_ca_does_not_trust(signed_pdf: Path) -> None:
    assert "Certificate is Trusted." not in _pdfsig(str(signed_pdf))


def test_pdfsig_sees_tampering(tmp_path: Path, signed_pdf: Path) -> None:
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(signed_pdf.read_bytes().replace(b"(Test report)", b"(Test rEport)"))
    text = _pdfsig(str(bad))
    assert "Signature is Valid." not in text


def test_pyhanko_own_validator(signed_pdf: Path, keys: Keys) -> None:
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    vc = ValidationContext(trust_roots=[load_cert_from_pemder(str(keys.ca_pem))])
    with signed_pdf.open("rb") as handle:
        status = validate_pdf_signature(
            PdfFileReader(handle).embedded_signatures[0], signer_validation_context=vc
        )
    assert status.bottom_line
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
