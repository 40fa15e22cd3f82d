"""The report a regulator reads, rendered from a shipped sample through the CLI and checked page by page.

One signed rendering of the globex sample (assess, keys init, report --sign-key --bundle) feeds every
check: contents page numbers, text details, running headers, digests and timestamps that do not break
into leftovers, chart labels, tagging and the attachment structures.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from auditkit.cli import cli

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "evidence_samples"
ENV = {"AUDITKIT_KEY_PASSPHRASE": "pages-test-passphrase"}


def _ok(*args: str | Path) -> str:
    result = CliRunner().invoke(cli, [str(a) for a in args], env=ENV)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pages")
    _ok("assess", SAMPLES / "globex", "-o", folder / "results.json")
    _ok("keys", "init", "-o", folder / "keys", "--org", "Example Assurance LLP")
    _ok("report", folder / "results.json", "-o", folder / "report.pdf", "--bundle", SAMPLES / "globex",
        "--sign-key", folder / "keys" / "signer.p12")
    return folder / "report.pdf"


@pytest.fixture(scope="module")
def pages(signed: Path) -> list[str]:
    done = subprocess.run(["pdftotext", "-layout", str(signed), "-"], capture_output=True, text=True,
                          check=True, timeout=120)
    return done.stdout.split("\f")


@pytest.fixture(scope="module")
def text(pages: list[str]) -> str:
    return "\f".join(pages)


def test_contents_sends_each_family_to_its_first_control(pages: list[str]) -> None:
    toc = pages[1]
    entries = re.findall(r"^\s+([A-Z]{2}) · .*?\(\d+\) \.+ (\d+)$", toc, re.M)
    assert [family for family, _ in entries] == ["AR", "BA", "DL", "TP"]
    numbers = [int(n) for _, n in entries]
    assert len(set(numbers)) == 4, toc  # not all the overview page
    for family, number in entries:
        page = pages[int(number) - 1]
        assert re.search(rf"^{family}-1 · ", page, re.M), (family, number, page[:300])


def test_no_empty_reference_rows(text: str) -> None:
    for label in ("Other", "ISO/IEC 27001:2022", "NIST SP 800-53 rev5", "Agreement"):
        assert not re.search(rf"^\s*{re.escape(label)}\s*$", text, re.M), label


def test_wording(text: str) -> None:
    assert "(1 offending record)" in text
    assert "1 offending records" not in text
    assert not re.search(r"[^\d.]\.\.(?![.\d])", text), re.search(r".{40}[^\d.]\.\.(?![.\d]).{10}", text)
    findings = text[text.index("Ordered by severity"):text.index("\nControls\n")]
    assert "[override:" not in text and "->" not in findings
    assert "Auditor override: computed insufficient evidence, reported not satisfied." in " ".join(findings.split())
    assert "(not recorded)" not in text


def test_severity_weights_in_severity_order(text: str) -> None:
    table = text[text.index("Severity weights"):]
    order = re.findall(r"^\s*(?:\S.*?\s{2,})?(critical|high|medium|low)\s+\d", table[:2000], re.M)
    assert order == ["critical", "high", "medium", "low"], order


def test_findings_in_natural_id_order_within_a_severity(text: str) -> None:
    findings = text[text.index("Ordered by severity"):text.index("\nControls\n")]
    heads = re.findall(r"^\s+(Critical|High|Medium|Low)\s+([A-Z]{2})-(\d+)\s", findings, re.M)
    assert len(heads) > 10
    rank = {"Critical": 0, "High": 1, "Medium": 2, "Low": 3}
    keys = [(rank[s], fam, int(n)) for s, fam, n in heads]
    by_severity: dict[int, list[tuple[str, int]]] = {}
    for severity, fam, n in keys:
        by_severity.setdefault(severity, []).append((fam, n))
    for ids in by_severity.values():
        for fam in {f for f, _ in ids}:
            numbers = [n for f, n in ids if f == fam]
            assert numbers == sorted(numbers), ids


def test_running_header_is_one_line(pages: list[str]) -> None:
    for number, page in enumerate(pages[1:-1], start=2):
        lines = page.splitlines()
        if not lines:
            continue
        assert lines[0].startswith("Globex U.S. Data Services LLC"), (number, lines[:2])
        assert lines[1].strip() == "", (number, lines[:3])  # nothing wrapped onto a second line
    assert any("BA-8 · The adversary stake stays below the t…" in p.splitlines()[0] for p in pages[1:])


def test_digests_and_timestamps_break_only_where_meant(signed: Path) -> None:
    raw = subprocess.run(["pdftotext", str(signed), "-"], capture_output=True, text=True, check=True,
                         timeout=120).stdout
    runs = {len(m) for m in re.findall(r"[0-9a-f]{12,}", raw)}
    assert runs <= {32, 64}, runs  # halves or whole digests, never a 62 + 2 split
    assert not re.search(r"\d{2}:\d{2}:\d?$", raw, re.M)
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{0,2}$", raw, re.M)


def test_chart_labels_are_whole(pages: list[str]) -> None:
    summary = pages[2]
    chart = summary[summary.index("Score per control family"):summary.index("Family scores")]
    for label in ("AR · Audit rights for regulators", "BA · Independent board authority",
                  "DL · Data localization", "TP · Third-party oversight"):
        assert label in chart, chart


def test_signed_report_is_tagged_with_sorted_attachments(signed: Path) -> None:
    import pikepdf

    info = subprocess.run(["pdfinfo", str(signed)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Tagged:\s+yes$", info, re.M), info
    with pikepdf.open(signed) as pdf:
        root = pdf.Root
        assert "/StructTreeRoot" in root and root.MarkInfo.Marked is True
        assert str(root.Lang) == "en" and root.ViewerPreferences.DisplayDocTitle is True
        names = [str(n) for n in root.Names.EmbeddedFiles.Names[::2]]
        assert names == sorted(names) == ["commitments.json", "manifest.yaml", "results.json"]
        assert [str(spec.UF) for spec in root.AF] == names  # each file once
        kids = root.StructTreeRoot.K
        assert len(kids if isinstance(kids, pikepdf.Array) else [kids]) >= 1
        assert len(pdf.open_metadata().get("pdfaid:part", "")) == 1


def test_no_local_path_in_the_tampered_results(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    _ok("assess", SAMPLES / "globex-tampered", "-o", out, "--allow-integrity-failures")
    data = out.read_text()
    assert "changed after sealing" in data
    assert str(ROOT) not in data and str(SAMPLES) not in data
    assert "evidence/board-roster.json: SHA-256 is" in data


def test_no_auditor_recorded_reads_as_a_sentence(tmp_path: Path) -> None:
    import hashlib
    import shutil

    from auditkit.pipeline import run_assessment
    from auditkit.report.render import build_html

    shutil.copytree(SAMPLES / "acme-us", tmp_path / "acme-us")  # without the assessment file beside it
    run = run_assessment(tmp_path / "acme-us", assessment_path=None, profile="default")
    assert run.results.assessment.auditor.name == "(not recorded)"
    html = build_html(run.results, results_sha256=hashlib.sha256(b"x").hexdigest())
    assert "(not recorded)" not in html
    assert "controls of Acme U.S. Data Security Inc. were assessed (no assessment file" in " ".join(html.split())


def test_findings_order_is_natural_for_two_digit_ids() -> None:
    from auditkit.report.render import build_context

    from .sample import build_results

    results = build_results(12)
    first = results.findings[0]
    made = [first.model_copy(update={"control": cid, "severity": "high"}) for cid in ("AC-11", "AC-2", "AC-1")]
    context = build_context(results.model_copy(update={"findings": made}), results_sha256="0" * 64,
                            manifest_sha256=None)
    assert [f.control for f in context["findings"]] == ["AC-1", "AC-2", "AC-11"]
