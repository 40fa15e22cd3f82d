"""The auditor's side of an engagement: a scaffolded assessment file, and warnings about a filled-in one.

:func:`scaffold_assessment` writes ``assessment.yaml`` text listing every procedure
of every control the profile puts in scope, each with its method and question as a
comment and ``result: not-performed`` for the auditor to change, plus commented
examples of waivers and overrides. :func:`assessment_warnings` says what an
assessment file will not do as its author may expect: results for controls outside
the profile (ignored), expired waivers (ignored), procedures left without a result
(not performed), an auditee other than the bundle's organization.
"""

from __future__ import annotations

import datetime as _dt
import json
from typing import Any

from ..resources import schema_dir
from .assessment import Assessment
from .models import Catalog, Control, Profile


def in_scope(catalog: Catalog, profile: Profile | None) -> list[Control]:
    """The controls ``profile`` assesses (every control without a profile), not-applicable ones left out."""
    chosen = []
    for control in catalog.controls:
        if profile is not None and (not profile.in_scope(control) or profile.not_applicable_reason(control)):
            continue
        chosen.append(control)
    return chosen


def _q(value: str) -> str:
    """A YAML scalar that reads back as ``value`` (JSON strings are valid YAML)."""
    return json.dumps(value, ensure_ascii=False)


def _comment(text: str, indent: str) -> list[str]:
    words, lines, line = " ".join(text.split()).split(" "), [], ""
    for word in words:
        if line and len(line) + len(word) > 88:
            lines.append(f"{indent}# {line}")
            line = word
        else:
            line = f"{line} {word}".strip()
    if line:
        lines.append(f"{indent}# {line}")
    return lines


def scaffold_assessment(
    catalog: Catalog,
    profile: Profile,
    *,
    auditee: str,
    auditor: str,
    auditor_organization: str | None,
    as_of: _dt.date,
    period: tuple[str, str] | None,
    engagement_id: str | None = None,
) -> str:
    """``assessment.yaml`` text for ``profile``: every procedure in scope, to be filled in."""
    hint = (schema_dir() / "assessment.schema.json").as_uri()
    out = [
        f"# yaml-language-server: $schema={hint}",
        f"# Assessment file scaffolded by `auditkit assessment init` for profile {profile.id!r}.",
        "# For each procedure: perform it, then set result (affirmed | not-affirmed | not-performed),",
        "# by, date and a note saying what you saw. Procedures left not-performed earn no credit.",
        "engagement:",
    ]
    if engagement_id:
        out.append(f"  id: {_q(engagement_id)}")
    out.append(f"  auditee: {_q(auditee)}")
    org = f", organization: {_q(auditor_organization)}" if auditor_organization else ""
    out.append(f"  auditor: {{name: {_q(auditor)}{org}}}")
    out.append(f"  as_of: {as_of.isoformat()}   # freshness and waivers are judged on this date")
    out.append(f"  profile: {_q(profile.id)}")
    if period:
        out.append(f"  period: {{start: {period[0]}, end: {period[1]}}}")
    out.append("  # scope: what the engagement covers, in one sentence")
    entries: list[str] = []
    for control in in_scope(catalog, profile):
        for procedure in control.procedures:
            entries.append(f"  # {control.id} {control.title}")
            entries.extend(_comment(f"{procedure.method}: {procedure.prompt}", "  "))
            entries.append(f"  - control: {control.id}")
            entries.append(f"    procedure: {procedure.id}")
            entries.append("    result: not-performed")
            entries.append(f"    by: {_q(auditor)}")
            entries.append(f"    date: {as_of.isoformat()}")
            entries.append('    note: ""')
    out.append("procedures:" + ("" if entries else " []"))
    out.extend(entries)
    out += [
        "# A waiver reports a failing control as waived while it is live (expires is inclusive):",
        "#  - {control: AR-5, justification: SIEM migration in flight, approved_by: Chief Compliance Officer,",
        "#     expires: 2026-12-31}",
        "waivers: []",
        "# An override replaces a computed status, with the reason shown in the report:",
        "#  - {control: TP-4, status: satisfied, reason: Approval letter seen in original; scan was illegible.}",
        "overrides: []",
        "",
    ]
    return "\n".join(out)


def assessment_warnings(catalog: Catalog, profile: Profile, assessment: Assessment, organization: str,
                        *, filled: bool, as_of: _dt.date | None = None) -> list[str]:
    """What the assessment file will not do as its author may expect, one line each.

    ``filled``: the assessment came from a file (not made up because there was none).
    """
    source = assessment.source or "assessment"
    scope = {c.id: c for c in in_scope(catalog, profile)}
    warnings: list[str] = []
    if filled:
        for index, entry in enumerate(assessment.procedures):
            if entry.control not in scope:
                warnings.append(f"{source} /procedures/{index}: {entry.control} is not assessed by profile "
                                f"{profile.id!r}; the result of {entry.procedure} is ignored")
    as_of = as_of or assessment.engagement.as_of
    for index, waiver in enumerate(assessment.waivers):
        if not waiver.live_on(as_of):
            warnings.append(f"{source} /waivers/{index}: the waiver of {waiver.control} expired on "
                            f"{waiver.expires.isoformat()}, before the as-of date {as_of.isoformat()}; it is ignored")
    if filled:
        recorded = {(e.control, e.procedure) for e in assessment.procedures}
        missing = [p.id for c in scope.values() for p in c.procedures if (c.id, p.id) not in recorded]
        if missing:
            shown = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
            warnings.append(f"{source}: {len(missing)} procedure{'s' if len(missing) != 1 else ''} of the profile "
                            f"{'have' if len(missing) != 1 else 'has'} no result and count as not performed: {shown} "
                            "(`auditkit assessment init` lists them all)")
        auditee = assessment.engagement.auditee
        if " ".join(auditee.split()).casefold() != " ".join(organization.split()).casefold():
            warnings.append(f"{source} /engagement/auditee: {auditee!r} is not the bundle's organization "
                            f"{organization!r}: is this the right assessment file for this bundle?")
    return warnings


def bundle_facts(bundle: Any) -> dict[str, Any]:
    """Auditee, period and a default as-of date from an opened bundle's manifest."""
    info = bundle.manifest.bundle
    return {
        "auditee": info.organization,
        "period": (info.period.start.isoformat(), info.period.end.isoformat()),
        "as_of": info.created.date(),
    }
