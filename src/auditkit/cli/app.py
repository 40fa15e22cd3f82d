"""The ``auditkit`` click group: lazy subcommands, and errors turned into messages and exit codes.

Commands are registered by import path in :data:`COMMANDS` and imported only
when invoked (or when ``--help`` lists them), so no PDF or crypto library is
loaded by commands that do not need one. Errors are turned into messages and
exit codes here, in one place.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from typing import Any

import click

from ..errors import EXIT_INTERNAL, AuditkitError, ProblemList, shorten

# name -> "module:attribute"; each module imports only click at top level.
COMMANDS: dict[str, str] = {
    "assess": "auditkit.cli.assess:assess",
    "assessment": "auditkit.cli.assessment:assessment",
    "bundle": "auditkit.cli.bundle:bundle",
    "controls": "auditkit.cli.controls:controls",
    "cosign": "auditkit.cli.report:cosign",
    "crosswalk": "auditkit.cli.crosswalk:crosswalk",
    "demo": "auditkit.cli.run:demo",
    "diff": "auditkit.cli.diff:diff",
    "schema": "auditkit.cli.controls:schema",
    "serve": "auditkit.cli.intake:serve",
    "intake": "auditkit.cli.intake:intake",
    "submit": "auditkit.cli.intake:submit",
    "fetch": "auditkit.cli.intake:fetch",
    "receipt": "auditkit.cli.intake:receipt",
    "report": "auditkit.cli.report:report",
    "run": "auditkit.cli.run:run",
    "portfolio": "auditkit.cli.scale:portfolio",
    "worker": "auditkit.cli.scale:worker",
    "keys": "auditkit.cli.report:keys",
    "verify": "auditkit.cli.report:verify",
}


QUIET_LIBRARIES = ("weasyprint", "pyhanko", "pyhanko_certvalidator", "fontTools", "pydyf")
"""Libraries whose log lines are shown only with ``--debug``."""


class AuditkitGroup(click.Group):
    """A group whose subcommands load lazily and whose errors are reported uniformly."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        command: click.Command = getattr(importlib.import_module(module_name), attr)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AuditkitError as exc:
            if ctx.find_root().params.get("debug"):
                traceback.print_exc()
            for line in map(shorten, exc.lines):
                click.echo(f"auditkit: error: {line}", err=True)
            if isinstance(exc, ProblemList) and len(exc.lines) > 1:
                click.echo(f"auditkit: error: {exc.detail}", err=True)
            ctx.exit(exc.exit_code)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except BrokenPipeError:  # e.g. `auditkit controls list | head`: the reader went away
            import os

            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            ctx.exit(0)
        except KeyboardInterrupt:
            click.echo("auditkit: interrupted", err=True)
            ctx.exit(130)
        except Exception as exc:  # noqa: BLE001 - the one place internal errors are reported
            if ctx.find_root().params.get("debug"):
                traceback.print_exc()
            first = str(exc).splitlines()[0][:300] if str(exc) else ""
            click.echo(
                f"auditkit: internal error: {type(exc).__name__}: {first} "
                "(rerun with --debug for the traceback and report it)",
                err=True,
            )
            ctx.exit(EXIT_INTERNAL)


def _version() -> str:
    from .. import __version__

    return __version__


@click.group(cls=AuditkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(_version(), prog_name="auditkit")
def cli(debug: bool) -> None:
    """auditkit: check safeguard controls against evidence and issue signed reports.

    \b
    Exit codes: 0 ok, 1 score under --fail-under, 2 usage, 3 invalid input,
    4 integrity or signature failure, 5 internal error,
    6 intake server unreachable (submit/fetch only).
    """
    import logging

    if debug:
        logging.basicConfig(level=logging.WARNING, format="%(name)s: %(levelname)s: %(message)s")
        return
    # the libraries' log lines (pyHanko's "Content box width ... too wide", WeasyPrint's layout
    # remarks) are noise to users; auditkit reports what matters itself. --debug shows them.
    for name in QUIET_LIBRARIES:
        logger = logging.getLogger(name)
        if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
            logger.addHandler(logging.NullHandler())
