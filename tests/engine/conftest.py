"""Small hand-written catalogs, profiles and evidence sets for engine tests."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from auditkit.catalog import load_catalog, load_profile
from auditkit.catalog.assessment import Assessment
from auditkit.engine.inputs import EvidenceDocument, EvidenceSet
from auditkit.evidence.manifest import ManifestItem

CATALOG = """\
family: {id: TT, title: Test family, version: "t1"}
controls:
  - id: TT-1
    title: Every widget is approved
    objective: All widgets are approved.
    severity: critical
    params:
      max_n: {type: integer, default: 10}
    evidence:
      - {kind: widget-list, formats: [json], max_age_days: 30}
    checks:
      - {id: TT-1.1, title: approved, each: widget_list.records, assert: r.approved}
      - {id: TT-1.2, title: small, each: widget_list.records, where: r.approved, assert: r.n <= params.max_n}
    procedures:
      - {id: TT-1.p1, method: examine, prompt: Look at the widgets.}
    remediation: Approve the widgets.
  - id: TT-2
    title: Monthly reports exist
    objective: A report each month.
    severity: medium
    evidence:
      - {kind: monthly-report, formats: [json], coverage: monthly}
    checks:
      - {id: TT-2.1, title: signed, each: monthly_report.records, assert: r.signed}
    procedures:
      - {id: TT-2.p1, method: interview, prompt: Ask about the reports.}
    remediation: Write the reports.
  - id: TT-3
    title: Gadgets have owners
    objective: Every gadget has an owner.
    severity: high
    evidence:
      - {kind: gadget-list, formats: [json, csv]}
    checks:
      - {id: TT-3.1, title: owner, each: gadget_list.records, assert: r.owner != ""}
    procedures:
      - {id: TT-3.p1, method: examine, prompt: Check the owners.}
    remediation: Assign owners.
  - id: TT-4
    title: Widgets are counted
    objective: The widget count is known.
    severity: low
    evidence:
      - {kind: widget-list, formats: [json]}
    checks:
      - {id: TT-4.1, title: count, expr: size(widget_list.records) > 0}
      - {id: TT-4.2, title: field, each: widget_list.records, assert: r.colour == "red"}
    procedures:
      - {id: TT-4.p1, method: examine, prompt: Count.}
    remediation: Count them.
  - id: TT-5
    title: Gizmos are not foreign
    objective: No gizmo abroad.
    severity: high
    params:
      countries: {type: "list[string]", default: [US]}
    evidence:
      - {kind: gizmo-list, formats: [json]}
    checks:
      - {id: TT-5.1, title: domestic, each: gizmo_list.records, assert: r.country in params.countries}
    procedures:
      - {id: TT-5.p1, method: examine, prompt: Look.}
    remediation: Bring them home.
"""

PROFILE = """\
profile: {id: test, title: Test profile}
not_applicable:
  - {control: TT-3, justification: No gadgets in this engagement's scope.}
scoring:
  unwaivable: [TT-1]
"""

AS_OF = dt.date(2026, 10, 15)


def document(kind: str, path: str, content: Any, *, collected: str = "2026-09-30T00:00:00Z",
             period: tuple[str, str] | None = ("2026-07-01", "2026-09-30"), integrity: str = "ok") -> EvidenceDocument:
    raw = json.dumps(content).encode()
    item = ManifestItem.model_validate({
        "path": path, "kind": kind, "sha256": hashlib.sha256(raw).hexdigest(), "size": len(raw),
        "collected_at": collected,
        **({"period": {"start": period[0], "end": period[1]}} if period else {}),
        "source": "test",
    })
    return EvidenceDocument(
        path=path, kind=kind, sha256=item.sha256, size=item.size, collected_at=collected.replace("+00:00", "Z"),
        period=period, source="test", description=None, integrity=integrity,
        problem=None if integrity == "ok" else f"{path}: {integrity}", content=content if integrity == "ok" else None,
        item=item,
    )


def evidence(*documents: EvidenceDocument) -> EvidenceSet:
    return EvidenceSet(bundle_id="test-bundle", organization="Test Org", root_hash="ab" * 32,
                       period=("2026-07-01", "2026-09-30"), documents=tuple(documents),
                       created="2026-10-03T00:00:00Z")


def monthly_reports(signed: bool = True, months: tuple[int, ...] = (7, 8, 9)) -> list[EvidenceDocument]:
    out = []
    for month in months:
        end = (dt.date(2026, month + 1, 1) - dt.timedelta(days=1)).isoformat()
        out.append(document("monthly-report", f"evidence/report-{month}.json", {"signed": signed, "month": month},
                            collected=f"{end}T12:00:00Z", period=(f"2026-{month:02d}-01", end)))
    return out


def assessment(**sections: Any) -> Assessment:
    base: dict[str, Any] = {
        "engagement": {"auditee": "Test Org", "auditor": {"name": "Lee Park"}, "as_of": AS_OF.isoformat()},
        "procedures": [
            {"control": c, "procedure": f"{c}.p1", "result": "affirmed", "by": "Lee Park"}
            for c in ("TT-1", "TT-2", "TT-3", "TT-4", "TT-5")
        ],
    }
    base.update(sections)
    return Assessment.model_validate(base)


@pytest.fixture
def catalog(tmp_path: Path):
    folder = tmp_path / "controls"
    folder.mkdir()
    (folder / "tt.yaml").write_text(CATALOG)
    return load_catalog([folder])


@pytest.fixture
def profile(tmp_path: Path, catalog):
    path = tmp_path / "profile.yaml"
    path.write_text(PROFILE)
    return load_profile(path, catalog)


WIDGETS_OK = [{"name": f"w{i}", "approved": True, "n": i, "colour": "red"} for i in range(5)]
GIZMOS_FOREIGN = [{"id": "g1", "country": "US"}, {"id": "g2", "country": "SG"}]
