"""Judging one control from its plan, its check outcomes and the auditor's assessment file.

Pure: computes the status, credit, waiver and override handling, notes and the
control's score-trace line (rules in docs/scoring.md).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any

from ..catalog import text
from ..catalog.assessment import Assessment, Implementation, Override, Waiver
from ..catalog.models import Control, Profile
from ..results import model as rm
from . import scoring
from .evaluate import CheckOutcome
from .plan import ControlPlan

FAILING = ("not-satisfied", "partially-satisfied", "insufficient-evidence")


@dataclass(frozen=True)
class Judgement:
    result: rm.ControlResult
    scored: scoring.Scored
    trace: rm.TraceEntry


_SCALARS = frozenset([str, int, float, bool, type(None)])


def plain(value: Any) -> Any:
    """Offender records made JSON-safe and deterministic (CEL returns maps in hash order)."""
    if type(value) is dict and all(type(k) is str for k in value):  # records as JSON gives them
        return {k: v if type(v) in _SCALARS else plain(v) for k, v in sorted(value.items())}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, _dt.datetime | _dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


def procedures(control: Control, assessment: Assessment) -> list[rm.ProcedureOutcome]:
    """The auditor's recorded result for each procedure (``not-performed`` if none)."""
    entries = {(e.control, e.procedure): e for e in assessment.procedures}
    out = []
    for procedure in control.procedures:
        entry = entries.get((control.id, procedure.id))
        out.append(rm.ProcedureOutcome(
            id=procedure.id, method=procedure.method, prompt=procedure.prompt,
            result=entry.result if entry else "not-performed",
            by=entry.by if entry else None,
            date=entry.date.isoformat() if entry and entry.date else None,
            note=entry.note if entry else None,
            weight=procedure.weight or 1.0,
            objectives=list(entry.objectives or procedure.objectives) if entry else [],
        ))
    return out


def not_assessed(checks: list[rm.CheckResult], procs: list[rm.ProcedureOutcome]) -> bool:
    """Nothing was tried: no check ran (pass, fail or error) and no procedure was performed."""
    return all(c.outcome == "not-run" for c in checks) and all(p.result == "not-performed" for p in procs)


def check_results(plan: ControlPlan, outcomes: list[CheckOutcome | None]) -> list[rm.CheckResult]:
    out = []
    for check, outcome, kinds in zip(plan.control.checks, outcomes, plan.kinds, strict=True):
        assert outcome is not None
        out.append(rm.CheckResult(
            id=check.id, title=check.title, outcome=outcome.outcome,
            reason=outcome.reason, expression=check.combined, evidence_kinds=kinds,
            records_judged=outcome.records_judged, offenders=plain(outcome.offenders),
            offender_count=outcome.offender_count, weight=check.weight or 1.0,
        ))
    return out


def _waive(waiver: Waiver, plan: ControlPlan, computed: str, profile: Profile, as_of: _dt.date,
           notes: list[str]) -> str:
    """The waiver's state; notes say why a waiver was refused or ignored."""
    control = plan.control
    if computed not in FAILING:
        return "expired" if waiver.expires < as_of else "not-needed"
    if control.id in profile.scoring.unwaivable:
        notes.append(f"waiver approved by {waiver.approved_by} refused: {control.id} is unwaivable "
                     f"under profile {profile.id}")
        return "refused-unwaivable"
    if waiver.live_on(as_of):
        return "applied"
    notes.append(f"waiver expired on {waiver.expires.isoformat()} (as of {as_of.isoformat()}) and was ignored")
    return "expired"


def judge(plan: ControlPlan, outcomes: list[CheckOutcome | None], assessment: Assessment, profile: Profile,
          as_of: _dt.date, waiver: Waiver | None, override: Override | None,
          implementation: Implementation | None = None) -> Judgement:
    """Status, credit, notes and trace of one control."""
    control = plan.control
    threshold = profile.scoring.partial_threshold
    checks = check_results(plan, outcomes)
    procs = procedures(control, assessment)
    items = [scoring.Item(f"check {c.id} {c.outcome}", c.weight, c.outcome == "pass") for c in checks]
    items += [scoring.Item(f"procedure {p.id} {p.result}", p.weight, p.result == "affirmed") for p in procs]
    credit, arithmetic = scoring.control_credit(items)
    notes: list[str] = []
    credit_out: float | None
    if plan.not_applicable is not None:
        computed, credit_out = "not-applicable", None
        explanation = f"not applicable: {plan.not_applicable}"
    elif plan.insufficient:
        computed, credit_out = "insufficient-evidence", 0.0
        gaps = "; ".join(p for u in plan.evidence if u.required for p in u.problems)
        explanation = f"insufficient evidence, credit 0: {gaps[:400]}"
    elif not_assessed(checks, procs):
        computed, credit_out = "not-assessed", None
        explanation = "not assessed: no check ran and no procedure result was recorded; left out of the score"
    else:
        computed, credit_out = scoring.status_from_credit(credit, threshold), credit
        explanation = f"{arithmetic} = {credit:.4f} -> {computed} (partial threshold {threshold:g})"
    status = computed
    waiver_info = None
    if waiver is not None:
        state = _waive(waiver, plan, computed, profile, as_of, notes)
        if state == "applied":
            status, credit_out = "waived", None
            explanation += f"; waived until {waiver.expires.isoformat()} by {waiver.approved_by}: left out of the score"
        waiver_info = rm.WaiverInfo(justification=waiver.justification, approved_by=waiver.approved_by,
                                    expires=waiver.expires.isoformat(), state=state)
    override_info = None
    if override is not None:
        override_info = rm.OverrideInfo(status=override.status, reason=override.reason, by=override.by)
        new_credit = scoring.override_credit(override.status, credit if credit_out is not None else 0.0, threshold)
        notes.append(f"auditor override: {computed} -> {override.status} ({override.reason})")
        explanation += f"; OVERRIDDEN by the auditor to {override.status}"
        if new_credit is not None:
            explanation += f" with credit {new_credit:.4f}"
        explanation += f": {override.reason}"
        status, credit_out = override.status, new_credit
    weight = profile.weight(control)
    rounded = None if credit_out is None else round(credit_out, 4)
    result = rm.ControlResult(
        id=control.id, family=control.family, title=control.title, label=control.label, parent=control.parent,
        objective=text.substitute(control.objective_text, plan.params, control.params),
        statement=text.lines(control.statement, plan.params, control.params),
        guidance=control.guidance,
        objectives=text.lines(control.objectives, plan.params, control.params),
        related=list(control.related),
        implementation=rm.ImplementationInfo(**implementation.model_dump(exclude={"control"}))
        if implementation else None,
        severity=control.severity, weight=weight, status=status,
        computed_status=computed,
        credit=rounded, references={k: v for k, v in control.references.model_dump(mode="json").items() if v},
        params=plan.params, evidence=plan.evidence, checks=checks, procedures=procs,
        waiver=waiver_info, override=override_info, not_applicable=plan.not_applicable,
        remediation=control.remediation, notes=notes,
    )
    return Judgement(
        result,
        scoring.Scored(control.id, control.family, control.severity, weight, status, credit_out),
        rm.TraceEntry(scope=f"control {control.id}", value=rounded, explanation=f"{explanation}; weight {weight:g}"),
    )
