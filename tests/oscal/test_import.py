"""`auditkit controls import-oscal`: the NIST baselines become a catalog `controls validate` accepts, ids unchanged."""

from __future__ import annotations

import json

import pytest
import yaml

from auditkit.catalog import load_catalog

from .conftest import LOW_PROFILE, MODERATE, control_ids


def test_moderate_baseline_validates_with_every_id_as_published(invoke, moderate_dir):
    result = invoke("controls", "validate", moderate_dir)
    assert result.exit_code == 0, result.output
    assert "18 families, 287 controls" in result.output
    catalog = load_catalog([moderate_dir])
    assert [c.id for c in catalog.controls] == control_ids(MODERATE)


def test_enhancements_labels_parameters_and_procedures(moderate_dir):
    catalog = load_catalog([moderate_dir])
    enhancement = catalog.control("ac-2.1")
    assert (enhancement.label, enhancement.parent, enhancement.severity) == ("AC-2(1)", "ac-2", "medium")
    assert catalog.find("AC-2(1)") is enhancement and catalog.find("AC-2(1)".lower()) is enhancement
    ac2 = catalog.control("ac-2")
    assert ac2.params["ac-02_odp.10"].default is None
    assert ac2.params["ac-02_odp.10"].label == "frequency"
    assert ac2.params["ac-02_odp.10"].guidelines == "the frequency of account review is defined;"
    select = catalog.control("ac-2.2").params["ac-02.02_odp.01"].select
    assert (select.how_many, select.choice) == ("one", ("remove", "disable"))
    assert catalog.control("ac-1").params["ac-1_prm_1"].aggregates == ("ac-01_odp.01", "ac-01_odp.02")
    assert [p.id for p in ac2.procedures] == ["ac-2_asm-examine", "ac-2_asm-interview", "ac-2_asm-test"]
    assert ac2.procedures[0].objectives == ("ac-2_obj",) and ac2.procedures[1].method == "interview"
    assert "ac-2_obj.d.3-2" in ac2.objective_ids()
    items = {p.id: p for p in ac2.statement[0].walk()}
    assert items["ac-2_smt.d.3"].label == "3." and "{{ insert: param, ac-02_odp.02 }}" in items["ac-2_smt.d.3"].prose
    assert ac2.guidance.startswith("Examples of system account types")
    assert "ac-3" in ac2.related and ac2.checks == () and ac2.evidence == () and ac2.remediation is None


def test_the_files_are_plain_yaml_with_the_editor_hint(moderate_dir):
    text = (moderate_dir / "ac.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=") and "control-family.schema.json" in text
    assert "&id" not in text and "*id" not in text  # no anchors: auditkit refuses them
    assert yaml.safe_load(text)["family"]["framework"]["oscal_version"] == "1.1.2"


def test_a_profile_selects_and_an_overlay_narrows_and_sets_parameters(invoke, shared, tmp_path):
    low = tmp_path / "low"
    result = invoke("controls", "import-oscal", MODERATE, "--profile", LOW_PROFILE, "-o", low)
    assert result.exit_code == 0, result.output
    wanted = json.loads(LOW_PROFILE.read_text())["profile"]["imports"][0]["include-controls"][0]["with-ids"]
    catalog = load_catalog([low])
    assert sorted(c.id for c in catalog.controls) == sorted(wanted)
    assert {c.severity for c in catalog.controls} == {"low"}  # the LOW baseline's impact level

    overlay = tmp_path / "overlay.json"
    overlay.write_text(json.dumps({"profile": {
        "uuid": "5e4a3c1d-1111-4c2b-9a8b-7c6d5e4f3a2b",
        "metadata": {"title": "Overlay on the LOW baseline", "last-modified": "2026-10-01T00:00:00Z",
                     "version": "1", "oscal-version": "1.1.2"},
        "imports": [{"href": str(LOW_PROFILE), "include-all": {},
                     "exclude-controls": [{"with-ids": ["ac-2"]}]}],
        "modify": {"set-parameters": [{"param-id": "ac-02_odp.10", "values": ["at least quarterly"]}]},
    }}))
    out = tmp_path / "overlay"
    result = invoke("controls", "import-oscal", MODERATE, "--profile", overlay, "-o", out)
    assert result.exit_code == 0, result.output
    narrowed = load_catalog([out])
    assert len(narrowed.controls) == len(wanted) - 1 and narrowed.control("ac-2") is None
    assert "Overlay on the LOW baseline" in result.output


