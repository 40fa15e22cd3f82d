"""Profiles: include/exclude by id, imports of other profiles (overlays), parameters by id, OSCAL profiles."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditkit.catalog import load_catalog, load_profile
from auditkit.errors import ProblemList


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def scope(profile, catalog) -> list[str]:
    return [c.id for c in catalog.controls if profile.in_scope(c)]


def test_include_controls_adds_to_families_and_exclude_removes(tmp_path, catalog):
    path = write(tmp_path, "p.yaml", """\
profile: {id: picked, title: Picked}
families: [AR]
include_controls: [DL-1, TP-2]
exclude_controls: [AR-7]
""")
    profile = load_profile(path, catalog)
    assert scope(profile, catalog) == ["AR-1", "AR-2", "AR-3", "AR-4", "AR-5", "AR-6", "DL-1", "TP-2"]


def test_an_overlay_narrows_its_import_and_wins_on_parameters(tmp_path, catalog):
    write(tmp_path, "base.yaml", """\
profile: {id: base, title: Base}
families: [DL, TP]
params: {DL-1: {approved_regions: [us-east-1]}, DL-6: {min_password_length: 20}}
weights: {DL-1: 9}
not_applicable: [{control: TP-5, justification: No recommendation models in scope.}]
scoring: {partial_threshold: 0.75}
""")
    path = write(tmp_path, "overlay.yaml", """\
profile: {id: overlay, title: Overlay}
imports: [base.yaml]
exclude_controls: [TP-1]
params: {DL-1: {approved_regions: [us-west-2]}}
""")
    profile = load_profile(path, catalog)
    assert scope(profile, catalog) == ["DL-1", "DL-2", "DL-3", "DL-4", "DL-5", "DL-6", "DL-7",
                                       "TP-2", "TP-3", "TP-4", "TP-5", "TP-6", "TP-7"]
    dl1, dl6 = catalog.control("DL-1"), catalog.control("DL-6")
    assert profile.param_values(dl1)["approved_regions"] == ["us-west-2"]
    assert profile.param_values(dl6)["min_password_length"] == 20
    assert profile.weight(dl1) == 9
    assert profile.not_applicable_reason(catalog.control("TP-5")).startswith("No recommendation")
    assert profile.scoring.partial_threshold == 0.75  # the overlay states no scoring: the import's applies


def test_an_overlay_on_a_shipped_profile_by_name(tmp_path, catalog):
    path = write(tmp_path, "mine.yaml", "profile: {id: mine, title: Mine}\nimports: [strict]\nfamilies: [DL]\n")
    profile = load_profile(path, catalog)
    assert scope(profile, catalog) == [f"DL-{i}" for i in range(1, 8)]
    assert profile.param_values(catalog.control("DL-1"))["approved_regions"] == ["us-ashburn-1", "us-phoenix-1"]


def test_set_parameters_by_name_across_the_catalog(tmp_path, catalog):
    path = write(tmp_path, "p.yaml", "profile: {id: p, title: P}\nset_parameters: {min_password_length: 18}\n")
    profile = load_profile(path, catalog)
    assert profile.param_values(catalog.control("DL-6"))["min_password_length"] == 18


@pytest.mark.parametrize(("body", "expected"), [
    ("set_parameters: {no_such_param: 1}", "/set_parameters/no_such_param: no control of the catalog has a parameter"),
    ("set_parameters: {min_password_length: long}", "/set_parameters/min_password_length: 'long' is not of type integer"),
    ("include_controls: [DL-99]", "/include_controls/0: unknown control 'DL-99'"),
    ("imports: [missing.yaml]", "missing.yaml: file not found"),
    ("imports: [p.yaml]", "leads back to itself (an import cycle)"),
])
def test_profile_problems_are_one_clear_line(tmp_path, catalog, body, expected):
    path = write(tmp_path, "p.yaml", f"profile: {{id: p, title: P}}\n{body}\n")
    with pytest.raises(ProblemList) as caught:
        load_profile(path, catalog)
    assert any(expected in line for line in caught.value.problems), caught.value.problems


def test_an_ambiguous_parameter_name_must_be_set_per_control(tmp_path, catalog):
    owners = catalog.param_owners()
    shared = next(name for name, controls in owners.items() if len(controls) > 1)
    path = write(tmp_path, "p.yaml", f"profile: {{id: p, title: P}}\nset_parameters: {{{shared}: x}}\n")
    with pytest.raises(ProblemList) as caught:
        load_profile(path, catalog)
    assert "set it per control under params" in caught.value.problems[0]


def test_validate_reports_a_broken_import_in_the_importing_file(invoke, tmp_path):
    write(tmp_path, "base.yaml", "profile: {id: base, title: Base}\nfamilies: [ZZ]\n")
    path = write(tmp_path, "p.yaml", "profile: {id: p, title: P}\nimports: [base.yaml]\n")
    result = invoke("controls", "validate", path)
    assert result.exit_code == 3
    assert "base.yaml" in result.output and "unknown family 'ZZ'" in result.output
