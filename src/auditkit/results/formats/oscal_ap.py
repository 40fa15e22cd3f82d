"""``--format oscal-ap``: the OSCAL 1.1.2 assessment plan of an assessment.

What was planned, from the same results: the controls in scope (``reviewed-controls``
by catalog id), the system as assessment subject, auditkit as assessment platform,
one activity per procedure method and one for the machine checks, one task over
the assessment period, and the methodology and scoring policy of the profile as
terms and conditions. OSCAL requires an ``import-ssp``; auditkit has no system
security plan, so it points at a back-matter resource for the evidence bundle
manifest, identified by the bundle's root hash. The assessment results
(``--format oscal``) import this plan and carry its SHA-256.
"""

from __future__ import annotations

import json
from typing import Any

from ..model import Results
from .oscal_common import METHODS, Builder, drop_empty, instant, line, prop, require_controls, token

NAME = "oscal-ap"
SUFFIX = ".oscal-ap.json"


class _Plan(Builder):
    def activities(self) -> list[dict[str, Any]]:
        controls = self.results.controls
        out = []
        checked = [c for c in controls if c.checks]
        if checked:
            out.append({
                "uuid": self.uuid("activity", "checks"), "title": "Machine checks over the evidence bundle",
                "description": "auditkit evaluates each control's CEL checks over the parsed evidence and the "
                               "parameters in force; evidence freshness, coverage and hashes are checked first.",
                "props": [prop("method", "TEST")],
                "related-controls": self.reviewed_controls(checked),
            })
        for method, oscal in METHODS.items():
            chosen = [c for c in controls if any(p.method == method for p in c.procedures)]
            if not chosen:
                continue
            out.append({
                "uuid": self.uuid("activity", method), "title": f"{method.capitalize()} procedures",
                "description": f"The auditor performs the {method} procedures of each control and records the "
                               "result (affirmed or not) in the assessment file.",
                "props": [{"name": "method", "value": oscal}],
                "related-controls": self.reviewed_controls(chosen),
                "responsible-roles": [{"role-id": "assessor"}],
            })
        return out

    def terms(self) -> dict[str, Any]:
        p = self.results.profile
        ratings = ", ".join(f"{r.get('name')} >= {r.get('min_score')}" for r in p.ratings)
        return {"parts": [
            {"name": "methodology", "title": "Methodology",
             "prose": "A control's credit is the weighted share of its passed checks and affirmed procedures; "
                      f"full credit is satisfied, at least {p.partial_threshold:g} partially satisfied. Controls "
                      "with no check run and no procedure recorded are reported as not assessed."},
            {"name": "rules-of-engagement", "title": "Scoring policy",
             "prose": f"Profile {p.id} ({p.title}), digest {p.digest}. Ratings: {ratings}."
                      + (f" Critical-failure cap: {p.critical_failure_cap}." if p.critical_failure_cap else "")},
        ]}

    def document(self) -> dict[str, Any]:
        r = self.results
        a = r.assessment
        manifest = self.uuid("resource", "manifest")
        return {"assessment-plan": drop_empty({
            "uuid": self.document_uuid("assessment-plan"),
            "metadata": self.metadata(f"auditkit assessment plan for {a.auditee} as of {a.as_of}"),
            "import-ssp": {"href": f"#{manifest}",
                           "remarks": "No system security plan: the system is described by the evidence bundle."},
            "local-definitions": {"components": self.components(), "activities": self.activities()},
            "terms-and-conditions": self.terms(),
            "reviewed-controls": self.reviewed_controls(r.controls),
            "assessment-subjects": [{"type": "component", "description": line(a.scope or a.auditee),
                                     "include-subjects": [{"subject-uuid": self.system_uuid, "type": "component"}]}],
            "assessment-assets": self.assets(),
            "tasks": [{
                "uuid": self.uuid("task", "assessment"), "type": "action",
                "title": line(f"Assess {a.auditee} on bundle {r.bundle.id}"),
                "timing": {"within-date-range": {"start": instant(a.period.start, a.as_of),
                                                 "end": instant(a.period.end, a.as_of, end_of_day=True)}},
                "associated-activities": [{"activity-uuid": act["uuid"], "subjects": [{"type": "component",
                                           "include-subjects": [{"subject-uuid": self.system_uuid,
                                                                 "type": "component"}]}]}
                                          for act in self.activities()],
                "responsible-roles": [{"role-id": "assessor"}],
            }],
            "back-matter": {"resources": [{
                "uuid": manifest, "title": f"Evidence bundle {r.bundle.id} manifest",
                "description": f"manifest.yaml of bundle {r.bundle.id} from {r.bundle.organization}; root hash "
                               f"(SHA-256 of the canonical manifest) {r.bundle.root_hash}.",
                "props": [prop("bundle-root-hash", r.bundle.root_hash), prop("bundle-id", token(r.bundle.id))],
                "rlinks": [{"href": "bundle://manifest.yaml", "media-type": "application/yaml"}],
            }]},
        })}


def to_dict(results: Results) -> dict[str, Any]:
    require_controls(results, "an OSCAL assessment plan")
    return _Plan(results).document()


def render(results: Results) -> bytes:
    text = json.dumps(to_dict(results), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    return text.encode("utf-8", "replace")
