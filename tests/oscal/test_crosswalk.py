"""`auditkit crosswalk`: the shipped catalog's 800-53 references resolve to NIST catalog ids and results roll up."""

from __future__ import annotations

import json

import pytest

from auditkit.results.crosswalk import nist_id, rolled_status

from .conftest import MODERATE, ROOT, control_ids


@pytest.fixture(scope="module")
def shipped_results(tmp_path_factory):
    from click.testing import CliRunner

    from auditkit.cli import cli

    out = tmp_path_factory.mktemp("shipped") / "results.json"
    result = CliRunner().invoke(cli, ["assess", str(ROOT / "evidence_samples" / "acme-us"), "-o", str(out)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out


def test_labels_become_oscal_ids():
    assert [nist_id(x) for x in ("SA-9(5)", "AC-4", "IA-2(1)", "SI-7(15)", "ISO 27001")] == [
        "sa-9.5", "ac-4", "ia-2.1", "si-7.15", None]


def test_the_worst_assessed_status_wins():
    assert rolled_status(["satisfied", "partially-satisfied", "not-assessed"]) == "partially-satisfied"
    assert rolled_status(["satisfied", "not-applicable"]) == "satisfied"
    assert rolled_status(["not-assessed", "not-assessed"]) == "not-assessed"
    assert rolled_status(["waived", "insufficient-evidence"]) == "insufficient-evidence"


def test_shipped_references_resolve_in_the_nist_catalog(invoke, shared, shipped_results, tmp_path):
    out = tmp_path / "crosswalk.json"
    result = invoke("crosswalk", shipped_results, "--catalog", MODERATE, "--format", "json", "-o", out)
    assert result.exit_code == 0, result.output
    view = json.loads(out.read_text())
    ids = set(control_ids(MODERATE))
    assert view["controls"] and all(row["id"] in ids for row in view["controls"])
    rows = {row["label"]: row for row in view["controls"]}
    assert [c["id"] for c in rows["AC-4"]["controls"]] == ["BA-4", "DL-1", "DL-3"]
    assert rows["AC-4"]["title"] == "Information Flow Enforcement"
    results = json.loads(shipped_results.read_text())
    status = {c["id"]: c["status"] for c in results["controls"]}
    for row in view["controls"]:
        assert row["status"] == rolled_status([status[c["id"]] for c in row["controls"]])
    # SA-9(5) is a real 800-53 enhancement but not in the moderate baseline: listed, not dropped
    assert {"control": "DL-1", "reference": "SA-9(5)"} in view["unresolved"]
    assert "references not in NIST Special Publication 800-53" in result.output
    referenced = {r for c in results["controls"] for r in c["references"].get("nist_800_53", [])}
    assert len(view["controls"]) + len({u["reference"] for u in view["unresolved"]}) == len(referenced)


def test_an_imported_folder_resolves_the_same(invoke, moderate_dir, shipped_results):
    from_json = invoke("crosswalk", shipped_results, "--catalog", MODERATE)
    from_folder = invoke("crosswalk", shipped_results, "--catalog", moderate_dir)
    assert from_json.exit_code == from_folder.exit_code == 0
    table = [line for line in from_json.output.splitlines() if line.startswith("| ")]
    assert table == [line for line in from_folder.output.splitlines() if line.startswith("| ")]
    assert "| CA-2(1) | Independent Assessors |" in from_json.output
