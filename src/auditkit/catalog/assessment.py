"""The auditor's assessment file: engagement, procedure results, waivers, overrides.

Loaded like every other YAML input (safe YAML, ``assessment`` schema, frozen
models) and checked against the catalog: every control and procedure it names
must exist.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Literal

from .. import schemas, yamlio
from ..errors import ProblemList
from .loader import digest, display_path
from .models import Catalog, Model

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
    status: Literal["satisfied", "partially-satisfied", "not-satisfied", "insufficient-evidence", "not-applicable"]
    reason: str
    by: str | None = None


class Assessment(Model):
    """A loaded assessment file (or a minimal one made from command-line options)."""

    engagement: Engagement
    procedures: tuple[ProcedureEntry, ...] = ()
    waivers: tuple[Waiver, ...] = ()
    overrides: tuple[Override, ...] = ()
    source: str | None = None
    digest: str | None = None


def load_assessment(path: Path, catalog: Catalog) -> Assessment:
    """Load ``path``, validate it and check it names only controls and procedures that exist."""
    located = yamlio.load(path, display=display_path(path))
    schemas.check(located, "assessment")
    data = located.data
    assessment = Assessment.model_validate({**data, "source": located.source, "digest": digest([data], [located])})
    problems: list[str] = []

    def say(ptr: str, message: str) -> None:
        problems.append(f"{located.where(ptr)} {ptr}: {message}")

    for section in ("procedures", "waivers", "overrides"):
        for index, entry in enumerate(getattr(assessment, section)):
            control = catalog.control(entry.control)
            if control is None:
                say(f"/{section}/{index}/control", f"unknown control {entry.control!r}")
            elif section == "procedures" and entry.procedure not in {p.id for p in control.procedures}:
                say(f"/{section}/{index}/procedure", f"{entry.control} has no procedure {entry.procedure!r}")
    seen: set[str] = set()
    for index, override in enumerate(assessment.overrides):
        if override.control in seen:
            say(f"/overrides/{index}/control", f"second override for {override.control}")
        seen.add(override.control)
    period = assessment.engagement.period
    if period is not None and period.end < period.start:
        say("/engagement/period", "period ends before it starts")
    if problems:
        raise ProblemList(problems)
    return assessment
