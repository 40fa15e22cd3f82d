"""``auditkit diff``: through the CLI, as users run it, plus the library's edge cases."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from auditkit.cli import cli
from auditkit.results.diff import diff_results, render
from auditkit.results.io import to_json_bytes


@pytest.fixture(scope="module")
def newer(make_results, make_control, make_item):
    """A later assessment: two statuses change, one control leaves, one arrives, evidence moves."""
    from auditkit.results import model as rm

    old = make_results()
    by_id = {c.id: c for c in old.controls}
    controls = [
        by_id["DL-1"],
        by_id["DL-2"].model_copy(update={"status": "partially-satisfied", "computed_status": "partially-satisfied",
                                         "credit": 0.6667}),
        make_control("DL-3", "DL", "satisfied", severity="high"),
        by_id["TP-1"], by_id["TP-3"], by_id["TP-4"],
        make_control("TP-5", "TP", "not-satisfied", credit=0.0, title="Sub-processor | list is current",
                     checks=[rm.CheckResult(id="TP-5.1", title="t", outcome="fail", expression="x",
                                            evidence_kinds=["vendor-register"], offender_count=4)]),
    ]
    items = [i for i in old.bundle.items if i.path not in ("evidence/attestation.pdf", "evidence/inventory.json")]
    items += [make_item("evidence/inventory.json", "datastore-inventory", "6"),
              make_item("evidence/minutes-q3.pdf", "board-minutes", "7")]
    return make_results(controls=controls, items=sorted(items, key=lambda i: i.path),
                        family_scores={"DL": 95.0, "TP": 88.0}, overall=90.25, rating="effective",
                        uncapped="effective", capped_by=[], root_hash="e" * 64)


@pytest.fixture()
def files(tmp_path, results, newer):
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_bytes(to_json_bytes(results))
    new.write_bytes(to_json_bytes(newer))
    return old, new


def test_diff_json_through_the_cli(files):
    old, new = files
    run = CliRunner().invoke(cli, ["diff", str(old), str(new), "--format", "json"])
    assert run.exit_code == 0, run.output
    data = json.loads(run.stdout)
    assert data["changed"] is True
    assert [(c["control"], c["old"], c["new"], c["change"]) for c in data["controls"]] == [
        ("DL-2", "not-satisfied", "partially-satisfied", "changed"),
        ("DL-3", "insufficient-evidence", "satisfied", "changed"),
        ("TP-5", None, "not-satisfied", "added"),
        ("TP-2", "not-applicable", None, "removed"),
    ]
    assert data["overall"] == {"scope": "overall", "title": "Overall", "old": 86.5, "new": 90.25, "delta": 3.75}
    assert (data["old_rating"], data["new_rating"]) == ("partially-effective", "effective")
    assert [(f["scope"], f["delta"]) for f in data["families"]] == [("DL", 15.0), ("TP", -5.33)]
    assert [(e["path"], e["kind"], e["change"]) for e in data["evidence"]] == [
        ("evidence/attestation.pdf", "residency-attestation", "removed"),
        ("evidence/inventory.json", "datastore-inventory", "changed"),
        ("evidence/minutes-q3.pdf", "board-minutes", "added"),
    ]
    changed = data["evidence"][1]
    assert (changed["old_sha256"], changed["new_sha256"]) == ("4" * 64, "6" * 64)
    assert [f["control"] for f in data["new_findings"]] == ["TP-5"]
    assert [f["control"] for f in data["resolved_findings"]] == ["DL-3"]
    assert data["old"]["root_hash"] != data["new"]["root_hash"]


def test_diff_markdown_through_the_cli(files):
    old, new = files
    run = CliRunner().invoke(cli, ["diff", str(old), str(new)])
    assert run.exit_code == 0, run.output
    md = run.stdout
    assert "Rating: partially-effective → **effective**" in md
    assert "| **Overall** | 86.50 | 90.25 | +3.75 |" in md
    assert "| TP Third-party oversight | 93.33 | 88.00 | -5.33 |" in md
    assert "| DL-3 Control DL-3 | insufficient-evidence | satisfied | changed |" in md
    assert r"| TP-5 Sub-processor \| list is current | *(absent)* | not-satisfied | added |" in md
    assert "| TP-2 Control TP-2 | not-applicable | *(absent)* | removed |" in md
    assert "Different auditees" not in md and "Different catalogs" not in md
    assert "| `evidence/inventory.json` | datastore-inventory | changed | `444444444444` | `666666666666` |" in md
    new_findings = md.split("## New findings")[1].split("##")[0]
    assert "TP-5" in new_findings and "DL-3" not in new_findings
    assert "DL-3" in md.split("## Resolved findings")[1]


def test_output_file_is_written_and_stdout_stays_empty(files, tmp_path):
    old, new = files
    out = tmp_path / "diff.md"
    run = CliRunner().invoke(cli, ["diff", str(old), str(new), "-o", str(out)])
    assert run.exit_code == 0, run.output
    assert run.stdout == ""
    assert out.read_text(encoding="utf-8").startswith("# Changes between two assessments")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["diff.md", "new.json", "old.json"]


def test_identical_results_say_so(files):
    old, _ = files
    run = CliRunner().invoke(cli, ["diff", str(old), str(old)])
    assert run.exit_code == 0
    assert "No changes in statuses, scores, evidence or findings." in run.stdout
    data = json.loads(CliRunner().invoke(cli, ["diff", str(old), str(old), "--format", "json"]).stdout)
    assert data["changed"] is False and data["controls"] == [] and data["evidence"] == []


def test_missing_file_is_invalid_input(files, tmp_path):
    old, _ = files
    run = CliRunner().invoke(cli, ["diff", str(old), str(tmp_path / "nope.json")])
    assert run.exit_code == 3
    assert "nope.json: file not found" in run.stderr


def test_a_file_that_is_not_results_is_refused(files, tmp_path):
    old, _ = files
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": "1.0"}')
    run = CliRunner().invoke(cli, ["diff", str(old), str(bad)])
    assert run.exit_code == 3
    assert run.stdout == ""


def test_a_damaged_pdf_report_is_refused(files, tmp_path):
    old, _ = files
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF-1.7\n%fake\n")
    run = CliRunner().invoke(cli, ["diff", str(pdf), str(old)])
    assert run.exit_code == 4  # signed reports are read (tests/pipeline/test_auditor_workflow.py); this is none
    assert "report.pdf" in run.stderr


def test_unknown_format_is_a_usage_error(files):
    old, new = files
    run = CliRunner().invoke(cli, ["diff", str(old), str(new), "--format", "html"])
    assert run.exit_code == 2


def test_diff_is_listed_in_help():
    run = CliRunner().invoke(cli, ["--help"])
    assert run.exit_code == 0 and "diff" in run.stdout


def test_the_cli_module_loads_no_library_until_run():
    code = ("import sys, auditkit.cli.diff; "
            "print(any(m.startswith('auditkit.results') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_library_diff_is_pure_and_deterministic(results, newer):
    first = render(diff_results(results, newer), "json")
    assert first == render(diff_results(results, newer), "json")
    back = json.loads(render(diff_results(newer, results), "json"))
    assert [f["control"] for f in back["new_findings"]] == ["DL-3"]
    assert back["overall"]["delta"] == -3.75


def test_families_that_appear_or_disappear(make_results, make_control):
    old = make_results()
    new = make_results(controls=[make_control("AR-1", "AR", "satisfied")], family_scores={"AR": 100.0})
    d = diff_results(old, new)
    rows = {f.scope: (f.old, f.new, f.delta) for f in d.families}
    assert rows == {"AR": (None, 100.0, None), "DL": (80.0, None, None), "TP": (93.33, None, None)}
    md = render(d).decode()
    assert "| AR AR | n/a | 100.00 | added |" in md and "| DL Data localization | 80.00 | n/a | removed |" in md


def test_different_auditees_and_catalogs_are_pointed_out(results):
    other = results.model_copy(update={
        "assessment": results.assessment.model_copy(update={"auditee": "Globex"}),
        "catalog": results.catalog.model_copy(update={"digest": "sha256:" + "f" * 64}),
    })
    md = render(diff_results(results, other)).decode()
    assert "> **Different auditees**" in md and "> **Different catalogs**" in md
