"""Every registered format: wired, renders bytes, deterministic, honest NAME/SUFFIX."""

from __future__ import annotations

import pytest

from auditkit.results import formats


@pytest.mark.parametrize("name", sorted(formats.FORMATS))
def test_every_registered_format_renders(results, name):
    module = formats.get(name)
    assert module.NAME == name
    assert module.SUFFIX.startswith(".")
    data = formats.render(name, results)
    assert isinstance(data, bytes) and data
    data.decode("utf-8")


@pytest.mark.parametrize("name", sorted(formats.FORMATS))
def test_same_results_give_the_same_bytes(make_results, name):
    assert formats.render(name, make_results()) == formats.render(name, make_results())


@pytest.mark.parametrize("name", sorted(formats.FORMATS))
def test_different_bundles_give_different_bytes(make_results, name):
    other = make_results(root_hash="9" * 64)
    assert formats.render(name, make_results()) != formats.render(name, other) or name == "csv"


def test_the_documented_formats_are_registered():
    assert {"json", "junit"} <= set(formats.FORMATS)


@pytest.mark.parametrize("name", sorted(formats.FORMATS))
def test_lone_surrogates_from_a_loaded_results_file_do_not_crash(make_results, make_control, name):
    # json.loads accepts "\ud800" escapes, so a results file (or evidence) can carry them.
    control = make_control("DL-1", "DL", "not-satisfied", credit=0.0, title="a\ud800b", remediation="=x\udfff")
    formats.render(name, make_results(controls=[control])).decode("utf-8")


def test_every_assess_format_choice_is_registered():
    import auditkit.cli.assess as assess
    assert sorted(assess.FORMAT_CHOICES) == sorted(formats.FORMATS)


def test_json_written_by_orjson_is_the_standard_library_layout(make_results, make_control):
    """results.json is written by orjson; where the standard library must take over, the layout is the same."""

    from auditkit.results.io import _stdlib_json, to_json_bytes

    plain = make_results()
    assert to_json_bytes(plain) == _stdlib_json(plain.model_dump(mode="json"))
    data = plain.model_dump(mode="json")
    check = next(c for control in data["controls"] for c in control["checks"] if c["offenders"] is not None)
    check["offenders"] = [{"id": 2**70, "size": 1.5}]  # past 64 bits: orjson refuses, the standard library writes it
    big = plain.model_validate(data)
    assert to_json_bytes(big) == _stdlib_json(big.model_dump(mode="json"))
    assert b"1180591620717411303424" in to_json_bytes(big)


def test_shipped_results_schema_is_the_one_the_model_generates():
    import json
    from pathlib import Path

    from auditkit.results.io import generated_schema
    from auditkit.schemas import __file__ as schemas_init

    shipped = json.loads((Path(schemas_init).parent / "results.schema.json").read_text())
    assert shipped == generated_schema(), "regenerate: python -m auditkit.results.io --schema"
