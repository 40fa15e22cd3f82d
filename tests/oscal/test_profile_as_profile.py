"""An OSCAL profile wherever a profile is accepted, and auditkit overlays on it (e.g. FedRAMP-style on NIST)."""

from __future__ import annotations

import json

from auditkit.catalog import load_catalog, load_profile

from .conftest import LOW_PROFILE


def test_the_nist_low_profile_scopes_the_moderate_catalog(moderate_dir):
    catalog = load_catalog([moderate_dir])
    profile = load_profile(LOW_PROFILE, catalog)
    wanted = json.loads(LOW_PROFILE.read_text())["profile"]["imports"][0]["include-controls"][0]["with-ids"]
    assert sorted(c.id for c in catalog.controls if profile.in_scope(c)) == sorted(wanted)
    assert profile.title.startswith("NIST Special Publication 800-53 Revision 5.1.1 LOW")


def test_a_yaml_overlay_imports_the_oscal_profile_and_sets_parameters_by_oscal_id(moderate_dir, tmp_path):
    catalog = load_catalog([moderate_dir])
    overlay = tmp_path / "agency.yaml"
    overlay.write_text(f"""\
profile: {{id: agency, title: Agency overlay}}
imports: [{LOW_PROFILE}]
include_controls: [ac-1, ac-2, ac-3]
set_parameters:
  ac-02_odp.10: at least quarterly
  ac-02.02_odp.01: disable
""")
    profile = load_profile(overlay, catalog)
    assert [c.id for c in catalog.controls if profile.in_scope(c)] == ["ac-1", "ac-2", "ac-3"]
    assert profile.param_values(catalog.control("ac-2")) == {"ac-02_odp.10": "at least quarterly"}


def test_a_selection_not_in_the_catalog_is_refused(invoke, moderate_dir, tmp_path):
    overlay = tmp_path / "bad.yaml"
    overlay.write_text("profile: {id: bad, title: Bad}\nset_parameters: {ac-02.02_odp.01: delete}\n")
    result = invoke("controls", "validate", moderate_dir, overlay)
    assert result.exit_code == 3
    assert "/set_parameters/ac-02.02_odp.01: 'delete' is not one of the choices ['remove', 'disable']" in result.output
