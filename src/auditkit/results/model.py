"""The results of an assessment: what ``results.json`` holds (schema: ``auditkit schema results``).

Self-contained: a regulator can read every status and number here without the
catalog or the bundle. ``score_trace`` explains every number.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Outcome = Literal["pass", "fail", "error", "not-run"]
Status = Literal[
    "satisfied", "partially-satisfied", "not-satisfied", "insufficient-evidence", "not-applicable", "waived",
    "not-assessed",
]
ProcedureResult = Literal["affirmed", "not-affirmed", "not-performed"]
RESULTS_SCHEMA_VERSION = "1.0"


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Period(Model):
    start: str
    end: str


class Person(Model):
    name: str
    organization: str | None = None
    email: str | None = None


class ToolInfo(Model):
    name: Literal["auditkit"] = "auditkit"
    version: str


class Framework(Model):
    """The published framework an imported family came from (OSCAL catalog metadata)."""

    title: str
    version: str | None = None
    oscal_version: str | None = None
    catalog_uuid: str | None = None
    profile: str | None = None


class FamilyRef(Model):
    id: str
    title: str
    version: str | None = None
    framework: Framework | None = None


class CatalogInfo(Model):
    digest: str
    version: str
    families: list[FamilyRef]


class ProfileInfo(Model):
    id: str
    title: str
    digest: str
    partial_threshold: float
    ratings: list[dict[str, Any]]
    critical_failure_cap: str | None
    unwaivable: list[str]
    severity_weights: dict[str, float]


class EvidenceItem(Model):
    """A manifest item as the assessment saw it."""

    path: str
    kind: str
    sha256: str
    size: int
    collected_at: str
    period: Period | None = None
    source: str | None = None
    description: str | None = None
    integrity: str
    problem: str | None = None


class IntegrityFailure(Model):
    """An evidence file whose bytes are not the ones the manifest pins (assessed anyway)."""

    path: str
    integrity: Literal["hash-mismatch", "size-mismatch"]
    problem: str


class BundleSignature(Model):
    """What the assessment established about the bundle's ``manifest.sig``."""

    status: Literal["verified", "not-checked", "absent"]
    """``verified`` against a trust anchor given with ``--trust``; ``not-checked``: present,
    no trust anchor given; ``absent``: the bundle has no signature."""
    signer: str | None = None
    """The verified signer's certificate subject (RFC 4514)."""
    fingerprint: str | None = None
    """SHA-256 of the verified signer's certificate (DER), hex."""
    trust_anchor: str | None = None
    """The trusted CA certificate the signer's chain ends at."""


class BundleInfo(Model):
    id: str
    organization: str
    root_hash: str
    period: Period
    submitted_by: Person | None = None
    created: str | None = None
    signed: bool = False
    """True only when the signature was verified against a trust anchor."""
    signature: BundleSignature | None = None
    """None when not recorded (the engine called without the CLI's signature check)."""
    integrity_failures: list[IntegrityFailure] = []
    """Files failing their manifest hash or size; non-empty only with --allow-integrity-failures."""
    items: list[EvidenceItem]


class AssessmentInfo(Model):
    engagement_id: str | None = None
    auditee: str
    auditor: Person
    as_of: str
    period: Period
    scope: str | None = None
    assessment_digest: str | None = None


class CheckResult(Model):
    id: str
    title: str
    outcome: Outcome
    reason: str | None = None
    expression: str
    evidence_kinds: list[str]
    records_judged: int | None = None
    offenders: list[Any] = []
    offender_count: int = 0
    weight: float = 1.0


class ProcedureOutcome(Model):
    id: str
    method: str
    prompt: str
    result: ProcedureResult
    by: str | None = None
    date: str | None = None
    note: str | None = None
    weight: float = 1.0
    objectives: list[str] = []
    """Assessment objectives the recorded result covers."""


class Segment(Model):
    """A run of control text; ``param`` marks an inserted parameter value (``assigned``) or its placeholder."""

    text: str
    param: str | None = None
    assigned: bool | None = None


class TextLine(Model):
    """One item of a control statement or of its assessment objectives, at its list depth."""

    id: str | None = None
    label: str | None = None
    level: int = 0
    segments: list[Segment]


class ImplementationInfo(Model):
    """The auditee's implementation status and origination, as the assessment file records it."""

    status: str | None = None
    origination: str | None = None
    provided_by: str | None = None
    note: str | None = None


class EvidenceUse(Model):
    """One evidence kind a control requires and what the bundle supplied for it."""

    kind: str
    required: bool
    formats: list[str]
    max_age_days: int | None = None
    coverage: str | None = None
    items: list[str]
    problems: list[str]


class WaiverInfo(Model):
    justification: str
    approved_by: str
    expires: str
    state: Literal["applied", "expired", "not-needed", "refused-unwaivable"]


class OverrideInfo(Model):
    status: Status
    reason: str
    by: str | None = None


class ControlResult(Model):
    id: str
    family: str
    title: str
    label: str | None = None
    parent: str | None = None
    objective: str
    statement: list[TextLine] = []
    guidance: str | None = None
    objectives: list[TextLine] = []
    related: list[str] = []
    implementation: ImplementationInfo | None = None
    severity: str
    weight: float
    status: Status
    computed_status: Status
    credit: float | None
    references: dict[str, Any]
    params: dict[str, Any]
    evidence: list[EvidenceUse]
    checks: list[CheckResult]
    procedures: list[ProcedureOutcome]
    waiver: WaiverInfo | None = None
    override: OverrideInfo | None = None
    not_applicable: str | None = None
    remediation: str | None = None
    notes: list[str] = []

    @property
    def shown_id(self) -> str:
        """The id as people read it: the label (``AC-2(1)``) where the catalog gives one."""
        return self.label or self.id


class FamilyScore(Model):
    id: str
    title: str
    score: float | None
    weight: float
    controls: int
    status_counts: dict[str, int]


class OverallScore(Model):
    score: float | None
    rating: str
    uncapped_rating: str
    capped_by: list[str]
    status_counts: dict[str, int]


class Finding(Model):
    control: str
    family: str
    severity: str
    status: Status
    title: str
    summary: str
    remediation: str | None = None


class TraceEntry(Model):
    scope: str
    value: float | str | None
    explanation: str


class Results(Model):
    schema_version: str = RESULTS_SCHEMA_VERSION
    tool: ToolInfo
    catalog: CatalogInfo
    profile: ProfileInfo
    bundle: BundleInfo
    assessment: AssessmentInfo
    controls: list[ControlResult]
    families: list[FamilyScore]
    overall: OverallScore
    findings: list[Finding]
    score_trace: list[TraceEntry]
