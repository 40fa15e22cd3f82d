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
