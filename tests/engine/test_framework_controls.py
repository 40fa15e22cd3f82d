"""Controls of a published framework: procedure-only, parameters without defaults, not-assessed, unrated."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditkit.catalog import load_catalog, load_profile
from auditkit.catalog.assessment import Assessment
from auditkit.engine import EngineOptions, assess

from .conftest import AS_OF, document, evidence

FRAMEWORK = """\
family: {id: xx, title: Framework family, framework: {title: Test framework}}
controls:
  - id: xx-1
    title: Policy exists
    label: XX-1
    statement:
      - id: xx-1_smt
        parts:
          - {id: xx-1_smt.a, label: a., prose: "Review the policy {{ insert: param, xx-1_prm }}."}
    params:
      xx-1_prm: {type: string, label: frequency}
    procedures:
      - {id: xx-1_asm-examine, method: examine, prompt: "Examine: the policy", objectives: [xx-1_obj]}
    objectives:
      - {id: xx-1_obj, label: XX-01, prose: the policy is reviewed}
  - id: xx-1.1
    title: Limit checked by machine
    parent: xx-1
    params:
      xx-1.1_limit: {type: integer}
    evidence:
      - {kind: widget-list, formats: [json], required: false}
    checks:
      - {id: xx-1.1_chk.1, title: small, each: widget_list.records, assert: "r.n <= params['xx-1.1_limit']"}
  - id: xx-2
    title: Nothing done here
    procedures:
      - {id: xx-2_asm-interview, method: interview, prompt: "Interview: the owner"}
"""


@pytest.fixture
def catalog(tmp_path: Path):
    (tmp_path / "xx.yaml").write_text(FRAMEWORK)
    return load_catalog([tmp_path / "xx.yaml"])


def run(catalog, tmp_path: Path, profile_text: str, procedures: list[dict]) -> dict:
    path = tmp_path / "p.yaml"
    path.write_text(profile_text)
    profile = load_profile(path, catalog)
    engagement = Assessment.model_validate({
        "engagement": {"auditee": "Org", "auditor": {"name": "Lee Park"}, "as_of": AS_OF.isoformat()},
        "procedures": procedures})
    ev = evidence(document("widget-list", "evidence/w.json", [{"n": 3}, {"n": 12}]))
    results = assess(catalog, profile, ev, engagement, AS_OF, options=EngineOptions(isolated=False))
    return {c.id: c for c in results.controls} | {"_overall": results.overall}


def test_procedure_only_satisfied_unset_parameter_errors_untested_not_assessed(catalog, tmp_path):
    out = run(catalog, tmp_path, "profile: {id: p, title: P}\n", [
        {"control": "xx-1", "procedure": "xx-1_asm-examine", "result": "affirmed", "by": "Lee Park"}])
    assert (out["xx-1"].status, out["xx-1"].credit, out["xx-1"].severity) == ("satisfied", 1.0, "unrated")
    assert out["xx-1"].remediation is None
    (check,) = out["xx-1.1"].checks
    assert check.outcome == "error" and "xx-1.1_limit has no value" in check.reason
    assert out["xx-1.1"].status == "not-satisfied"  # an error is tried and earns nothing
    assert (out["xx-2"].status, out["xx-2"].credit) == ("not-assessed", None)
    assert out["_overall"].status_counts == {"not-assessed": 1, "not-satisfied": 1, "satisfied": 1}
    text = "".join(s.text for s in out["xx-1"].statement[0].segments)
    assert text == "Review the policy [Assignment: organization-defined frequency]."


def test_assigned_parameters_reach_checks_and_statements(catalog, tmp_path):
    out = run(catalog, tmp_path, "profile: {id: p, title: P}\nset_parameters: {xx-1.1_limit: 20, xx-1_prm: yearly}\n",
              [])
    assert out["xx-1.1"].checks[0].outcome == "pass" and out["xx-1.1"].status == "satisfied"
    assert [(s.text, s.assigned) for s in out["xx-1"].statement[0].segments if s.param] == [("yearly", True)]
    assert out["xx-1"].status == "not-assessed"


def test_a_control_with_neither_checks_nor_procedures_is_refused(tmp_path):
    (tmp_path / "f.yaml").write_text("family: {id: yy, title: Y}\ncontrols:\n  - {id: yy-1, title: Empty}\n")
    from auditkit.errors import ProblemList

    with pytest.raises(ProblemList) as caught:
        load_catalog([tmp_path / "f.yaml"])
    assert "yy-1 has neither checks nor procedures" in caught.value.problems[0]


def test_an_unknown_objective_in_the_assessment_file_is_one_line(invoke, catalog, tmp_path):
    (tmp_path / "xx.yaml").write_text(FRAMEWORK)
    bad = tmp_path / "a.yaml"
    bad.write_text("""\
engagement: {auditee: Org, auditor: {name: Lee Park}, as_of: 2026-10-15}
procedures:
  - {control: xx-1, procedure: xx-1_asm-examine, result: affirmed, by: Lee Park, objectives: [xx-1_obj.z]}
""")
    from auditkit.catalog.assessment import load_assessment
    from auditkit.errors import ProblemList

    with pytest.raises(ProblemList) as caught:
        load_assessment(bad, catalog)
    assert caught.value.problems == [f"{bad}:3:95 /procedures/0/objectives/0: xx-1 has no assessment objective 'xx-1_obj.z'"]
