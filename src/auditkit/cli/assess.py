"""``auditkit assess``: score a bundle against the controls and write the results."""

from __future__ import annotations

import datetime as _dt
import os
import sys
from pathlib import Path
from typing import Any

import click

from ..results.formats import FORMATS
from .options import OUTPUT_FILE
from .options import parse_date as _date

FORMAT_CHOICES = list(FORMATS)


def limit_options(func: Any) -> Any:
    func = click.option("--timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
                        help="Seconds one check may run before it is stopped and recorded as an error.")(func)
    func = click.option("--memory-mb", type=click.IntRange(min=64), default=4096, show_default=True,
                        help="Memory limit of each evaluation worker.")(func)
    func = click.option("--workers", type=click.IntRange(min=1, max=64), default=min(2, os.cpu_count() or 1),
                        show_default=True, help="Evaluation worker processes.")(func)
    return func


ALLOW_HELP = ("Go on when evidence files fail their manifest hash or size (else exit 4, nothing "
              "written): the results record the failures and the report states them on its cover.")


def trust_options(func: Any) -> Any:
    """``--trust`` (bundle signature) and ``--allow-integrity-failures``, shared by assess and run."""
    func = click.option("--allow-integrity-failures", is_flag=True, help=ALLOW_HELP)(func)
    func = click.option("--trust", type=click.Path(exists=True, dir_okay=False, path_type=Path), multiple=True,
                        help="CA certificate (PEM, repeatable) the bundle's manifest.sig must verify against "
                             "(exit 4 if it does not, or is missing). Without it a signature is recorded as "
                             "not checked.")(func)
    return func


def print_summary(results: Any) -> None:
    """Family scores and failing controls on stderr: a table on a terminal, one line otherwise."""
    overall = results.overall
    score = "n/a" if overall.score is None else f"{overall.score:.2f}"
    needs_attention = ("not-satisfied", "partially-satisfied", "insufficient-evidence")
    failing = [c for c in results.controls if c.status in needs_attention]
    if not sys.stderr.isatty():
        click.echo(f"auditkit: overall {score} ({overall.rating}); {len(failing)} of {len(results.controls)} "
                   "controls need attention", err=True)
        return
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True, no_color=bool(os.environ.get("NO_COLOR")))
    table = Table(title=f"{results.bundle.organization}: overall {score} — {overall.rating}")
    for column in ("Family", "Score", "Controls", "Statuses"):
        table.add_column(column)
    for family in results.families:
        counts = ", ".join(f"{n} {s}" for s, n in family.status_counts.items())
        table.add_row(f"{family.id} {family.title}", "n/a" if family.score is None else f"{family.score:.2f}",
                      str(family.controls), counts)
    console.print(table)
    if failing:
        bad = Table(title="Controls needing attention")
        for column in ("Control", "Severity", "Status", "Title"):
            bad.add_column(column)
        for control in failing:
            bad.add_row(control.id, control.severity, control.status, control.title)
        console.print(bad)
    if overall.capped_by:
        console.print(f"rating capped by critical controls: {', '.join(overall.capped_by)}")


@click.command("assess")
@click.argument("bundle", type=click.Path(exists=True, path_type=Path))
@click.option("--controls", type=click.Path(exists=True, path_type=Path), help="Catalog folder (default: shipped).")
@click.option("--profile", help="Profile name or path (default: the assessment file's, else 'default').")
@click.option("--assessment", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Assessment file (default: NAME.assessment.yaml beside the bundle, if present).")
@click.option("--as-of", callback=_date, help="Date freshness and waivers are judged at (YYYY-MM-DD).")
@click.option("--format", "fmt", type=click.Choice(FORMAT_CHOICES), default="json", show_default=True)
@click.option("-o", "--output", type=OUTPUT_FILE, metavar="FILE",
              help="Write here instead of stdout (a file, replaced atomically, or a device or FIFO).")
@click.option("--fail-under", type=click.FloatRange(0, 100), help="Exit 1 when the overall score is below this.")
@trust_options
@limit_options
def assess(bundle: Path, controls: Path | None, profile: str | None, assessment: Path | None,
           as_of: _dt.date | None, fmt: str, output: Path | None, fail_under: float | None,
           trust: tuple[Path, ...], allow_integrity_failures: bool,
           workers: int, memory_mb: int, timeout: float) -> None:
    """Score the evidence in BUNDLE (folder, .zip or .tar.gz) against the controls.

    Data goes to stdout or --output; a summary goes to stderr. Exit 4, writing
    nothing, when an evidence file fails its manifest hash or size (unless
    --allow-integrity-failures) or the bundle signature fails --trust.
    """
    from ..engine.workers import Limits
    from ..errors import ThresholdError
    from ..fsio import output_kind, write_bytes
    from ..pipeline import run_assessment
    from ..results.formats import render

    if output is not None:
        output_kind(output)  # a refused output path fails before the assessment runs
    run = run_assessment(bundle, controls=controls, profile=profile, assessment_path=assessment, as_of=as_of,
                         limits=Limits(workers=workers, timeout_s=timeout, memory_mb=memory_mb),
                         trust=trust, allow_integrity_failures=allow_integrity_failures)
    for note in run.notes:
        click.echo(f"auditkit: {note}", err=True)
    data = render(fmt, run.results)
    if output is not None:
        write_bytes(output, data)
        click.echo(f"auditkit: wrote {output}", err=True)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    print_summary(run.results)
    score = run.results.overall.score
    if fail_under is not None and (score is None or score < fail_under):
        raise ThresholdError(f"overall score {score} is below --fail-under {fail_under:g}")
