"""``--format sarif``: SARIF 2.1.0, for code-scanning dashboards and CI annotations.

One run: the tool driver is auditkit with a rule per assessed control (title,
objective, remediation, severity, family); a result per finding, at level
``error`` (critical, high), ``warning`` (medium) or ``note`` (low and unrated),
located at the evidence files the control used (relative to ``%BUNDLE%``, the
bundle root). Run properties carry the bundle root hash, the catalog digest, the
overall score and rating, so a dashboard can tell which assessment it shows.
Deterministic: same results, same bytes.
"""

from __future__ import annotations

import json
from typing import Any

from ..model import ControlResult, Finding, Results

NAME = "sarif"
SUFFIX = ".sarif"
SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
VERSION = "2.1.0"
_LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}


def _rule(control: ControlResult) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "id": control.id,
        "name": control.id.replace("-", "").replace(".", ""),
        "shortDescription": {"text": control.title},
        "fullDescription": {"text": control.objective or control.title},
        "defaultConfiguration": {"level": _LEVELS.get(control.severity, "note")},
        "properties": {"severity": control.severity, "family": control.family, "tags": [control.family]},
    }
    if control.remediation:
        rule["help"] = {"text": control.remediation}
    return rule


def _result(finding: Finding, control: ControlResult | None, rule_index: int | None) -> dict[str, Any]:
    paths = sorted({path for use in (control.evidence if control else []) for path in use.items})
    result: dict[str, Any] = {
        "ruleId": finding.control,
        "kind": "fail",
        "level": _LEVELS.get(finding.severity, "note"),
        "message": {"text": f"{finding.title}: {finding.status.replace('-', ' ')}. {finding.summary}".strip()},
        "partialFingerprints": {"auditkitControl/v1": finding.control},
        "properties": {"status": finding.status, "severity": finding.severity, "family": finding.family},
    }
    if rule_index is not None:
        result["ruleIndex"] = rule_index
    if paths:
        result["locations"] = [
            {"physicalLocation": {"artifactLocation": {"uri": path, "uriBaseId": "BUNDLE"}}} for path in paths
        ]
    if finding.remediation:  # not a SARIF "fix": that needs artifact changes; the rule's help says it too
        result["properties"]["remediation"] = finding.remediation
    return result


def render(results: Results) -> bytes:
    controls = {c.id: c for c in results.controls}
    index = {c.id: i for i, c in enumerate(results.controls)}
    run: dict[str, Any] = {
        "tool": {"driver": {
            "name": "auditkit",
            "version": results.tool.version,
            "informationUri": "https://auditkit.example/",
            "rules": [_rule(c) for c in results.controls],
        }},
        "originalUriBaseIds": {"BUNDLE": {"description": {"text": f"root of evidence bundle {results.bundle.id}"}}},
        "invocations": [{"executionSuccessful": True}],
        "results": [_result(f, controls.get(f.control), index.get(f.control)) for f in results.findings],
        "properties": {
            "bundle": results.bundle.id,
            "bundleRootHash": results.bundle.root_hash,
            "catalogDigest": results.catalog.digest,
            "profile": results.profile.id,
            "asOf": results.assessment.as_of,
            "overallScore": results.overall.score,
            "rating": results.overall.rating,
        },
    }
    log = {"$schema": SCHEMA, "version": VERSION, "runs": [run]}
    try:
        return (json.dumps(log, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from evidence: escape everything, still valid JSON
        return (json.dumps(log, indent=2, ensure_ascii=True, allow_nan=False) + "\n").encode("ascii")
