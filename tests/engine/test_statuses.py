"""Every check outcome and control status, reached from small hand-written inputs."""

from __future__ import annotations

import json

from auditkit.engine import EngineOptions, Limits, assess
from auditkit.results.io import to_json_bytes

from .conftest import AS_OF, GIZMOS_FOREIGN, WIDGETS_OK, assessment, document, evidence, monthly_reports


def run(catalog, profile, ev, asm=None, **kwargs):
    return assess(catalog, profile, ev, asm or assessment(), AS_OF, **kwargs)


def by_id(results):
    return {c.id: c for c in results.controls}


def test_all_statuses(catalog, profile):
    widgets = WIDGETS_OK + [{"name": "bad", "approved": False, "n": 99, "colour": "red"}]
    ev = evidence(
        document("widget-list", "evidence/widgets.json", widgets),
        *monthly_reports(months=(7, 9)),  # August missing: coverage gap
        document("gizmo-list", "evidence/gizmos.json", GIZMOS_FOREIGN),
    )
    results = run(catalog, profile, ev)
    controls = by_id(results)
    # TT-1: 1.1 fails (one unapproved), 1.2 passes (the unapproved large one is excluded by where), p1 affirmed
    assert [c.outcome for c in controls["TT-1"].checks] == ["fail", "pass"]
    assert controls["TT-1"].status == "partially-satisfied"
    assert controls["TT-1"].credit == round(2 / 3, 4)
    assert controls["TT-1"].checks[0].offenders == [{"name": "bad", "approved": False, "n": 99, "colour": "red"}]
    assert controls["TT-2"].status == "insufficient-evidence"
    assert any("2026-08" in p or "August" in p or "08" in p for p in controls["TT-2"].evidence[0].problems)
    assert controls["TT-3"].status == "not-applicable"
    assert controls["TT-3"].not_applicable == "No gadgets in this engagement's scope."
    assert controls["TT-3"].credit is None
    assert controls["TT-4"].status == "satisfied"
    assert controls["TT-5"].status == "partially-satisfied"  # check fails, procedure affirmed: 1/2
    assert controls["TT-5"].checks[0].offender_count == 1


def test_not_satisfied_and_not_run_and_error(catalog, profile):
    ev = evidence(document("widget-list", "evidence/widgets.json",
                           [{"name": "x", "approved": False, "n": 1}]))
    asm = assessment(procedures=[{"control": "TT-1", "procedure": "TT-1.p1", "result": "not-affirmed", "by": "L"}])
    controls = by_id(run(catalog, profile, ev, asm))
    assert controls["TT-1"].status == "not-satisfied"
    # TT-4.2 reads r.colour, which the evidence lacks: an error with a reason, never a pass
    error = controls["TT-4"].checks[1]
    assert error.outcome == "error" and "colour" in (error.reason or "")
    # TT-5 has no evidence at all: its check is not-run and the control lacks evidence
    assert controls["TT-5"].checks[0].outcome == "not-run"
    assert controls["TT-5"].status == "insufficient-evidence"


def test_stale_and_tampered_evidence_is_insufficient(catalog, profile):
    stale = document("widget-list", "evidence/widgets.json", WIDGETS_OK, collected="2026-08-01T00:00:00Z")
    controls = by_id(run(catalog, profile, evidence(stale)))
    assert controls["TT-1"].status == "insufficient-evidence"
    assert any("stale" in p or "days" in p for p in controls["TT-1"].evidence[0].problems)
    tampered = document("gizmo-list", "evidence/gizmos.json", [], integrity="hash-mismatch")
    controls = by_id(run(catalog, profile, evidence(tampered)))
    assert controls["TT-5"].status == "insufficient-evidence"
    assert controls["TT-5"].checks[0].outcome == "not-run"


def waiver(control: str, expires: str) -> dict:
    return {"control": control, "justification": "Migration in flight, tracked as CHG-1.",
            "approved_by": "Chief Compliance Officer", "expires": expires}


def test_waiver_live_on_boundary_day_expired_the_day_before(catalog, profile):
    ev = evidence(document("widget-list", "evidence/widgets.json", WIDGETS_OK),
                  document("gizmo-list", "evidence/gizmos.json", GIZMOS_FOREIGN), *monthly_reports())
    live = by_id(run(catalog, profile, ev, assessment(waivers=[waiver("TT-5", AS_OF.isoformat())])))
    assert live["TT-5"].status == "waived" and live["TT-5"].waiver.state == "applied"
    assert live["TT-5"].credit is None
    expired = by_id(run(catalog, profile, ev, assessment(waivers=[waiver("TT-5", "2026-10-14")])))
    assert expired["TT-5"].status == "partially-satisfied"
    assert expired["TT-5"].waiver.state == "expired"
    assert any("expired on 2026-10-14" in n for n in expired["TT-5"].notes)


def test_unwaivable_control_cannot_be_waived(catalog, profile):
    ev = evidence(document("widget-list", "evidence/widgets.json", [{"name": "x", "approved": False, "n": 1}]))
    controls = by_id(run(catalog, profile, ev, assessment(waivers=[waiver("TT-1", "2027-01-01")])))
    assert controls["TT-1"].status != "waived"
    assert controls["TT-1"].waiver.state == "refused-unwaivable"


