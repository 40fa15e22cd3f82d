"""Assembling an assessment: plan checks, evaluate them in isolation, score, trace.

``assess(catalog, profile, evidence, assessment, as_of)`` returns :class:`Results`.
Checks are evaluated in isolated worker processes (:mod:`.workers`); statuses and
scores follow :mod:`.scoring` and docs/scoring.md.
"""

from __future__ import annotations

import datetime as _dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .. import __version__
from ..catalog.assessment import Assessment
from ..catalog.models import SEVERITY_ORDER, Catalog, Control, Profile
from ..results import model as rm
from . import scoring
from .cel import compile_expr
from .evaluate import CheckOutcome, CheckTask, Evaluator
from .inputs import EvidenceDocument, EvidenceSet
from .workers import Limits, in_process, run_checks

__all__ = ["EngineOptions", "EvidenceSet", "Limits", "assess"]


@dataclass(frozen=True)
class EngineOptions:
    """How checks are evaluated: isolation limits, or in-process for trusted tiny inputs."""

    limits: Limits = field(default_factory=Limits)
    isolated: bool = True


def _evidence_problems(control: Control, evidence: EvidenceSet, period: tuple[_dt.date, _dt.date],
                       as_of: _dt.date) -> tuple[list[rm.EvidenceUse], bool]:
    from ..evidence.sufficiency import evidence_problems

    uses = []
    insufficient = False
    for req in control.evidence:
        docs = evidence.of_kind(req.kind)
        problems = [f"{d.path}: {d.problem or d.integrity}" for d in docs if not d.ok]
        problems += [f"{d.path}: format {d.format} is not accepted ({', '.join(req.formats)})"
                     for d in docs if d.ok and d.format not in req.formats]
        sound = [d for d in docs if d.ok and d.format in req.formats]
        problems += evidence_problems(req, [d.item for d in sound], period, as_of)
        if req.required and problems:
            insufficient = True
        uses.append(rm.EvidenceUse(
            kind=req.kind, required=req.required, formats=list(req.formats),
            max_age_days=req.max_age_days, coverage=req.coverage,
            items=[d.path for d in docs], problems=sorted(set(problems), key=problems.index),
        ))
    return uses, insufficient


def _tasks(control: Control, params: dict[str, Any], evidence: EvidenceSet
           ) -> tuple[list[CheckTask | None], list[CheckOutcome | None], list[list[str]]]:
    tasks: list[CheckTask | None] = []
    preset: list[CheckOutcome | None] = []
    kinds_used: list[list[str]] = []
    by_variable = {req.variable: req.kind for req in control.evidence}
    for check in control.checks:
        variables: set[str] = set()
        for source in check.expressions.values():
            variables |= compile_expr(source).free_variables
        kinds = sorted(by_variable[v] for v in variables if v in by_variable)
        kinds_used.append(kinds)
        missing = [k for k in kinds if evidence.cel_value(k) is None]
        if missing:
            tasks.append(None)
            preset.append(CheckOutcome("not-run", f"no usable evidence of kind {', '.join(missing)}"))
            continue
        tasks.append(CheckTask(
            check_id=check.id, control_id=control.id, kinds=tuple(kinds), params=params,
            combined=check.combined, each=check.each, where=check.where, assert_=check.assert_,
            offenders=check.offenders,
        ))
        preset.append(None)
    return tasks, preset, kinds_used


def _procedures(control: Control, assessment: Assessment) -> list[rm.ProcedureOutcome]:
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
        ))
    return out


