"""Frozen models of the catalog (families, controls, checks) and of profiles.

Built only from data that already passed the shipped JSON Schemas; inner code
never sees raw user dicts.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["low", "medium", "high", "critical"]
ParamType = Literal[
    "string", "integer", "number", "boolean", "date", "list[string]", "list[integer]", "list[number]"
]
Coverage = Literal["period", "monthly", "quarterly", "yearly"]
SEVERITY_ORDER: dict[str, int] = {"critical": 0, "high": 1, "medium": 2, "low": 3}


def id_key(identifier: str) -> tuple[str | int, ...]:
    """Sort key that orders ids as people do: AC-2 before AC-11, DL-1.2 before DL-1.10."""
    parts = re.split(r"(\d+)", identifier)
    return tuple(int(part) if index % 2 else part for index, part in enumerate(parts))


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class References(Model):
    """Where a control comes from: agreement clause and framework mappings."""

    agreement: str | None = None
    nist_800_53: tuple[str, ...] = ()
    iso_27001: tuple[str, ...] = ()
    other: tuple[str, ...] = ()


class Param(Model):
    """A typed parameter with its default; profiles override the value."""

    type: ParamType
    default: Any
    description: str | None = None
    minimum: float | None = None
    maximum: float | None = None


class EvidenceRequirement(Model):
    """An evidence kind a control needs, with formats, freshness and coverage."""

    kind: str
    description: str | None = None
    formats: tuple[str, ...]
    required: bool = True
    max_age_days: int | None = None
    coverage: Coverage | None = None

    @property
    def variable(self) -> str:
        """The CEL variable name of this kind (``-`` becomes ``_``)."""
        return self.kind.replace("-", "_")


class Check(Model):
    """A machine check: ``each``/``where``/``assert`` over records, or ``expr`` as a whole."""

    id: str
    title: str
    description: str | None = None
    weight: float | None = None
    each: str | None = None
    where: str | None = None
    assert_: str | None = Field(default=None, alias="assert")
    expr: str | None = None
    offenders: str | None = None

    @property
    def expressions(self) -> dict[str, str]:
        """The CEL sources of this check by field name."""
        fields = {"each": self.each, "where": self.where, "assert": self.assert_,
                  "expr": self.expr, "offenders": self.offenders}
        return {name: source for name, source in fields.items() if source is not None}

    @property
    def combined(self) -> str:
        """The single expression the engine evaluates for a pass/fail verdict."""
        if self.expr is not None:
            return self.expr
        where = self.where or "true"
        return f"({self.each}).all(r, !({where}) || ({self.assert_}))"


class Procedure(Model):
    """A manual procedure the auditor performs and attests."""

    id: str
    method: Literal["examine", "interview", "test"]
    prompt: str
    weight: float | None = None


class Control(Model):
    """One control of the catalog."""

    id: str
    family: str
    title: str
    objective: str
    rationale: str | None = None
    severity: Severity
    weight: float | None = None
    references: References = References()
    params: dict[str, Param] = {}
    evidence: tuple[EvidenceRequirement, ...]
    checks: tuple[Check, ...]
    procedures: tuple[Procedure, ...]
    remediation: str

    def requirement(self, kind: str) -> EvidenceRequirement | None:
        return next((e for e in self.evidence if e.kind == kind), None)


class Family(Model):
    """A control family: one YAML file under ``controls/``."""

    id: str
    title: str
    description: str | None = None
    version: str | None = None
    source: str
    controls: tuple[Control, ...]


class Catalog(Model):
    """Every family loaded, with a digest over their content."""

    families: tuple[Family, ...]
    digest: str
    version: str

    @property
    def controls(self) -> list[Control]:
        return [c for f in self.families for c in f.controls]

    def control(self, control_id: str) -> Control | None:
        return next((c for c in self.controls if c.id == control_id), None)

    def family(self, family_id: str) -> Family | None:
        return next((f for f in self.families if f.id == family_id), None)


class NotApplicable(Model):
    """A control or family scoped out by the profile, with its justification."""

    control: str | None = None
    family: str | None = None
    justification: str


class Rating(Model):
    name: str
    min_score: float


DEFAULT_SEVERITY_WEIGHTS = {"low": 1.0, "medium": 2.0, "high": 3.0, "critical": 5.0}
DEFAULT_RATINGS = (
    Rating(name="effective", min_score=85),
    Rating(name="partially-effective", min_score=60),
    Rating(name="ineffective", min_score=0),
)


class Scoring(Model):
    """The scoring policy of a profile (see docs/scoring.md)."""

    severity_weights: dict[str, float] = dict(DEFAULT_SEVERITY_WEIGHTS)
    ratings: tuple[Rating, ...] = DEFAULT_RATINGS
    partial_threshold: float = 0.5
    critical_failure_cap: str | None = "partially-effective"
    unwaivable: tuple[str, ...] = ()


class Profile(Model):
    """An engagement's tailoring of the catalog."""

    id: str
    title: str
    description: str | None = None
    source: str
    families: tuple[str, ...] | None = None
    exclude_controls: tuple[str, ...] = ()
    params: dict[str, dict[str, Any]] = {}
    weights: dict[str, float] = {}
    not_applicable: tuple[NotApplicable, ...] = ()
    scoring: Scoring = Scoring()

    def in_scope(self, control: Control) -> bool:
        """Whether the control is assessed at all (not-applicable ones still are reported)."""
        if self.families is not None and control.family not in self.families:
            return False
        return control.id not in self.exclude_controls

    def not_applicable_reason(self, control: Control) -> str | None:
        for entry in self.not_applicable:
            if entry.control == control.id or entry.family == control.family:
                return entry.justification
        return None

    def param_values(self, control: Control) -> dict[str, Any]:
        """The control's parameters: defaults overridden by this profile."""
        values = {name: p.default for name, p in control.params.items()}
        values.update(self.params.get(control.id, {}))
        return values

    def weight(self, control: Control) -> float:
        if control.id in self.weights:
            return self.weights[control.id]
        if control.weight is not None:
            return control.weight
        return self.scoring.severity_weights.get(
            control.severity, DEFAULT_SEVERITY_WEIGHTS[control.severity]
        )
