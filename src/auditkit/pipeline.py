"""The I/O edge of an assessment: load catalog, profile, assessment and bundle, then call the engine.

The engine stays pure; this module is where files are read. ``auditkit assess``,
``auditkit run`` and ``auditkit demo`` all go through :func:`run_assessment`.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path

from .catalog import load_catalog, load_profile
from .catalog.assessment import Assessment, Auditor, Engagement, load_assessment
from .engine.workers import Limits
from .errors import InvalidInputError
from .results.model import Results


@dataclass(frozen=True)
class AssessmentRun:
    """What an assessment used and produced, for the caller to report."""

    results: Results
    assessment_source: str | None
    notes: list[str] = field(default_factory=list)


def default_assessment_path(bundle: Path) -> Path:
    """``NAME.assessment.yaml`` beside the bundle ``NAME``, ``NAME.zip`` or ``NAME.tar.gz``."""
    name = bundle.name
    for suffix in (".tar.gz", ".tgz", ".zip"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return bundle.parent / f"{name}.assessment.yaml"


def run_assessment(
    bundle_path: Path,
    *,
    controls: Path | None = None,
    profile: str | None = None,
    assessment_path: Path | None = None,
    as_of: _dt.date | None = None,
    limits: Limits | None = None,
) -> AssessmentRun:
    """Load everything ``auditkit assess`` needs and assess the bundle."""
    from .engine import EngineOptions, assess
    from .engine.inputs import EvidenceSet
    from .evidence import load_evidence, open_bundle

    notes: list[str] = []
    catalog = load_catalog([controls] if controls else None)
    if assessment_path is None:
        candidate = default_assessment_path(bundle_path)
        if candidate.is_file():
            assessment_path = candidate
            notes.append(f"using the assessment file beside the bundle: {candidate}")
    assessment: Assessment | None = (
        load_assessment(assessment_path, catalog) if assessment_path is not None else None
    )
    profile_name = profile or (assessment.engagement.profile if assessment else None)
    loaded_profile = load_profile(profile_name, catalog)
    with open_bundle(bundle_path) as bundle:
        evidence = EvidenceSet.from_bundle(bundle, load_evidence(bundle))
    if assessment is None:
        day = as_of or _default_as_of(evidence)
        notes.append(f"no assessment file: procedures count as not performed; as-of date {day.isoformat()}")
        assessment = Assessment(engagement=Engagement(
            auditee=evidence.organization, auditor=Auditor(name="(not recorded)"), as_of=day))
    results = assess(catalog, loaded_profile, evidence, assessment, as_of,
                     options=EngineOptions(limits=limits or Limits()))
    return AssessmentRun(results, assessment.source, notes)


def _default_as_of(evidence: object) -> _dt.date:
    created = getattr(evidence, "created", None)
    period = getattr(evidence, "period", None)
    text = created or (period[1] if period else None)
    if not text:
        raise InvalidInputError("no as-of date", hint="pass --as-of YYYY-MM-DD or an assessment file")
    return _dt.date.fromisoformat(str(text)[:10])
