"""``--format oscal``: OSCAL 1.1.2 assessment-results JSON, for GRC tools that read OSCAL.

One result per assessment. Observations: one per check (method ``TEST``), one per
procedure (``EXAMINE``/``INTERVIEW``/``TEST``) and one per evidence kind with
problems (``EXAMINE``), each pointing at the bundle files it used as
``bundle://PATH`` with their SHA-256. Findings: one per control, targeting the
control id as an ``objective-id``; OSCAL has only ``satisfied``/``not-satisfied``, so
the exact auditkit status, computed status and judgements ride along as ``props`` in
the auditkit namespace (not-applicable: ``satisfied`` with reason ``other`` and
implementation state ``not-applicable``; waived: ``not-satisfied``). Risks: one per
control that falls short (status ``open``), and per waived control
(``deviation-approved``, deadline the waiver's expiry).

Deterministic: UUIDs are uuid5 values derived from the bundle root hash and ids, and
times come from the assessment (``as_of``, period) and the evidence ``collected_at``.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
import uuid
from typing import Any
from urllib.parse import quote

from ..model import CheckResult, ControlResult, EvidenceItem, Results
from .junit import FAILING, failure_lines

NAME = "oscal"
SUFFIX = ".oscal.json"

OSCAL_VERSION = "1.1.2"
NS = "https://auditkit.example/ns/oscal"
METHODS = {"examine": "EXAMINE", "interview": "INTERVIEW", "test": "TEST"}
_TOKEN = re.compile(r"[_A-Za-z][_A-Za-z0-9.\-]*")
_NOT_TOKEN = re.compile(r"[^_A-Za-z0-9.\-]")
_BASE = uuid.UUID("7c2d0b1e-5a3f-5e4b-9c8d-6f1a2b3c4d5e")


def _instant(value: str | None, fallback: str, *, end_of_day: bool = False) -> str:
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


def _line(text: str, fallback: str = "untitled") -> str:
    """A one-line OSCAL title (no line breaks, never empty)."""
    return " ".join(text.split()) or fallback


def _token(text: str) -> str:
    """An OSCAL token (e.g. a control id): invalid characters become ``_``."""
    if _TOKEN.fullmatch(text):
        return text
    cleaned = _NOT_TOKEN.sub("_", text)
    return cleaned if _TOKEN.fullmatch(cleaned) else "_" + cleaned


def _prop(name: str, value: object) -> dict[str, str]:
    return {"name": name, "ns": NS, "value": _line(str(value), "none")}


def _drop_empty(data: dict[str, Any]) -> dict[str, Any]:
    """OSCAL arrays must not be empty: leave such keys out."""
    return {k: v for k, v in data.items() if v != [] and v is not None}


class _Builder:
    def __init__(self, results: Results):
        self.results = results
        self.namespace = uuid.uuid5(_BASE, f"bundle:{results.bundle.root_hash}")
        self.items = {item.path: item for item in results.bundle.items}
        self.as_of = _instant(results.assessment.as_of, "1970-01-01")

    def uuid(self, *parts: str) -> str:
        return str(uuid.uuid5(self.namespace, "\x1f".join(parts)))

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
        moments = [_instant(self.items[p].collected_at, self.results.assessment.as_of)
                   for p in paths if p in self.items]
        if not moments:
            return self.as_of
        return max(moments, key=lambda m: _dt.datetime.fromisoformat(m))

    def check_paths(self, control: ControlResult, check: CheckResult) -> list[str]:
        kinds = set(check.evidence_kinds)
        return [p for use in control.evidence if use.kind in kinds for p in use.items]

    def observations(self, control: ControlResult) -> list[dict[str, Any]]:
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
            out.append(_drop_empty({
                "uuid": self.uuid("observation", control.id, check.id),
                "title": _line(f"{check.id} {check.title}"),
                "description": description,
                "props": [_prop("outcome", check.outcome)],
                "methods": ["TEST"],
                "relevant-evidence": self.evidence(paths),
                "collected": self.collected(paths),
            }))
        for procedure in control.procedures:
            description = f"Procedure {procedure.id} ({procedure.method}): {procedure.result}"
            if procedure.by:
                description += f" by {procedure.by}"
            description += f". Question: {procedure.prompt}"
            if procedure.note:
                description += f" Note: {procedure.note}"
            out.append({
                "uuid": self.uuid("observation", control.id, procedure.id),
                "title": _line(f"{procedure.id} {procedure.method}"),
                "description": description,
                "props": [_prop("procedure-result", procedure.result)],
                "methods": [METHODS.get(procedure.method, "UNKNOWN")],
                "collected": _instant(procedure.date, self.results.assessment.as_of),
            })
        for use in control.evidence:
            if not use.problems:
                continue
            out.append(_drop_empty({
                "uuid": self.uuid("observation", control.id, "evidence", use.kind),
                "title": _line(f"{control.id} evidence {use.kind}"),
                "description": f"Evidence of kind {use.kind} "
                               f"({'required' if use.required else 'optional'}) has problems: "
                               + "; ".join(use.problems),
                "methods": ["EXAMINE"],
                "relevant-evidence": self.evidence(use.items),
                "collected": self.collected(use.items),
            }))
        return out

    def finding(self, control: ControlResult, observations: list[str], risk: str | None
                ) -> dict[str, Any]:
        if control.status == "satisfied":
            state, reason = "satisfied", "pass"
        elif control.status == "not-applicable":
            state, reason = "satisfied", "other"
        elif control.status == "insufficient-evidence":
            state, reason = "not-satisfied", "other"
        else:
            state, reason = "not-satisfied", "fail"
        remarks = [f"auditkit status: {control.status} (computed: {control.computed_status})."]
        if control.not_applicable is not None:
            remarks.append(f"Not applicable: {control.not_applicable}")
        if control.waiver is not None:
            w = control.waiver
            remarks.append(f"Waiver {w.state}: {w.justification} (approved by {w.approved_by}, "
                           f"expires {w.expires})")
        if control.override is not None:
            o = control.override
            by = f" by {o.by}" if o.by else ""
            remarks.append(f"Auditor override to {o.status}{by}: {o.reason}")
        target: dict[str, Any] = {
            "type": "objective-id",
            "target-id": _token(control.id),
            "title": _line(control.title),
            "description": control.objective,
            "status": {"state": state, "reason": reason},
            "remarks": " ".join(remarks),
        }
        if control.status == "not-applicable":
            target["implementation-status"] = {"state": "not-applicable"}
        props = [_prop("status", control.status), _prop("computed-status", control.computed_status),
                 _prop("severity", control.severity), _prop("family", control.family)]
        if control.credit is not None:
            props.append(_prop("credit", f"{control.credit:g}"))
        lines = failure_lines(control) if control.status != "not-applicable" else []
        description = f"{control.id} is {control.status}."
        if lines:
            description += " " + "; ".join(lines) + "."
        return _drop_empty({
            "uuid": self.uuid("finding", control.id),
            "title": _line(f"{control.id} {control.title}"),
            "description": description,
            "props": props,
            "target": target,
            "related-observations": [{"observation-uuid": u} for u in observations],
            "related-risks": [{"risk-uuid": risk}] if risk else [],
        })

    def risk(self, control: ControlResult, observations: list[str]) -> dict[str, Any]:
        waived = control.status == "waived"
        lines = failure_lines(control)
        risk: dict[str, Any] = {
            "uuid": self.uuid("risk", control.id),
            "title": _line(f"{control.id} {control.title}"),
            "description": f"{control.id} ({control.severity}) is {control.status}"
                           + (f" (computed {control.computed_status})" if waived else "")
                           + (": " + "; ".join(lines) if lines else "") + ".",
            "statement": f"The objective is not demonstrated: {control.objective} "
                         f"Remediation: {control.remediation}",
            "props": [_prop("severity", control.severity)],
            "status": "deviation-approved" if waived else "open",
            "related-observations": [{"observation-uuid": u} for u in observations],
        }
        if waived and control.waiver is not None:
            risk["deadline"] = _instant(control.waiver.expires, self.results.assessment.as_of,
                                        end_of_day=True)
        return _drop_empty(risk)

    def document(self) -> dict[str, Any]:
        r = self.results
        a = r.assessment
        observations: list[dict[str, Any]] = []
        findings: list[dict[str, Any]] = []
        risks: list[dict[str, Any]] = []
        for control in r.controls:
            obs = self.observations(control)
            observations += obs
            refs = [o["uuid"] for o in obs]
            risk = None
            if control.status in FAILING or control.status == "waived":
                risks.append(self.risk(control, refs))
                risk = risks[-1]["uuid"]
            findings.append(self.finding(control, refs, risk))
        score = "n/a" if r.overall.score is None else f"{r.overall.score:.2f}"
        summary = f"Overall score {score}/100, rating {r.overall.rating}"
        if r.overall.capped_by:
            summary += (f" (capped from {r.overall.uncapped_rating}: critical controls not "
                        f"satisfied: {', '.join(r.overall.capped_by)})")
        plan = a.assessment_digest or r.profile.digest
        org = a.auditor.organization
        auditor = a.auditor.name + (f" ({org})" if org else "")
        return {"assessment-results": {
            "uuid": self.uuid("assessment-results", a.as_of, r.catalog.digest, r.profile.digest,
                              a.assessment_digest or ""),
            "metadata": {
                "title": _line(f"auditkit assessment of {a.auditee} as of {a.as_of}"),
                "last-modified": self.as_of,
                "version": _line(f"{a.as_of} auditkit {r.tool.version}"),
                "oscal-version": OSCAL_VERSION,
                "props": [_prop("bundle-id", r.bundle.id),
                          _prop("bundle-root-hash", r.bundle.root_hash),
                          _prop("catalog-digest", r.catalog.digest),
                          _prop("catalog-version", r.catalog.version),
                          _prop("profile", r.profile.id), _prop("profile-digest", r.profile.digest),
                          _prop("tool-version", r.tool.version)],
            },
            "import-ap": {
                "href": f"urn:auditkit:assessment-plan:{_token(plan)}",
                "remarks": f"No OSCAL assessment plan: the plan is auditkit profile {r.profile.id} "
                           f"({r.profile.digest}) with the auditor's assessment file "
                           f"({a.assessment_digest or 'not recorded'}).",
            },
            "results": [_drop_empty({
                "uuid": self.uuid("result", a.as_of),
                "title": _line(f"Assessment of {a.auditee}, bundle {r.bundle.id}"),
                "description": f"{summary}. Auditor: {auditor}. Evidence bundle {r.bundle.id} "
                               f"from {r.bundle.organization}, root hash {r.bundle.root_hash}; "
                               f"catalog digest {r.catalog.digest}.",
                "start": _instant(a.period.start, a.as_of),
                "end": _instant(a.period.end, a.as_of, end_of_day=True),
                "props": [_prop("score", score), _prop("rating", r.overall.rating),
                          _prop("uncapped-rating", r.overall.uncapped_rating)],
                "reviewed-controls": {"control-selections": [{
                    "include-controls": [{"control-id": _token(c.id)} for c in r.controls],
                }]},
                "observations": observations,
                "risks": risks,
                "findings": findings,
            })],
        }}


def to_dict(results: Results) -> dict[str, Any]:
    """The OSCAL document as plain data (what :func:`render` serialises)."""
    if not results.controls:
        from ...errors import InvalidInputError

        raise InvalidInputError("results hold no controls; OSCAL assessment results need at least "
                                "one reviewed control", hint="assess at least one control")
    return _Builder(results).document()


def render(results: Results) -> bytes:
    text = json.dumps(to_dict(results), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    return text.encode("utf-8", "replace")
