"""Manifest loading: schema errors with positions, semantic checks, the shipped schema."""

from __future__ import annotations

import json
import re

import pytest

from auditkit.errors import ProblemList
from auditkit.evidence import parse_manifest
from auditkit.resources import schema_dir

from .conftest import FILES, MANIFEST_HEAD, item_yaml, manifest_for


def problems(text: str) -> list[str]:
    with pytest.raises(ProblemList) as caught:
        parse_manifest(text.encode(), "manifest.yaml")
    return caught.value.lines


def test_valid_manifest_builds_frozen_models():
    manifest, data = parse_manifest(manifest_for(FILES).encode(), "manifest.yaml")
    assert manifest.bundle.id == "acme-us-2026-q3"
    assert manifest.bundle.period.start.isoformat() == "2026-07-01"
    assert data["bundle"]["created"] == "2026-10-03T14:00:00Z"  # as written
    item = manifest.item("evidence/egress-flow-log.csv")
    assert item is not None and item.format == "csv" and item.size == len(FILES[item.path])
    with pytest.raises(Exception, match="frozen"):
        item.size = 1  # type: ignore[misc]


def test_every_schema_error_is_reported_with_line_and_pointer():
    text = manifest_for(FILES)
    text = text.replace("id: acme-us-2026-q3", "id: Acme Q3")
    text = text.replace("kind: egress-flow-log", "kind: Egress_Log")
    text = text.replace("size: 57", "size: -1", 1)
    text += "    colour: red\n"
    lines = problems(text)
    assert len(lines) >= 3
    for line in lines:
        assert re.match(r"^manifest\.yaml:\d+:\d+ /\S*: ", line), line
    joined = "\n".join(lines)
    assert "manifest.yaml:3:7 /bundle/id:" in joined
    assert "/items/1/kind" in joined
    assert "/items/0/size: -1 is below the lowest allowed value 0" in joined
    assert "unknown key 'colour'" in joined
    assert "^[" not in joined  # patterns in words, never as regexes


def test_bad_calendar_date_is_reported_at_its_place():
    lines = problems(manifest_for(FILES).replace("end: 2026-09-30}\n  submitted", "end: 2026-02-30}\n  submitted"))
    assert any(line.startswith("manifest.yaml:5:") and "/bundle/period/end" in line for line in lines)


def test_file_listed_twice():
    text = MANIFEST_HEAD + item_yaml("evidence/a.json", b"[]", "a") + item_yaml("evidence/A.json", b"[]", "a")
    (line,) = problems(text)
    assert "/items/1/path" in line and "listed twice" in line


@pytest.mark.parametrize(
    ("path", "reason"),
    [("manifest.sig", "cannot be listed"), ("evidence/a.docx", "unsupported file type"),
     ("evidence/../x.json", "is not a relative path with '/' separators, no '..'")],
)
def test_bad_item_paths(path, reason):
    (line,) = problems(MANIFEST_HEAD + item_yaml(path, b"x", "k"))
    assert reason in line and "/items/0/path" in line


def test_period_must_not_end_before_it_starts():
    (line,) = problems(manifest_for(FILES).replace("{start: 2026-07-01, end: 2026-09-30}\n  submitted",
                                                    "{start: 2026-10-01, end: 2026-09-30}\n  submitted"))
    assert "/bundle/period" in line and "before it starts" in line


def test_aliases_refused():
    from auditkit.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="aliases"):
        parse_manifest(b"bundle: &a {id: x}\nitems: [*a]\n", "manifest.yaml")


def test_shipped_schema_is_2020_12_and_printed_by_the_cli(cli):
    schema = json.loads((schema_dir() / "manifest.schema.json").read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    result = cli("schema", "manifest")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["title"] == schema["title"]


def test_draft_manifest_may_lack_hashes():
    text = MANIFEST_HEAD + "  - {path: evidence/a.json, kind: a, collected_at: 2026-09-30T00:00:00Z}\n"
    manifest, _ = parse_manifest(text.encode(), "manifest.yaml", draft=True)
    assert manifest.items[0].path == "evidence/a.json"
    lines = problems(text)
    assert any("missing required key 'sha256'" in line for line in lines)
