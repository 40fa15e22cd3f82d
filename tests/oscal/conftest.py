"""OSCAL test data: the NIST SP 800-53 rev5 baselines and the OSCAL 1.1.2 schema, read from ../shared/oscal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ..conftest import ROOT

SHARED = ROOT.parent / "shared" / "oscal"
MODERATE = SHARED / "NIST_SP-800-53_rev5_MODERATE-baseline-resolved-profile_catalog.json"
LOW = SHARED / "NIST_SP-800-53_rev5_LOW-baseline-resolved-profile_catalog.json"
LOW_PROFILE = SHARED / "NIST_SP-800-53_rev5_LOW-baseline_profile.json"
MODERATE_PROFILE = SHARED / "NIST_SP-800-53_rev5_MODERATE-baseline_profile.json"
AR_SCHEMA = SHARED / "oscal_assessment-results_schema-1.1.2.json"


@pytest.fixture(scope="session")
def shared() -> Path:
    if not MODERATE.is_file():  # CI keeps ../shared beside the clone; without it these tests cannot mean anything
        pytest.fail(f"OSCAL test data missing: {SHARED} (the NIST baselines live in ../shared/oscal)")
    return SHARED


def ar_validator(anchor: str | None = None):
    """The official OSCAL 1.1.2 assessment-results schema with format checks.

    OSCAL's patterns are ECMA-262 regular expressions (``\\p{L}`` …) that Python's ``re``
    cannot compile, so ``pattern`` is checked with ``regress``, an ECMA-262 engine, as
    JSON Schema specifies."""
    import jsonschema
    import regress

    cache: dict[str, regress.Regex] = {}

    def pattern(validator, patrn, instance, schema):
        if not validator.is_type(instance, "string"):
            return
        compiled = cache.get(patrn) or cache.setdefault(patrn, regress.Regex(patrn, "u"))
        if compiled.find(instance) is None:
            yield jsonschema.ValidationError(f"{instance!r} does not match {patrn!r}")

    checker = jsonschema.Draft7Validator.FORMAT_CHECKER
    assert {"date-time", "uri", "uri-reference", "email"} <= set(checker.checkers)  # format checks really run
    validator_class = jsonschema.validators.extend(jsonschema.Draft7Validator, {"pattern": pattern})
    schema = json.loads(AR_SCHEMA.read_text())
    if anchor is not None:  # one definition of the schema (e.g. an observation), for parts of other documents
        schema = {k: v for k, v in schema.items() if k in ("$schema", "$id", "definitions")}
        schema["allOf"] = [{"$ref": f"#assembly_{anchor}"}]
    return validator_class(schema, format_checker=checker)


def control_ids(path: Path) -> list[str]:
    """Every control id of an OSCAL catalog, read with compliance-trestle."""
    import trestle.oscal.catalog as oscal_catalog

    catalog = oscal_catalog.Catalog.model_validate(json.loads(path.read_text())["catalog"])
    out: list[str] = []

    def walk(controls):
        for control in controls or []:
            out.append(control.id)
            walk(control.controls)

    for group in catalog.groups or []:
        walk(group.controls)
    return out


@pytest.fixture(scope="session")
def moderate_dir(shared, tmp_path_factory) -> Path:
    """The moderate baseline imported once through the CLI."""
    from click.testing import CliRunner

    from auditkit.cli import cli

    out = tmp_path_factory.mktemp("moderate") / "nist-moderate"
    result = CliRunner().invoke(cli, ["controls", "import-oscal", str(MODERATE), "-o", str(out)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out


ASSESSED = 50
BUNDLE = ROOT / "evidence_samples" / "acme-us"


def engagement_files(catalog, folder: Path) -> tuple[Path, Path]:
    """A profile assigning some parameters and an assessment file with procedure results for 50 controls."""
    import yaml

    profile = folder / "acme-moderate.yaml"
    profile.write_text(yaml.safe_dump({
        "profile": {"id": "acme-moderate", "title": "Acme on the NIST SP 800-53 moderate baseline"},
        "set_parameters": {"ac-02_odp.10": "at least quarterly", "ac-02.02_odp.01": "disable",
                           "ac-02.02_odp.02": "72 hours"},
    }, sort_keys=False))
    procedures, implementation = [], []
    for index, control in enumerate(catalog.controls[:ASSESSED]):
        for procedure in control.procedures:
            result = "affirmed"
            if index % 10 == 3 and procedure.method == "interview":
                result = "not-affirmed"
            entry = {"control": control.id, "procedure": procedure.id, "result": result, "by": "Lee Park",
                     "date": "2026-10-08", "note": f"{procedure.method} of {control.label} done"}
            if control.id == "ac-2" and procedure.method == "test":
                entry["objectives"] = ["ac-2_obj.a-1", "ac-2_obj.a-2"]
            procedures.append(entry)
        if index % 7 == 0:
            implementation.append({"control": control.id, "status": "implemented", "origination": "inherited",
                                   "provided_by": "Example Cloud (FedRAMP Moderate)"})
    assessment = folder / "acme.assessment.yaml"
    assessment.write_text(yaml.safe_dump({
        "engagement": {"id": "EA-2026-NIST", "auditee": "Acme U.S. Data Security Inc.",
                       "auditor": {"name": "Lee Park", "organization": "Example Assurance LLP",
                                   "email": "lee.park@assurance.example"},
                       "as_of": "2026-10-15", "period": {"start": "2026-07-01", "end": "2026-09-30"},
                       "scope": "Acme U.S. data environment, NIST SP 800-53 moderate baseline"},
        "procedures": procedures,
        "implementation": implementation,
        "waivers": [{"control": catalog.controls[13].id, "justification": "Interview rescheduled after staff change",
                     "approved_by": "Chief Compliance Officer", "expires": "2026-12-31"}],
    }, sort_keys=False))
    return profile, assessment


@pytest.fixture(scope="session")
def nist_results(moderate_dir, tmp_path_factory) -> Path:
    """``auditkit assess`` of the moderate baseline with procedure results for 50 controls (results.json)."""
    from click.testing import CliRunner

    from auditkit.catalog import load_catalog
    from auditkit.cli import cli

    folder = tmp_path_factory.mktemp("nist-assessment")
    profile, assessment = engagement_files(load_catalog([moderate_dir]), folder)
    out = folder / "results.json"
    result = CliRunner().invoke(cli, ["assess", str(BUNDLE), "--controls", str(moderate_dir), "--profile",
                                      str(profile), "--assessment", str(assessment), "-o", str(out)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out