def test_override_is_shown_everywhere(catalog, profile):
    ev = evidence(document("widget-list", "evidence/widgets.json", WIDGETS_OK),
                  document("gizmo-list", "evidence/gizmos.json", GIZMOS_FOREIGN), *monthly_reports())
    asm = assessment(overrides=[{"control": "TT-5", "status": "satisfied", "by": "Lee Park",
                                 "reason": "Gizmo g2 is a decommissioned test unit, seen in person."}])
    results = run(catalog, profile, ev, asm)
    tt5 = by_id(results)["TT-5"]
    assert tt5.status == "satisfied" and tt5.computed_status == "partially-satisfied"
    assert tt5.override is not None and "decommissioned" in tt5.override.reason
    assert any("override" in n for n in tt5.notes)
    trace = next(t for t in results.score_trace if t.scope == "control TT-5")
    assert "OVERRIDDEN" in trace.explanation
    finding = next(f for f in results.findings if f.control == "TT-5")
    assert finding.summary.startswith("Auditor override: computed partially satisfied, reported satisfied. ")


def test_critical_failure_caps_rating(catalog, profile):
    ev = evidence(document("widget-list", "evidence/widgets.json",
                           WIDGETS_OK * 20 + [{"name": "bad", "approved": False, "n": 1, "colour": "red"}]),
                  document("gizmo-list", "evidence/gizmos.json", [{"id": "g", "country": "US"}]),
                  *monthly_reports())
    from auditkit.catalog.models import Rating

    ratings = (Rating(name="effective", min_score=80), Rating(name="partially-effective", min_score=60),
               Rating(name="ineffective", min_score=0))
    lenient = profile.model_copy(update={"scoring": profile.scoring.model_copy(update={"ratings": ratings})})
    results = run(catalog, lenient, ev)
    # TT-1 (critical, weight 5) earns 2/3; TT-2 (2), TT-4 (1) and TT-5 (3) earn 1: 100 x 9.333/11
    assert results.overall.score == 84.85
    assert results.overall.uncapped_rating == "effective"
    assert results.overall.rating == "partially-effective"
    assert results.overall.capped_by == ["TT-1"]


def test_offenders_are_capped_with_total(catalog, profile):
    many = [{"name": f"w{i}", "approved": False, "n": 1, "colour": "red"} for i in range(1234)]
    results = run(catalog, profile, evidence(document("widget-list", "evidence/widgets.json", many)))
    check = by_id(results)["TT-1"].checks[0]
    assert check.outcome == "fail" and check.offender_count == 1234 and len(check.offenders) == 50
    assert check.records_judged == 1234


def test_runaway_expression_becomes_an_error(tmp_path, profile):
    from auditkit.catalog import load_catalog

    from .conftest import CATALOG

    slow = CATALOG.replace(
        "expr: size(widget_list.records) > 0",
        "expr: 'widget_list.records.all(a, widget_list.records.all(b, widget_list.records.all(c, a.n + b.n + c.n >= 0)))'",
    )
    folder = tmp_path / "slow"
    folder.mkdir()
    (folder / "tt.yaml").write_text(slow)
    catalog = load_catalog([folder])
    ev = evidence(document("widget-list", "evidence/widgets.json",
                           [{"name": str(i), "approved": True, "n": i, "colour": "red"} for i in range(3000)]))
    results = run(catalog, profile, ev, options=EngineOptions(limits=Limits(workers=2, timeout_s=1.0)))
    check = by_id(results)["TT-4"].checks[0]
    assert check.outcome == "error" and "time limit" in (check.reason or "")
    # the other checks still ran
    assert by_id(results)["TT-1"].checks[0].outcome == "pass"


def test_results_are_deterministic_and_schema_valid(catalog, profile):
    ev = evidence(document("widget-list", "evidence/widgets.json", WIDGETS_OK),
                  document("gizmo-list", "evidence/gizmos.json", GIZMOS_FOREIGN), *monthly_reports())
    first = to_json_bytes(run(catalog, profile, ev))
    second = to_json_bytes(run(catalog, profile, ev, options=EngineOptions(isolated=False)))
    assert first == second
    data = json.loads(first)
    assert data["bundle"]["root_hash"] == "ab" * 32
    assert {t["scope"] for t in data["score_trace"]} >= {"overall", "rating", "family TT", "control TT-1"}


def test_worker_dying_while_loading_evidence_errors_every_check_of_that_kind(tmp_path, profile):
    """Evidence too big for the worker's memory limit: the checks that read it become errors
    (with the reason), instead of a crash or a worker restarted again and again."""
    from auditkit.catalog import load_catalog

    from .conftest import CATALOG

    # timestamp() is outside the fast path, so these checks need the CEL context of the evidence
    cel_only = CATALOG.replace("assert: r.approved}", "assert: 'r.approved && timestamp(\"2026-01-01T00:00:00Z\") != null'}")
    cel_only = cel_only.replace("expr: size(widget_list.records) > 0",
                                "expr: 'size(widget_list.records) > 0 && timestamp(\"2026-01-01T00:00:00Z\") != null'")
    folder = tmp_path / "cel-only"
    folder.mkdir()
    (folder / "tt.yaml").write_text(cel_only)
    catalog = load_catalog([folder])
    widgets = [{"name": f"w{i}" * 20, "approved": True, "n": i, "colour": "red"} for i in range(300_000)]
    ev = evidence(document("widget-list", "evidence/widgets.json", widgets),
                  document("gizmo-list", "evidence/gizmos.json", GIZMOS_FOREIGN))
    results = run(catalog, profile, ev, options=EngineOptions(limits=Limits(workers=1, timeout_s=60, memory_mb=64)))
    controls = by_id(results)
    widget_checks = [controls["TT-1"].checks[0], controls["TT-4"].checks[0]]
    assert all(c.outcome == "error" for c in widget_checks), [(c.id, c.outcome, c.reason) for c in widget_checks]
    assert any("memory limit" in (c.reason or "") or "could not be loaded" in (c.reason or "") for c in widget_checks)
    # checks over other evidence still ran in a fresh worker
    assert controls["TT-5"].checks[0].outcome == "fail"