def test_overlay_parameter_values_become_defaults(invoke, shared, tmp_path):
    overlay = tmp_path / "overlay.json"
    overlay.write_text(json.dumps({"profile": {
        "uuid": "5e4a3c1d-2222-4c2b-9a8b-7c6d5e4f3a2b",
        "metadata": {"title": "Parameters", "last-modified": "2026-10-01T00:00:00Z", "version": "1",
                     "oscal-version": "1.1.2"},
        "imports": [{"href": str(LOW_PROFILE), "include-all": {}}],
        "modify": {"set-parameters": [{"param-id": "ac-02_odp.10", "values": ["at least quarterly"]}]},
    }}))
    out = tmp_path / "params"
    assert invoke("controls", "import-oscal", MODERATE, "--profile", overlay, "-o", out).exit_code == 0
    assert load_catalog([out]).control("ac-2").params["ac-02_odp.10"].default == "at least quarterly"


@pytest.mark.parametrize(("change", "expected"), [
    (lambda p: p["imports"][0]["include-controls"][0]["with-ids"].append("zz-99"),
     "/profile/imports/0: selects 1 control(s) the catalog does not have: zz-99"),
    (lambda p: p.setdefault("modify", {}).update({"set-parameters": [{"param-id": "zz-99_odp", "values": ["x"]}]}),
     "/profile/modify/set-parameters/0: sets parameter 'zz-99_odp', which no control of the catalog has"),
    (lambda p: p["metadata"].pop("title"), "/profile/metadata/title: Field required"),
])
def test_bad_profiles_are_one_clear_line_and_write_nothing(invoke, shared, tmp_path, change, expected):
    data = json.loads(LOW_PROFILE.read_text())
    change(data["profile"])
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    result = invoke("controls", "import-oscal", MODERATE, "--profile", bad, "-o", tmp_path / "out")
    assert result.exit_code == 3, result.output
    assert expected in result.output and str(bad) in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json"]


@pytest.mark.parametrize(("content", "expected"), [
    (b"{\"catalog\": ", "catalog.json:1:13: invalid JSON"),
    (b"{\"profile\": {}}", "expected an OSCAL catalog"),
    (b"[1, 2]", "not an OSCAL document"),
    (b"{\"catalog\": {\"uuid\": \"x\"}}", "/catalog/uuid"),
    (b"{\"catalog\": " * 300 + b"1" + b"}" * 300, "nested"),
])
def test_malformed_catalogs_are_refused(invoke, tmp_path, content, expected):
    bad = tmp_path / "catalog.json"
    bad.write_bytes(content)
    result = invoke("controls", "import-oscal", bad, "-o", tmp_path / "out")
    assert result.exit_code == 3, result.output
    assert expected in result.output
    assert not (tmp_path / "out").exists()


def test_an_existing_folder_is_kept_unless_forced(invoke, shared, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    result = invoke("controls", "import-oscal", MODERATE, "-o", out)
    assert result.exit_code == 2 and "--force" in result.output
    assert [p.name for p in out.iterdir()] == ["mine.txt"]
    result = invoke("controls", "import-oscal", MODERATE, "--profile", LOW_PROFILE, "-o", out, "--force")
    assert result.exit_code == 0, result.output
    assert "mine.txt" not in {p.name for p in out.iterdir()} and len(load_catalog([out]).controls) == 149
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no scratch folders left behind


def test_an_oscal_catalog_is_read_directly_wherever_a_catalog_is_accepted(invoke, moderate_dir):
    direct, imported = load_catalog([MODERATE]), load_catalog([moderate_dir])
    assert direct.digest == imported.digest  # the same catalog, read either way
    assert [c.id for c in direct.controls] == [c.id for c in imported.controls]
    result = invoke("controls", "show", "AC-2(1)", "--controls", MODERATE)
    assert result.exit_code == 0 and "Automated System Account Management" in result.output
