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
from .summary import FAIL_ON_HELP, fail_on_problem

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
    """The summary on stderr (kept for ``run``): see :mod:`.summary`."""
    from .summary import print_summary as show

    show(results)


@click.command("assess")
@click.argument("bundle", type=click.Path(exists=True, path_type=Path))
@click.option("--controls", type=click.Path(exists=True, path_type=Path), help="Catalog folder (default: shipped).")
@click.option("--profile", help="Profile name or path (default: the assessment file's, else 'default').")
@click.option("--assessment", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Assessment file (default: NAME.assessment.yaml beside the bundle, if present).")
@click.option("--as-of", callback=_date, help="Date freshness and waivers are judged at (YYYY-MM-DD).")
@click.option("--format", "fmt", type=click.Choice(FORMAT_CHOICES), default="json", show_default=True,
              help="Results format (sarif: SARIF 2.1.0 for code-scanning tools).")
@click.option("-o", "--output", type=OUTPUT_FILE, metavar="FILE",
              help="Write here instead of stdout (a file, replaced atomically, or a device or FIFO).")
@click.option("--fail-under", type=click.FloatRange(0, 100), help="Exit 1 when the overall score is below this.")
@click.option("--fail-on", metavar="RATING|critical", help=FAIL_ON_HELP)
@trust_options
@limit_options
@click.pass_context
def assess(ctx: click.Context, bundle: Path, controls: Path | None, profile: str | None, assessment: Path | None,
           as_of: _dt.date | None, fmt: str, output: Path | None, fail_under: float | None, fail_on: str | None,
           trust: tuple[Path, ...], allow_integrity_failures: bool,
           workers: int, memory_mb: int, timeout: float) -> None:
    """Score the evidence in BUNDLE (folder, .zip or .tar.gz) against the controls.

    Data goes to --output, or to stdout when it is a pipe or file; a summary goes to
    stderr. On a terminal without --output (and no --format given) stdout shows the
    summary instead of the JSON. Exit 4, writing
    nothing, when an evidence file fails its manifest hash or size (unless
    --allow-integrity-failures) or the bundle signature fails --trust.
    """
    from ..engine.workers import Limits
    from ..errors import ThresholdError
    from ..fsio import output_kind, write_bytes
    from ..pipeline import run_assessment
    from ..results.formats import render
    from .summary import print_summary as show

    if output is not None:
        output_kind(output)  # a refused output path fails before the assessment runs
    run = run_assessment(bundle, controls=controls, profile=profile, assessment_path=assessment, as_of=as_of,
                         limits=Limits(workers=workers, timeout_s=timeout, memory_mb=memory_mb),
                         trust=trust, allow_integrity_failures=allow_integrity_failures)
    for note in run.notes:
        click.echo(f"auditkit: {note}", err=True)
    gate = fail_on_problem(run.results, fail_on) if fail_on else None  # a bad rating name fails before output
    chosen = ctx.get_parameter_source("fmt") is not click.core.ParameterSource.DEFAULT
    if output is None and sys.stdout.isatty() and not chosen:
        show(run.results, to_stdout=True)
        click.echo("auditkit: results not written (stdout is a terminal): pass -o results.json, or pipe, "
                   "to keep them", err=True)
    else:
        data = render(fmt, run.results)
        if output is not None:
            write_bytes(output, data)
            click.echo(f"auditkit: wrote {output}", err=True)
        else:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        show(run.results)
    score = run.results.overall.score
    if fail_under is not None and (score is None or score < fail_under):
        raise ThresholdError(f"overall score {score} is below --fail-under {fail_under:g}")
    if gate:
        raise ThresholdError(gate)
