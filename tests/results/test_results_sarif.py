"""``--format sarif``: SARIF 2.1.0 that SARIF consumers read back, checked against the spec's required shape."""

from __future__ import annotations

import json

from auditkit.results.formats import sarif

LEVELS = {"error", "warning", "note", "none"}


def _check_structure(log: dict) -> None:
    """The SARIF 2.1.0 requirements a consumer relies on (sarifLog, run, tool, reportingDescriptor, result)."""
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "auditkit" and driver["version"]
    rule_ids = [r["id"] for r in driver["rules"]]
    assert len(rule_ids) == len(set(rule_ids))
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"] and rule["defaultConfiguration"]["level"] in LEVELS
    for result in run["results"]:
        assert result["message"]["text"]
        assert result["level"] in LEVELS and result["kind"] == "fail"
        assert result["ruleId"] in rule_ids
        if "ruleIndex" in result:
            assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        for location in result.get("locations", []):
            artifact = location["physicalLocation"]["artifactLocation"]
            assert artifact["uriBaseId"] in run["originalUriBaseIds"] and not artifact["uri"].startswith("/")


def test_sarif_structure_and_round_trip(results, tmp_path):
    data = sarif.render(results)
    log = json.loads(data)
    _check_structure(log)
    by_rule = {r["ruleId"]: r for r in log["runs"][0]["results"]}
    assert set(by_rule) == {f.control for f in results.findings}
    severity = {f.control: f.severity for f in results.findings}
    for control, result in by_rule.items():
        expected = {"critical": "error", "high": "error", "medium": "warning"}.get(severity[control], "note")
        assert result["level"] == expected

    # a SARIF consumer (Microsoft's sarif-tools) and a typed model (sarif-pydantic) read it back
    from sarif import loader
    from sarif_pydantic import Sarif

    path = tmp_path / "results.sarif"
    path.write_bytes(data)
    loaded = loader.load_sarif_file(str(path))
    assert loaded.get_result_count() == len(results.findings)
    assert set(loaded.get_distinct_tool_names()) == {"auditkit"}
    report = loaded.get_report()
    assert report.get_issue_count_for_severity("error") == sum(
        1 for f in results.findings if f.severity in ("critical", "high"))
    codes = {record["Code"] for record in loaded.get_records()}
    assert codes == {f.control for f in results.findings}
    model = Sarif.model_validate(log)
    assert model.version == "2.1.0" and len(model.runs[0].results or []) == len(results.findings)


def test_assess_writes_sarif(invoke, root, tmp_path):
    out = tmp_path / "r.sarif"
    result = invoke("assess", root / "evidence_samples" / "globex", "--format", "sarif", "-o", out)
    assert result.exit_code == 0, result.output
    log = json.loads(out.read_text())
    _check_structure(log)
    assert log["runs"][0]["properties"]["rating"] == "ineffective"
    assert len(log["runs"][0]["results"]) > 10
