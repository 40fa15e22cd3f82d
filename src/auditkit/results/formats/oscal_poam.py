"""``--format oscal-poam``: an OSCAL 1.1.2 plan of action and milestones for the open findings.

One POA&M item per control that falls short (not satisfied, partially satisfied,
insufficient evidence) or is waived, each with its observations, its risk (with
the remediation as a planned response; a waived control's risk is
``deviation-approved`` with the waiver's expiry as deadline) and its finding.
Controls satisfied, not applicable or not assessed have no item. Same parties,
UUIDs and times as the assessment results (``--format oscal``), so items can be
matched across the two.
"""

from __future__ import annotations

import json
from typing import Any

from ..model import ControlResult, Results
from .oscal_common import OPEN, Builder, drop_empty, line, prop, root_objective

NAME = "oscal-poam"
SUFFIX = ".oscal-poam.json"


class _Poam(Builder):
    def response(self, control: ControlResult) -> dict[str, Any]:
        remedy = control.remediation or f"Implement {control.shown_id} as stated and assess it again."
        return {"uuid": self.uuid("response", control.id), "lifecycle": "planned",
                "title": line(f"Remediate {control.shown_id}"), "description": remedy,
                "origins": self.auditor_origin()}

    def document(self) -> dict[str, Any]:
        r = self.results
        a = r.assessment
        observations: list[dict[str, Any]] = []
        risks: list[dict[str, Any]] = []
        findings: list[dict[str, Any]] = []
        items: list[dict[str, Any]] = []
        for control in r.controls:
            if control.status not in OPEN:
                continue
            obs = self.observations(control)
            observations += obs
            refs = [o["uuid"] for o in obs]
            risk = self.risk(control, refs)
            risk["remediations"] = [self.response(control)]
            risks.append(risk)
            finding = drop_empty({
                "uuid": self.uuid("finding", control.id),
                "title": line(f"{control.shown_id} {control.title}"),
                "description": f"{control.shown_id} is {control.status}.",
                "target": {"type": "objective-id", "target-id": root_objective(control),
                           "status": {"state": "not-satisfied",
                                      "reason": "other" if control.status == "insufficient-evidence" else "fail"}},
                "related-observations": [{"observation-uuid": u} for u in refs],
                "related-risks": [{"risk-uuid": risk["uuid"]}],
            })
            findings.append(finding)
            items.append(drop_empty({
                "uuid": self.uuid("poam-item", control.id),
                "title": line(f"{control.shown_id} {control.title}"),
                "description": f"{control.shown_id} ({control.severity}) is {control.status}. "
                               + (control.remediation or "No remediation text in the catalog."),
                "props": [prop("control-id", control.id), prop("severity", control.severity),
                          prop("status", control.status)],
                "origins": self.auditor_origin(),
                "related-findings": [{"finding-uuid": finding["uuid"]}],
                "related-observations": [{"observation-uuid": u} for u in refs],
                "related-risks": [{"risk-uuid": risk["uuid"]}],
            }))
        if not items:
            from ...errors import InvalidInputError

            raise InvalidInputError("no open findings: every assessed control is satisfied, not applicable or "
                                    "not assessed, so there is nothing for a POA&M",
                                    hint="use --format oscal for the assessment results")
        return {"plan-of-action-and-milestones": drop_empty({
            "uuid": self.document_uuid("poam"),
            "metadata": self.metadata(f"auditkit POA&M for {a.auditee} as of {a.as_of}"),
            "system-id": {"identifier-type": "https://auditkit.example/ns/bundle-id", "id": r.bundle.id},
            "local-definitions": {"components": self.components()},
            "observations": observations,
            "risks": risks,
            "findings": findings,
            "poam-items": items,
        })}


def to_dict(results: Results) -> dict[str, Any]:
    return _Poam(results).document()


def render(results: Results) -> bytes:
    text = json.dumps(to_dict(results), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    return text.encode("utf-8", "replace")
