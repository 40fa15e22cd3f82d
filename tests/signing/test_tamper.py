"""Every tampering makes verification fail with exit code 4, with a reason that names it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from auditkit.errors import IntegrityError
from auditkit.signing import sign_pdf, verify_report

from ..pdfbytes import content_byte
from .conftest import PASSPHRASE, Keys


def _reasons(pdf: Path, keys: Keys) -> list[str]:
    with pytest.raises(IntegrityError) as info:
        verify_report(pdf, trust=keys.ca_pem)
    assert info.value.exit_code == 4
    return info.value.lines


def _signed_range(data: bytes) -> tuple[int, int, int, int]:
    import re

    match = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", data)
    assert match
    a, b, c, d = (int(x) for x in match.groups())
    return a, b, c, d


def test_flipped_byte_inside_signed_range(tmp_path: Path, signed_pdf: Path, keys: Keys) -> None:
    data = bytearray(signed_pdf.read_bytes())
    start, length, _, _ = _signed_range(bytes(data))
    # a byte inside the first page's compressed content: structure intact, digest broken
    pos = content_byte(bytes(data))
    assert start <= pos < start + length
    data[pos] ^= 0x01
    bad = tmp_path / "flipped.pdf"
    bad.write_bytes(bytes(data))
    reasons = _reasons(bad, keys)
    assert any("changed after signing" in line for line in reasons), reasons


def test_flipped_byte_in_title(tmp_path: Path, signed_pdf: Path, keys: Keys) -> None:
    data = signed_pdf.read_bytes()
    assert data.count(b"(Test report)") >= 1
    bad = tmp_path / "title.pdf"
    bad.write_bytes(data.replace(b"(Test report)", b"(Test rEport)"))
    assert any("changed after signing" in line for line in _reasons(bad, keys))


def test_incremental_update_page_overlay(tmp_path: Path, signed_pdf: Path, keys: Keys) -> None:
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(signed_pdf.read_bytes()))
    overlay = generic.StreamObject(stream_data=b"q 1 0 0 rg 50 700 300 40 re f Q")
    writer.add_stream_to_page(0, writer.add_object(overlay))
    out = io.BytesIO()
    writer.write(out)
    bad = tmp_path / "overlay.pdf"
    bad.write_bytes(out.getvalue())
    reasons = _reasons(bad, keys)
    assert any("incremental update" in line for line in reasons), reasons
    assert any("entire file" in line for line in reasons), reasons


def test_results_swapped_by_incremental_update(
    tmp_path: Path, signed_pdf: Path, keys: Keys
) -> None:
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(signed_pdf.read_bytes()))
    names = writer.root["/Names"]["/EmbeddedFiles"]["/Names"]
    spec_ref = names.raw_get(1)
    spec = spec_ref.get_object()
    forged = generic.StreamObject(
        {generic.pdf_name("/Type"): generic.pdf_name("/EmbeddedFile")},
        stream_data=b'{"overall": {"rating": "effective"}}',
    )
    spec["/EF"][generic.pdf_name("/F")] = writer.add_object(forged)
    writer.update_container(spec)
    out = io.BytesIO()
    writer.write(out)
    bad = tmp_path / "swapped.pdf"
    bad.write_bytes(out.getvalue())
    reasons = _reasons(bad, keys)
    assert any("incremental update" in line for line in reasons), reasons
    assert any("results.json" in line and "not the one" in line for line in reasons), reasons


def test_certificate_from_another_ca(
    tmp_path: Path, keys: Keys, other_keys: Keys, unsigned_pdf: bytes
) -> None:
    out = tmp_path / "other.pdf"
    sign_pdf(unsigned_pdf, out, p12=other_keys.p12, passphrase=PASSPHRASE)
    verify_report(out, trust=other_keys.ca_pem)  # fine for whoever trusts that CA
    reasons = _reasons(out, keys)
    assert any("not issued by the trusted CA Example Assurance LLP Audit Signing CA" in line for line in reasons), reasons


@pytest.mark.parametrize("keep", [0.5, 0.999])
def test_truncated_file(tmp_path: Path, signed_pdf: Path, keys: Keys, keep: float) -> None:
    data = signed_pdf.read_bytes()
    bad = tmp_path / "truncated.pdf"
    bad.write_bytes(data[: int(len(data) * keep)])
    assert _reasons(bad, keys)


def test_appended_garbage(tmp_path: Path, signed_pdf: Path, keys: Keys) -> None:
    bad = tmp_path / "appended.pdf"
    bad.write_bytes(signed_pdf.read_bytes() + b"\n% trailing bytes\n")
    reasons = _reasons(bad, keys)
    assert any("entire file" in line for line in reasons), reasons


def test_not_a_pdf(tmp_path: Path, keys: Keys) -> None:
    bad = tmp_path / "x.pdf"
    bad.write_bytes(b"hello")
    assert any("not a PDF" in line for line in _reasons(bad, keys))


def test_unsigned(tmp_path: Path, keys: Keys, unsigned_pdf: bytes) -> None:
    bad = tmp_path / "unsigned.pdf"
    bad.write_bytes(unsigned_pdf)
    assert any("not signed" in line for line in _reasons(bad, keys))


def test_second_signature_appended(tmp_path: Path, signed_pdf: Path, other_keys: Keys, keys: Keys) -> None:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    signer = signers.SimpleSigner.load_pkcs12(str(other_keys.p12), passphrase=PASSPHRASE)
    writer = IncrementalPdfFileWriter(io.BytesIO(signed_pdf.read_bytes()))
    out = signers.sign_pdf(writer, signers.PdfSignatureMetadata(field_name="Second"), signer=signer)
    bad = tmp_path / "two.pdf"
    bad.write_bytes(out.getvalue())
    reasons = _reasons(bad, keys)
    assert any("'Second' is not an auditkit role's" in line for line in reasons), reasons
    assert any("not issued by the trusted CA" in line for line in reasons), reasons


def test_signer_without_signing_key_usage(tmp_path: Path, keys: Keys, unsigned_pdf: bytes) -> None:
    """A certificate from the trusted CA but not meant for signing (no nonRepudiation) is refused."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "TLS server")]))
        .issuer_name(keys.ca_cert.subject)  # type: ignore[attr-defined]
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.KeyUsage(True, False, True, False, False, False, False, False, False),
                       critical=True)
        .sign(keys.ca_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    p12 = tmp_path / "tls.p12"
    p12.write_bytes(pkcs12.serialize_key_and_certificates(
        b"t", key, cert, [keys.ca_cert], serialization.BestAvailableEncryption(PASSPHRASE)))  # type: ignore[list-item]
    out = tmp_path / "tls-signed.pdf"
    sign_pdf(unsigned_pdf, out, p12=p12, passphrase=PASSPHRASE)
    reasons = _reasons(out, keys)
    assert any("key usage" in line for line in reasons), reasons
