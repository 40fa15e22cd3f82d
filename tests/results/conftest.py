"""Small hand-built ``Results`` for the format and diff tests.

The engine and the sample bundles are tested elsewhere; these results are built
directly so every status (and an auditor override) appears in a few controls, with
hostile strings (``|``, ``<``, ``&``, leading ``=``/``-``, newlines) where text is exported.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from auditkit.results import model as rm

GOLDEN = Path(__file__).parent / "golden"
ROOT_HASH = "3b1f" + "0" * 56 + "a9c2"
CATALOG_DIGEST = "sha256:" + "c" * 64


def _check(cid: str, outcome: str = "pass", *, reason: str | None = None, offenders: int = 0,
           kinds: tuple[str, ...] = ("datastore-inventory",)) -> rm.CheckResult:
    return rm.CheckResult(
        id=cid, title=f"Check {cid}", outcome=outcome, reason=reason,  # type: ignore[arg-type]
        expression="records.all(r, r.ok)", evidence_kinds=list(kinds),
        records_judged=10 if outcome in ("pass", "fail") else None,
        offenders=[{"name": f"db-{i}", "region": "eu-west-1"} for i in range(min(offenders, 2))],
        offender_count=offenders,
    )


def _proc(pid: str, result: str = "affirmed", method: str = "examine") -> rm.ProcedureOutcome:
    return rm.ProcedureOutcome(
        id=pid, method=method, prompt=f"Walk through {pid}.", result=result,  # type: ignore[arg-type]
        by="Lee Park" if result != "not-performed" else None,
        date="2026-10-10" if result != "not-performed" else None,
    )


def _use(kind: str, items: list[str], problems: list[str] | None = None) -> rm.EvidenceUse:
    return rm.EvidenceUse(kind=kind, required=True, formats=["json", "csv"], max_age_days=31,
                          items=items, problems=problems or [])


def _control(cid: str, family: str, status: str, *, computed: str | None = None,
             severity: str = "medium", credit: float | None = 1.0, title: str | None = None,
             checks: list[rm.CheckResult] | None = None, procedures: list[rm.ProcedureOutcome] | None = None,
             evidence: list[rm.EvidenceUse] | None = None, remediation: str = "Fix it and re-export the evidence.",
             **extra: Any) -> rm.ControlResult:
    weights = {"low": 1.0, "medium": 2.0, "high": 3.0, "critical": 5.0}
    return rm.ControlResult(
        id=cid, family=family, title=title or f"Control {cid}", objective=f"What {cid} requires.",
        severity=severity, weight=weights[severity], status=status,  # type: ignore[arg-type]
        computed_status=computed or status,  # type: ignore[arg-type]
        credit=credit, references={"agreement": "§3.1"}, params={},
        evidence=evidence if evidence is not None else [_use("datastore-inventory", ["evidence/inventory.json"])],
        checks=checks if checks is not None else [_check(f"{cid}.1")],
        procedures=procedures if procedures is not None else [],
        remediation=remediation, **extra,
    )


def build_controls() -> list[rm.ControlResult]:
    return [
        _control("DL-1", "DL", "satisfied", severity="critical",
                 title="Protected data is stored only in approved U.S. regions",
                 checks=[_check("DL-1.1"), _check("DL-1.2")], procedures=[_proc("DL-1.p1")]),
        _control("DL-2", "DL", "not-satisfied", severity="critical", credit=0.3333,
                 title="Egress | flows stay <inside> the U.S. & approved peers",
                 checks=[_check("DL-2.1", "fail", reason="3 records break the rule", offenders=3,
                                kinds=("egress-flow-log",)),
                         _check("DL-2.2", "error", reason="no such key: 'dest'\nat column 4",
                                kinds=("egress-flow-log",)),
                         _check("DL-2.3", kinds=("egress-flow-log",))],
                 evidence=[_use("egress-flow-log", ["evidence/egress.csv"])],
                 remediation="=HYPERLINK(\"http://evil.example\")\nthen block the flows"),
        _control("DL-3", "DL", "insufficient-evidence", severity="high", credit=0.0,
                 checks=[_check("DL-3.1", "not-run", reason="no usable evidence of kind residency-attestation",
                                kinds=("residency-attestation",))],
                 evidence=[_use("residency-attestation", ["evidence/attestation.pdf"],
                                ["evidence/attestation.pdf: collected 2026-05-01, older than 31 days"])],
                 remediation="-Re-collect the attestation this quarter."),
        _control("TP-1", "TP", "partially-satisfied", credit=0.5,
                 checks=[_check("TP-1.1", kinds=("vendor-register",)),
                         _check("TP-1.2", "fail", reason="1 record breaks the rule", offenders=1,
                                kinds=("vendor-register",))],
                 evidence=[_use("vendor-register", ["evidence/vendors.csv"])],
                 procedures=[_proc("TP-1.p1", "not-affirmed", "interview")]),
        _control("TP-2", "TP", "not-applicable", severity="low", credit=None,
                 checks=[_check("TP-2.1", "not-run", reason="control not applicable", kinds=("vendor-register",))],
                 evidence=[_use("vendor-register", ["evidence/vendors.csv"])],
                 not_applicable="No sub-processors are used by this entity."),
        _control("TP-3", "TP", "waived", computed="not-satisfied", severity="high", credit=None,
                 checks=[_check("TP-3.1", "fail", reason="2 records break the rule", offenders=2,
                                kinds=("vendor-register",))],
                 evidence=[_use("vendor-register", ["evidence/vendors.csv"])],
                 waiver=rm.WaiverInfo(justification="SIEM migration in flight", approved_by="Chief Compliance Officer",
                                      expires="2026-12-31", state="applied")),
        _control("TP-4", "TP", "satisfied", computed="not-satisfied", credit=1.0,
                 checks=[_check("TP-4.1", "fail", reason="scan illegible", offenders=1, kinds=("monitor-approval",))],
                 evidence=[_use("monitor-approval", ["evidence/approval.pdf"])],
                 override=rm.OverrideInfo(status="satisfied", by="Lee Park",
                                          reason="Monitor approval letter seen in original; scan was illegible."),
                 notes=["auditor override: not-satisfied -> satisfied (Monitor approval letter seen in original)"]),
    ]


def build_findings(controls: list[rm.ControlResult]) -> list[rm.Finding]:
    findings = []
    for c in controls:
        if c.status in ("satisfied", "not-applicable") and c.computed_status in ("satisfied", "not-applicable"):
            continue
        failing = [f"{k.id} {k.outcome}" + (f" ({k.offender_count} offending record{'' if k.offender_count == 1 else 's'})"
                                               if k.offender_count else "")
                   for k in c.checks if k.outcome != "pass"]
        gaps = [p for u in c.evidence for p in u.problems]
        summary = "; ".join(filter(None, [", ".join(failing), ", ".join(gaps)])) or c.status
        if c.override is not None:
            summary = (f"Auditor override: computed {c.computed_status.replace('-', ' ')}, "
                       f"reported {c.status.replace('-', ' ')}. {summary}")
        findings.append(rm.Finding(control=c.id, family=c.family, severity=c.severity, status=c.status,
                                   title=c.title, summary=summary, remediation=c.remediation))
    return findings


def _counts(controls: list[rm.ControlResult]) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in controls:
        out[c.status] = out.get(c.status, 0) + 1
    return dict(sorted(out.items()))


def _item(path: str, kind: str, digit: str, collected: str = "2026-09-30T23:00:00Z") -> rm.EvidenceItem:
    return rm.EvidenceItem(path=path, kind=kind, sha256=digit * 64, size=1024, collected_at=collected,
                           period=rm.Period(start="2026-07-01", end="2026-09-30"), source="export",
                           integrity="ok")


def build_results(*, controls: list[rm.ControlResult] | None = None,
                  items: list[rm.EvidenceItem] | None = None,
                  family_scores: dict[str, float | None] | None = None,
                  overall: float | None = 86.5, rating: str = "partially-effective",
                  uncapped: str = "effective", capped_by: list[str] | None = None,
                  root_hash: str = ROOT_HASH) -> rm.Results:
    """Results with every status; keyword arguments vary them for diff tests."""
    controls = build_controls() if controls is None else controls
    items = items if items is not None else [
        _item("evidence/approval.pdf", "monitor-approval", "1"),
        _item("evidence/attestation.pdf", "residency-attestation", "2", "2026-05-01"),
        _item("evidence/egress.csv", "egress-flow-log", "3", "2026-09-30T12:00:00+02:00"),
        _item("evidence/inventory.json", "datastore-inventory", "4"),
        _item("evidence/vendors.csv", "vendor-register", "5", "2026-09-29T08:00:00"),
    ]
    scores = family_scores if family_scores is not None else {"DL": 80.0, "TP": 93.33}
    titles = {"DL": "Data localization", "TP": "Third-party oversight"}
    families = [
        rm.FamilyScore(id=f, title=titles.get(f, f), score=scores.get(f),
                       weight=sum(c.weight for c in controls if c.family == f), controls=sum(c.family == f for c in controls),
                       status_counts=_counts([c for c in controls if c.family == f]))
        for f in sorted({c.family for c in controls})
    ]
    return rm.Results(
        tool=rm.ToolInfo(version="0.1.0"),
        catalog=rm.CatalogInfo(digest=CATALOG_DIGEST, version="2026.1",
                               families=[rm.FamilyRef(id=f, title=t) for f, t in titles.items()]),
        profile=rm.ProfileInfo(
            id="default", title="Default", digest="sha256:" + "d" * 64, partial_threshold=0.5,
            ratings=[{"name": "effective", "min_score": 85.0}, {"name": "partially-effective", "min_score": 60.0},
                     {"name": "ineffective", "min_score": 0.0}],
            critical_failure_cap="partially-effective", unwaivable=["DL-1"],
            severity_weights={"low": 1, "medium": 2, "high": 3, "critical": 5}),
        bundle=rm.BundleInfo(
            id="acme-us-2026-q3", organization="Acme U.S. Data Security Inc.", root_hash=root_hash,
            period=rm.Period(start="2026-07-01", end="2026-09-30"),
            submitted_by=rm.Person(name="Dana Whit", email="dana.whit@acme.example"),
            created="2026-10-03T14:00:00Z", signed=True, items=items),
        assessment=rm.AssessmentInfo(
            engagement_id="acme-2026-q3", auditee="Acme U.S. Data Security Inc.",
            auditor=rm.Person(name="Lee Park", organization="Example Assurance LLP"), as_of="2026-10-15",
            period=rm.Period(start="2026-07-01", end="2026-09-30"), scope="U.S. data security program"),
        controls=controls,
        families=families,
        overall=rm.OverallScore(score=overall, rating=rating, uncapped_rating=uncapped,
                                capped_by=["DL-2"] if capped_by is None else capped_by,
                                status_counts=_counts(controls)),
        findings=build_findings(controls),
        score_trace=[rm.TraceEntry(scope="overall", value=overall, explanation="hand-built for tests")],
    )


@pytest.fixture(scope="session")
def results() -> rm.Results:
    return build_results()


@pytest.fixture(scope="session")
def make_results() -> Callable[..., rm.Results]:
    return build_results


@pytest.fixture(scope="session")
def make_control() -> Callable[..., rm.ControlResult]:
    return _control


@pytest.fixture(scope="session")
def make_item() -> Callable[..., rm.EvidenceItem]:
    return _item


@pytest.fixture(scope="session")
def golden() -> Callable[[str, bytes], None]:
    """Compare ``data`` with ``golden/NAME``; ``AUDITKIT_UPDATE_GOLDEN=1`` rewrites the file instead."""

    def check(name: str, data: bytes) -> None:
        path = GOLDEN / name
        if os.environ.get("AUDITKIT_UPDATE_GOLDEN") == "1":
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(data)
            return
        assert path.exists(), f"{path} missing: run with AUDITKIT_UPDATE_GOLDEN=1 and review it"
        assert data == path.read_bytes(), f"{name} differs from its golden file (AUDITKIT_UPDATE_GOLDEN=1 to accept)"

    return check
