"""``auditkit crosswalk``: results rolled up onto the NIST SP 800-53 controls the catalog references."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


@click.command("crosswalk")
@click.argument("results", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--catalog", type=click.Path(exists=True, path_type=Path),
              help="NIST SP 800-53 OSCAL catalog (JSON) or a folder imported from one, to resolve references in.")
@click.option("--format", "fmt", type=click.Choice(["markdown", "json"]), default="markdown", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout.")
def crosswalk(results: Path, catalog: Path | None, fmt: str, output: Path | None) -> None:
    """Roll the control statuses in RESULTS up onto NIST SP 800-53 controls.

    Each control's `nist_800_53` references (SA-9(5)) become 800-53 control ids
    (sa-9.5); every 800-53 control gets the controls mapped onto it and the worst
    status among those assessed. With --catalog, references are resolved in that
    catalog (titles, labels) and those it lacks are listed on stderr.
    """
    from ..results import crosswalk as view
    from ..results.io import load_results

    titles: dict[str, tuple[str, str]] | None = None
    title = None
    if catalog is not None:
        titles, title = _catalog_titles(catalog)
    built = view.build(load_results(results), titles, title)
    text = view.markdown(built) if fmt == "markdown" else json.dumps(view.as_json(built), indent=2) + "\n"
    if output is not None:
        from ..fsio import write_text

        write_text(output, text)
        click.echo(f"auditkit: wrote {output}", err=True)
    else:
        sys.stdout.write(text)
    click.echo(f"auditkit: {len(built.rows)} NIST SP 800-53 controls referenced", err=True)
    if built.unresolved:
        click.echo(f"auditkit: {len(built.unresolved)} references not in {title or catalog}: "
                   + ", ".join(f"{ref} ({c})" for c, ref in built.unresolved), err=True)


def _catalog_titles(path: Path) -> tuple[dict[str, tuple[str, str]], str]:
    if path.is_dir():
        from ..catalog import load_catalog

        loaded = load_catalog([path])
        frameworks = {f.framework.title for f in loaded.families if f.framework}
        return {c.id: (c.display_id, c.title) for c in loaded.controls}, ", ".join(sorted(frameworks)) or str(path)
    from ..oscal import documents
    from ..oscal.catalog import label_of, walk_controls

    model = documents.load(path, "catalog")
    out = {c.id: (label_of(c) or c.id, " ".join(c.title.split())) for c in walk_controls(model)}
    return out, " ".join(model.metadata.title.split())
