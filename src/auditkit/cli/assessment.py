"""``auditkit assessment init``: scaffold the auditor's assessment file for a profile."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import click

from .options import OUTPUT_FILE
from .options import parse_date as _date


@click.group()
def assessment() -> None:
    """The auditor's assessment file (procedure results, waivers, overrides)."""


@assessment.command("init")
@click.option("--bundle", type=click.Path(exists=True, path_type=Path),
              help="Evidence bundle: auditee, period and as-of date come from its manifest, and the file "
                   "goes beside it as NAME.assessment.yaml (where `assess` finds it).")
@click.option("--profile", default="default", show_default=True, help="Profile name or path.")
@click.option("--controls", "controls_dir", type=click.Path(exists=True, path_type=Path),
              help="Catalog folder (default: shipped).")
@click.option("--auditor", required=True, help="Your name, written as `by` of every procedure.")
@click.option("--auditor-org", help="Your organization.")
@click.option("--auditee", help="The audited organization (default: the bundle's).")
@click.option("--as-of", callback=_date, help="Date freshness and waivers are judged at [default: the bundle's "
                                              "created date, else today].")
@click.option("--id", "engagement_id", help="Engagement id, e.g. EA-2026-Q3-ACME.")
@click.option("-o", "--output", type=OUTPUT_FILE, help="Where to write [default: beside the bundle].")
@click.option("--force", is_flag=True, help="Replace an existing file.")
def init_cmd(bundle: Path | None, profile: str, controls_dir: Path | None, auditor: str, auditor_org: str | None,
             auditee: str | None, as_of: _dt.date | None, engagement_id: str | None, output: Path | None,
             force: bool) -> None:
    """Write an assessment file listing every procedure of the profile, to be filled in.

    Each procedure comes with its method and question as a comment and
    `result: not-performed`; set each result as you perform it. Waivers and
    overrides are left empty with commented examples. The file is checked against
    the assessment schema before it is written.
    """
    from .. import schemas, yamlio
    from ..catalog import load_catalog, load_profile
    from ..catalog.scaffold import bundle_facts, in_scope, scaffold_assessment
    from ..errors import UsageError
    from ..fsio import write_text
    from ..pipeline import default_assessment_path

    facts: dict[str, object] = {}
    if bundle is not None:
        from ..evidence import open_bundle

        with open_bundle(bundle) as opened:
            facts = bundle_facts(opened)
    target = output or (default_assessment_path(bundle) if bundle is not None else None)
    if target is None:
        raise UsageError("say where to write it", hint="pass -o FILE, or --bundle B to write it beside the bundle")
    if (auditee or facts.get("auditee")) is None:
        raise UsageError("no auditee", hint="pass --auditee NAME or --bundle B")
    if target.exists() and not force and target.is_file():
        raise UsageError("already exists", where=str(target), hint="edit it, or pass --force to start again")
    catalog = load_catalog([controls_dir] if controls_dir else None)
    chosen = load_profile(profile, catalog)
    period = facts.get("period")
    text = scaffold_assessment(
        catalog, chosen, auditee=str(auditee or facts["auditee"]), auditor=auditor, auditor_organization=auditor_org,
        as_of=as_of or facts.get("as_of") or _dt.date.today(),  # type: ignore[arg-type]
        period=period if isinstance(period, tuple) else None, engagement_id=engagement_id,
    )
    schemas.check(yamlio.loads(text, str(target)), "assessment")
    write_text(target, text)
    count = sum(len(c.procedures) for c in in_scope(catalog, chosen))
    click.echo(str(target))
    click.echo(f"auditkit: wrote {target} with {count} procedures of profile {chosen.id!r}; "
               "set each result as you perform it", err=True)
