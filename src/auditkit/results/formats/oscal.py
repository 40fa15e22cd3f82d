"""``--format oscal``: OSCAL 1.1.2 assessment-results JSON, anchored to the catalog the controls came from.

One result per assessment, from the start to the end of the assessment period.
``reviewed-controls`` lists every control in scope by its catalog id (``ac-2.1``
for an imported NIST control). Observations: one per check (method ``TEST``, the
auditkit tool as origin), one per performed procedure (``EXAMINE``/``INTERVIEW``/
``TEST``, the auditor as origin) and one per evidence kind with problems, each with
the system as subject and, for checks, the bundle files used as ``bundle://PATH``
with their SHA-256. Findings: one per assessed control, targeting its first
assessment objective (``ac-2_obj``; for a control without objectives its id), plus
one per objective a recorded procedure result names (``ac-2_obj.a-1``). OSCAL has
only ``satisfied``/``not-satisfied``, so the exact auditkit status rides along as
``props`` (not-applicable: ``satisfied`` with reason ``other`` and implementation
state ``not-applicable``; waived: ``not-satisfied``); controls not assessed get no
finding. Risks: one per control that falls short (``open``) or is waived
(``deviation-approved``, deadline the waiver's expiry).

``import-ap`` points at a back-matter resource for the assessment plan that
``--format oscal-ap`` writes from the same results, with that document's SHA-256:
write it as ``assessment-plan.oscal.json`` beside this file and the link resolves.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ..model import ControlResult, ProcedureOutcome, Results
from .junit import failure_lines
from .oscal_common import OPEN, Builder, drop_empty, instant, line, prop, require_controls, root_objective, token

NAME = "oscal"
SUFFIX = ".oscal.json"
PLAN_FILE = "assessment-plan.oscal.json"


def _state(control: ControlResult) -> tuple[str, str]:
    if control.status == "satisfied":
        return "satisfied", "pass"
    if control.status == "not-applicable":
        return "satisfied", "other"
    if control.status == "insufficient-evidence":
        return "not-satisfied", "other"
    return "not-satisfied", "fail"


def _remarks(control: ControlResult) -> str:
    remarks = [f"auditkit status: {control.status} (computed: {control.computed_status})."]
    if control.not_applicable is not None:
        remarks.append(f"Not applicable: {control.not_applicable}")
    if control.waiver is not None:
        w = control.waiver
        remarks.append(f"Waiver {w.state}: {w.justification} (approved by {w.approved_by}, expires {w.expires})")
    if control.override is not None:
        o = control.override
        by = f" by {o.by}" if o.by else ""
        remarks.append(f"Auditor override to {o.status}{by}: {o.reason}")
    if control.implementation is not None:
        i = control.implementation
        parts = [p for p in (i.status, i.origination, f"provided by {i.provided_by}" if i.provided_by else None) if p]
        remarks.append(f"Implementation: {', '.join(parts)}.")
    return " ".join(remarks)


class _Results(Builder):
    def finding(self, control: ControlResult, observations: list[str], risk: str | None) -> dict[str, Any]:
        state, reason = _state(control)
        target: dict[str, Any] = {
            "type": "objective-id",
            "target-id": root_objective(control),
            "title": line(f"{control.shown_id} {control.title}"),
            "description": control.objective,
            "status": {"state": state, "reason": reason},
            "remarks": _remarks(control),
        }
        if control.status == "not-applicable":
            target["implementation-status"] = {"state": "not-applicable"}
        elif control.implementation is not None and control.implementation.status:
            target["implementation-status"] = {"state": control.implementation.status}
        props = [prop("control-id", control.id), prop("status", control.status),
                 prop("computed-status", control.computed_status), prop("severity", control.severity),
                 prop("family", control.family)]
        if control.label:
            props.append(prop("label", control.label))
        if control.credit is not None:
            props.append(prop("credit", f"{control.credit:g}"))
        if control.implementation is not None and control.implementation.origination:
            props.append(prop("origination", control.implementation.origination))
        lines = failure_lines(control) if control.status != "not-applicable" else []
        description = f"{control.shown_id} is {control.status}."
        if lines:
            description += " " + "; ".join(lines) + "."
        return drop_empty({
            "uuid": self.uuid("finding", control.id),
            "title": line(f"{control.shown_id} {control.title}"),
            "description": description,
            "props": props,
            "origins": self.auditor_origin(),
            "target": target,
            "related-observations": [{"observation-uuid": u} for u in observations],
            "related-risks": [{"risk-uuid": risk}] if risk else [],
        })

    def objective_findings(self, control: ControlResult) -> list[dict[str, Any]]:
        """A finding per objective that a performed procedure names below the control's own objective."""
        root = root_objective(control)
        covering: dict[str, list[ProcedureOutcome]] = {}
        for procedure in control.procedures:
            if procedure.result == "not-performed":
                continue
            for objective in procedure.objectives:
                if objective != root:
                    covering.setdefault(objective, []).append(procedure)
        labels = {t.id: t.label for t in control.objectives if t.id}
        out = []
        for objective, procedures in sorted(covering.items()):
            met = all(p.result == "affirmed" for p in procedures)
            named = labels.get(objective) or objective
            out.append({
                "uuid": self.uuid("finding", control.id, objective),
                "title": line(f"{control.shown_id} objective {named}"),
                "description": f"Objective {named} of {control.shown_id}: "
                               + "; ".join(f"{p.id} {p.result}" for p in procedures) + ".",
                "origins": self.auditor_origin(),
                "target": {"type": "objective-id", "target-id": token(objective),
                           "status": {"state": "satisfied" if met else "not-satisfied",
                                      "reason": "pass" if met else "fail"}},
                "related-observations": [{"observation-uuid": self.uuid("observation", control.id, p.id)}
                                         for p in procedures],
            })
        return out

    def document(self, plan_sha256: str) -> dict[str, Any]:
        r = self.results
        a = r.assessment
        observations: list[dict[str, Any]] = []
        findings: list[dict[str, Any]] = []
        risks: list[dict[str, Any]] = []
        for control in r.controls:
            if control.status == "not-assessed":
                continue
            obs = self.observations(control)
            observations += obs
            refs = [o["uuid"] for o in obs]
            risk = None
            if control.status in OPEN:
                risks.append(self.risk(control, refs))
                risk = risks[-1]["uuid"]
            findings.append(self.finding(control, refs, risk))
            findings += self.objective_findings(control)
        score = "n/a" if r.overall.score is None else f"{r.overall.score:.2f}"
        untested = sum(1 for c in r.controls if c.status == "not-assessed")
        summary = f"Overall score {score}/100, rating {r.overall.rating}"
        if r.overall.capped_by:
            summary += (f" (capped from {r.overall.uncapped_rating}: critical controls not "
                        f"satisfied: {', '.join(r.overall.capped_by)})")
        if untested:
            summary += f"; {untested} of {len(r.controls)} controls in scope not assessed (no finding)"
        org = a.auditor.organization
        auditor = a.auditor.name + (f" ({org})" if org else "")
        plan = self.uuid("resource", "assessment-plan")
        return {"assessment-results": drop_empty({
            "uuid": self.document_uuid("assessment-results"),
            "metadata": self.metadata(f"auditkit assessment of {a.auditee} as of {a.as_of}"),
            "import-ap": {"href": f"#{plan}",
                          "remarks": f"The assessment plan: auditkit profile {r.profile.id} with the auditor's "
                                     "assessment file, as written by `auditkit assess --format oscal-ap`."},
            "results": [drop_empty({
                "uuid": self.uuid("result", a.as_of),
                "title": line(f"Assessment of {a.auditee}, bundle {r.bundle.id}"),
                "description": f"{summary}. Auditor: {auditor}. Evidence bundle {r.bundle.id} "
                               f"from {r.bundle.organization}, root hash {r.bundle.root_hash}; "
                               f"catalog digest {r.catalog.digest}.",
                "start": instant(a.period.start, a.as_of),
                "end": instant(a.period.end, a.as_of, end_of_day=True),
                "props": [prop("score", score), prop("rating", r.overall.rating),
                          prop("uncapped-rating", r.overall.uncapped_rating), prop("as-of", a.as_of),
                          prop("not-assessed", untested)],
                "local-definitions": {"components": self.components(), "assessment-assets": self.assets()},
                "reviewed-controls": self.reviewed_controls(r.controls),
                "observations": observations,
                "risks": risks,
                "findings": findings,
            })],
            "back-matter": {"resources": [{
                "uuid": plan, "title": "Assessment plan (OSCAL)",
                "description": "The OSCAL assessment plan of this assessment; its SHA-256 pins its content.",
                "rlinks": [{"href": PLAN_FILE, "media-type": "application/oscal.ap+json",
                            "hashes": [{"algorithm": "SHA-256", "value": plan_sha256}]}],
            }]},
        })}


def to_dict(results: Results) -> dict[str, Any]:
    """The OSCAL document as plain data (what :func:`render` serialises)."""
    from . import oscal_ap

    require_controls(results, "OSCAL assessment results")
    plan_sha256 = hashlib.sha256(oscal_ap.render(results)).hexdigest()
    return _Results(results).document(plan_sha256)


def render(results: Results) -> bytes:
    text = json.dumps(to_dict(results), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    return text.encode("utf-8", "replace")
