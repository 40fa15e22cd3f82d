"""The ``auditkit`` command line: parse options, call the library, print.

:func:`main` is the console-script entry point. The click group lives in
:mod:`.app` and every subcommand in its own module, imported only when used.
``auditkit --help`` alone is answered from :data:`HELP` without importing click
at all (start-up is most of its cost); a test keeps that text equal to what the
click group prints.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing is not imported at run time (start-up)
if TYPE_CHECKING:
    from typing import Any

HELP = """\
Usage: auditkit [OPTIONS] COMMAND [ARGS]...

  auditkit: check safeguard controls against evidence and issue signed
  reports.

  Exit codes: 0 ok, 1 score under --fail-under, 2 usage, 3 invalid input,
  4 integrity or signature failure, 5 internal error,
  6 intake server unreachable (submit/fetch only).

Options:
  --debug     Show tracebacks for errors.
  --version   Show the version and exit.
  -h, --help  Show this message and exit.

Commands:
  assess      Score the evidence in BUNDLE (folder, .zip or .tar.gz)...
  assessment  The auditor's assessment file (procedure results, waivers,...
  bundle      Start, seal, pack, verify and inspect evidence bundles (see...
  controls    Validate and browse the control catalog.
  cosign      Add a co-signature to REPORT.pdf, a report the auditor has...
  crosswalk   Roll the control statuses in RESULTS up onto NIST SP 800-53...
  demo        The whole pipeline on every sample bundle, signed with a...
  diff        Compare two assessments: status changes per control (added...
  fetch       Download bundle ID with its receipt; prints the archive path.
  intake      Operate an intake store: tokens, the receipt key, the...
  keys        Signing keys for reports.
  portfolio   Organizations with their latest rating and score, the...
  receipt     Intake receipts.
  report      Render RESULTS (results.json from 'auditkit assess') as a...
  run         Assess BUNDLE, render the PDF report and sign it, into OUTDIR.
  schema      Print a shipped JSON Schema (control-family, profile,...
  serve       Run the evidence intake server on STORE (created if absent).
  submit      Upload BUNDLE (.zip, .tar.gz, or a folder, packed first)...
  verify      Verify a signed report: every signature (the auditor's and...
  worker      Run queued assessments: assess, report, sign, and store the...
"""
"""``auditkit --help`` as the click group prints it on a terminal of 80 columns or more."""


def _columns() -> int:
    """The terminal width click's help formatter would see (``shutil.get_terminal_size``'s rules)."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    args = sys.argv[1:] if argv is None else argv
    if args in (["--help"], ["-h"]) and _columns() >= 80:
        sys.stdout.write(HELP)
        sys.stdout.flush()
        raise SystemExit(0)
    from .app import cli

    cli.main(args=args, prog_name="auditkit")


def __getattr__(name: str) -> Any:
    if name in ("cli", "AuditkitGroup", "COMMANDS"):
        from . import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":  # pragma: no cover
    main()
