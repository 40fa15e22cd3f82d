"""``auditkit controls …`` and ``auditkit schema``: validate and browse the catalog."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

import click


def _table(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> str:
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


@click.group()
def controls() -> None:
    """Validate and browse the control catalog."""


@controls.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def validate_cmd(paths: tuple[Path, ...]) -> None:
    """Check control families and profiles: schema, ids, parameters, evidence kinds, CEL.

    PATHS are YAML files or folders, or OSCAL catalog JSON files; with none, the shipped
    controls/ and profiles/.
    Every problem is reported as FILE:LINE:COL /JSON/POINTER: MESSAGE. Exit 3 if any.
    """
    from ..catalog import validate

    started = time.perf_counter()
    catalog, profiles = validate(list(paths) or None)
    elapsed = time.perf_counter() - started
    checks = sum(len(c.checks) for c in catalog.controls)
    procedures = sum(len(c.procedures) for c in catalog.controls)
    click.echo(
        f"ok: {len(catalog.families)} families, {len(catalog.controls)} controls, "
        f"{checks} checks, {procedures} procedures, {len(profiles)} profiles "
        f"valid in {elapsed * 1000:.0f} ms (catalog digest {catalog.digest[:12]})"
    )
    for family in catalog.families:
        click.echo(f"  {family.id:<4} {len(family.controls):>3} controls  {family.title}  ({family.source})")
    for profile in profiles:
        click.echo(f"  profile {profile.id}  ({profile.source})")


@controls.command("import-oscal")
@click.argument("catalog", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--profile", "profile", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="OSCAL profile (baseline or overlay) selecting controls and setting parameters.")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="New folder for the family files (one per OSCAL group).")
@click.option("--severity", type=click.Choice(["auto", "low", "medium", "high", "critical", "unrated"]),
              default="auto", show_default=True,
              help="Severity of every imported control; auto: from the baseline's impact level, else unrated.")
@click.option("--force", is_flag=True, help="Replace OUTPUT if it exists and is not empty.")
def import_oscal_cmd(catalog: Path, profile: Path | None, output: Path, severity: str, force: bool) -> None:
    """Import an OSCAL catalog (JSON) as control families, keeping its control ids.

    Controls keep their OSCAL ids (ac-2, enhancement ac-2.1) and labels (AC-2(1)),
    statements with their parameters, guidance, assessment objectives and methods
    (as procedures), parameters (label, selection, guidelines) and related controls.
    With --profile, only the controls it selects are imported and its parameter
    values become the defaults; imports of other profiles are followed. The folder
    is written only once it passes `auditkit controls validate`.
    """
    from ..oscal.importer import import_oscal

    started = time.perf_counter()
    report = import_oscal(catalog, output, profile_path=profile, severity=severity, force=force)
    elapsed = time.perf_counter() - started
    source = f" through profile {report.profile_title!r}" if report.profile_title else ""
    click.echo(f"ok: imported {report.controls} controls ({report.enhancements} enhancements) in "
               f"{len(report.families)} families{source}, {report.params} parameters, {report.procedures} "
               f"procedures, severity {report.severity}, in {elapsed:.1f} s")
    if report.withdrawn:
        click.echo(f"  left out {len(report.withdrawn)} withdrawn controls", err=True)
    click.echo(f"  wrote {report.output}; check it with: auditkit controls validate {report.output}")


@controls.command("list")
@click.option("--controls", "controls_dir", type=click.Path(path_type=Path), help="Catalog folder (default: shipped).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def list_cmd(controls_dir: Path | None, fmt: str) -> None:
    """List every control of the catalog."""
    from ..catalog import load_catalog

    catalog = load_catalog([controls_dir] if controls_dir else None)
    if fmt == "json":
        rows = [
            {"id": c.id, "label": c.label, "family": c.family, "title": c.title, "severity": c.severity,
             "checks": len(c.checks), "procedures": len(c.procedures),
             "evidence": [e.kind for e in c.evidence]}
            for c in catalog.controls
        ]
        click.echo(json.dumps({"catalog_digest": catalog.digest, "controls": rows}, indent=2))
        return
    rows_t = [(c.id, c.label or "", c.severity, str(len(c.checks)), str(len(c.procedures)), c.title)
              for c in catalog.controls]
    click.echo(_table(rows_t, ("ID", "LABEL", "SEVERITY", "CHECKS", "PROCEDURES", "TITLE")))


@controls.command("show")
@click.argument("control_id")
@click.option("--controls", "controls_dir", type=click.Path(path_type=Path), help="Catalog folder (default: shipped).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def show_cmd(control_id: str, controls_dir: Path | None, fmt: str) -> None:
    """Show one control in full."""
    from ..catalog import load_catalog
    from ..errors import InvalidInputError

    catalog = load_catalog([controls_dir] if controls_dir else None)
    control = catalog.find(control_id)
    if control is None:
        raise InvalidInputError(f"no control {control_id!r} in the catalog",
                                hint="see `auditkit controls list`")
    if fmt == "json":
        click.echo(json.dumps(control.model_dump(mode="json", by_alias=True, exclude_none=True), indent=2))
        return
    shown = f"{control.label} ({control.id})" if control.label and control.label != control.id else control.id
    out = [f"{shown}  {control.title}", f"severity: {control.severity}"]
    if control.objective:
        out += ["", f"Objective: {control.objective}"]
    if control.rationale:
        out.append(f"Rationale: {control.rationale}")
    refs = control.references
    if refs.agreement or refs.nist_800_53:
        out.append(f"References: {refs.agreement or ''}  NIST SP 800-53: {', '.join(refs.nist_800_53)}")
    if control.statement:
        from ..catalog.text import lines

        out += ["", "Statement:"]
        for line in lines(control.statement, {}, control.params):
            words = "".join(s["text"] for s in line["segments"])
            out.append("  " * (line["level"] + 1) + " ".join(filter(None, (line["label"], words))))
    if control.parent or control.related:
        out.append("")
        if control.parent:
            out.append(f"Enhancement of: {control.parent}")
        if control.related:
            out.append(f"Related: {', '.join(control.related)}")
    if control.params:
        out += ["", "Parameters:"]
        for n, p in control.params.items():
            value = json.dumps(p.default) if p.default is not None else "(no default: the profile assigns it)"
            label = f" {p.label}:" if p.label else ""
            out.append(f"  {n} ({p.type}){label} {value}")
            if p.select:
                out.append(f"      choose {p.select.how_many}: {'; '.join(p.select.choice)}")
    out += ["", "Evidence:"]
    for e in control.evidence:
        extra = [f"formats {', '.join(e.formats)}", "required" if e.required else "optional"]
        if e.max_age_days:
            extra.append(f"max age {e.max_age_days} days")
        if e.coverage:
            extra.append(f"coverage {e.coverage}")
        out.append(f"  {e.kind}: {'; '.join(extra)}")
    out += ["", "Checks:"]
    for check in control.checks:
        out.append(f"  {check.id}  {check.title}")
        for field, source in check.expressions.items():
            out.append(f"      {field}: {source}")
    out += ["", "Procedures:"] + [f"  {p.id} [{p.method}] {p.prompt}" for p in control.procedures]
    if control.objectives:
        out += ["", f"Assessment objectives: {len(control.objective_ids())}"]
    if control.guidance:
        out += ["", f"Guidance: {control.guidance}"]
    if control.remediation:
        out += ["", f"Remediation: {control.remediation}"]
    click.echo("\n".join(out))


@click.command("schema")
@click.argument("name", required=False)
def schema(name: str | None) -> None:
    """Print a shipped JSON Schema (control-family, profile, manifest, …); no NAME lists them."""
    from .. import schemas

    if name is None:
        click.echo("\n".join(schemas.names()))
        return
    click.echo(schemas.path(name).read_text(encoding="utf-8"), nl=False)
