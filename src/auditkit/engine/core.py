"""Assembling an assessment: plan checks, evaluate them in isolation, judge, score, trace.

``assess`` is the engine's one entry point (re-exported by :mod:`auditkit.engine`).
"""

from __future__ import annotations

import datetime as _dt
from collections import Counter
from dataclasses import dataclass, field

from .. import __version__
from ..catalog.assessment import Assessment
from ..catalog.models import SEVERITY_ORDER, Catalog, Profile, id_key
from ..evidence.bundle import INTEGRITY_FAILURES
from ..results import model as rm
from . import scoring
from .evaluate import CheckTask, Evaluator
from .inputs import EvidenceDocument, EvidenceSet
from .judge import judge
from .plan import plan_control
from .workers import Limits, in_process, run_checks

__all__ = ["EngineOptions", "EvidenceSet", "Limits", "assess"]


@dataclass(frozen=True)
class EngineOptions:
    """How checks are evaluated: isolation limits, or in-process for trusted tiny inputs."""

    limits: Limits = field(default_factory=Limits)
    isolated: bool = True


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
    plans = [plan_control(c, profile, evidence, period, as_of, catalog.expressions)
             for c in catalog.controls if profile.in_scope(c)]

    tasks: list[CheckTask] = [t for plan in plans for t in plan.tasks if t is not None]

    def make() -> Evaluator:
        return Evaluator(evidence, as_of.isoformat(), (period[0].isoformat(), period[1].isoformat()))

    weights = {d.kind: (len(d.content) if isinstance(d.content, list) else 1) for d in evidence.documents}
    outcomes = iter(run_checks(tasks, make, weights, options.limits) if options.isolated else in_process(tasks, make))

    waivers = {w.control: w for w in assessment.waivers}
    overrides = {o.control: o for o in assessment.overrides}
    implementations = {i.control: i for i in assessment.implementation}
    judgements = []
    for plan in plans:
        checks = [preset if task is None else next(outcomes)
                  for task, preset in zip(plan.tasks, plan.preset, strict=True)]
        judgements.append(judge(plan, checks, assessment, profile, as_of, waivers.get(plan.control.id),
                                overrides.get(plan.control.id), implementations.get(plan.control.id)))
    results = [j.result for j in judgements]
    scored = [j.scored for j in judgements]
    trace = [j.trace for j in judgements]
    families = _family_scores(catalog, scored, trace)
    overall = _overall(scored, profile, trace)
    engagement = assessment.engagement
    return rm.Results(
        tool=rm.ToolInfo(version=__version__),
        catalog=rm.CatalogInfo(digest=catalog.digest, version=catalog.version, families=[
            rm.FamilyRef(id=f.id, title=f.title, version=f.version,
                         framework=rm.Framework(**f.framework.model_dump(exclude={"group"})) if f.framework else None)
            for f in catalog.families]),
        profile=_profile_info(profile),
        bundle=rm.BundleInfo(
            id=evidence.bundle_id, organization=evidence.organization, root_hash=evidence.root_hash,
            period=rm.Period(start=evidence.period[0], end=evidence.period[1]),
            submitted_by=rm.Person(**evidence.submitted_by) if evidence.submitted_by else None,
            created=evidence.created, signed=evidence.signed,
            integrity_failures=[
                rm.IntegrityFailure(path=d.path, integrity=d.integrity, problem=d.problem or d.integrity)
                for d in sorted(evidence.documents, key=lambda d: d.path) if d.integrity in INTEGRITY_FAILURES
            ],
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
        overall=overall,
        findings=_findings(results),
        score_trace=trace,
    )


def _family_scores(catalog: Catalog, scored: list[scoring.Scored], trace: list[rm.TraceEntry]) -> list[rm.FamilyScore]:
    families = []
    for family in catalog.families:
        members = [s for s in scored if s.family == family.id]
        if not members:
            continue
        score, how = scoring.weighted(members)
        value = None if score is None else scoring.round_score(score)
        families.append(rm.FamilyScore(
            id=family.id, title=family.title, score=value,
            weight=sum(s.weight for s in members if s.status not in scoring.UNSCORED),
            controls=len(members), status_counts=dict(sorted(Counter(s.status for s in members).items())),
        ))
        trace.append(rm.TraceEntry(scope=f"family {family.id}", value=value, explanation=how))
    return families


def _overall(scored: list[scoring.Scored], profile: Profile, trace: list[rm.TraceEntry]) -> rm.OverallScore:
    overall, how = scoring.weighted(scored)
    value = None if overall is None else scoring.round_score(overall)
    uncapped = scoring.rating_for(overall, profile)
    rating, capped_by = scoring.cap_rating(uncapped, scored, profile)
    trace.append(rm.TraceEntry(scope="overall", value=value, explanation=how))
    thresholds = ", ".join(f"{r.name} >= {r.min_score:g}" for r in profile.scoring.ratings)
    note = f"score {'n/a' if overall is None else f'{overall:.2f}'} -> {uncapped} ({thresholds})"
    if rating != uncapped:
        note += f"; capped at {rating} because critical controls are not satisfied: {', '.join(capped_by)}"
    trace.append(rm.TraceEntry(scope="rating", value=rating, explanation=note))
    return rm.OverallScore(score=value, rating=rating, uncapped_rating=uncapped, capped_by=capped_by,
                           status_counts=dict(sorted(Counter(s.status for s in scored).items())))


def _findings(results: list[rm.ControlResult]) -> list[rm.Finding]:
    """A finding per control that is, or was before an override, short of satisfied; worst first."""
    findings = []
    for result in sorted(results, key=lambda r: (SEVERITY_ORDER.get(r.severity, 9), id_key(r.id))):
        fine = ("satisfied", "not-applicable", "not-assessed")
        if result.status in fine and result.computed_status in fine:
            continue
        failing = [f"{c.id} {c.outcome}" + (f" ({_records(c.offender_count)})" if c.offender_count else "")
                   for c in result.checks if c.outcome != "pass"]
        gaps = [p for u in result.evidence for p in u.problems]
        procs = [f"{p.id} {p.result}" for p in result.procedures if p.result != "affirmed"]
        summary = "; ".join(filter(None, [", ".join(failing), ", ".join(gaps), ", ".join(procs)])) or result.status
        if result.override is not None:
            summary = (f"Auditor override: computed {result.computed_status.replace('-', ' ')}, "
                       f"reported {result.status.replace('-', ' ')}. {summary}")
        findings.append(rm.Finding(control=result.id, family=result.family, severity=result.severity,
                                   status=result.status, title=result.title, summary=summary[:1000],
                                   remediation=result.remediation))
    return findings


def _records(count: int) -> str:
    return f"{count} offending record{'' if count == 1 else 's'}"


def _profile_info(profile: Profile) -> rm.ProfileInfo:
    from ..catalog.loader import digest

    return rm.ProfileInfo(
        id=profile.id, title=profile.title, digest=digest([profile.model_dump(mode="json", exclude={"source"})]),
        partial_threshold=profile.scoring.partial_threshold,
        ratings=[r.model_dump() for r in profile.scoring.ratings],
        critical_failure_cap=profile.scoring.critical_failure_cap,
        unwaivable=list(profile.scoring.unwaivable),
        severity_weights=dict(profile.scoring.severity_weights),
    )


def _item(d: EvidenceDocument) -> rm.EvidenceItem:
    return rm.EvidenceItem(
        path=d.path, kind=d.kind, sha256=d.sha256, size=d.size, collected_at=d.collected_at,
        period=rm.Period(start=d.period[0], end=d.period[1]) if d.period else None,
        source=d.source, description=d.description, integrity=d.integrity, problem=d.problem,
    )