def _plain(value: Any) -> Any:
    """Offender records made JSON-safe and deterministic (CEL returns maps in hash order)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, _dt.datetime | _dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


def assess(
    catalog: Catalog,
    profile: Profile,
    evidence: EvidenceSet,
    assessment: Assessment,
    as_of: _dt.date | None = None,
    *,
    options: EngineOptions | None = None,
) -> rm.Results:
    """Score ``evidence`` against the in-scope controls of ``catalog`` under ``profile``."""
    options = options or EngineOptions()
    as_of = as_of or assessment.engagement.as_of
    span = assessment.engagement.period
    period = (span.start, span.end) if span else (
        _dt.date.fromisoformat(evidence.period[0][:10]), _dt.date.fromisoformat(evidence.period[1][:10]))
    threshold = profile.scoring.partial_threshold
    controls = [c for c in catalog.controls if profile.in_scope(c)]

    plans = []
    all_tasks: list[CheckTask] = []
    for control in controls:
        na = profile.not_applicable_reason(control)
        params = profile.param_values(control)
        uses, insufficient = _evidence_problems(control, evidence, period, as_of)
        tasks, preset, kinds_used = _tasks(control, params, evidence) if na is None else (
            [None] * len(control.checks), [CheckOutcome("not-run", "control not applicable")] * len(control.checks),
            [[] for _ in control.checks])
        slots = []
        for task in tasks:
            if task is None:
                slots.append(None)
            else:
                slots.append(len(all_tasks))
                all_tasks.append(task)
        plans.append((control, na, params, uses, insufficient, preset, slots, kinds_used))

    def make() -> Evaluator:
        return Evaluator(evidence, as_of.isoformat(), (period[0].isoformat(), period[1].isoformat()))

    weights = {d.kind: (len(d.content) if isinstance(d.content, list) else 1) for d in evidence.documents}
    outcomes = (run_checks(all_tasks, make, weights, options.limits) if options.isolated
                else in_process(all_tasks, make))

    waivers = {w.control: w for w in assessment.waivers}
    overrides = {o.control: o for o in assessment.overrides}
    results: list[rm.ControlResult] = []
    scored: list[scoring.Scored] = []
    trace: list[rm.TraceEntry] = []
    for control, na, params, uses, insufficient, preset, slots, kinds_used in plans:
        checks = []
        for check, ready, slot, kinds in zip(control.checks, preset, slots, kinds_used, strict=True):
            outcome = ready if slot is None else outcomes[slot]
            assert outcome is not None
            checks.append(rm.CheckResult(
                id=check.id, title=check.title, outcome=outcome.outcome,  # type: ignore[arg-type]
                reason=outcome.reason, expression=check.combined, evidence_kinds=kinds,
                records_judged=outcome.records_judged, offenders=_plain(outcome.offenders),
                offender_count=outcome.offender_count, weight=check.weight or 1.0,
            ))
        procedures = _procedures(control, assessment)
        items = [scoring.Item(f"check {c.id} {c.outcome}", c.weight, c.outcome == "pass") for c in checks]
        items += [scoring.Item(f"procedure {p.id} {p.result}", p.weight, p.result == "affirmed") for p in procedures]
        credit, arithmetic = scoring.control_credit(items)
        notes: list[str] = []
        if na is not None:
            computed, credit_out = "not-applicable", None
            explanation = f"not applicable: {na}"
        elif insufficient:
            computed, credit_out = "insufficient-evidence", 0.0
            explanation = "insufficient evidence, credit 0: " + "; ".join(
                p for u in uses if u.required for p in u.problems)[:400]
        else:
            computed, credit_out = scoring.status_from_credit(credit, threshold), credit
            explanation = f"{arithmetic} = {credit:.4f} -> {scoring.status_from_credit(credit, threshold)} (partial threshold {threshold:g})"
        status = computed
        waiver_info = None
        waiver = waivers.get(control.id)
        if waiver is not None:
            state = "not-needed"
            if computed in ("not-satisfied", "partially-satisfied", "insufficient-evidence"):
                if control.id in profile.scoring.unwaivable:
                    state = "refused-unwaivable"
                    notes.append(f"waiver approved by {waiver.approved_by} refused: {control.id} is unwaivable under profile {profile.id}")
                elif waiver.live_on(as_of):
                    state = "applied"
                    status, credit_out = "waived", None
                    explanation += f"; waived until {waiver.expires.isoformat()} by {waiver.approved_by}: left out of the score"
                else:
                    state = "expired"
                    notes.append(f"waiver expired on {waiver.expires.isoformat()} (as of {as_of.isoformat()}) and was ignored")
            if waiver.expires < as_of and state != "expired":
                state = "expired" if state == "not-needed" else state
            waiver_info = rm.WaiverInfo(justification=waiver.justification, approved_by=waiver.approved_by,
                                        expires=waiver.expires.isoformat(), state=state)  # type: ignore[arg-type]
        override_info = None
        override = overrides.get(control.id)
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
        trace.append(rm.TraceEntry(scope=f"control {control.id}", value=None if credit_out is None else round(credit_out, 4),
                                   explanation=f"{explanation}; weight {weight:g}"))
        scored.append(scoring.Scored(control.id, control.family, control.severity, weight, status, credit_out))
        results.append(rm.ControlResult(
            id=control.id, family=control.family, title=control.title, objective=control.objective,
            severity=control.severity, weight=weight, status=status,  # type: ignore[arg-type]
            computed_status=computed,  # type: ignore[arg-type]
            credit=None if credit_out is None else round(credit_out, 4),
            references=control.references.model_dump(mode="json", exclude_none=True),
            params=params, evidence=uses, checks=checks, procedures=procedures,
            waiver=waiver_info, override=override_info, not_applicable=na,
            remediation=control.remediation, notes=notes,
        ))

    families = []
    for family in catalog.families:
        members = [s for s in scored if s.family == family.id]
        if not members:
            continue
        score, how = scoring.weighted(members)
        families.append(rm.FamilyScore(
            id=family.id, title=family.title, score=None if score is None else scoring.round_score(score),
            weight=sum(s.weight for s in members if s.status not in scoring.UNSCORED),
            controls=len(members), status_counts=dict(sorted(Counter(s.status for s in members).items())),
        ))
        trace.append(rm.TraceEntry(scope=f"family {family.id}",
                                   value=None if score is None else scoring.round_score(score), explanation=how))
    overall, how = scoring.weighted(scored)
    uncapped = scoring.rating_for(overall, profile)
    rating, capped_by = scoring.cap_rating(uncapped, scored, profile)
    trace.append(rm.TraceEntry(scope="overall", value=None if overall is None else scoring.round_score(overall),
                               explanation=how))
    thresholds = ", ".join(f"{r.name} >= {r.min_score:g}" for r in profile.scoring.ratings)
    rating_note = f"score {'n/a' if overall is None else f'{overall:.2f}'} -> {uncapped} ({thresholds})"
    if rating != uncapped:
        rating_note += (f"; capped at {rating} because critical controls are not satisfied: "
                        f"{', '.join(capped_by)}")
    trace.append(rm.TraceEntry(scope="rating", value=rating, explanation=rating_note))

    findings = []
    for result in sorted(results, key=lambda r: (SEVERITY_ORDER[r.severity], r.id)):
        if result.status in ("satisfied", "not-applicable") and result.computed_status in ("satisfied", "not-applicable"):
            continue
        failing = [f"{c.id} {c.outcome}" + (f" ({c.offender_count} offending records)" if c.offender_count else "")
                   for c in result.checks if c.outcome != "pass"]
        gaps = [p for u in result.evidence for p in u.problems]
        procs = [f"{p.id} {p.result}" for p in result.procedures if p.result != "affirmed"]
        summary = "; ".join(filter(None, [", ".join(failing), ", ".join(gaps), ", ".join(procs)])) or result.status
        if result.override is not None:
            summary = f"[override: {result.computed_status} -> {result.status}] {summary}"
        findings.append(rm.Finding(control=result.id, family=result.family, severity=result.severity,
                                   status=result.status, title=result.title, summary=summary[:1000],
                                   remediation=result.remediation))

    engagement = assessment.engagement
    return rm.Results(
        tool=rm.ToolInfo(version=__version__),
        catalog=rm.CatalogInfo(digest=catalog.digest, version=catalog.version,
                               families=[rm.FamilyRef(id=f.id, title=f.title, version=f.version) for f in catalog.families]),
        profile=rm.ProfileInfo(
            id=profile.id, title=profile.title, digest=_profile_digest(profile),
            partial_threshold=threshold,
            ratings=[r.model_dump() for r in profile.scoring.ratings],
            critical_failure_cap=profile.scoring.critical_failure_cap,
            unwaivable=list(profile.scoring.unwaivable),
            severity_weights=dict(profile.scoring.severity_weights),
        ),
        bundle=rm.BundleInfo(
            id=evidence.bundle_id, organization=evidence.organization, root_hash=evidence.root_hash,
            period=rm.Period(start=evidence.period[0], end=evidence.period[1]),
            submitted_by=rm.Person(**evidence.submitted_by) if evidence.submitted_by else None,
            created=evidence.created, signed=evidence.signed,
            items=[_item(d) for d in sorted(evidence.documents, key=lambda d: d.path)],
        ),
        assessment=rm.AssessmentInfo(
            engagement_id=engagement.id, auditee=engagement.auditee,
            auditor=rm.Person(**engagement.auditor.model_dump()), as_of=as_of.isoformat(),
            period=rm.Period(start=period[0].isoformat(), end=period[1].isoformat()),
            scope=engagement.scope, assessment_digest=assessment.digest,
        ),
        controls=results,
        families=families,
        overall=rm.OverallScore(
            score=None if overall is None else scoring.round_score(overall), rating=rating,
            uncapped_rating=uncapped, capped_by=capped_by,
            status_counts=dict(sorted(Counter(s.status for s in scored).items())),
        ),
        findings=findings,
        score_trace=trace,
    )


def _item(d: EvidenceDocument) -> rm.EvidenceItem:
    return rm.EvidenceItem(
        path=d.path, kind=d.kind, sha256=d.sha256, size=d.size, collected_at=d.collected_at,
        period=rm.Period(start=d.period[0], end=d.period[1]) if d.period else None,
        source=d.source, description=d.description, integrity=d.integrity, problem=d.problem,
    )


def _profile_digest(profile: Profile) -> str:
    from ..catalog.loader import digest

    return digest([profile.model_dump(mode="json", exclude={"source"})])
