"""The compiled jsonschema-rs validators agree with the Python validator on every shipped and test file."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditkit import schemas, yamlio
from auditkit.evidence import manifest

ROOT = Path(__file__).resolve().parents[2]


def _documents() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(ROOT.glob("controls/*.yaml")) + sorted(ROOT.glob("tests/data/**/*.yaml")):
        found.append(("control-family", path))
    for path in sorted(ROOT.glob("profiles/*.yaml")):
        found.append(("profile", path))
    for path in sorted(ROOT.glob("evidence_samples/*/manifest.yaml")):
        found.append(("manifest", path))
    for path in sorted(ROOT.glob("evidence_samples/*.assessment.yaml")):
        found.append(("assessment", path))
    return found


@pytest.mark.parametrize(("name", "path"), _documents(), ids=lambda v: getattr(v, "name", v))
def test_fast_and_python_validators_agree(name, path):
    try:
        data = yamlio.load(path).data
    except Exception:  # noqa: BLE001 - files that are not even YAML are tested elsewhere
        pytest.skip("not loadable YAML")
    if name == "manifest":
        fast, python = manifest._fast_validator(False), manifest._validator(False)
    else:
        fast, python = schemas.fast_validator(name), schemas.validator(name)
    assert fast.is_valid(data) == (not list(python.iter_errors(data)))


def test_where_the_two_differ_the_python_validator_decides():
    """Python's `$` matches before a final newline and jsonschema-rs's does not: the fast validator
    refuses, the Python one finds nothing, and `problems` answers as the Python validator always did."""
    data = yamlio.load(next(ROOT.glob("controls/*.yaml"))).data
    data["family"]["id"] = data["family"]["id"] + "\n"
    assert not schemas.fast_validator("control-family").is_valid(data)
    assert not list(schemas.validator("control-family").iter_errors(data))
    assert schemas.problems(yamlio.Located(data, "x.yaml", {}), "control-family") == []
