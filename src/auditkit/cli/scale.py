"""``auditkit worker`` (assessment worker on Celery/Redis) and ``auditkit portfolio`` (regulator view).

Only click is imported at module level; see docs/scaling.md for the deployment.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from .intake import _INDEX, _OBJECTS, _STORE


def assessor_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The auditor's configuration: signing key, catalog and profile."""
    options = [
        click.option("--sign-key", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     help="PKCS#12 key the reports are signed with (auditkit keys init)."),
        click.option("--passphrase-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     help="File whose first line is the key passphrase (else $AUDITKIT_KEY_PASSPHRASE)."),
        click.option("--controls", type=click.Path(exists=True, path_type=Path),
                     help="Catalog folder (default: shipped)."),
        click.option("--profile", help="Profile name or path (default: the default profile)."),
        click.option("--trust", type=click.Path(exists=True, dir_okay=False, path_type=Path), multiple=True,
                     help="CA certificate (PEM) trusted for bundle manifest signatures; repeatable. With it a "
                     "bundle whose signature is missing, bad or untrusted is not assessed (logged as failed); "
                     "without it signatures are recorded as not checked."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def load_assessor(sign_key: Path, passphrase_file: Path | None, controls: Path | None,
                  profile: str | None, trust: tuple[Path, ...] = ()) -> Any:
    from ..assessments.jobs import Assessor
    from ..pipeline import Signer
    from ..signing.passphrase import resolve_passphrase

    signer = Signer(sign_key, resolve_passphrase(passphrase_file) or None)
    return Assessor.load(signer, controls, profile, trust)


@click.command()
@_STORE
@click.option("--index", envvar="AUDITKIT_INDEX", required=True, metavar="postgresql://…",
              help="The deployment's PostgreSQL index (or AUDITKIT_INDEX).")
@click.option("--objects", envvar="AUDITKIT_OBJECTS", required=True, metavar="s3://BUCKET/PREFIX",
              help="The deployment's S3 bucket (or AUDITKIT_OBJECTS).")
@click.option("--broker", envvar="AUDITKIT_BROKER", required=True, metavar="redis://…",
              help="Celery broker the servers queue assessments on (or AUDITKIT_BROKER).")
@assessor_options
@click.option("--visibility-timeout", default=3600, show_default=True, type=click.IntRange(5, 86400),
              help="Seconds before a task whose worker died is handed to another worker; "
              "keep it above the longest assessment.")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))
def worker(store: Path, index: str, objects: str, broker: str, sign_key: Path | None,
           passphrase_file: Path | None, controls: Path | None, profile: str | None,
           trust: tuple[Path, ...], visibility_timeout: int, log_level: str) -> None:
    """Run queued assessments: assess, report, sign, and store the results beside each bundle.

    STORE is this worker's own scratch folder. Each task is idempotent: one
    assessment per (bundle root hash, catalog digest, profile digest), however
    often it is queued; a task whose worker dies is run again by another.
    """
    import logging

    from ..assessments.queue import run_worker
    from ..errors import UsageError
    from ..intake.dblog import DatabaseLog
    from ..intake.store import open_store

    if sign_key is None:
        raise UsageError("a worker needs --sign-key to sign the reports", where="--sign-key")
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    assessor = load_assessor(sign_key, passphrase_file, controls, profile, trust)
    opened = open_store(store, index=index, objects=objects)
    try:
        opened.log = DatabaseLog(opened.index, check=False)  # type: ignore[arg-type]
        click.echo(f"auditkit: worker on {broker.split('@')[-1]}: catalog {assessor.catalog_digest[:12]}, "
                   f"profile {assessor.profile_id}", err=True)
        run_worker(opened, assessor, broker, visibility_timeout=visibility_timeout,
                   loglevel=log_level.upper())
    finally:
        opened.close()


@click.command()
@click.option("--store", type=click.Path(file_okay=False, path_type=Path),
              help="An embedded intake store folder (not needed with --index or --server).")
@_INDEX
@_OBJECTS
@click.option("--server", help="Read the portfolio from this intake server's API instead "
              "(token from AUDITKIT_TOKEN or --token-file).")
@click.option("--token-file", type=click.Path(dir_okay=False, path_type=Path),
              help="With --server: file holding the API token.")
@click.option("--org", "orgs", multiple=True, help="Only these organizations (repeat).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--reports", "reports_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Also save each latest signed report here as ORG.pdf; the table links to it.")
def portfolio(store: Path | None, index: str | None, objects: str | None, server: str | None,
              token_file: Path | None, orgs: tuple[str, ...], fmt: str, reports_dir: Path | None) -> None:
    """Organizations with their latest rating and score, the trend, and open critical findings.

    Reads an embedded store (--store), a scaled deployment (--index, and --objects
    for --reports) or a server's API (--server, with a token that may read those
    organizations); organizations with open critical findings come first.
    """
    from ..errors import UsageError

    if (server is None) == (store is None and index is None):
        raise UsageError("say where the assessments are", where="--store/--index/--server",
                         hint="--store DIR (embedded), --index postgresql://… (deployment) "
                         "or --server URL (API)")
    if server is not None:
        from ..assessments.remote import download_report, remote_portfolio
        from ..intake.client import read_token

        secret = read_token(token_file)
        pairs = [(row, url) for row, url in remote_portfolio(server, secret)
                 if not orgs or row.organization in orgs]
        links: dict[str, str] = {}
        if reports_dir is not None:
            reports_dir.mkdir(parents=True, exist_ok=True)
            for row, url in pairs:
                target = download_report(server, secret, url, reports_dir / f"{row.organization}.pdf")
                links[row.organization] = str(target)
        else:
            links = {row.organization: server.rstrip("/") + url for row, url in pairs}
        _show([row for row, _ in pairs], links, fmt)
        return
    _local(store, index, objects, orgs, fmt, reports_dir)


def _local(store: Path | None, index: str | None, objects: str | None, orgs: tuple[str, ...], fmt: str,
           reports_dir: Path | None) -> None:
    import tempfile

    from ..assessments.portfolio import portfolio as build
    from ..intake.store import open_store

    scratch = tempfile.TemporaryDirectory(prefix="auditkit-portfolio-") if store is None else None
    folder = Path(scratch.name) if scratch is not None else store
    assert folder is not None
    try:
        opened = open_store(folder, create=index is not None, index=index, objects=objects)
    except BaseException:
        if scratch is not None:
            scratch.cleanup()
        raise
    try:
        rows = build(opened.index, list(orgs) or None)
        links: dict[str, str] = {}
        if reports_dir is not None:
            from ..fsio import write_bytes

            reports_dir.mkdir(parents=True, exist_ok=True)
            for row in rows:
                with opened.objects.get(row.report_sha256) as handle:
                    target = reports_dir / f"{row.organization}.pdf"
                    write_bytes(target, handle.read())
                links[row.organization] = str(target)
    finally:
        opened.close()
        if scratch is not None:
            scratch.cleanup()
    _show(rows, links, fmt)


def _show(rows: list[Any], links: dict[str, str], fmt: str) -> None:
    if fmt == "json":
        for row in rows:
            data = row.model_dump(mode="json")
            data["trend_word"] = row.trend_word
            data["report"] = links.get(row.organization, f"object:{row.report_sha256}")
            click.echo(json.dumps(data))
        return
    if not rows:
        click.echo("auditkit: no assessments yet", err=True)
        return
    header = ("organization", "rating", "score", "trend", "critical", "period end", "report")
    table = [header] + [
        (row.organization, row.rating, "n/a" if row.score is None else f"{row.score:.2f}",
         row.trend_word + ("" if row.trend is None else f" {row.trend:+.2f}"), str(row.critical_open),
         row.period_end or "", links.get(row.organization, f"object:{row.report_sha256[:16]}…"))
        for row in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())
