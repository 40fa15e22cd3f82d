"""Checks beyond the JSON Schema: ids, parameters, evidence kinds, CEL, profile references.

Each function returns problem lines (``file:line:col /pointer: message``); nothing
raises here, so a run reports every problem at once.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Sequence
from typing import Any

from ..canonjson import integer_problem
from ..engine.cel import CelCompileError, compile_expr
from ..yamlio import Located
from .models import Catalog, Control, Family, Param, Profile
from .text import INSERT

CONTEXT_VARIABLES = frozenset({"params", "as_of", "period"})
RECORD_VARIABLE = "r"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def type_problem(type_name: str, value: Any, param: Param | None = None) -> str | None:
    """Why ``value`` is not a valid ``type_name`` (or within the param's bounds), else None."""

    def scalar(kind: str, item: Any) -> bool:
        if kind == "string":
            return isinstance(item, str)
        if kind == "integer":
            return isinstance(item, int) and not isinstance(item, bool)
        if kind == "number":
            return isinstance(item, int | float) and not isinstance(item, bool)
        if kind == "boolean":
            return isinstance(item, bool)
        if kind == "date":
            if not (isinstance(item, str) and _DATE.match(item)):
                return False
            try:
                _dt.date.fromisoformat(item)
            except ValueError:
                return False
            return True
        return False

    if type_name.startswith("list["):
        inner = type_name[5:-1]
        if not isinstance(value, list):
            return f"{value!r} is not a list"
        bad = [v for v in value if not scalar(inner, v)]
        if bad:
            return f"{bad[0]!r} is not of type {inner}"
        items = value
    else:
        if not scalar(type_name, value):
            return f"{value!r} is not of type {type_name}"
        items = [value]
    if param is not None and param.select is not None:
        choices = param.select.choice
        if param.select.how_many == "one" and isinstance(value, list):
            return f"{value!r} is a list but the parameter takes one choice"
        free = any("{{" in choice for choice in choices)  # a choice that inserts another value: any text goes
        bad = [item for item in items if not free and item not in choices]
        if bad:
            return f"{bad[0]!r} is not one of the choices {list(choices)}"
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool):
            unsafe = integer_problem(item)
            if unsafe:
                return unsafe
    if param is not None:
        for item in items:
            if isinstance(item, int | float) and not isinstance(item, bool):
                if param.minimum is not None and item < param.minimum:
                    return f"{item!r} is below the minimum {param.minimum:g}"
                if param.maximum is not None and item > param.maximum:
                    return f"{item!r} is above the maximum {param.maximum:g}"
    return None


def _control_problems(control: Control, base: str, located: Located) -> list[str]:
    out: list[str] = []

    def say(ptr: str, message: str) -> None:
        out.append(f"{located.where(ptr)} {ptr}: {message}")

    if not control.checks and not control.procedures:
        say(f"{base}/id", f"{control.id} has neither checks nor procedures, so it could never be assessed; "
                          "add a procedure (method and question) or a check")
    for name, param in control.params.items():
        if param.default is not None:
            why = type_problem(param.type, param.default, param)
            if why:
                say(f"{base}/params/{name}/default", f"default {why}")
        for i, other in enumerate(param.aggregates):
            if other not in control.params:
                say(f"{base}/params/{name}/aggregates/{i}", f"{control.id} has no parameter {other!r}")
    for field in ("statement", "objectives"):
        for index, part in enumerate(getattr(control, field)):
            for inserted in sorted({m for p in part.walk() for m in INSERT.findall(p.prose or "")}):
                if inserted not in control.params:
                    say(f"{base}/{field}/{index}",
                        f"inserts parameter {inserted!r}, which {control.id} does not declare")
    objectives = control.objective_ids()
    kinds: dict[str, int] = {}
    for index, requirement in enumerate(control.evidence):
        if requirement.kind in kinds:
            say(f"{base}/evidence/{index}/kind", f"evidence kind {requirement.kind!r} declared twice")
        kinds[requirement.kind] = index
    variables = {req.variable for req in control.evidence}
    for ci, check in enumerate(control.checks):
        if not check.id.startswith((control.id + ".", control.id + "_")):
            say(f"{base}/checks/{ci}/id", f"check id {check.id!r} does not belong to {control.id}")
        if check.where is not None and check.each is None:
            say(f"{base}/checks/{ci}/where", "'where' needs 'each'")
        for field, source in check.expressions.items():
            ptr = f"{base}/checks/{ci}/{field}"
            try:
                compiled = compile_expr(source)
            except CelCompileError as exc:
                say(ptr, str(exc))
                continue
            allowed = CONTEXT_VARIABLES | variables
            if field in ("where", "assert"):
                allowed = allowed | {RECORD_VARIABLE}
            for name in sorted(compiled.free_variables - allowed):
                if name == RECORD_VARIABLE:
                    say(ptr, "'r' is only defined in 'where' and 'assert' of an 'each' check")
                else:
                    say(ptr, f"{name!r} is not an evidence kind declared by {control.id} "
                             f"(declared: {', '.join(sorted(variables))}) nor a known variable")
            for name in sorted(compiled.params - set(control.params)):
                say(ptr, f"parameter {name!r} is not declared by {control.id}")
    for pi, procedure in enumerate(control.procedures):
        if not procedure.id.startswith((control.id + ".p", control.id + "_")):
            say(f"{base}/procedures/{pi}/id", f"procedure id {procedure.id!r} does not belong to {control.id}")
        for oi, objective in enumerate(procedure.objectives):
            if objective not in objectives:
                say(f"{base}/procedures/{pi}/objectives/{oi}",
                    f"{control.id} has no assessment objective {objective!r}")
    return out


