"""Co-signing: the reviewer countersigns and the auditee acknowledges an auditor-signed report.

The auditor signs with one CA, the reviewer with a key from another; ``auditkit verify``
lists every signer, ``--require-roles`` names the missing ones, pdfsig accepts every
signature, and any change that is not a signature fails verification (exit 4).
"""

from __future__ import annotations

import io
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from auditkit.cli import cli

from ..pdfbytes import content_byte
from .conftest import PASSPHRASE, Keys, _make_keys

ENV = {"AUDITKIT_KEY_PASSPHRASE": PASSPHRASE.decode()}


def _cli(*args: object):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, [str(a) for a in args], env=ENV)


@pytest.fixture(scope="module")
def reviewer_keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return _make_keys(tmp_path_factory.mktemp("reviewer-keys"), "Quality Review Partners")


@pytest.fixture(scope="module")
def auditor_report(tmp_path_factory: pytest.TempPathFactory, keys: Keys) -> Path:
    """A full report rendered from the report tests' sample results, certified by the auditor."""
    from auditkit.results.io import to_json_bytes

    from ..report.sample import build_results

    folder = tmp_path_factory.mktemp("cosign-report")
    results = folder / "results.json"
    results.write_bytes(to_json_bytes(build_results(6)))
    out = folder / "report.pdf"
    done = _cli("report", results, "-o", out, "--sign-key", keys.p12, "--certify")
    assert done.exit_code == 0, done.output
    return out


@pytest.fixture(scope="module")
def cosigned(auditor_report: Path, reviewer_keys: Keys) -> Path:
    out = auditor_report.with_name("cosigned.pdf")
    done = _cli("cosign", auditor_report, "--role", "reviewer", "--sign-key", reviewer_keys.p12, "-o", out)
    assert done.exit_code == 0, done.output
    assert "co-signed as reviewer" in done.output
    return out


def _verify(pdf: Path, *extra: object, trust: tuple[Path, ...] = ()):  # type: ignore[no-untyped-def]
    args: list[object] = ["verify", pdf]
    for anchor in trust:
        args += ["--trust", anchor]
    return _cli(*args, *extra)


def _pdfsig(pdf: Path) -> str:
    # pdfsig exits 0 even when a digest does not match: only its text tells
    done = subprocess.run(["pdfsig", str(pdf)], capture_output=True, text=True, timeout=60)
    return done.stdout + done.stderr


