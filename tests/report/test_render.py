"""The rendered report: structure, text, attachments, PDF/A identification, metadata, reproducibility."""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from .conftest import MANIFEST
from .sample import build_results

SECTIONS = ["Contents", "Executive summary", "Findings", "Controls", "Evidence index",
            "Methodology and scoring policy", "Score trace", "Sign-off"]


def test_page_count_and_sections(rendered, report_text: str) -> None:  # type: ignore[no-untyped-def]
    assert 15 <= rendered.pages <= 40
    for heading in SECTIONS:
        assert heading in report_text, heading
    assert "Acme U.S. Data Security Inc." in report_text
    assert "Partially effective" in report_text
    assert f"Page 1 of {rendered.pages}" in report_text
    assert f"Page {rendered.pages} of {rendered.pages}" in report_text
    for control in ("DL-1", "TP-1", "AR-1", "BA-1", "DL-3", "BA-3"):
        assert f"{control} · Control {control}" in report_text


def test_control_section_contents(report_text: str) -> None:
    assert "Parameters in force" in report_text and "approved_regions" in report_text
    assert "Evidence used" in report_text
    assert hashlib.sha256(b"datastore-inventory").hexdigest()[:16] in report_text
    assert "Offending records: the first 25 of 250" in report_text
    lower = report_text.lower()  # callout titles are set in capitals by the stylesheet
    assert "auditor override" in lower and "Monitor approval letter" in report_text
    assert "waiver — applied" in lower
    assert "not applicable" in lower and "subsidiary of a listed parent" in report_text
    assert "Procedures and auditor notes" in report_text and "Not performed" in report_text
    assert "Remediation" in report_text


def test_findings_ordered_by_severity(report_text: str) -> None:
    findings = report_text[report_text.index("Ordered by severity"):]
    findings = findings[: findings.index("Controls")]
    order = [m.group(1) for m in re.finditer(r"\b(Critical|High|Medium|Low)\b", findings)]
    rank = {"Critical": 0, "High": 1, "Medium": 2, "Low": 3}
    assert order and [rank[o] for o in order] == sorted(rank[o] for o in order)


def test_hostile_text_is_escaped(rendered, report_text: str) -> None:  # type: ignore[no-untyped-def]
    assert "<script>alert(1)</script>" in report_text  # shown as text
    html = Path(rendered.html_output).read_text()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<style>" in html and 'href="report.css"' not in html  # standalone HTML


def test_attachments_byte_identical(rendered, results_file: Path) -> None:  # type: ignore[no-untyped-def]
    reader = PdfReader(str(rendered.output))
    files = {name: content for name, content in reader.attachments.items()}
    assert files["results.json"] == [results_file.read_bytes()]
    assert files["manifest.yaml"] == [MANIFEST]
    root = reader.trailer["/Root"]
    relationships = {str(spec.get_object()["/F"]): spec.get_object()["/AFRelationship"]
                     for spec in root["/AF"]}
    assert relationships == {"results.json": "/Data", "manifest.yaml": "/Data"}


def test_pdfa3b_identification_and_metadata(rendered, results_file: Path) -> None:  # type: ignore[no-untyped-def]
    reader = PdfReader(str(rendered.output))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert 'pdfaid:part="3"' in xmp or "<pdfaid:part>3</pdfaid:part>" in xmp
    assert 'pdfaid:conformance="B"' in xmp or "<pdfaid:conformance>B</pdfaid:conformance>" in xmp
    info = reader.metadata
    assert info is not None
    assert info.title and "Acme U.S. Data Security Inc." in info.title
    assert info.author == "Lee Park, Example Assurance LLP"
    assert info.subject and "partially effective" in info.subject
    assert "audit report" in str(info.get("/Keywords"))
    assert info["/AuditkitResultsSHA256"] == hashlib.sha256(results_file.read_bytes()).hexdigest()
    assert info["/AuditkitManifestSHA256"] == hashlib.sha256(MANIFEST).hexdigest()
    assert str(info["/CreationDate"]).startswith("D:20261015")


def test_reproducible_unsigned_output(tmp_path: Path, results_file: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from auditkit.report import render_report

    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    small = tmp_path / "results.json"
    from auditkit.results.io import to_json_bytes

    small.write_bytes(to_json_bytes(build_results(4)))
    one = render_report(small, manifest_bytes=MANIFEST, output=tmp_path / "a.pdf")
    two = render_report(small, manifest_bytes=MANIFEST, output=tmp_path / "b.pdf")
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()
    assert one.results_sha256 == two.results_sha256
    assert "SOURCE_DATE_EPOCH" not in __import__("os").environ


def test_model_input_and_no_manifest(tmp_path: Path) -> None:
    from auditkit.report import render_report

    out = render_report(build_results(4), manifest_bytes=None, output=tmp_path / "r.pdf")
    names = set(PdfReader(str(out.output)).attachments)
    assert names == {"results.json"}
    assert out.manifest_sha256 is None


def test_invalid_results_refused(tmp_path: Path) -> None:
    from auditkit.errors import InvalidInputError
    from auditkit.report import render_report

    bad = tmp_path / "results.json"
    bad.write_text('{"schema_version": "1.0"}')
    with pytest.raises(InvalidInputError):
        render_report(bad, manifest_bytes=None, output=tmp_path / "r.pdf")
    assert not (tmp_path / "r.pdf").exists()


def test_weasyprint_warnings_are_captured() -> None:
    from auditkit.report.render import captured_warnings

    with captured_warnings() as collected:
        logging.getLogger("weasyprint").warning("Ignored `foo: bar` at 1:1, unknown property.")
    assert collected.messages == ["Ignored `foo: bar` at 1:1, unknown property."]


def test_css_string_cannot_end_the_string_or_the_style() -> None:
    from auditkit.report.env import _css_string

    quoted = str(_css_string('Acme "Inc" \\ </style><script>x</script>\nnext'))
    assert quoted.startswith('"') and quoted.endswith('"') and quoted.count('"') == 2
    assert "<" not in quoted and ">" not in quoted and "\n" not in quoted
    assert quoted == '"Acme \\22 Inc\\22  \\5c  \\3c \\2f style\\3e \\3c script\\3e x\\3c \\2f script\\3e \\a next"'


def test_jinja_environment_is_strict_and_escaping() -> None:
    import jinja2

    from auditkit.report.env import make_environment

    env = make_environment()
    assert env.from_string("{{ v }}").render(v="<b>&") == "&lt;b&gt;&amp;"
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing }}").render()
