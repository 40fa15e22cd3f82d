"""Frozen models of the catalog (families, controls, checks) and of profiles.

Built only from data that already passed the shipped JSON Schemas; inner code
never sees raw user dicts.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

Severity = Literal["low", "medium", "high", "critical", "unrated"]
ParamType = Literal[
    "string", "integer", "number", "boolean", "date", "list[string]", "list[integer]", "list[number]"
]
Coverage = Literal["period", "monthly", "quarterly", "yearly"]
SEVERITY_ORDER: dict[str, int] = {"critical": 0, "high": 1, "medium": 2, "low": 3, "unrated": 4}
ProcedureMethod = Literal["examine", "interview", "test"]


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


class Select(Model):
    """An OSCAL-style selection: the value is one (or several) of ``choice``."""

    how_many: Literal["one", "one-or-more"] = "one"
    choice: tuple[str, ...]


class Param(Model):
    """A typed parameter; profiles set or override its value.

    ``default`` is optional: a parameter without one (an OSCAL organization-defined
    parameter) has no value until a profile assigns it. ``label``, ``guidelines`` and
    ``select`` describe what may be assigned; ``aggregates`` names the parameters whose
    values this one stands for (OSCAL ``aggregates`` props).
    """

    type: ParamType = "string"
    default: Any = None
    label: str | None = None
    description: str | None = None
    guidelines: str | None = None
    select: Select | None = None
    aggregates: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None


class Part(Model):
    """A piece of control text: a statement item, an assessment objective, with sub-items.

    ``prose`` may hold OSCAL parameter insertions ``{{ insert: param, ID }}``; the
    report shows the value in force in their place.
    """

    id: str | None = None
    label: str | None = None
    prose: str | None = None
    parts: tuple[Part, ...] = ()

    def walk(self) -> list[Part]:
        """This part and every part below it, depth first."""
        return [self] + [p for child in self.parts for p in child.walk()]


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
    def rule(self) -> str | None:
        """An ``each`` check's verdict on one record ``r``: ``!(where) || (assert)``; None for ``expr``.

        The one place this string is built: the engine judges records with it, and
        :attr:`combined` wraps it in ``all``."""
        if self.each is None:
            return None
        return f"!({self.where or 'true'}) || ({self.assert_})"

    @property
    def combined(self) -> str:
        """The single expression the engine evaluates for a pass/fail verdict."""
        if self.expr is not None:
            return self.expr
        return f"({self.each}).all(r, {self.rule})"


class Procedure(Model):
    """A manual procedure the auditor performs and attests.

    ``objectives`` are the ids of the assessment objectives it assesses (800-53A
    ``assessment-objective`` parts of the control); a result recorded for the
    procedure applies to them.
    """

    id: str
    method: ProcedureMethod
    prompt: str
    weight: float | None = None
    objectives: tuple[str, ...] = ()


class Control(Model):
    """One control of the catalog.

    A control needs at least one check or one procedure; a procedure-only control
    (most of a published framework) is satisfied on affirmed procedures.
    """

    id: str
    family: str
    title: str
    label: str | None = None
    parent: str | None = None
    objective: str | None = None
    statement: tuple[Part, ...] = ()
    guidance: str | None = None
    objectives: tuple[Part, ...] = ()
    rationale: str | None = None
    severity: Severity = "unrated"
    weight: float | None = None
    references: References = References()
    related: tuple[str, ...] = ()
    params: dict[str, Param] = {}
    evidence: tuple[EvidenceRequirement, ...] = ()
    checks: tuple[Check, ...] = ()
    procedures: tuple[Procedure, ...] = ()
    remediation: str | None = None

    @property
    def display_id(self) -> str:
        """How the control is shown: its label (``AC-2(1)``) where it has one, else its id."""
        return self.label or self.id

    @property
    def objective_text(self) -> str:
        """What must be true: the objective, else the statement as one paragraph, else the title."""
        if self.objective:
            return self.objective
        prose = [" ".join(filter(None, (p.label, p.prose))) for s in self.statement for p in s.walk()]
        return " ".join(t for t in prose if t) or self.title

    def objective_ids(self) -> set[str]:
        """Ids of every assessment objective of the control."""
        return {p.id for o in self.objectives for p in o.walk() if p.id}

    def requirement(self, kind: str) -> EvidenceRequirement | None:
        return next((e for e in self.evidence if e.kind == kind), None)


class Framework(Model):
    """Where an imported family came from (``auditkit controls import-oscal``)."""

    title: str
    version: str | None = None
    oscal_version: str | None = None
    catalog_uuid: str | None = None
    profile: str | None = None
    group: str | None = None


class Family(Model):
    """A control family: one YAML file under ``controls/``."""

    id: str
    title: str
    description: str | None = None
    version: str | None = None
    framework: Framework | None = None
    source: str
    controls: tuple[Control, ...]


class ExpressionRefs(Model):
    """The names a CEL expression refers to."""

    variables: tuple[str, ...] = ()
    """Free variables (comprehension-bound names removed)."""
    params: tuple[str, ...] = ()
    """Parameters read as ``params.NAME``."""


class Catalog(Model):
    """Every family loaded, with a digest over their content."""

    families: tuple[Family, ...]
    digest: str
    version: str
    expressions: dict[str, ExpressionRefs] = {}
    """What every check expression refers to, found when the catalog was validated."""
    _by_id: dict[str, Control] | None = PrivateAttr(default=None)

    @property
    def controls(self) -> list[Control]:
        return [c for f in self.families for c in f.controls]

    def control(self, control_id: str) -> Control | None:
        return self._index().get(control_id)

    def find(self, text: str) -> Control | None:
        """A control by id, by id in any case, or by label (``AC-2(1)`` finds ``ac-2.1``)."""
        index = self._index()
        if text in index:
            return index[text]
        folded = text.casefold()
        return next((c for c in self.controls if folded in (c.id.casefold(), (c.label or "").casefold())), None)

    def param_owners(self) -> dict[str, list[Control]]:
        """Each parameter name and the controls that declare it."""
        owners: dict[str, list[Control]] = {}
        for control in self.controls:
            for name in control.params:
                owners.setdefault(name, []).append(control)
        return owners

    def _index(self) -> dict[str, Control]:
        if self._by_id is None:
            self._by_id = {c.id: c for c in self.controls}
        return self._by_id

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


DEFAULT_SEVERITY_WEIGHTS = {"low": 1.0, "medium": 2.0, "high": 3.0, "critical": 5.0, "unrated": 1.0}
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
    """An engagement's tailoring of the catalog.

    Scope: ``families`` and ``include_controls`` select (both absent: everything),
    ``exclude_controls`` removes. A profile that imports others (``imports``) is
    resolved when loaded (:mod:`auditkit.catalog.profiles`): ``selected`` then holds the
    control ids in scope, and parameter values, weights and not-applicable entries of
    the imported profiles are merged in, this profile's own winning.
    """

    id: str
    title: str
    description: str | None = None
    source: str
    imports: tuple[str, ...] = ()
    families: tuple[str, ...] | None = None
    include_controls: tuple[str, ...] | None = None
    exclude_controls: tuple[str, ...] = ()
    selected: tuple[str, ...] | None = None
    params: dict[str, dict[str, Any]] = {}
    set_parameters: dict[str, Any] = {}
    weights: dict[str, float] = {}
    not_applicable: tuple[NotApplicable, ...] = ()
    scoring: Scoring = Scoring()

    def own_selection(self, control: Control) -> bool:
        """Whether this profile's own ``families``/``include_controls``/``exclude_controls`` keep the control."""
        if control.id in self.exclude_controls:
            return False
        if self.families is None and self.include_controls is None:
            return True
        return control.family in (self.families or ()) or control.id in (self.include_controls or ())

    def in_scope(self, control: Control) -> bool:
        """Whether the control is assessed at all (not-applicable ones still are reported)."""
        if self.selected is not None:
            return control.id in self.selected
        return self.own_selection(control)

    def not_applicable_reason(self, control: Control) -> str | None:
        for entry in self.not_applicable:
            if entry.control == control.id or entry.family == control.family:
                return entry.justification
        return None

    def param_values(self, control: Control) -> dict[str, Any]:
        """The control's parameters that have a value: defaults, then ``set_parameters``, then ``params``.

        A parameter with neither default nor assigned value is left out."""
        values = {name: p.default for name, p in control.params.items() if p.default is not None}
        values.update({name: self.set_parameters[name] for name in control.params if name in self.set_parameters})
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
