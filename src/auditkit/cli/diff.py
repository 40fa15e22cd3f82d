"""``auditkit diff OLD NEW``: what changed between two assessments.

The work is done by :mod:`auditkit.results.diff`, imported when the command runs.
"""

from __future__ import annotations

from pathlib import Path

import click

from .options import OUTPUT_FILE


@click.command()
@click.argument("old", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("new", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["markdown", "json"]), default="markdown",
              show_default=True, help="Markdown for people, JSON for tools.")
@click.option("-o", "--output", type=OUTPUT_FILE, metavar="FILE",
              help="Write here instead of stdout (a file, replaced atomically, or a device or FIFO).")
def diff(old: Path, new: Path, fmt: str, output: Path | None) -> None:
    """Compare two results files: status changes per control (added and removed
    controls too), overall and family score deltas and the rating change, evidence
    whose SHA-256 changed or that was added or removed, and new and resolved findings.

    OLD and NEW are results.json files written by `auditkit assess`. Signed PDF
    reports are recognised but not read yet.
    """
    from ..results.diff import diff_files, render

    data = render(diff_files(old, new), fmt)  # type: ignore[arg-type]
    if output is None:
        click.echo(data, nl=False)
        return
    from ..fsio import write_bytes

    write_bytes(output, data)
    click.echo(f"auditkit: wrote {output}", err=True)