def catalog_problems(loaded: Sequence[tuple[Located, Family, list[int]]]) -> list[str]:
    """Problems across the whole catalog: duplicates and every control's own problems.

    ``loaded`` holds each family with the file index of each of its controls."""
    out: list[str] = []
    families: dict[str, str] = {}
    seen: dict[str, str] = {}
    for located, family, indexes in loaded:
        if family.id in families:
            out.append(f"{located.where('/family/id')} /family/id: family {family.id!r} "
                       f"is also defined in {families[family.id]}")
        families[family.id] = located.source
        for index, control in zip(indexes, family.controls, strict=True):
            base = f"/controls/{index}"
            if family.framework is None and not control.id.startswith(family.id + "-"):
                out.append(f"{located.where(base + '/id')} {base}/id: control {control.id!r} "
                           f"is not in family {family.id}")
            ids = [(control.id, f"{base}/id")]
            ids += [(c.id, f"{base}/checks/{i}/id") for i, c in enumerate(control.checks)]
            ids += [(p.id, f"{base}/procedures/{i}/id") for i, p in enumerate(control.procedures)]
            for ident, ptr in ids:
                where = located.where(ptr)
                if ident in seen:
                    out.append(f"{where} {ptr}: duplicate id {ident!r} (first at {seen[ident]})")
                else:
                    seen[ident] = where
            out.extend(_control_problems(control, base, located))
    for located, family, indexes in loaded:
        for index, control in zip(indexes, family.controls, strict=True):
            if control.parent is not None and control.parent not in seen:
                ptr = f"/controls/{index}/parent"
                out.append(f"{located.where(ptr)} {ptr}: parent control {control.parent!r} is not in the catalog")
    return out


def profile_problems(profile: Profile, located: Located, catalog: Catalog) -> list[str]:
    """Problems of a profile's references against the catalog."""
    out: list[str] = []
    family_ids = {f.id for f in catalog.families}

    def say(ptr: str, message: str) -> None:
        out.append(f"{located.where(ptr)} {ptr}: {message}")

    def known_control(control_id: str, ptr: str) -> Control | None:
        control = catalog.control(control_id)
        if control is None:
            say(ptr, f"unknown control {control_id!r}")
        return control

    for i, family in enumerate(profile.families or ()):
        if family not in family_ids:
            say(f"/families/{i}", f"unknown family {family!r}")
    for i, control_id in enumerate(profile.include_controls or ()):
        known_control(control_id, f"/include_controls/{i}")
    for i, control_id in enumerate(profile.exclude_controls):
        known_control(control_id, f"/exclude_controls/{i}")
    owners = catalog.param_owners() if profile.set_parameters else {}
    for name, value in profile.set_parameters.items():
        ptr = f"/set_parameters/{name}"
        found = owners.get(name, [])
        if not found:
            say(ptr, f"no control of the catalog has a parameter {name!r}")
        elif len(found) > 1:
            say(ptr, f"parameter {name!r} is declared by {len(found)} controls ({', '.join(c.id for c in found[:5])}); "
                     f"set it per control under params")
        else:
            why = type_problem(found[0].params[name].type, value, found[0].params[name])
            if why:
                say(ptr, why)
    for control_id, values in profile.params.items():
        control = known_control(control_id, f"/params/{control_id}")
        if control is None:
            continue
        for name, value in values.items():
            ptr = f"/params/{control_id}/{name}"
            param = control.params.get(name)
            if param is None:
                say(ptr, f"{control_id} has no parameter {name!r}")
                continue
            why = type_problem(param.type, value, param)
            if why:
                say(ptr, why)
    for control_id in profile.weights:
        known_control(control_id, f"/weights/{control_id}")
    for i, entry in enumerate(profile.not_applicable):
        if entry.control is not None:
            known_control(entry.control, f"/not_applicable/{i}/control")
        if entry.family is not None and entry.family not in family_ids:
            say(f"/not_applicable/{i}/family", f"unknown family {entry.family!r}")
    scoring = profile.scoring
    for i, control_id in enumerate(scoring.unwaivable):
        known_control(control_id, f"/scoring/unwaivable/{i}")
    names = [r.name for r in scoring.ratings]
    scores = [r.min_score for r in scoring.ratings]
    if scores != sorted(scores, reverse=True) or len(set(names)) != len(names):
        say("/scoring/ratings", "ratings must have distinct names, best first (min_score descending)")
    elif scores and scores[-1] != 0:
        say("/scoring/ratings", "the last rating must have min_score 0 so every score gets a rating")
    if scoring.critical_failure_cap is not None and scoring.critical_failure_cap not in names:
        say("/scoring/critical_failure_cap", f"{scoring.critical_failure_cap!r} is not one of the ratings {names}")
    return out
