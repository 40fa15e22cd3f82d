"""`auditkit controls validate` on the shipped catalog and on every kind of bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

GOOD = """\
family: {id: ZZ, title: Test family, version: "1"}
controls:
  - id: ZZ-1
    title: A control
    objective: Something holds.
    severity: high
    params:
      limit: {type: integer, default: 3}
    evidence:
      - {kind: thing-list, formats: [json]}
    checks:
      - id: ZZ-1.1
        title: All things are fine
        each: thing_list.records
        where: r.active
        assert: r.count <= params.limit
    procedures:
      - {id: ZZ-1.p1, method: examine, prompt: Look at the things.}
    remediation: Fix the things.
"""


def write(tmp_path: Path, text: str, name: str = "fam.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_shipped_catalog_and_profiles_validate(invoke):
    result = invoke("controls", "validate")
    assert result.exit_code == 0, result.output
    assert "4 families" in result.output
    for family in ("DL", "TP", "AR", "BA"):
        assert f"  {family} " in result.output
    assert "profile default" in result.output and "profile strict" in result.output


def test_shipped_catalog_has_six_controls_per_family_with_checks_and_procedures():
    from auditkit.catalog import load_catalog

    catalog = load_catalog()
    assert {f.id for f in catalog.families} == {"DL", "TP", "AR", "BA"}
    for family in catalog.families:
        assert len(family.controls) >= 6, family.id
        for control in family.controls:
            assert control.checks and control.procedures and control.remediation
            assert control.references.nist_800_53, control.id


def test_good_file_validates(invoke, tmp_path):
    result = invoke("controls", "validate", write(tmp_path, GOOD))
    assert result.exit_code == 0, result.output
    assert "1 controls, 1 checks" in result.output


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("severity: high", "severity: hgh",
         "fam.yaml:6:15 /controls/0/severity: 'hgh' is not allowed (did you mean 'high'?); choose one of: low, medium, high, critical, unrated"),
        ("assert: r.count <= params.limit", "assert: r.count <= params.limt",
         "/controls/0/checks/0/assert: parameter 'limt' is not declared by ZZ-1"),
        ("each: thing_list.records", "each: other_list.records",
         "/controls/0/checks/0/each: 'other_list' is not an evidence kind declared by ZZ-1"),
        ("where: r.active", "where: r.active &&",
         "/controls/0/checks/0/where: CEL does not compile"),
        ("default: 3", 'default: "three"',
         "/controls/0/params/limit/default: default 'three' is not of type integer"),
        ("where: r.active", "where: r.items.map(x, x).size() > 0",
         "'map' is not allowed"),
        ("title: A control", "title: A control\n    colour: blue",
         "/controls/0/colour: unknown key 'colour' (allowed: id, title"),
    ],
)
def test_each_problem_is_one_clear_line(invoke, tmp_path, old, new, expected):
    path = write(tmp_path, GOOD.replace(old, new))
    result = invoke("controls", "validate", path)
    assert result.exit_code == 3
    lines = [line for line in result.output.splitlines() if "/controls/" in line]
    assert len(lines) == 1, result.output
    assert expected in lines[0]
    assert lines[0].startswith(f"auditkit: error: {path}:")


def test_yaml_syntax_error_names_line_and_column(invoke, tmp_path):
    path = write(tmp_path, GOOD.replace("severity: high", "severity: [high"))
    result = invoke("controls", "validate", path)
    assert result.exit_code == 3
    assert "fam.yaml:" in result.output and "YAML syntax error" in result.output


def test_duplicate_ids_across_files(invoke, tmp_path):
    write(tmp_path, GOOD, "a.yaml")
    write(tmp_path, GOOD.replace("ZZ", "ZZ").replace("Test family", "Other"), "b.yaml")
    result = invoke("controls", "validate", tmp_path)
    assert result.exit_code == 3
    assert "duplicate id 'ZZ-1'" in result.output
    assert "family 'ZZ' is also defined in" in result.output


def test_all_problems_reported_in_one_run(invoke, tmp_path):
    bad = GOOD.replace("severity: high", "severity: hgh").replace("params.limit", "params.nope")
    write(tmp_path, bad, "a.yaml")
    write(tmp_path, GOOD.replace("ZZ", "YY").replace("default: 3", "default: x"), "b.yaml")
    result = invoke("controls", "validate", tmp_path)
    assert result.exit_code == 3
    assert "'hgh' is not allowed (did you mean 'high'?)" in result.output
    assert "default 'x' is not of type integer" in result.output
    assert "2 problems found" in result.output  # a control failing its schema skips semantic checks


def test_alias_bomb_is_refused_quickly(invoke, tmp_path):
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 9):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]")
    result = invoke("controls", "validate", write(tmp_path, "\n".join(lines)))
    assert result.exit_code == 3
    assert "aliases and anchors are not allowed" in result.output


def test_python_tag_is_refused(invoke, tmp_path):
    result = invoke("controls", "validate", write(tmp_path, "family: !!python/object/apply:os.system ['echo hi']\n"))
    assert result.exit_code == 3
    assert "YAML tag '!!python/object/apply:os.system' is not allowed" in result.output


def test_huge_file_is_refused_before_reading(invoke, tmp_path):
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    result = invoke("controls", "validate", path)
    assert result.exit_code == 3
    assert "over the 8388608-byte limit" in result.output


def test_profile_reference_problems(invoke, tmp_path):
    profile = """\