def _rewrite(pdf: Path, out: Path, change, signed_by: Keys | None = None) -> Path:  # type: ignore[no-untyped-def]
    """``pdf`` with ``change`` applied in an incremental update (signed as the auditee by ``signed_by``)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf.read_bytes()))
    change(writer)
    if signed_by is None:
        buffer = io.BytesIO()
        writer.write(buffer)
    else:
        signer = signers.SimpleSigner.load_pkcs12(str(signed_by.p12), passphrase=PASSPHRASE)
        meta = signers.PdfSignatureMetadata(field_name="auditkit-auditee")
        buffer = signers.sign_pdf(writer, meta, signer=signer)
    out.write_bytes(buffer.getvalue())
    return out


def _retitle(writer) -> None:  # type: ignore[no-untyped-def]
    from pyhanko.pdf_utils import generic

    info = writer.trailer["/Info"]
    info[generic.pdf_name("/Title")] = generic.TextStringObject("A better report")
    writer.update_container(info)


def _annotate(writer) -> None:  # type: ignore[no-untyped-def]
    from pyhanko.pdf_utils import generic

    page_ref, _ = writer.find_page_for_modification(0)
    page = page_ref.get_object()
    note = writer.add_object(generic.DictionaryObject({
        generic.pdf_name("/Type"): generic.pdf_name("/Annot"),
        generic.pdf_name("/Subtype"): generic.pdf_name("/Text"),
        generic.pdf_name("/Rect"): generic.ArrayObject([generic.NumberObject(v) for v in (50, 50, 70, 70)]),
        generic.pdf_name("/Contents"): generic.TextStringObject("rating overridden"),
    }))
    annots = page.get("/Annots", generic.ArrayObject())
    annots.append(note)
    page[generic.pdf_name("/Annots")] = annots
    writer.update_container(page)


def test_verify_lists_both_signers(cosigned: Path, keys: Keys, reviewer_keys: Keys) -> None:
    result = _verify(cosigned, trust=(keys.ca_pem, reviewer_keys.ca_pem))
    assert result.exit_code == 0, result.output
    assert "signatures:  2" in result.output
    lines = result.output.splitlines()
    auditor = next(line for line in lines if line.strip().startswith("auditor "))
    reviewer = next(line for line in lines if line.strip().startswith("reviewer "))
    assert "Example Assurance LLP Auditor" in auditor and "valid, trusted" in auditor
    assert "Quality Review Partners" in reviewer and "valid, trusted" in reviewer
    assert "signed at 20" in reviewer


def test_require_roles(cosigned: Path, keys: Keys, reviewer_keys: Keys) -> None:
    anchors = (keys.ca_pem, reviewer_keys.ca_pem)
    assert _verify(cosigned, "--require-roles", "auditor,reviewer", trust=anchors).exit_code == 0
    result = _verify(cosigned, "--require-roles", "auditor,auditee", trust=anchors)
    assert result.exit_code == 4
    assert "required signature(s) missing: auditee" in result.output
    assert _verify(cosigned, "--require-roles", "partner", trust=anchors).exit_code == 2


def test_reviewer_from_an_untrusted_ca_fails(cosigned: Path, keys: Keys) -> None:
    result = _verify(cosigned, trust=(keys.ca_pem,))
    assert result.exit_code == 4
    assert "reviewer signature: signed by Quality Review Partners Auditor" in result.output
    assert "auditor signature:" not in result.output.replace("signature auditor", "")


def test_library_verdict_and_signature_fields(cosigned: Path, keys: Keys, reviewer_keys: Keys) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.fields import MDPPerm

    from auditkit.signing import verify_report

    verdict = verify_report(cosigned, trust=[keys.ca_pem, reviewer_keys.ca_pem], require_roles=["reviewer"])
    assert [(s.role, s.field_name) for s in verdict.signers] == [
        ("auditor", "AuditorSignature"), ("reviewer", "auditkit-reviewer")]
    assert verdict.certified and verdict.results_sha256
    with cosigned.open("rb") as handle:
        auditor, reviewer = PdfFileReader(handle).embedded_signatures
        assert auditor.docmdp_level == MDPPerm.FILL_FORMS
        assert str(reviewer.sig_object["/Reason"]) == "auditkit reviewer countersignature"
        assert reviewer.sig_field["/Lock"]["/Fields"] == ["auditkit-reviewer"]


def test_pdfsig_reports_every_signature_valid(cosigned: Path) -> None:
    text = _pdfsig(cosigned)
    assert text.count("Signature Field Name:") == 2
    assert text.count("Signature Validation: Signature is Valid.") == 2, text
    assert "Signature Field Name: auditkit-reviewer" in text


def test_auditee_acknowledges_after_the_reviewer(cosigned: Path, keys: Keys, reviewer_keys: Keys,
                                                 tmp_path: Path) -> None:
    out = tmp_path / "acknowledged.pdf"
    done = _cli("cosign", cosigned, "--role", "auditee", "--sign-key", keys.p12, "-o", out)
    assert done.exit_code == 0, done.output
    result = _verify(out, "--require-roles", "auditor,reviewer,auditee",
                     trust=(keys.ca_pem, reviewer_keys.ca_pem))
    assert result.exit_code == 0, result.output
    assert "signatures:  3" in result.output
    assert _pdfsig(out).count("Signature Validation: Signature is Valid.") == 3


def test_duplicate_role_is_refused(cosigned: Path, reviewer_keys: Keys, tmp_path: Path) -> None:
    out = tmp_path / "twice.pdf"
    done = _cli("cosign", cosigned, "--role", "reviewer", "--sign-key", reviewer_keys.p12, "-o", out)
    assert done.exit_code == 3
    assert "already has a reviewer signature" in done.output and str(cosigned) in done.output
    assert not out.exists()


def test_unsigned_pdf_is_refused(unsigned_pdf: bytes, reviewer_keys: Keys, tmp_path: Path) -> None:
    bare = tmp_path / "unsigned.pdf"
    bare.write_bytes(unsigned_pdf)
    out = tmp_path / "out.pdf"
    done = _cli("cosign", bare, "--role", "reviewer", "--sign-key", reviewer_keys.p12, "-o", out)
    assert done.exit_code == 3
    errors = [line for line in done.output.splitlines() if line.startswith("auditkit: error:")]
    assert len(errors) == 1 and str(bare) in errors[0] and "not signed" in errors[0], done.output
    assert not out.exists()


def test_tampered_report_is_not_cosigned(auditor_report: Path, reviewer_keys: Keys, tmp_path: Path) -> None:
    from pyhanko.pdf_utils import generic

    def overlay(writer) -> None:  # type: ignore[no-untyped-def]
        writer.add_stream_to_page(0, writer.add_object(generic.StreamObject(stream_data=b"q 0 0 9 9 re f Q")))

    bad = _rewrite(auditor_report, tmp_path / "overlaid.pdf", overlay)
    done = _cli("cosign", bad, "--role", "reviewer", "--sign-key", reviewer_keys.p12, "-o", tmp_path / "o.pdf")
    assert done.exit_code == 3
    assert "signatures do not verify" in done.output and str(bad) in done.output


def test_flipped_content_byte_fails(cosigned: Path, keys: Keys, reviewer_keys: Keys, tmp_path: Path) -> None:
    data = bytearray(cosigned.read_bytes())
    data[content_byte(bytes(data), into=30)] ^= 0x01
    bad = tmp_path / "flipped.pdf"
    bad.write_bytes(bytes(data))
    result = _verify(bad, trust=(keys.ca_pem, reviewer_keys.ca_pem))
    assert result.exit_code == 4
    assert "changed after signing" in result.output


@pytest.mark.parametrize(("change", "said"), [
    (_retitle, ["incremental update(s) were appended after the last signature"]),
    (_annotate, ["after the last signature", "changed after signing"]),
], ids=["info-update", "annotation"])
def test_update_after_the_cosignature_fails(cosigned: Path, keys: Keys, reviewer_keys: Keys, tmp_path: Path,
                                            change: Any, said: list[str]) -> None:
    bad = _rewrite(cosigned, tmp_path / "changed.pdf", change)
    result = _verify(bad, trust=(keys.ca_pem, reviewer_keys.ca_pem))
    assert result.exit_code == 4
    for words in said:
        assert words in result.output


def test_info_changed_within_a_cosignature_fails(cosigned: Path, keys: Keys, reviewer_keys: Keys,
                                                 tmp_path: Path) -> None:
    """pyHanko's diff policy accepts /Info changes; the digests auditkit records there must not move."""
    bad = _rewrite(cosigned, tmp_path / "sneaky.pdf", _retitle, signed_by=keys)
    result = _verify(bad, trust=(keys.ca_pem, reviewer_keys.ca_pem))
    assert result.exit_code == 4
    assert "document information" in result.output


