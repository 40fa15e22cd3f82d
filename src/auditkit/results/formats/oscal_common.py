"""What the OSCAL formats share: tokens, times, deterministic UUIDs, parties and roles, observations, risks.

Used by :mod:`.oscal` (assessment results), :mod:`.oscal_ap` (assessment plan) and
:mod:`.oscal_poam` (plan of action and milestones). Deterministic: UUIDs are uuid5
values derived from the bundle root hash and the ids they name; times come from
the assessment (``as_of``, period) and the evidence (``collected_at``).

Parties: the auditor (role ``assessor``, and ``prepared-by`` with the auditor's
organization when given), the auditee organization (``prepared-for``) and the
bundle's submitter (``submitter``). Components: the system assessed (type
``this-system``, the subject of every observation) and auditkit itself (type
``software``, the assessment platform and the actor of every machine check).
"""

from __future__ import annotations

import datetime as _dt
import re
import uuid
from typing import Any
from urllib.parse import quote

from ..model import CheckResult, ControlResult, EvidenceItem, Results
from .junit import FAILING, failure_lines

OSCAL_VERSION = "1.1.2"
NS = "https://auditkit.example/ns/oscal"
METHODS = {"examine": "EXAMINE", "interview": "INTERVIEW", "test": "TEST"}
_TOKEN = re.compile(r"[_A-Za-z][_A-Za-z0-9.\-]*")
_NOT_TOKEN = re.compile(r"[^_A-Za-z0-9.\-]")
_BASE = uuid.UUID("7c2d0b1e-5a3f-5e4b-9c8d-6f1a2b3c4d5e")
OPEN = (*FAILING, "waived")


def instant(value: str | None, fallback: str, *, end_of_day: bool = False) -> str:
    """An RFC 3339 date-time with a zone: naive times read as UTC, bare dates as midnight."""
    for candidate in (value, fallback):
        if not candidate:
            continue
        try:
            moment = _dt.datetime.fromisoformat(candidate)
        except ValueError:
            continue
        if end_of_day and len(candidate) == 10:
            moment = moment.replace(hour=23, minute=59, second=59)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=_dt.UTC)
        return moment.isoformat().replace("+00:00", "Z")
    return "1970-01-01T00:00:00Z"


def line(text: str, fallback: str = "untitled") -> str:
    """A one-line OSCAL title (no line breaks, never empty)."""
    return " ".join(text.split()) or fallback


def token(text: str) -> str:
    """An OSCAL token (e.g. a control id): invalid characters become ``_``."""
    if _TOKEN.fullmatch(text):
        return text
    cleaned = _NOT_TOKEN.sub("_", text)
    return cleaned if _TOKEN.fullmatch(cleaned) else "_" + cleaned


def prop(name: str, value: object) -> dict[str, str]:
    return {"name": name, "ns": NS, "value": line(str(value), "none")}


def drop_empty(data: dict[str, Any]) -> dict[str, Any]:
    """OSCAL arrays must not be empty: leave such keys out."""
    return {k: v for k, v in data.items() if v != [] and v is not None}


def require_controls(results: Results, what: str) -> None:
    """OSCAL documents need at least one reviewed control."""
    if not results.controls:
        from ...errors import InvalidInputError

        raise InvalidInputError(f"results hold no controls; {what} needs at least one reviewed control",
                                hint="assess at least one control")


def root_objective(control: ControlResult) -> str:
    """The objective a control's finding targets: its first top-level assessment objective, else its id."""
    return next((t.id for t in control.objectives if t.level == 0 and t.id), token(control.id))


