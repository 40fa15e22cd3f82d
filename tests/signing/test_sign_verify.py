"""Signing and the happy path of verification: B-B, B-T, certification, the visible box."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from auditkit.errors import IntegrityError
from auditkit.signing import sign_pdf, verify_report

from .conftest import PASSPHRASE, RESULTS, Keys, render_small_pdf


def test_bb_signature_verifies(signed_pdf: Path, keys: Keys) -> None:
    verdict = verify_report(signed_pdf, trust=keys.ca_pem)
    assert verdict.level == "PAdES B-B"
    assert not verdict.certified
    assert "Example Assurance LLP Auditor" in verdict.signer
    assert "Audit Signing CA" in verdict.trust_anchor
    assert verdict.bundle_root_hash == RESULTS["bundle"]["root_hash"]  # type: ignore[index]
    assert verdict.timestamp is None
    assert any("entire file" in line for line in verdict.lines())


def test_bt_with_test_timestamper(
    tmp_path: Path, keys: Keys, unsigned_pdf: bytes, timestamper: object
) -> None:
    out = tmp_path / "bt.pdf"
    info = sign_pdf(
        unsigned_pdf, out, p12=keys.p12, passphrase=PASSPHRASE, timestamper=timestamper  # type: ignore[arg-type]
    )
    assert info.level == "PAdES B-T"
    verdict = verify_report(out, trust=keys.ca_pem)
    assert verdict.level == "PAdES B-T"
    assert verdict.timestamp is not None


def test_certification_allows_only_signatures(tmp_path: Path, keys: Keys, unsigned_pdf: bytes) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.fields import MDPPerm

    out = tmp_path / "certified.pdf"
    sign_pdf(unsigned_pdf, out, p12=keys.p12, passphrase=PASSPHRASE, certify=True)
    verdict = verify_report(out, trust=keys.ca_pem)
    assert verdict.certified
    with out.open("rb") as handle:
        sig = PdfFileReader(handle).embedded_signatures[0]
        # level 2: co-signatures may follow (auditkit cosign), content changes may not
        assert sig.docmdp_level == MDPPerm.FILL_FORMS


def test_visible_box_on_sign_off_page(signed_pdf: Path) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader

    with signed_pdf.open("rb") as handle:
        reader = PdfFileReader(handle)
        sig = reader.embedded_signatures[0]
        field = sig.sig_field
        x1, y1, x2, y2 = (float(v) for v in field["/Rect"])
        assert (x2 - x1, y2 - y1) == pytest.approx((252, 72), abs=1)
        last_page = reader.root["/Pages"]["/Kids"][-1]
        assert field.raw_get("/P").idnum == reader.root["/Pages"]["/Kids"].raw_get(1).idnum
        assert last_page is not None
        appearance = field["/AP"]["/N"].data
        assert b"Digitally signed by Example Assurance LLP Auditor" in appearance


def test_refuses_double_signing_and_non_pdf(
    tmp_path: Path, keys: Keys, signed_pdf: Path
) -> None:
    from auditkit.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="already signed"):
        sign_pdf(signed_pdf, tmp_path / "twice.pdf", p12=keys.p12, passphrase=PASSPHRASE)
    with pytest.raises(InvalidInputError, match="not a PDF"):
        sign_pdf(b"hello", tmp_path / "x.pdf", p12=keys.p12, passphrase=PASSPHRASE)
    with pytest.raises(IntegrityError, match="passphrase"):
        sign_pdf(b"%PDF-1.7", tmp_path / "x.pdf", p12=keys.p12, passphrase=b"nope")
    assert not (tmp_path / "x.pdf").exists()


def test_missing_results_digest_fails(tmp_path: Path, keys: Keys, results_bytes: bytes) -> None:
    out = tmp_path / "nodigest.pdf"
    sign_pdf(render_small_pdf(results_bytes, record_digest=False), out, p12=keys.p12,
             passphrase=PASSPHRASE)
    with pytest.raises(IntegrityError) as info:
        verify_report(out, trust=keys.ca_pem)
    assert any("records no results.json digest" in line for line in info.value.lines)


def test_no_trust_anchor_fails_closed(signed_pdf: Path) -> None:
    with pytest.raises(IntegrityError) as info:
        verify_report(signed_pdf, trust=None)
    assert any("no trust anchor" in line for line in info.value.lines)


def test_signing_is_fast_enough_to_not_matter(tmp_path: Path, keys: Keys, unsigned_pdf: bytes) -> None:
    started = time.perf_counter()
    info = sign_pdf(unsigned_pdf, tmp_path / "t.pdf", p12=keys.p12, passphrase=PASSPHRASE)
    assert info.seconds <= time.perf_counter() - started


def test_signed_report_stays_pdf_17(signed_pdf: Path) -> None:
    """PDF/A-3 is built on PDF 1.7: signing must not raise the catalog version to 2.0."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    with signed_pdf.open("rb") as handle:
        reader = PdfFileReader(handle)
        assert str(reader.root.get("/Version", "/1.7")) in ("/1.7", "1.7")
        assert "/ESIC" in reader.root["/Extensions"]
    assert signed_pdf.read_bytes().startswith(b"%PDF-1.7")
