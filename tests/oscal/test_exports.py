"""OSCAL out: assessment results against the official 1.1.2 schema and trestle, anchored to the NIST catalog;
the assessment plan they import; the POA&M of open findings."""

from __future__ import annotations

import copy
import hashlib
import json

import pytest

from auditkit.oscal.documents import validate as trestle_validate
from auditkit.results.formats import render
from auditkit.results.io import load_results

from .conftest import ASSESSED, BUNDLE, MODERATE, ar_validator, control_ids


@pytest.fixture(scope="module")
def results(nist_results):
    return load_results(nist_results)


@pytest.fixture(scope="module")
def documents(results):
    return {name: json.loads(render(name, results)) for name in ("oscal", "oscal-ap", "oscal-poam")}


def _catalog_part_ids() -> set[str]:
    import trestle.oscal.catalog as oscal_catalog

    catalog = oscal_catalog.Catalog.model_validate(json.loads(MODERATE.read_text())["catalog"])
    found: set[str] = set()

    def parts(items):
        for part in items or []:
            if part.id:
                found.add(part.id)
            parts(part.parts)

    def controls(items):
        for control in items or []:
            parts(control.parts)
            controls(control.controls)

    for group in catalog.groups:
        controls(group.controls)
    return found


def test_assessment_results_validate_against_the_official_schema(documents):
    validator = ar_validator()
    errors = [f"/{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in validator.iter_errors(documents["oscal"])]
    assert errors == []
    broken = copy.deepcopy(documents["oscal"])
    broken["assessment-results"]["results"][0]["start"] = "yesterday"
    broken["assessment-results"]["results"][0]["findings"][0]["uuid"] = "not-a-uuid"
    assert len(list(validator.iter_errors(broken))) >= 2  # format and pattern checks are live


def test_every_document_parses_with_trestle(documents):
    for name, document in documents.items():
        trestle_validate(document, name)


def test_all_287_reviewed_control_ids_resolve_in_the_source_catalog(documents):
    (result,) = documents["oscal"]["assessment-results"]["results"]
    reviewed = [c["control-id"] for c in result["reviewed-controls"]["control-selections"][0]["include-controls"]]
    catalog_ids = control_ids(MODERATE)
    assert len(reviewed) == 287 and set(reviewed) == set(catalog_ids)


def test_findings_target_objective_ids_of_the_catalog(documents):
    (result,) = documents["oscal"]["assessment-results"]["results"]
    targets = [f["target"]["target-id"] for f in result["findings"]]
    assert set(targets) <= _catalog_part_ids()
    control_findings = [f for f in result["findings"] if any(p["name"] == "control-id" for p in f.get("props", []))]
    assert len(control_findings) == ASSESSED  # none for the controls not assessed
    by_target = {f["target"]["target-id"]: f for f in result["findings"]}
    assert by_target["ac-2_obj"]["target"]["status"] == {"state": "satisfied", "reason": "pass"}
    assert by_target["ac-2_obj.a-1"]["target"]["status"]["state"] == "satisfied"
    assert "AC-2(1)" in by_target["ac-2.1_obj"]["title"]
    inherited = by_target["ac-1_obj"]
    assert {"name": "origination", "ns": inherited["props"][0]["ns"], "value": "inherited"} in inherited["props"]


def test_assessment_results_import_the_plan_by_hash(documents, results):
    ar = documents["oscal"]["assessment-results"]
    (resource,) = ar["back-matter"]["resources"]
    assert ar["import-ap"]["href"] == "#" + resource["uuid"]
    assert resource["rlinks"][0]["hashes"][0]["value"] == hashlib.sha256(render("oscal-ap", results)).hexdigest()
    ap = documents["oscal-ap"]["assessment-plan"]
    reviewed = ap["reviewed-controls"]["control-selections"][0]["include-controls"]
    assert len(reviewed) == 287
    activities = {a["title"]: a for a in ap["local-definitions"]["activities"]}
    assert set(activities) == {"Examine procedures", "Interview procedures", "Test procedures"}
    window = ap["tasks"][0]["timing"]["within-date-range"]
    assert (window["start"], window["end"]) == ("2026-07-01T00:00:00Z", "2026-09-30T23:59:59Z")
    for anchor, value in [("oscal-metadata_metadata", ap["metadata"]),
                          ("oscal-assessment-common_reviewed-controls", ap["reviewed-controls"]),
                          ("oscal-assessment-common_assessment-assets", ap["assessment-assets"]),
                          ("oscal-assessment-common_task", ap["tasks"][0]),
                          *[("oscal-assessment-common_activity", a) for a in activities.values()]]:
        assert list(ar_validator(anchor).iter_errors(value)) == [], anchor


def test_poam_holds_the_open_findings(documents, results):
    poam = documents["oscal-poam"]["plan-of-action-and-milestones"]
    open_controls = sorted(c.id for c in results.controls
                           if c.status in ("not-satisfied", "partially-satisfied", "insufficient-evidence", "waived"))
    items = {next(p["value"] for p in i["props"] if p["name"] == "control-id"): i for i in poam["poam-items"]}
    assert sorted(items) == open_controls and len(open_controls) == 5
    risks = {r["uuid"]: r for r in poam["risks"]}
    statuses = sorted(risks[i["related-risks"][0]["risk-uuid"]]["status"] for i in items.values())
    assert statuses == ["deviation-approved", "open", "open", "open", "open"]
    assert all(r["remediations"][0]["lifecycle"] == "planned" for r in risks.values())
    for anchor, key in [("oscal-assessment-common_observation", "observations"),
                        ("oscal-assessment-common_risk", "risks"), ("oscal-assessment-common_finding", "findings")]:
        validator = ar_validator(anchor)
        for value in poam[key]:
            assert list(validator.iter_errors(value)) == [], (anchor, value["uuid"])
    assert list(ar_validator("oscal-metadata_metadata").iter_errors(poam["metadata"])) == []


@pytest.mark.parametrize("fmt", ["oscal", "oscal-ap", "oscal-poam"])
def test_each_format_through_the_cli(invoke, moderate_dir, nist_results, tmp_path, fmt):
    folder = nist_results.parent
    out = tmp_path / f"out{fmt}.json"
    result = invoke("assess", BUNDLE, "--controls", moderate_dir, "--profile", folder / "acme-moderate.yaml",
                    "--assessment", folder / "acme.assessment.yaml", "--format", fmt, "-o", out)
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == render(fmt, load_results(nist_results))
