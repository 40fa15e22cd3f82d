"""An assessment of the NIST moderate baseline: procedure-only controls, not-assessed, parameters, a signed report."""

from __future__ import annotations

import json
import subprocess
from collections import Counter

from auditkit.results.io import load_results

from .conftest import ASSESSED


def test_statuses_of_a_partial_assessment(nist_results):
    results = load_results(nist_results)
    counts = Counter(c.status for c in results.controls)
    assert len(results.controls) == 287 and counts["not-assessed"] == 287 - ASSESSED
    # every 10th control from the 4th has its interview not affirmed; the 14th of them is waived
    assert counts["satisfied"] == 45 and counts["partially-satisfied"] == 4 and counts["waived"] == 1
    assert not [f for f in results.findings if f.status == "not-assessed"]
    by_id = {c.id: c for c in results.controls}
    untested = next(c for c in results.controls if c.status == "not-assessed")
    assert untested.credit is None and "not assessed" in next(
        t.explanation for t in results.score_trace if t.scope == f"control {untested.id}")
    assert by_id["ac-14"].credit == 0.5 and by_id["ac-2.2"].credit == round(2 / 3, 4)  # 1 of 2, 2 of 3 affirmed
    assert results.overall.score == round(100 * (45 + 3 * 2 / 3 + 0.5) / 49, 2)  # equal weights (all medium)


def test_parameters_are_inserted_into_the_statement(nist_results):
    by_id = {c.id: c for c in load_results(nist_results).controls}
    text = "".join(s.text for line in by_id["ac-2.2"].statement for s in line.segments)
    assert text == "Automatically disable temporary and emergency accounts after 72 hours."
    j = next(line for line in by_id["ac-2"].statement if line.id == "ac-2_smt.j")
    assert [(s.text, s.assigned) for s in j.segments if s.param] == [("at least quarterly", True)]
    c = next(line for line in by_id["ac-2"].statement if line.id == "ac-2_smt.c")
    assert [(s.text, s.assigned) for s in c.segments if s.param] == [
        ("[Assignment: organization-defined prerequisites and criteria]", False)]
    assert [line.level for line in by_id["ac-2"].statement if line.id.startswith("ac-2_smt.d")] == [0, 1, 1, 1]
    assert by_id["ac-2"].label == "AC-2" and by_id["ac-2.1"].label == "AC-2(1)"
    test = next(p for p in by_id["ac-2"].procedures if p.method == "test")
    assert test.objectives == ["ac-2_obj.a-1", "ac-2_obj.a-2"]
    assert by_id["ac-1"].implementation.origination == "inherited"


def test_report_renders_and_signs_and_pdfsig_accepts_it(invoke, nist_results, tmp_path, monkeypatch):
    monkeypatch.setenv("AUDITKIT_KEY_PASSPHRASE", "oscal-test-passphrase")
    keys = tmp_path / "keys"
    assert invoke("keys", "init", "-o", keys, "--org", "Example Assurance LLP").exit_code == 0
    report = tmp_path / "report.pdf"
    result = invoke("report", nist_results, "-o", report, "--sign-key", keys / "signer.p12")
    assert result.exit_code == 0, result.output
    checked = subprocess.run(["pdfsig", str(report)], capture_output=True, text=True, timeout=120)
    assert "Signature Validation: Signature is Valid." in checked.stdout, checked.stdout
    assert "Total document signed" in checked.stdout
    text = subprocess.run(["pdftotext", "-layout", str(report), "-"], capture_output=True, text=True,
                          check=True, timeout=120).stdout
    assert "AC-2(1) · Automated System Account Management" in text
    assert "at least quarterly" in text and "[Assignment: organization-defined" in text
    assert "Controls not assessed" in text and f"{287 - ASSESSED} controls in the scope" in text
    assert "Implementation: Implemented, inherited (provided by Example Cloud" in text
    assert "Assessment objectives" in text and "Guidance" in text
    verified = invoke("verify", report, "--trust", keys / "ca.pem")
    assert verified.exit_code == 0, verified.output
    assert json.loads(nist_results.read_text())["controls"][0]["id"] == "ac-1"
