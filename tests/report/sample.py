"""A realistic ``Results`` built by hand for the report tests (the engine is tested elsewhere).

Every status appears, with a waiver, an override, a not-applicable control, a
long offender list, long unbroken values and hostile strings (``<script>``, ``&``).
``build_results(n)`` scales to ``n`` controls for the 100-control benchmark.
"""

from __future__ import annotations

import hashlib

from auditkit.results import model as rm

FAMILIES = [
    ("DL", "Data localization"),
    ("TP", "Third-party oversight"),
    ("AR", "Audit rights"),
    ("BA", "Independent board authority"),
]
SEVERITIES = ["critical", "high", "medium", "low"]
ROOT_HASH = hashlib.sha256(b"manifest").hexdigest()
STATUS_CYCLE = [
    "satisfied",
    "not-satisfied",
    "satisfied",
    "partially-satisfied",
    "insufficient-evidence",
    "satisfied",
    "waived",
    "not-applicable",
    "satisfied",
]


def _items() -> list[rm.EvidenceItem]:
    kinds = ["datastore-inventory", "egress-flow-log", "board-roster", "audit-rights-clause",
             "vendor-register", "board-minutes"]
    out = []
    for i, kind in enumerate(kinds):
        out.append(
            rm.EvidenceItem(
                path=f"evidence/{kind}-2026-q3.{'csv' if i % 2 else 'json'}",
                kind=kind,
                sha256=hashlib.sha256(kind.encode()).hexdigest(),
                size=18231 + i * 977,
                collected_at="2026-09-30T23:00:00Z",
                period=rm.Period(start="2026-07-01", end="2026-09-30"),
                source="cloud asset inventory export" if i % 2 == 0 else "board secretary",
                description=None,
                integrity="ok" if i != 4 else "stale",
                problem=None if i != 4 else "collected 97 days before the as-of date (max 31)",
            )
        )
    out.append(
        rm.EvidenceItem(
            path="evidence/" + "very-long-file-name-without-any-break-" * 4 + ".pdf",
            kind="audit-rights-clause", sha256=hashlib.sha256(b"x").hexdigest(), size=901_223,
            collected_at="2026-09-01T10:00:00Z", integrity="ok", source="legal",
        )
    )
    return out


def _control(index: int, items: list[rm.EvidenceItem]) -> rm.ControlResult:
    fam_id, _ = FAMILIES[index % len(FAMILIES)]
    cid = f"{fam_id}-{index // len(FAMILIES) + 1}"
    status = STATUS_CYCLE[index % len(STATUS_CYCLE)]
    severity = SEVERITIES[index % len(SEVERITIES)]
    failing = status in ("not-satisfied", "partially-satisfied", "waived")
    offenders = 0
    if failing:
        offenders = 250 if index % 3 == 1 else 3
    shown = min(offenders, 25)
    checks = [
        rm.CheckResult(
            id=f"{cid}.1", title="Every protected datastore is in an approved region",
            outcome="fail" if failing else ("not-run" if status == "insufficient-evidence" else "pass"),
            reason="required evidence datastore-inventory is stale" if status == "insufficient-evidence" else None,
            expression="datastore_inventory.records.all(r, !(r.protected) || (r.region in params.approved_regions))",
            evidence_kinds=["datastore-inventory"], records_judged=1200 if status != "insufficient-evidence" else None,
            offenders=[
                {"name": f"db-replica-{i:04d}", "region": "eu-west-1" if i % 2 else "ap-southeast-2",
                 "operator": "other-co", "arn": "arn:aws:rds:eu-west-1:123456789012:db:" + "x" * 60}
                for i in range(shown)
            ],
            offender_count=offenders,
        ),
        rm.CheckResult(
            id=f"{cid}.2", title="Flows leave only to <approved> endpoints & nothing else",
            outcome="error" if index % 5 == 2 else "pass",
            reason="no such key: dest_region" if index % 5 == 2 else None,
            expression="egress_flow_log.records.all(r, r.dest_region in params.approved_regions)",
            evidence_kinds=["egress-flow-log"], records_judged=None if index % 5 == 2 else 40_000,
        ),
    ]
    procedures = [
        rm.ProcedureOutcome(
            id=f"{cid}.p1", method="examine",
            prompt="Walk through the provider console with the security officer and match it to the inventory.",
            result="affirmed" if not failing else "not-affirmed", by="Lee Park", date="2026-10-14",
            note="Console matched the inventory for 12 sampled stores." if not failing else "<script>alert(1)</script> two stores missing",
        ),
        rm.ProcedureOutcome(
            id=f"{cid}.p2", method="interview", prompt="Ask the DPO how new regions are approved.",
            result="not-performed",
        ),
    ]
    waiver = None
    if status == "waived":
        waiver = rm.WaiverInfo(justification="SIEM migration in flight", approved_by="Chief Compliance Officer",
                               expires="2026-12-31", state="applied")
    override = None
    computed = status
    if index == 5:
        override = rm.OverrideInfo(status="satisfied", reason="Monitor approval letter seen in original; scan was illegible.",
                                   by="Lee Park")
        computed = "partially-satisfied"
    return rm.ControlResult(
        id=cid, family=fam_id, title=f"Control {cid}: protected data stays in approved U.S. regions",
        objective="Every datastore holding protected user data sits in an approved region and is operated by the trusted technology provider.",
        severity=severity, weight=3.0 if severity == "critical" else 1.0, status=status, computed_status=computed,  # type: ignore[arg-type]
        credit=None if status in ("waived", "not-applicable") else (1.0 if status == "satisfied" else 0.5 if status == "partially-satisfied" else 0.0),
        references={"agreement": "§3.1 Data storage", "nist_800_53": ["SA-9(5)", "CM-12", "AC-4"], "iso_27001": ["A.5.23"]},
        params={"approved_regions": ["us-east-1", "us-east-2", "us-west-1", "us-west-2"], "trusted_operator": "trusted-provider", "max_notice_days": 30},
        evidence=[
            rm.EvidenceUse(kind="datastore-inventory", required=True, formats=["json", "csv"], max_age_days=31,
                           coverage="quarter", items=[items[0].path],
                           problems=["stale: collected 97 days before as-of"] if status == "insufficient-evidence" else []),
            rm.EvidenceUse(kind="egress-flow-log", required=False, formats=["csv"], items=[items[1].path], problems=[]),
        ],
        checks=checks, procedures=procedures, waiver=waiver, override=override,
        not_applicable="The auditee operates no board of its own (subsidiary of a listed parent)." if status == "not-applicable" else None,
        remediation="Migrate or delete the offending datastores; re-export the inventory.",
        notes=["Auditor note: sampled twelve datastores against the console."] if index % 4 == 0 else [],
    )


