"""Two-process rendering (``render_report(jobs=2)``) gives the same report as one process.

Compared with the one-process rendering of the same results: page count, the text
of every page (pdftotext), "Page X of Y", the contents page's numbers, the outline,
named destinations and internal links, attachments, PDF/A-3b identification and
document information; and the signed result passes ``auditkit verify`` and ``pdfsig``.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from .conftest import MANIFEST
from .sample import build_results

pytest.importorskip("pikepdf")

FALLBACK = "rendering in one process"


@pytest.fixture(scope="module")
def parallel(tmp_path_factory: pytest.TempPathFactory, results_file: Path) -> Any:
    from auditkit.report import render_report

    folder = tmp_path_factory.mktemp("parallel")
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("auditkit.report")
    handler, level = Keep(logging.INFO), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        out = render_report(results_file, manifest_bytes=MANIFEST, output=folder / "report.pdf",
                            jobs=2, signed=True)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert not [r for r in records if FALLBACK in r.getMessage()], "fell back to one process"
    return out


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory, results_file: Path) -> Any:
    """The one-process rendering for signing, to compare with."""
    from auditkit.report import render_report

    folder = tmp_path_factory.mktemp("one-process")
    return render_report(results_file, manifest_bytes=MANIFEST, output=folder / "report.pdf",
                         signed=True)


def _pages_text(path: Path) -> list[str]:
    done = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True, timeout=120)
    return done.stdout.split("\f")[:-1]


def _outline(reader: PdfReader, items: Any = None) -> list[Any]:
    out: list[Any] = []
    for item in reader.outline if items is None else items:
        if isinstance(item, list):
            out.append(_outline(reader, item))
        else:
            out.append((str(item.title), reader.get_destination_page_number(item),
                        round(float(item.top or 0), 2)))
    return out


def _dests(reader: PdfReader) -> dict[str, tuple[int, float, float]]:
    names = reader.trailer["/Root"]["/Names"]["/Dests"]["/Names"]
    pages = [page.indirect_reference.idnum for page in reader.pages]
    out = {}
    for i in range(0, len(names), 2):
        dest = names[i + 1]
        out[str(names[i])] = (pages.index(dest[0].idnum), round(float(dest[2]), 2),
                              round(float(dest[3]), 2))
    return out


def _links(reader: PdfReader) -> list[tuple[int, str]]:
    out = []
    for number, page in enumerate(reader.pages):
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            if annot.get("/Subtype") == "/Link" and "/Dest" in annot:
                out.append((number, str(annot["/Dest"])))
    return out


def test_same_pages_and_text(parallel, rendered) -> None:  # type: ignore[no-untyped-def]
    assert parallel.pages == rendered.pages
    one, two = _pages_text(rendered.output), _pages_text(parallel.output)
    assert len(two) == len(one) == rendered.pages
    for number, (expected, got) in enumerate(zip(one, two, strict=True), start=1):
        assert got == expected, f"page {number} differs"
        assert f"Page {number} of {rendered.pages}" in got


def test_contents_page_numbers(parallel) -> None:  # type: ignore[no-untyped-def]
    pages = _pages_text(parallel.output)
    contents = pages[1]
    assert "Contents" in contents
    for heading in ("Evidence index", "Methodology and scoring policy", "Sign-off"):
        starts = [i + 1 for i, text in enumerate(pages) if i > 1
                  and any(line.strip() == heading for line in text.splitlines()[:6])]
        line = next(line for line in contents.splitlines() if heading in line)
        assert starts and line.rstrip().endswith(f" {starts[0]}"), (heading, line, starts)


def test_outline_destinations_and_links(parallel, rendered) -> None:  # type: ignore[no-untyped-def]
    one, two = PdfReader(str(rendered.output)), PdfReader(str(parallel.output))
    assert _outline(two) == _outline(one)
    assert len(_outline(two)) > 5
    assert _dests(two) == _dests(one)
    assert "auditkit-signature" in _dests(two)
    links = _links(two)
    assert links == _links(one) and links
    dests = _dests(two)
    assert all(name in dests for _page, name in links)


def test_attachments_metadata_and_pdfa(parallel, results_file: Path) -> None:  # type: ignore[no-untyped-def]
    reader = PdfReader(str(parallel.output))
    files = dict(reader.attachments.items())
    assert files == {"results.json": [results_file.read_bytes()], "manifest.yaml": [MANIFEST]}
    root = reader.trailer["/Root"]
    relationships = {str(spec.get_object()["/F"]): spec.get_object()["/AFRelationship"]
                     for spec in root["/AF"]}
    assert relationships == {"results.json": "/Data", "manifest.yaml": "/Data"}
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert 'pdfaid:part="3"' in xmp or "<pdfaid:part>3</pdfaid:part>" in xmp
    assert 'pdfaid:conformance="B"' in xmp or "<pdfaid:conformance>B</pdfaid:conformance>" in xmp
    assert len(root["/OutputIntents"]) == 1
    info = reader.metadata
    assert info is not None and info.author == "Lee Park, Example Assurance LLP"
    assert info["/AuditkitResultsSHA256"] == hashlib.sha256(results_file.read_bytes()).hexdigest()
    assert info["/AuditkitManifestSHA256"] == hashlib.sha256(MANIFEST).hexdigest()
    assert reader.pdf_header == "%PDF-1.7"


def test_font_subsets_have_distinct_names(parallel) -> None:  # type: ignore[no-untyped-def]
    import pikepdf

    from auditkit.report.parallel import _fonts

    with pikepdf.open(parallel.output) as pdf:
        fonts = _fonts([page.obj for page in pdf.pages])
        names = [str(font.BaseFont) for font in fonts]
        assert len(fonts) > 6  # each half has its own subsets
        assert len(set(names)) == len(names), names
        for font in fonts:
            descendant = font.DescendantFonts[0]
            assert str(descendant.BaseFont) == str(descendant.FontDescriptor.FontName) == str(font.BaseFont)
        embedded = pdf.Root.Names.EmbeddedFiles.Names
        keys = [bytes(embedded[i]) for i in range(0, len(embedded), 2)]
        assert keys == sorted(keys)


def test_signed_parallel_report_verifies(parallel, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from auditkit.signing.keys import init_keys
    from auditkit.signing.pades import sign_pdf
    from auditkit.signing.verify import verify_report

    (tmp_path / "keys").mkdir()
    made = init_keys(tmp_path / "keys", org="Example Assurance LLP", passphrase=b"pw-parallel")
    signed = tmp_path / "signed.pdf"
    sign_pdf(parallel.output, signed, p12=made.p12, passphrase=b"pw-parallel")
    verdict = verify_report(signed, trust=[made.ca_pem])  # raises on any failed rule
    assert verdict.lines()[0].startswith("OK:")
    assert verdict.results_sha256 == parallel.results_sha256
    if shutil.which("pdfsig") is None:
        pytest.skip("poppler-utils missing")
    text = subprocess.run(["pdfsig", str(signed)], capture_output=True, text=True,
                          timeout=60).stdout
    assert "Signature is Valid." in text and "Total document signed" in text


def test_parallel_output_is_reproducible(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from auditkit.report import render_report

    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    results = build_results(4)
    render_report(results, manifest_bytes=MANIFEST, output=tmp_path / "a.pdf", jobs=2)
    render_report(results, manifest_bytes=MANIFEST, output=tmp_path / "b.pdf", jobs=2)
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()


def test_parallel_draft_says_so_on_every_page(tmp_path: Path) -> None:
    from auditkit.report import render_report

    out = render_report(build_results(4), manifest_bytes=MANIFEST, output=tmp_path / "d.pdf", jobs=2)
    pages = _pages_text(out.output)
    assert len(pages) == out.pages > 4
    assert all("UNSIGNED DRAFT" in page for page in pages)


def test_split_needs_two_control_sections_each_on_a_new_page() -> None:
    from auditkit.report.parallel import ParallelUnavailable, check_stylesheet, split_html

    with pytest.raises(ParallelUnavailable):
        split_html("<html><head></head><body><p>no controls</p></body></html>")
    with pytest.raises(ParallelUnavailable):
        check_stylesheet("section.control { margin: 0 }")
    check_stylesheet("section.control { break-before: page; }")


def test_one_control_falls_back_to_one_process(tmp_path: Path,
                                               caplog: pytest.LogCaptureFixture) -> None:
    from auditkit.report import render_report

    caplog.set_level(logging.INFO, logger="auditkit.report")
    results = build_results(1)
    one = render_report(results, manifest_bytes=MANIFEST, output=tmp_path / "one.pdf")
    two = render_report(results, manifest_bytes=MANIFEST, output=tmp_path / "two.pdf", jobs=2)
    assert FALLBACK in caplog.text
    assert one.pages == two.pages
    assert (tmp_path / "one.pdf").read_bytes() == (tmp_path / "two.pdf").read_bytes()



def test_cli_jobs_2_signed_report_verifies(results_file: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from auditkit.cli import cli

    env = {"AUDITKIT_KEY_PASSPHRASE": "cli-parallel-passphrase"}
    keys = tmp_path / "keys"
    result = CliRunner().invoke(cli, ["keys", "init", "-o", str(keys), "--org", "Example"], env=env)
    assert result.exit_code == 0, result.output
    out = tmp_path / "report.pdf"
    result = CliRunner().invoke(cli, ["report", str(results_file), "-o", str(out), "--jobs", "2",
                                      "--sign-key", str(keys / "signer.p12")], env=env)
    assert result.exit_code == 0, result.output
    assert "signed PAdES B-B" in result.output
    result = CliRunner().invoke(cli, ["verify", str(out), "--trust", str(keys / "ca.pem")])
    assert result.exit_code == 0, result.output