def test_no_changes_certification_cannot_be_cosigned(tmp_path: Path, keys: Keys, reviewer_keys: Keys,
                                                      unsigned_pdf: bytes) -> None:
    """A report certified 'no changes' (DocMDP level 1, as auditkit once did) forbids co-signatures."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    signer = signers.SimpleSigner.load_pkcs12(str(keys.p12), passphrase=PASSPHRASE)
    meta = signers.PdfSignatureMetadata(field_name="AuditorSignature", certify=True,
                                        docmdp_permissions=fields.MDPPerm.NO_CHANGES)
    locked = tmp_path / "locked.pdf"
    locked.write_bytes(signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(unsigned_pdf)), meta,
                                        signer=signer).getvalue())
    out = tmp_path / "out.pdf"
    done = _cli("cosign", locked, "--role", "reviewer", "--sign-key", reviewer_keys.p12, "-o", out)
    assert done.exit_code == 3
    assert "forbids all changes" in done.output and str(locked) in done.output
    assert not out.exists()


def test_indexed_reader_reads_what_pyhanko_reads(cosigned: Path) -> None:
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.reader import PdfFileReader

    from auditkit.signing.objstm import open_reader

    data = cosigned.read_bytes()
    fast, plain = open_reader(data, strict=True), PdfFileReader(io.BytesIO(data), strict=True)
    for revision in range(plain.xrefs.total_revisions):
        ours, theirs = fast.get_historical_resolver(revision), plain.get_historical_resolver(revision)
        refs = plain.xrefs.explicit_refs_in_revision(revision)
        assert refs
        for ref in refs:
            a, b = ours.get_object(generic.Reference(ref.idnum, ref.generation)), \
                theirs.get_object(generic.Reference(ref.idnum, ref.generation))
            assert type(a) is type(b)
            if not isinstance(a, generic.StreamObject):
                assert str(a) == str(b)


def test_annotation_within_a_cosignature_fails(cosigned: Path, keys: Keys, reviewer_keys: Keys,
                                               tmp_path: Path) -> None:
    """A co-signature whose update also adds an annotation: the earlier signatures see more than signing."""
    bad = _rewrite(cosigned, tmp_path / "annotated-cosign.pdf", _annotate, signed_by=keys)
    result = _verify(bad, trust=(keys.ca_pem, reviewer_keys.ca_pem))
    assert result.exit_code == 4
    assert "auditor signature: the document was changed after signing" in result.output, result.output
