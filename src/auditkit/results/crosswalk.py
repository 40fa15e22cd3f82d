"""The crosswalk view: results rolled up onto the NIST SP 800-53 controls the catalog's controls reference.

A control's ``references.nist_800_53`` labels (``SA-9(5)``, ``AC-4``) are turned into
OSCAL control ids (``sa-9.5``, ``ac-4``), the ids of the NIST SP 800-53 rev5 OSCAL
catalog and of anything ``auditkit controls import-oscal`` imports from it. Each
800-53 control gets the auditkit controls that map onto it and a rolled-up status:
the worst status among the mapped controls that were assessed (not-satisfied,
insufficient-evidence, partially-satisfied, waived, satisfied, then
not-applicable), or not-assessed when none was. Given an OSCAL catalog, each
reference is resolved in it (title, label) and those it lacks are listed, so a
mistyped or out-of-baseline reference shows. Pure: the catalog is passed in as
``{id: (label, title)}``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .model import Results

LABEL = re.compile(r"^([A-Z]{2})-([0-9]{1,2})(?:\(([0-9]{1,2})\))?$")
WORST_FIRST = ("not-satisfied", "insufficient-evidence", "partially-satisfied", "waived", "satisfied",
               "not-applicable")


def nist_id(label: str) -> str | None:
    """``SA-9(5)`` as the OSCAL id ``sa-9.5`` (None when it is not an 800-53 label)."""
    found = LABEL.match(label.strip())
    if found is None:
        return None
    family, number, enhancement = found.groups()
    return f"{family.lower()}-{int(number)}" + (f".{int(enhancement)}" if enhancement else "")


def rolled_status(statuses: list[str]) -> str:
    assessed = [s for s in statuses if s in WORST_FIRST]
    if not assessed:
        return "not-assessed"
    return min(assessed, key=WORST_FIRST.index)


@dataclass
class Row:
    """One 800-53 control and the auditkit controls mapped onto it."""

    id: str
    label: str
    title: str | None
    status: str
    controls: list[tuple[str, str]] = field(default_factory=list)
    """(auditkit control, its status)"""

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label, "title": self.title, "status": self.status,
                "controls": [{"id": c, "status": s} for c, s in self.controls]}


@dataclass
class Crosswalk:
    rows: list[Row]
    unresolved: list[tuple[str, str]]
    """(auditkit control, reference) that the given catalog does not have"""
    malformed: list[tuple[str, str]]
    catalog: str | None


def build(results: Results, catalog: Mapping[str, tuple[str, str]] | None = None,
          catalog_title: str | None = None) -> Crosswalk:
    """The crosswalk of ``results``; ``catalog`` maps 800-53 ids to (label, title) for resolution."""
    rows: dict[str, Row] = {}
    unresolved: list[tuple[str, str]] = []
    malformed: list[tuple[str, str]] = []
    for control in results.controls:
        for label in control.references.get("nist_800_53", []) or []:
            ident = nist_id(str(label))
            if ident is None:
                malformed.append((control.id, str(label)))
                continue
            if catalog is not None and ident not in catalog:
                unresolved.append((control.id, str(label)))
                continue
            shown, title = catalog[ident] if catalog is not None else (str(label), None)
            row = rows.setdefault(ident, Row(ident, shown, title, "not-assessed"))
            row.controls.append((control.id, control.status))
    for row in rows.values():
        row.status = rolled_status([s for _, s in row.controls])
    ordered = sorted(rows.values(), key=lambda r: _sort_key(r.id))
    return Crosswalk(ordered, unresolved, malformed, catalog_title)


def _sort_key(ident: str) -> tuple[str, int, int]:
    family, _, rest = ident.partition("-")
    number, _, enhancement = rest.partition(".")
    return family, int(number or 0), int(enhancement or 0)


def markdown(view: Crosswalk) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    source = f" (resolved in {cell(view.catalog)})" if view.catalog else ""
    out = [f"# NIST SP 800-53 rev5 crosswalk{source}", "",
           "| 800-53 | title | rolled-up status | auditkit controls |", "|---|---|---|---|"]
    for row in view.rows:
        mapped = ", ".join(f"{cell(c)} ({s})" for c, s in row.controls)
        out.append(f"| {cell(row.label)} | {cell(row.title or '')} | {row.status} | {mapped} |")
    if view.unresolved:
        out += ["", "References the catalog does not have: "
                + ", ".join(f"{cell(ref)} ({cell(c)})" for c, ref in view.unresolved)]
    if view.malformed:
        out += ["", "References that are not 800-53 labels: "
                + ", ".join(f"{cell(ref)} ({cell(c)})" for c, ref in view.malformed)]
    return "\n".join(out) + "\n"


def as_json(view: Crosswalk) -> dict[str, Any]:
    return {"catalog": view.catalog, "controls": [r.as_dict() for r in view.rows],
            "unresolved": [{"control": c, "reference": r} for c, r in view.unresolved],
            "malformed": [{"control": c, "reference": r} for c, r in view.malformed]}