class Builder:
    """Shared pieces of the three documents for one results file."""

    def __init__(self, results: Results):
        self.results = results
        self.namespace = uuid.uuid5(_BASE, f"bundle:{results.bundle.root_hash}")
        self.items = {item.path: item for item in results.bundle.items}
        self.as_of = instant(results.assessment.as_of, "1970-01-01")

    def uuid(self, *parts: str) -> str:
        return str(uuid.uuid5(self.namespace, "\x1f".join(parts)))

    def document_uuid(self, kind: str) -> str:
        """The UUID of a whole document: one per kind, assessment, catalog, profile and assessment file."""
        r = self.results
        return self.uuid(kind, r.assessment.as_of, r.catalog.digest, r.profile.digest,
                         r.assessment.assessment_digest or "")

    # ── parties, roles, components ─────────────────────────────────────────────
    @property
    def auditor_uuid(self) -> str:
        return self.uuid("party", "auditor", self.results.assessment.auditor.name)

    @property
    def tool_uuid(self) -> str:
        return self.uuid("component", "auditkit")

    @property
    def system_uuid(self) -> str:
        return self.uuid("component", "system", self.results.assessment.auditee)

    def metadata(self, title: str, extra_props: list[dict[str, str]] | None = None) -> dict[str, Any]:
        r = self.results
        a = r.assessment
        auditee = self.uuid("party", "auditee", a.auditee)
        parties: list[dict[str, Any]] = [drop_empty({
            "uuid": self.auditor_uuid, "type": "person", "name": line(a.auditor.name),
            "email-addresses": [a.auditor.email] if a.auditor.email else [],
            "member-of-organizations": [self.uuid("party", "auditor-org", a.auditor.organization)]
            if a.auditor.organization else [],
        })]
        responsible = [{"role-id": "assessor", "party-uuids": [self.auditor_uuid]}]
        if a.auditor.organization:
            org = self.uuid("party", "auditor-org", a.auditor.organization)
            parties.append({"uuid": org, "type": "organization", "name": line(a.auditor.organization)})
            responsible.append({"role-id": "prepared-by", "party-uuids": [org]})
        else:
            responsible.append({"role-id": "prepared-by", "party-uuids": [self.auditor_uuid]})
        parties.append({"uuid": auditee, "type": "organization", "name": line(a.auditee)})
        responsible.append({"role-id": "prepared-for", "party-uuids": [auditee]})
        roles = [{"id": "assessor", "title": "Assessor"}, {"id": "prepared-by", "title": "Prepared by"},
                 {"id": "prepared-for", "title": "Prepared for (the auditee)"}]
        submitter = r.bundle.submitted_by
        if submitter is not None:
            sub = self.uuid("party", "submitter", submitter.name)
            parties.append(drop_empty({"uuid": sub, "type": "person", "name": line(submitter.name),
                                       "email-addresses": [submitter.email] if submitter.email else []}))
            roles.append({"id": "submitter", "title": "Evidence submitter (auditee)"})
            responsible.append({"role-id": "submitter", "party-uuids": [sub]})
        props = [prop("bundle-id", r.bundle.id), prop("bundle-root-hash", r.bundle.root_hash),
                 prop("catalog-digest", r.catalog.digest), prop("catalog-version", r.catalog.version),
                 prop("profile", r.profile.id), prop("profile-digest", r.profile.digest),
                 prop("tool-version", r.tool.version)]
        frameworks = {f.framework.title: f.framework for f in r.catalog.families if f.framework}
        props += [prop("framework", title) for title in sorted(frameworks)]
        return {
            "title": line(title),
            "last-modified": self.as_of,
            "version": line(f"{a.as_of} auditkit {r.tool.version}"),
            "oscal-version": OSCAL_VERSION,
            "props": props + (extra_props or []),
            "roles": roles,
            "parties": parties,
            "responsible-parties": responsible,
        }

    def components(self) -> list[dict[str, Any]]:
        """The system assessed and the tool, for ``local-definitions``."""
        a = self.results.assessment
        return [
            {"uuid": self.system_uuid, "type": "this-system", "title": line(a.scope or a.auditee),
             "description": f"The system of {a.auditee} as described by evidence bundle {self.results.bundle.id} "
                            f"(root hash {self.results.bundle.root_hash}).",
             "status": {"state": "operational"}},
            {"uuid": self.tool_uuid, "type": "software", "title": "auditkit",
             "description": f"auditkit {self.results.tool.version}: evaluates the catalog's machine checks over "
                            "the evidence bundle and scores the controls.",
             "props": [prop("version", self.results.tool.version)], "status": {"state": "operational"}},
        ]

    def assets(self) -> dict[str, Any]:
        return {"assessment-platforms": [{
            "uuid": self.uuid("platform", "auditkit"), "title": "auditkit",
            "uses-components": [{"component-uuid": self.tool_uuid}]}]}

    def subjects(self) -> list[dict[str, Any]]:
        return [{"subject-uuid": self.system_uuid, "type": "component", "title": line(self.results.assessment.auditee)}]

    def tool_origin(self) -> list[dict[str, Any]]:
        return [{"actors": [{"type": "tool", "actor-uuid": self.tool_uuid}]}]

    def auditor_origin(self) -> list[dict[str, Any]]:
        return [{"actors": [{"type": "party", "actor-uuid": self.auditor_uuid, "role-id": "assessor"}]}]

    # ── evidence and observations ──────────────────────────────────────────────
    def evidence(self, paths: list[str]) -> list[dict[str, Any]]:
        out = []
        for path in sorted(set(paths)):
            item = self.items.get(path)
            described = self._describe(item) if item else f"{path}: not in the bundle manifest"
            out.append({"href": "bundle://" + quote(path, safe="/"), "description": described})
        return out

    @staticmethod
    def _describe(item: EvidenceItem) -> str:
        text = (f"{item.path} ({item.kind}), sha256 {item.sha256}, {item.size} bytes, "
                f"collected {item.collected_at}, integrity {item.integrity}")
        return text + (f": {item.problem}" if item.problem else "")

    def collected(self, paths: list[str]) -> str:
        moments = [instant(self.items[p].collected_at, self.results.assessment.as_of)
                   for p in paths if p in self.items]
        if not moments:
            return self.as_of
        return max(moments, key=lambda m: _dt.datetime.fromisoformat(m))

    @staticmethod
    def check_paths(control: ControlResult, check: CheckResult) -> list[str]:
        kinds = set(check.evidence_kinds)
        return [p for use in control.evidence if use.kind in kinds for p in use.items]

    def observations(self, control: ControlResult) -> list[dict[str, Any]]:
        """One per check (the tool), per performed procedure (the auditor) and per evidence kind with problems."""
        out = []
        for check in control.checks:
            paths = self.check_paths(control, check)
            description = f"Check {check.id} ({check.title}): {check.outcome}"
            if check.reason:
                description += f": {check.reason}"
            if check.records_judged is not None:
                description += f". Records judged: {check.records_judged}"
            if check.offender_count:
                description += f"; offending records: {check.offender_count}"
            description += f". Expression: {check.expression}"
            out.append(drop_empty({
                "uuid": self.uuid("observation", control.id, check.id),
                "title": line(f"{check.id} {check.title}"),
                "description": description,
                "props": [prop("outcome", check.outcome)],
                "methods": ["TEST"],
                "types": ["control-objective"],
                "origins": self.tool_origin(),
                "subjects": self.subjects(),
                "relevant-evidence": self.evidence(paths),
                "collected": self.collected(paths),
            }))
        for procedure in control.procedures:
            if procedure.result == "not-performed" and control.status == "not-assessed":
                continue
            description = f"Procedure {procedure.id} ({procedure.method}): {procedure.result}"
            if procedure.by:
                description += f" by {procedure.by}"
            description += f". Question: {procedure.prompt}"
            if procedure.objectives:
                description += f" Objectives: {', '.join(procedure.objectives)}."
            if procedure.note:
                description += f" Note: {procedure.note}"
            out.append(drop_empty({
                "uuid": self.uuid("observation", control.id, procedure.id),
                "title": line(f"{procedure.id} {procedure.method}"),
                "description": description,
                "props": [prop("procedure-result", procedure.result)],
                "methods": [METHODS.get(procedure.method, "UNKNOWN")],
                "types": ["control-objective"],
                "origins": self.auditor_origin(),
                "subjects": self.subjects(),
                "collected": instant(procedure.date, self.results.assessment.as_of),
            }))
        for use in control.evidence:
            if not use.problems:
                continue
            out.append(drop_empty({
                "uuid": self.uuid("observation", control.id, "evidence", use.kind),
                "title": line(f"{control.id} evidence {use.kind}"),
                "description": f"Evidence of kind {use.kind} "
                               f"({'required' if use.required else 'optional'}) has problems: "
                               + "; ".join(use.problems),
                "methods": ["EXAMINE"],
                "origins": self.tool_origin(),
                "subjects": self.subjects(),
                "relevant-evidence": self.evidence(use.items),
                "collected": self.collected(use.items),
            }))
        return out

    def risk(self, control: ControlResult, observations: list[str]) -> dict[str, Any]:
        waived = control.status == "waived"
        lines = failure_lines(control)
        remedy = f" Remediation: {control.remediation}" if control.remediation else ""
        risk: dict[str, Any] = {
            "uuid": self.uuid("risk", control.id),
            "title": line(f"{control.shown_id} {control.title}"),
            "description": f"{control.shown_id} ({control.severity}) is {control.status}"
                           + (f" (computed {control.computed_status})" if waived else "")
                           + (": " + "; ".join(lines) if lines else "") + ".",
            "statement": f"The objective is not demonstrated: {control.objective}{remedy}",
            "props": [prop("severity", control.severity)],
            "status": "deviation-approved" if waived else "open",
            "origins": self.tool_origin(),
            "related-observations": [{"observation-uuid": u} for u in observations],
        }
        if waived and control.waiver is not None:
            risk["deadline"] = instant(control.waiver.expires, self.results.assessment.as_of, end_of_day=True)
        return drop_empty(risk)

    def reviewed_controls(self, controls: list[ControlResult]) -> dict[str, Any]:
        return {"control-selections": [{"include-controls": [{"control-id": token(c.id)} for c in controls]}]}
