"""The auditor's assessment file: engagement, procedure results, waivers, overrides.

Loaded like every other YAML input (safe YAML, ``assessment`` schema, frozen
models) and checked against the catalog: every control and procedure it names
must exist.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from .. import schemas, yamlio
from ..errors import ProblemList
from .loader import digest, display_path
from .models import Catalog, Control, Model

UNRECORDED_AUDITOR = "(not recorded)"
"""The auditor's name when a bundle is assessed without an assessment file."""


class Auditor(Model):
    name: str
    organization: str | None = None
    email: str | None = None


class DateRange(Model):
    start: _dt.date
    end: _dt.date


class Engagement(Model):
    id: str | None = None
    auditee: str
    auditor: Auditor
    as_of: _dt.date
    profile: str | None = None
    period: DateRange | None = None
    scope: str | None = None


class ProcedureEntry(Model):
    control: str
    procedure: str
    result: Literal["affirmed", "not-affirmed", "not-performed"]
    by: str
    date: _dt.date | None = None
    note: str | None = None
    objectives: tuple[str, ...] = ()
    """Assessment objectives this result covers; empty: every objective of the procedure."""


class Implementation(Model):
    """How the auditee implements a control; reported beside the status, never changing it."""

    control: str
    status: Literal["implemented", "partial", "planned", "alternative"] | None = None
    origination: Literal["organization", "system", "inherited", "shared", "hybrid"] | None = None
    provided_by: str | None = None
    note: str | None = None


class Waiver(Model):
    control: str
    justification: str
    approved_by: str
    expires: _dt.date

    def live_on(self, day: _dt.date) -> bool:
        """A waiver is live through its expiry date, inclusive."""
        return day <= self.expires


class Override(Model):
    control: str
    status: Literal["satisfied", "partially-satisfied", "not-satisfied", "insufficient-evidence", "not-applicable",
                    "not-assessed"]
    reason: str
    by: str | None = None


class Assessment(Model):
    """A loaded assessment file (or a minimal one made from command-line options)."""

    engagement: Engagement
    procedures: tuple[ProcedureEntry, ...] = ()
    waivers: tuple[Waiver, ...] = ()
    overrides: tuple[Override, ...] = ()
    implementation: tuple[Implementation, ...] = ()
    source: str | None = None
    digest: str | None = None


def _procedure_problems(entry: ProcedureEntry, control: Control, base: str, say: Callable[[str, str], None]) -> None:
    procedure = next((p for p in control.procedures if p.id == entry.procedure), None)
    if procedure is None:
        say(f"{base}/procedure", f"{entry.control} has no procedure {entry.procedure!r}")
        return
    known = control.objective_ids()
    for i, objective in enumerate(entry.objectives):
        if objective not in known:
            say(f"{base}/objectives/{i}", f"{entry.control} has no assessment objective {objective!r}")


def load_assessment(path: Path, catalog: Catalog) -> Assessment:
    """Load ``path``, validate it and check it names only controls and procedures that exist."""
    located = yamlio.load(path, display=display_path(path))
    schemas.check(located, "assessment")
    data = located.data
    assessment: Assessment = schemas.build(
        Assessment, {**data, "source": located.source, "digest": digest([data], [located])}, located)
    problems: list[str] = []

    def say(ptr: str, message: str) -> None:
        problems.append(f"{located.where(ptr)} {ptr}: {message}")

    for section in ("procedures", "waivers", "overrides", "implementation"):
        for index, entry in enumerate(getattr(assessment, section)):
            control = catalog.control(entry.control)
            if control is None:
                say(f"/{section}/{index}/control", f"unknown control {entry.control!r}")
            elif isinstance(entry, ProcedureEntry):
                _procedure_problems(entry, control, f"/{section}/{index}", say)
    for section in ("overrides", "implementation"):
        seen: set[str] = set()
        for index, entry in enumerate(getattr(assessment, section)):
            if entry.control in seen:
                say(f"/{section}/{index}/control", f"second {section} entry for {entry.control}")
            seen.add(entry.control)
    period = assessment.engagement.period
    if period is not None and period.end < period.start:
        say("/engagement/period", "period ends before it starts")
    if problems:
        raise ProblemList(problems)
    return assessment
