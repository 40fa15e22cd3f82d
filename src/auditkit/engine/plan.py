"""Planning an assessment: which evidence each control lacks and which checks to evaluate.

Pure: from the catalog models and the evidence set to :class:`ControlPlan` objects,
before any expression runs.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..catalog.models import Control, ExpressionRefs, Profile
from ..results import model as rm
from .cel import compile_expr
from .evaluate import CheckOutcome, CheckTask
from .inputs import EvidenceSet


@dataclass(frozen=True)
class ControlPlan:
    """What is known about a control before evaluation, and what to evaluate."""

    control: Control
    not_applicable: str | None
    params: dict[str, Any]
    evidence: list[rm.EvidenceUse]
    insufficient: bool
    tasks: list[CheckTask | None]
    preset: list[CheckOutcome | None]
    kinds: list[list[str]]


def evidence_uses(control: Control, evidence: EvidenceSet, period: tuple[_dt.date, _dt.date],
                  as_of: _dt.date) -> tuple[list[rm.EvidenceUse], bool]:
    """Per required kind: the items supplied and their problems; and whether evidence is insufficient."""
    from ..evidence.sufficiency import evidence_problems

    uses = []
    insufficient = False
    for req in control.evidence:
        docs = evidence.of_kind(req.kind)
        problems = [d.problem if d.problem and d.problem.startswith(d.path) else f"{d.path}: {d.problem or d.integrity}"
                    for d in docs if not d.ok]
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


def check_tasks(control: Control, params: dict[str, Any], evidence: EvidenceSet,
                refs: Mapping[str, ExpressionRefs] | None = None
                ) -> tuple[list[CheckTask | None], list[CheckOutcome | None], list[list[str]]]:
    """A task per check, or a preset ``not-run`` outcome when its evidence is unusable.

    ``refs`` gives what expressions refer to where the catalog knows it already
    (:attr:`Catalog.expressions`); other expressions are compiled to find out."""
    refs = refs or {}
    tasks: list[CheckTask | None] = []
    preset: list[CheckOutcome | None] = []
    kinds_used: list[list[str]] = []
    by_variable = {req.variable: req.kind for req in control.evidence}
    for check in control.checks:
        variables: set[str] = set()
        used: set[str] = set()
        for source in check.expressions.values():
            known = refs.get(source)
            if known is None:
                compiled = compile_expr(source)
                variables |= compiled.free_variables
                used |= compiled.params
            else:
                variables.update(known.variables)
                used.update(known.params)
        kinds = sorted(by_variable[v] for v in variables if v in by_variable)
        kinds_used.append(kinds)
        unset = sorted(used - set(params))
        if unset:
            tasks.append(None)
            preset.append(CheckOutcome("error", f"parameter {', '.join(unset)} has no value: assign it in the "
                                                "profile (params or set_parameters)"))
            continue
        missing = [k for k in kinds if not evidence.has_sound(k)]
        if missing:
            tasks.append(None)
            preset.append(CheckOutcome("not-run", f"no usable evidence of kind {', '.join(missing)}"))
            continue
        tasks.append(CheckTask(
            check_id=check.id, control_id=control.id, kinds=tuple(kinds), params=params,
            combined=check.combined, each=check.each, rule=check.rule,
            offenders=check.offenders,
        ))
        preset.append(None)
    return tasks, preset, kinds_used


def plan_control(control: Control, profile: Profile, evidence: EvidenceSet,
                 period: tuple[_dt.date, _dt.date], as_of: _dt.date,
                 refs: Mapping[str, ExpressionRefs] | None = None) -> ControlPlan:
    na = profile.not_applicable_reason(control)
    params = profile.param_values(control)
    uses, insufficient = evidence_uses(control, evidence, period, as_of)
    if na is None:
        tasks, preset, kinds = check_tasks(control, params, evidence, refs)
    else:
        count = len(control.checks)
        tasks = [None] * count
        preset = [CheckOutcome("not-run", "control not applicable") for _ in range(count)]
        kinds = [[] for _ in range(count)]
    return ControlPlan(control, na, params, uses, insufficient, tasks, preset, kinds)
