"""OSCAL assessment-results: parsed by compliance-trestle's models (an independent reading of the schema)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid

import pytest
import trestle.oscal.assessment_results as trestle_ar
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditkit.errors import InvalidInputError
from auditkit.results.formats import oscal, oscal_ap

TIME_KEYS = {"last-modified", "start", "end", "collected", "deadline"}


def _trestle(data: dict):
    return trestle_ar.AssessmentResults.model_validate(data["assessment-results"])


def _times_normalised(value):
    if isinstance(value, dict):
        return {k: (dt.datetime.fromisoformat(v) if k in TIME_KEYS else _times_normalised(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_times_normalised(v) for v in value]
    return value


@pytest.fixture(scope="module")
def document(results) -> dict:
    return json.loads(oscal.render(results))


def test_trestle_parses_it_and_keeps_every_field(document):
    model = _trestle(document)
    back = json.loads(model.model_dump_json(by_alias=True, exclude_none=True))
    assert back["metadata"]["oscal-version"] == "1.1.2"
    assert len(model.results[0].findings) == 7
    assert _times_normalised(back) == _times_normalised(document["assessment-results"])


def test_metadata_and_result_come_from_the_assessment(document, results):
    ar = document["assessment-results"]
    assert ar["metadata"]["last-modified"] == "2026-10-15T00:00:00Z"
    (plan,) = ar["back-matter"]["resources"]
    assert ar["import-ap"]["href"] == "#" + plan["uuid"]
    assert plan["rlinks"][0]["hashes"][0]["value"] == hashlib.sha256(oscal_ap.render(results)).hexdigest()
    (result,) = ar["results"]
    assert (result["start"], result["end"]) == ("2026-07-01T00:00:00Z", "2026-09-30T23:59:59Z")
    selected = result["reviewed-controls"]["control-selections"][0]["include-controls"]
    assert [c["control-id"] for c in selected] == ["DL-1", "DL-2", "DL-3", "TP-1", "TP-2", "TP-3", "TP-4"]
    props = {p["name"]: p["value"] for p in ar["metadata"]["props"]}
    assert props["bundle-root-hash"].startswith("3b1f") and props["catalog-digest"].startswith("sha256:")


def test_findings_map_every_status(document):
    (result,) = document["assessment-results"]["results"]
    by_control = {f["target"]["target-id"]: f for f in result["findings"]}
    states = {k: (f["target"]["status"]["state"], f["target"]["status"]["reason"]) for k, f in by_control.items()}
    assert states == {
        "DL-1": ("satisfied", "pass"), "DL-2": ("not-satisfied", "fail"), "DL-3": ("not-satisfied", "other"),
        "TP-1": ("not-satisfied", "fail"), "TP-2": ("satisfied", "other"), "TP-3": ("not-satisfied", "fail"),
        "TP-4": ("satisfied", "pass"),
    }
    assert all(f["target"]["type"] == "objective-id" for f in by_control.values())
    assert by_control["TP-2"]["target"]["implementation-status"] == {"state": "not-applicable"}
    exact = {k: {p["name"]: p["value"] for p in f["props"]}["status"] for k, f in by_control.items()}
    assert exact["TP-1"] == "partially-satisfied" and exact["TP-3"] == "waived"
    assert "Auditor override to satisfied by Lee Park" in by_control["TP-4"]["target"]["remarks"]
    assert "3 offending records" in by_control["DL-2"]["description"]


def test_risks_for_failures_and_waivers(document):
    (result,) = document["assessment-results"]["results"]
    risks = {r["title"].split()[0]: r for r in result["risks"]}
    assert {k: r["status"] for k, r in risks.items()} == {
        "DL-2": "open", "DL-3": "open", "TP-1": "open", "TP-3": "deviation-approved"}
    assert risks["TP-3"]["deadline"] == "2026-12-31T23:59:59Z"
    findings = {f["target"]["target-id"]: f for f in result["findings"]}
    assert findings["DL-2"]["related-risks"] == [{"risk-uuid": risks["DL-2"]["uuid"]}]
    assert "related-risks" not in findings["DL-1"]


def test_observations_cite_evidence_with_hashes_and_collection_times(document):
    (result,) = document["assessment-results"]["results"]
    obs = {o["title"].split()[0]: o for o in result["observations"]}
    assert obs["DL-2.1"]["methods"] == ["TEST"]
    assert obs["DL-2.1"]["relevant-evidence"] == [{
        "href": "bundle://evidence/egress.csv",
        "description": "evidence/egress.csv (egress-flow-log), sha256 " + "3" * 64
                       + ", 1024 bytes, collected 2026-09-30T12:00:00+02:00, integrity ok"}]
    assert obs["DL-2.1"]["collected"] == "2026-09-30T12:00:00+02:00"
    assert obs["TP-1.1"]["collected"] == "2026-09-29T08:00:00Z"  # naive time read as UTC
    assert obs["DL-1.p1"]["methods"] == ["EXAMINE"] and obs["TP-1.p1"]["methods"] == ["INTERVIEW"]
    assert obs["DL-3"]["methods"] == ["EXAMINE"] and "older than 31 days" in obs["DL-3"]["description"]
    uuids = {o["uuid"] for o in result["observations"]}
    for finding in result["findings"]:
        assert {r["observation-uuid"] for r in finding.get("related-observations", [])} <= uuids


def test_uuids_are_unique_version5_and_tied_to_the_bundle(results, make_results):
    text = oscal.render(results).decode()
    found = [v for v in _all_values(json.loads(text), "uuid")]
    assert len(found) == len(set(found)) > 20
    assert all(uuid.UUID(u).version == 5 for u in found)
    other = json.loads(oscal.render(make_results(root_hash="9" * 64)))
    assert not set(found) & set(_all_values(other, "uuid"))


def _all_values(value, key):
    if isinstance(value, dict):
        for k, v in value.items():
            if k == key:
                yield v
            else:
                yield from _all_values(v, key)
    elif isinstance(value, list):
        for v in value:
            yield from _all_values(v, key)


def test_no_controls_is_refused(make_results):
    with pytest.raises(InvalidInputError):
        oscal.render(make_results(controls=[]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cid=st.text(min_size=1, max_size=12), title=st.text(max_size=30),
       collected=st.one_of(st.text(max_size=25), st.datetimes().map(dt.datetime.isoformat)))
def test_hostile_ids_titles_and_times_still_validate(make_results, make_control, make_item, cid, title, collected):
    control = make_control(cid, "DL", "not-satisfied", credit=0.0, title=title or " ")
    item = make_item("evidence/inventory.json", "datastore-inventory", "4", collected)
    _trestle(json.loads(oscal.render(make_results(controls=[control], items=[item]))))


def test_parties_roles_origins_and_subjects(document, results):
    ar = document["assessment-results"]
    parties = {p["uuid"]: p for p in ar["metadata"]["parties"]}
    roles = {r["role-id"]: [parties[u]["name"] for u in r["party-uuids"]] for r in ar["metadata"]["responsible-parties"]}
    assert roles["assessor"] == ["Lee Park"] and roles["prepared-for"] == [results.assessment.auditee]
    (result,) = ar["results"]
    components = {c["uuid"]: c for c in result["local-definitions"]["components"]}
    for observation in result["observations"]:
        (origin,) = observation["origins"]
        (actor,) = origin["actors"]
        if observation["methods"] == ["TEST"] and "Check" in observation["description"]:
            assert actor["type"] == "tool" and components[actor["actor-uuid"]]["title"] == "auditkit"
        elif observation["description"].startswith("Procedure"):
            assert actor["type"] == "party" and parties[actor["actor-uuid"]]["name"] == "Lee Park"
        assert components[observation["subjects"][0]["subject-uuid"]]["type"] == "this-system"