def build_results(n_controls: int = 12) -> rm.Results:
    items = _items()
    controls = [_control(i, items) for i in range(n_controls)]
    families = []
    for fam_id, title in FAMILIES:
        mine = [c for c in controls if c.family == fam_id]
        scored = [c for c in mine if c.credit is not None]
        score = 100 * sum(c.credit or 0 for c in scored) / len(scored) if scored else None
        counts: dict[str, int] = {}
        for c in mine:
            counts[c.status] = counts.get(c.status, 0) + 1
        families.append(rm.FamilyScore(id=fam_id, title=title, score=score, weight=1.0,
                                       controls=len(mine), status_counts=counts))
    scored_f = [f.score for f in families if f.score is not None]
    overall = sum(scored_f) / len(scored_f) if scored_f else None
    counts = {}
    for c in controls:
        counts[c.status] = counts.get(c.status, 0) + 1
    findings = [
        rm.Finding(control=c.id, family=c.family, severity=c.severity, status=c.status, title=c.title,
                   summary=f"{c.checks[0].offender_count} datastore(s) outside approved regions",
                   remediation=c.remediation)
        for c in controls if c.status in ("not-satisfied", "partially-satisfied", "insufficient-evidence")
    ]
    trace = [rm.TraceEntry(scope=f"control {c.id}", value=c.credit, explanation=f"credit {c.credit} x weight {c.weight}")
             for c in controls]
    trace += [rm.TraceEntry(scope=f"family {f.id}", value=f.score, explanation="weighted mean of control credits")
              for f in families]
    trace.append(rm.TraceEntry(scope="overall", value=overall, explanation="100 x earned / total over scored controls"))
    return rm.Results(
        tool=rm.ToolInfo(version="0.1.0"),
        catalog=rm.CatalogInfo(digest="sha256:" + "c" * 64, version="2026.10",
                               families=[rm.FamilyRef(id=f, title=t, version="1") for f, t in FAMILIES]),
        profile=rm.ProfileInfo(id="default", title="Default profile (whole catalog)", digest="sha256:" + "d" * 64,
                               partial_threshold=0.5,
                               ratings=[{"name": "effective", "min_score": 85}, {"name": "partially effective", "min_score": 60},
                                        {"name": "ineffective", "min_score": 0}],
                               critical_failure_cap="partially effective", unwaivable=["DL-1"],
                               severity_weights={"critical": 3, "high": 2, "medium": 1, "low": 0.5}),
        bundle=rm.BundleInfo(id="acme-us-2026-q3", organization="Acme U.S. Data Security Inc.", root_hash=ROOT_HASH,
                             period=rm.Period(start="2026-07-01", end="2026-09-30"),
                             submitted_by=rm.Person(name="Dana Whit", email="dana.whit@acme.example"),
                             created="2026-10-03T14:00:00Z", signed=True, items=items),
        assessment=rm.AssessmentInfo(engagement_id="ENG-2026-014", auditee="Acme U.S. Data Security Inc.",
                                     auditor=rm.Person(name="Lee Park", organization="Example Assurance LLP"),
                                     as_of="2026-10-15", period=rm.Period(start="2026-07-01", end="2026-09-30"),
                                     scope="U.S. user data platform", assessment_digest="sha256:" + "e" * 64),
        controls=controls, families=families,
        overall=rm.OverallScore(score=overall, rating="partially effective", uncapped_rating="effective",
                                capped_by=[c.id for c in controls if c.severity == "critical" and c.status == "not-satisfied"],
                                status_counts=counts),
        findings=findings, score_trace=trace,
    )