profile: {id: test, title: Test}
families: [DL, XX]
params:
  DL-1: {approved_regions: us-east-1, nonexistent: 1}
  DL-99: {x: 1}
not_applicable:
  - {control: AR-42, justification: Not relevant to this engagement.}
scoring:
  unwaivable: [DL-1]
  critical_failure_cap: fantastic
"""
    result = invoke("controls", "validate", write(tmp_path, profile, "p.yaml"))
    assert result.exit_code == 3
    out = result.output
    assert "/families/1: unknown family 'XX'" in out
    assert "/params/DL-1/approved_regions: 'us-east-1' is not a list" in out
    assert "/params/DL-1/nonexistent: DL-1 has no parameter 'nonexistent'" in out
    assert "/params/DL-99: unknown control 'DL-99'" in out
    assert "/not_applicable/0/control: unknown control 'AR-42'" in out
    assert "'fantastic' is not one of the ratings" in out


def test_yaml_12_scalars(tmp_path):
    from auditkit import yamlio

    data = yamlio.loads("country: NO\ntime: 1:30\nflag: yes\nn: 0o17\nd: 2026-07-01\n").data
    assert data == {"country": "NO", "time": "1:30", "flag": "yes", "n": 15, "d": "2026-07-01"}


def test_list_show_and_schema(invoke):
    listed = invoke("controls", "list")
    assert listed.exit_code == 0 and "DL-1" in listed.output and "BA-" in listed.output
    import json

    as_json = json.loads(invoke("controls", "list", "--format", "json").output)
    assert len(as_json["controls"]) >= 24
    shown = invoke("controls", "show", "DL-1")
    assert shown.exit_code == 0 and "Objective:" in shown.output and "DL-1.p1" in shown.output
    missing = invoke("controls", "show", "ZZ-9")
    assert missing.exit_code == 3 and "no control 'ZZ-9'" in missing.output
    schema = json.loads(invoke("schema", "control-family").output)
    assert schema["$schema"].endswith("2020-12/schema")
    assert invoke("schema", "nope").exit_code == 3


def test_shipped_yaml_carries_resolving_schema_hint(root):
    files = sorted((root / "controls").glob("*.yaml")) + sorted((root / "profiles").glob("*.yaml"))
    assert files
    for path in files:
        first = path.read_text().splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), path
        target = (path.parent / first.split("=", 1)[1].strip()).resolve()
        assert target.is_file(), f"{path}: {target}"
