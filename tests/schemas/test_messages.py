"""Schema errors reach users as one plain line each, through every loader, with one prefix."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from auditkit import schemas
from auditkit.schemas.messages import PATTERN_WORDS

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "evidence_samples" / "acme-us"


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    target = tmp_path / "acme-us"
    shutil.copytree(SAMPLE, target)
    return target


def _errors(result) -> list[str]:
    return [line for line in result.output.splitlines() if line.strip()]


def test_manifest_typo_and_naive_timestamp_read_as_one_line_each(invoke, bundle):
    manifest = bundle / "manifest.yaml"
    text = manifest.read_text().replace("  organization:", "  organisation:", 1)
    text = text.replace("created: 2026-10-14T16:00:00Z", "created: 2026-10-14T16:00:00", 1)
    manifest.write_text(text)
    result = invoke("bundle", "verify", bundle)
    assert result.exit_code == 3
    lines = _errors(result)
    assert all(line.startswith("auditkit: error: ") for line in lines), lines
    assert any(line.endswith("/bundle/organisation: unknown key 'organisation' (did you mean 'organization'?)")
               for line in lines), lines
    assert not any("is required" in line or "was unexpected" in line for line in lines)
    assert any("/bundle/created: timestamp '2026-10-14T16:00:00' needs a time zone, e.g. 2026-09-30T23:00:00Z"
               in line for line in lines), lines
    assert lines[-1] == "auditkit: error: 2 problems found"


def test_single_problem_is_a_single_line(invoke, bundle):
    manifest = bundle / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("submitted_by: {name: Dana Whit, ", "submitted_by: {", 1))
    result = invoke("bundle", "verify", bundle)
    assert result.exit_code == 3
    (line,) = _errors(result)
    assert re.match(r"auditkit: error: \S+manifest\.yaml:\d+:\d+ /bundle/submitted_by: missing required key 'name'$",
                    line), line


def test_assessment_enum_and_date_problems(invoke, bundle, tmp_path):
    assessment = tmp_path / "a.yaml"
    text = (SAMPLE.parent / "acme-us.assessment.yaml").read_text()
    text = text.replace("result: affirmed", "result: afirmed", 1).replace("as_of: 2026-10-15", "as_of: 15/10/2026")
    assessment.write_text(text)
    result = invoke("assess", bundle, "--assessment", assessment)
    assert result.exit_code == 3
    out = result.output
    assert "/procedures/0/result: 'afirmed' is not allowed (did you mean 'affirmed'?); choose one of:" in out
    assert "/engagement/as_of: '15/10/2026' is not a date: write YYYY-MM-DD, e.g. 2026-09-30" in out


def test_profile_and_catalog_problems_in_words(invoke, tmp_path):
    profile = tmp_path / "p.yaml"
    text = (ROOT / "profiles" / "default.yaml").read_text()
    profile.write_text(text.replace("id: default", "id: Default Profile").replace("partial_threshold: 0.5",
                                                                                   "partial_threshold: half"))
    result = invoke("controls", "validate", profile)
    assert result.exit_code == 3, result.output
    assert "/profile/id: 'Default Profile' is not lowercase letters, digits and '-'" in result.output
    assert "/scoring/partial_threshold: expected a number, found text 'half'" in result.output
    assert "^[" not in result.output


def test_results_file_problems_in_words(invoke, tmp_path):
    bad = tmp_path / "results.json"
    bad.write_text(json.dumps({"tool": {"name": "auditkit"}}))
    result = invoke("report", bad, "-o", tmp_path / "r.pdf")
    assert result.exit_code == 3
    assert "missing required key" in result.output
    assert all(line.startswith("auditkit: error: ") for line in _errors(result))


def _patterns(node: object) -> list[tuple[str, dict]]:
    found: list[tuple[str, dict]] = []
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            found.append((node["pattern"], node))
        for value in node.values():
            found.extend(_patterns(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_patterns(value))
    return found


@pytest.mark.parametrize("name", schemas.names())
def test_every_shipped_pattern_has_words(name):
    from auditkit.schemas.messages import _DATES, _TIMESTAMP

    for pattern, node in _patterns(schemas.load(name)):
        assert pattern in PATTERN_WORDS or pattern in (_TIMESTAMP, *_DATES) or node.get("description"), (
            f"{name}: pattern {pattern} has no words for its error message")
