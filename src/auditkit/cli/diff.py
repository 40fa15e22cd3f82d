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
@click.option("--trust", type=click.Path(exists=True, dir_okay=False, path_type=Path), multiple=True,
              help="CA certificate(s) (PEM): verify signed reports before reading their results (exit 4 if not).")
@click.option("--exit-code", "exit_code", is_flag=True,
              help="Exit 1 when anything changed (like `git diff --exit-code`), 0 when nothing did.")
def diff(old: Path, new: Path, fmt: str, output: Path | None, trust: tuple[Path, ...], exit_code: bool) -> None:
    """Compare two assessments: status changes per control (added and removed
    controls too), overall and family score deltas and the rating change, evidence
    whose SHA-256 changed or that was added or removed, and new and resolved findings.

    OLD and NEW are results.json files written by `auditkit assess`, or signed PDF
    reports: their embedded results.json is compared, after the report is verified
    with --trust (without it, a note on stderr says the signature was not checked).
    """
    from ..results.diff import diff_files, render

    notes: list[str] = []
    compared = diff_files(old, new, trust=trust, notes=notes)
    for note in notes:
        click.echo(f"auditkit: warning: {note}", err=True)
    data = render(compared, fmt)  # type: ignore[arg-type]
    if output is None:
        click.echo(data, nl=False)
    else:
        from ..fsio import write_bytes

        write_bytes(output, data)
        click.echo(f"auditkit: wrote {output}", err=True)
    if exit_code and compared.changed:
        raise SystemExit(1)
