"""What `auditkit verify` and `auditkit keys init` say: plain reasons, no library jargon."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from click.testing import CliRunner
from cryptography import x509

from auditkit.cli import cli

from ..pdfbytes import content_byte
from .test_cli import ENV, cli_keys, signed_report  # noqa: F401 - module fixtures

JARGON = ("ENTIRE_REVISION", "OTHER", "DocMDP", "unknown reason", "candidates exhausted")


def _verify(pdf: Path, *trust: Path):  # type: ignore[no-untyped-def]
    args = ["verify", str(pdf)]
    for path in trust:
        args += ["--trust", str(path)]
    return CliRunner().invoke(cli, args)


def test_ok_prints_the_ca_fingerprint(signed_report: Path, cli_keys: Path) -> None:  # noqa: F811
    ca = cli_keys / "ca.pem"
    result = _verify(signed_report, ca)
    assert result.exit_code == 0, result.output
    der = x509.load_pem_x509_certificate(ca.read_bytes()).public_bytes(
        __import__("cryptography.hazmat.primitives.serialization", fromlist=["Encoding"]).Encoding.DER)
    assert f"CA:          sha256:{hashlib.sha256(der).hexdigest()}" in result.output


def test_digest_mismatch_is_said_alone(signed_report: Path, cli_keys: Path, tmp_path: Path) -> None:  # noqa: F811
    data = bytearray(signed_report.read_bytes())
    data[content_byte(bytes(data))] ^= 0x01
    bad = tmp_path / "flipped.pdf"
    bad.write_bytes(bytes(data))
    result = _verify(bad, cli_keys / "ca.pem")
    assert result.exit_code == 4
    lines = result.output.splitlines()
    assert lines == [f"auditkit: error: {bad}: the signed bytes were changed after signing (digest mismatch)",
                     f"auditkit: error: {bad}: verification FAILED, 1 problem (do not rely on this report)"]


def test_update_after_an_approval_signature_in_words(signed_report: Path, cli_keys: Path,  # noqa: F811
                                                     tmp_path: Path) -> None:
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(signed_report.read_bytes()))
    writer.add_stream_to_page(0, writer.add_object(generic.StreamObject(stream_data=b"q 1 0 0 rg 0 0 9 9 re f Q")))
    out = io.BytesIO()
    writer.write(out)
    bad = tmp_path / "overlay.pdf"
    bad.write_bytes(out.getvalue())
    result = _verify(bad, cli_keys / "ca.pem")
    assert result.exit_code == 4
    assert "it covers an earlier revision; bytes were appended after it" in result.output
    assert "content or structure was changed" in result.output
    for word in JARGON:
        assert word not in result.output, result.output


def test_wrong_ca_names_signer_and_trusted_ca(signed_report: Path, tmp_path: Path) -> None:  # noqa: F811
    other = tmp_path / "other"
    made = CliRunner().invoke(cli, ["keys", "init", "-o", str(other), "--org", "Mallory Ltd"], env=ENV)
    assert made.exit_code == 0, made.output
    result = _verify(signed_report, other / "ca.pem")
    assert result.exit_code == 4
    assert ("signed by Example Assurance LLP Auditor (issued by Example Assurance LLP Audit Signing CA), "
            "not issued by the trusted CA Mallory Ltd Audit Signing CA") in result.output
    for word in JARGON:
        assert word not in result.output


def test_keys_init_org_over_64_characters(tmp_path: Path) -> None:
    org = "Example Assurance and Attestation Services for Safeguard Agreements LLP"
    assert len(org) > 64
    result = CliRunner().invoke(cli, ["keys", "init", "-o", str(tmp_path / "k"), "--org", org], env=ENV)
    assert result.exit_code == 3, result.output
    assert f"--org is {len(org)} characters ({len(org)} bytes in UTF-8); X.509 allows at most 64 in organization name" in result.output
    assert not (tmp_path / "k" / "signer.p12").exists()


def test_keys_init_org_of_64_characters_fits_the_common_names(tmp_path: Path) -> None:
    org = "O" * 64
    result = CliRunner().invoke(cli, ["keys", "init", "-o", str(tmp_path / "k"), "--org", org], env=ENV)
    assert result.exit_code == 0, result.output
    ca = x509.load_pem_x509_certificate((tmp_path / "k" / "ca.pem").read_bytes())
    cn = ca.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    assert len(cn) <= 64 and str(cn).endswith("... Audit Signing CA")
