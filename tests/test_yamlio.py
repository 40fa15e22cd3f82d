"""The safe YAML loader as users meet it: `controls validate` on families and profiles,
`bundle verify` on manifests. Every refusal is one line naming file:line:col (exit 3)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from auditkit import yamlio
from auditkit.errors import InvalidInputError

FAMILY = (Path(__file__).parent / "data" / "zz-family.yaml").read_text(encoding="utf-8")
"""A valid family: ZZ-1 with one parameter, one evidence kind, one check, one procedure."""


def problem_lines(output: str) -> list[str]:
    """The problem lines, without the "auditkit: error: " every failure line starts with, nor the count."""
    prefix = "auditkit: error: "
    return [line.removeprefix(prefix) for line in output.splitlines()
            if line.startswith(prefix) and not re.fullmatch(r"\d+ problems? found", line.removeprefix(prefix))]


def validate(invoke, tmp_path: Path, text: str):
    path = tmp_path / "fam.yaml"
    path.write_text(text, encoding="utf-8")
    return path, invoke("controls", "validate", path)


@pytest.mark.parametrize(
    ("old", "new", "place", "message"),
    [
        # aliases and tags in key position
        ("    remediation: Fix the things.\n", "    remediation: Fix the things.\n    ? *k\n    : x\n",
         "19:7", "YAML aliases and anchors are not allowed (alias *k)"),
        ("    severity: high", "    !!str severity: high", "6:5", "YAML tag '!!str' is not allowed"),
        ("    severity: high", "    !custom severity: high", "6:5", "YAML tag '!custom' is not allowed"),
        ("    severity: high", "    &k severity: high", "6:5", "YAML aliases and anchors are not allowed (anchor &k)"),
        # an anchor that is never aliased
        ("    severity: high", "    severity: &level high", "6:15",
         "YAML aliases and anchors are not allowed (anchor &level)"),
        ("      limit: {type: integer, default: 3}", "      limit: &p {type: integer, default: 3}", "8:14",
         "YAML aliases and anchors are not allowed (anchor &p)"),
        # explicit standard tags, which used to be ignored silently
        ("default: 3}", 'default: !!int "3"}', "8:39", "YAML tag '!!int' is not allowed"),
        ("severity: high", "severity: !!str high", "6:15", "YAML tag '!!str' is not allowed"),
        ("default: 3}", "default: !<tag:yaml.org,2002:int> 3}", "8:39", "YAML tag '!!int' is not allowed"),
        ("default: 3}", "default: ! 3}", "8:39", "YAML tag '!' is not allowed"),
        # a merge key stays refused
        ("    severity: high", "    severity: high\n    <<: {rationale: x}", "7:5", "YAML merge keys (<<) are not allowed"),
        # integers Python cannot turn into text
        ("default: 3}", "default: " + "9" * 4301 + "}", "8:39", "integer of more than 4300 digits"),
        ("default: 3}", "default: 0x" + "f" * 3600 + "}", "8:39", "integer of more than 4300 digits"),
        ("default: 3}", "default: -" + "1" * 5000 + "}", "8:39", "integer of more than 4300 digits"),
        ("    severity: high", "    [severity]: high", "6:5", "mapping keys must be scalars"),
        ("    severity: high", "    severity: high\n    severity: low", "7:5", "duplicate key 'severity'"),
        ("    remediation: Fix the things.\n", "    remediation: Fix the things.\n---\nfamily: {}\n",
         "19:1", "more than one YAML document"),
    ],
)
def test_refused_with_one_line_naming_the_place(invoke, tmp_path, old, new, place, message):
    assert old in FAMILY
    path, result = validate(invoke, tmp_path, FAMILY.replace(old, new, 1))
    assert result.exit_code == 3, result.output
    lines = problem_lines(result.output)
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"{path}:{place}: {message}"), lines[0]


def test_plain_equals_and_double_angle_values_are_strings(invoke, tmp_path):
    text = FAMILY.replace("title: Things are fine", "title: <<").replace("objective: Something holds.", "objective: =")
    path, result = validate(invoke, tmp_path, text)
    assert result.exit_code == 0, result.output
    shown = invoke("controls", "show", "ZZ-1", "--controls", tmp_path, "--format", "json")
    control = json.loads(shown.output)
    assert (control["title"], control["objective"]) == ("<<", "=")


def test_quoted_double_angle_key_is_an_ordinary_key():
    assert yamlio.loads('"<<": 1\n=: 2\n').data == {"<<": 1, "=": 2}


def test_integer_of_4300_digits_is_still_read():
    assert yamlio.loads("n: " + "7" * 4300 + "\n").data["n"] == int("7" * 4300)


def test_a_manifest_with_an_unused_anchor_is_refused(invoke, tmp_path, root):
    import shutil

    bundle = tmp_path / "bundle"
    shutil.copytree(root / "evidence_samples" / "acme-us", bundle)
    manifest = bundle / "manifest.yaml"
    text = manifest.read_text(encoding="utf-8")
    assert "  organization: " in text
    manifest.write_text(text.replace("  organization: ", "  organization: &org ", 1), encoding="utf-8")
    result = invoke("bundle", "verify", bundle)
    assert result.exit_code == 3, result.output
    line = next(line for line in result.output.splitlines() if "anchor &org" in line)
    assert f"{bundle}/manifest.yaml:4:17: YAML aliases and anchors are not allowed (anchor &org)" in line


@pytest.mark.parametrize("text", ["a: &x 1\n", "? &x k\n: 1\n", "k: !!binary aGk=\n", "? !!str k\n: 1\n", "a: *x\n"])
def test_loader_refuses_every_anchor_alias_and_tag(text):
    with pytest.raises(InvalidInputError) as caught:
        yamlio.loads(text, "t.yaml")
    assert caught.value.where is not None and caught.value.where.startswith("t.yaml:")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"title: A\x1dcontrol", "fam.yaml:4:13: character U+001D is not allowed in YAML"),
        ("title: Aé\u0097".encode(), "fam.yaml:4:14: character U+0097 is not allowed in YAML"),
        (b"title: A\xff control", "fam.yaml:4:13: file is not valid UTF-8 (byte 0xFF)"),
    ],
)
def test_unreadable_characters_are_named_by_line_and_column(invoke, tmp_path, raw, message):
    path = tmp_path / "fam.yaml"
    path.write_bytes(FAMILY.encode().replace(b"title: Things are fine", raw))
    result = invoke("controls", "validate", path)
    assert result.exit_code == 3, result.output
    assert f"{tmp_path}/{message}" in result.output


def test_hostile_names_are_quoted_short(invoke, tmp_path):
    """Found by the fuzz suite: a 5,000-character alias name was echoed whole."""
    path, result = validate(invoke, tmp_path, FAMILY.replace("severity: high", "severity: *" + "x" * 5000))
    (line,) = problem_lines(result.output)
    assert result.exit_code == 3 and len(line) < 300 and line.endswith("(write the value out in full)"), line
