"""Commands of the evidence intake server and its client.

``serve`` runs the server; ``intake`` holds the operator's store tools (tokens,
key export, log check); ``submit`` and ``fetch`` are the client; ``receipt
verify`` checks a receipt offline. Only click is imported at module level.

Exit codes (see docs/intake.md): 0 ok, 2 usage or authentication (401/403),
3 rejected or invalid input (422, 413, 404, 400), 4 integrity (bad receipt
signature, broken log, archive digest mismatch), 5 internal error,
6 server unreachable or failed (5xx, connection refused, timeout; retry).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

_STORE = click.option(
    "--store",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="The intake store folder.",
)
_INDEX = click.option(
    "--index",
    envvar="AUDITKIT_INDEX",
    metavar="postgresql://…",
    help="Shared PostgreSQL index (tokens, uploads, log) instead of STORE/index.sqlite3 "
    "(or AUDITKIT_INDEX); see docs/scaling.md.",
)
_OBJECTS = click.option(
    "--objects",
    envvar="AUDITKIT_OBJECTS",
    metavar="s3://BUCKET/PREFIX",
    help="Shared S3 bucket for archives instead of STORE/objects (or AUDITKIT_OBJECTS); "
    "endpoint and credentials from the AWS_* variables.",
)
_SERVER = click.option(
    "--server",
    required=True,
    envvar="AUDITKIT_SERVER",
    help="Server base URL, e.g. http://127.0.0.1:8080 (or AUDITKIT_SERVER).",
)
_TOKEN_FILE = click.option(
    "--token-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File holding the API token (default: the AUDITKIT_TOKEN variable).",
)


@click.command()
@_STORE
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--max-upload-mb",
    default=512,
    show_default=True,
    type=click.IntRange(1, 1024 * 1024),
    help="Refuse uploads larger than this (MiB), without reading the rest.",
)
@click.option(
    "--header-timeout",
    default=10.0,
    show_default=True,
    type=click.FloatRange(0.1, 3600),
    help="Seconds a request head (and the upload page's token) may take to arrive; "
    "a silent or trickling connection is then closed with 408.",
)
@click.option(
    "--max-client-connections",
    default=32,
    show_default=True,
    type=click.IntRange(0, 100_000),
    help="Connections one client address may hold at once (503 beyond); 0 for no cap, "
    "e.g. behind a reverse proxy that applies its own.",
)
@click.option(
    "--max-connections",
    default=1000,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="Connections in all; at the cap the oldest one still waiting for its request "
    "head is closed to make room.",
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
)
@_INDEX
@_OBJECTS
@click.option(
    "--broker",
    envvar="AUDITKIT_BROKER",
    metavar="redis://…",
    help="Queue an assessment of every accepted bundle on this Celery broker, for "
    "`auditkit worker` (or AUDITKIT_BROKER).",
)
@click.option(
    "--assess-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Without --broker: assess every accepted bundle in this server process, signing "
    "the reports with this PKCS#12 key (passphrase from $AUDITKIT_KEY_PASSPHRASE).",
)
@click.option("--assess-controls", type=click.Path(exists=True, path_type=Path),
              help="Catalog folder for --assess-key (default: shipped).")
@click.option("--assess-profile", help="Profile for --assess-key (default: the default profile).")
@click.option("--assess-workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Assessments run at once by --assess-key.")
@click.option("--assess-trust", type=click.Path(exists=True, dir_okay=False, path_type=Path), multiple=True,
              help="CA certificate (PEM) trusted for bundle signatures by --assess-key; repeatable. With it "
              "an unsigned or untrusted bundle is not assessed; without it signatures are recorded as not checked.")
def serve(
    store: Path,
    host: str,
    port: int,
    max_upload_mb: int,
    header_timeout: float,
    max_client_connections: int,
    max_connections: int,
    log_level: str,
    index: str | None,
    objects: str | None,
    broker: str | None,
    assess_key: Path | None,
    assess_controls: Path | None,
    assess_profile: str | None,
    assess_workers: int,
    assess_trust: tuple[Path, ...],
) -> None:
    """Run the evidence intake server on STORE (created if absent).

    Submitters upload bundles (POST /api/v1/bundles or the page at /), each is
    verified in quarantine and answered with a signed receipt; auditors list and
    download the bundles of the organizations they are granted. With --index and
    --objects several servers share one PostgreSQL database and one bucket, each
    with its own STORE folder (its key, incoming/ and quarantine/).
    """
    from ..intake.guard import ConnectionLimits
    from ..intake.server import serve as run
    from ..intake.service import IntakeSettings

    settings = IntakeSettings(
        max_upload_bytes=max_upload_mb * 1024 * 1024, auth_timeout=header_timeout
    )
    limits = ConnectionLimits(
        header_timeout=header_timeout,
        per_client=max_client_connections,
        max_connections=max_connections,
    )
    click.echo(f"auditkit: serving {store} on http://{host}:{port}/", err=True)
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(
            "auditkit: warning: plain HTTP on a non-loopback address; tokens travel in "
            "clear text unless a TLS reverse proxy is in front",
            err=True,
        )
    queue = None
    if broker is not None and assess_key is not None:
        from ..errors import UsageError

        raise UsageError("--assess-key is for the embedded server; workers sign with --broker",
                         where="--assess-key")
    if broker is not None:
        from ..assessments.queue import celery_enqueuer

        queue = celery_enqueuer(broker)
    elif assess_key is not None:
        from ..assessments.queue import in_process
        from .scale import load_assessor

        assessor = load_assessor(assess_key, None, assess_controls, assess_profile, assess_trust)
        queue = in_process(assessor, assess_workers)
    run(store, host, port, settings, log_level=log_level, limits=limits, index=index,
        objects=objects, on_accepted=queue)


@click.group()
def intake() -> None:
    """Operate an intake store: tokens, the receipt key, the intake log."""


@intake.group()
def token() -> None:
    """Create, list and revoke API tokens."""


@token.command("create")
@_STORE
@click.option("--org", "organization", required=True, help="The token's organization.")
@click.option("--role", type=click.Choice(["submitter", "auditor"]), required=True)
@click.option("--grant", "grants", multiple=True, help="Organization an auditor may read (repeat).")
@_INDEX
def token_create(
    store: Path, organization: str, role: str, grants: tuple[str, ...], index: str | None
) -> None:
    """Create a token; the token is printed once on stdout and stored only as a hash."""
    from ..intake.store import create_token

    secret, record = create_token(store, organization, role, grants, index=index)  # type: ignore[arg-type]
    click.echo(secret)
    scope = f", may read {', '.join(record.grants)}" if record.grants else ""
    click.echo(
        f"auditkit: created {record.role} token {record.token_id} for {record.organization}"
        f"{scope}; it is shown only now",
        err=True,
    )


@token.command("list")
@_STORE
@_INDEX
def token_list(store: Path, index: str | None) -> None:
    """List tokens (ids, organizations, roles; never secrets) as JSON lines."""
    from ..intake.store import open_store

    opened = open_store(store, create=index is not None, index=index)
    try:
        for record in opened.index.list_tokens():
            click.echo(json.dumps(record.model_dump(mode="json", exclude={"secret_sha256"})))
    finally:
        opened.close()


@token.command("revoke")
@_STORE
@click.argument("token_id")
@_INDEX
def token_revoke(store: Path, token_id: str, index: str | None) -> None:
    """Revoke TOKEN_ID; it stops working at once."""
    from ..errors import InvalidInputError
    from ..intake.store import open_store

    opened = open_store(store, create=index is not None, index=index)
    try:
        if not opened.index.revoke_token(token_id):
            raise InvalidInputError("no such token", where=token_id, hint="see `token list`")
    finally:
        opened.close()
    click.echo(f"auditkit: revoked {token_id}", err=True)


@intake.command("list")
@_SERVER
@_TOKEN_FILE
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 1000), help="Most uploads shown.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def list_cmd(server: str, token_file: Path | None, limit: int, fmt: str) -> None:
    """The uploads your token may read, newest first: id, time, verdict, bundle and root-hash prefix."""
    from ..intake.client import list_bundles, read_token

    bundles = list_bundles(server, read_token(token_file), limit=limit)
    if fmt == "json":
        click.echo(json.dumps({"bundles": bundles}, indent=2))
        return
    rows = [(str(b.get("upload_id", "")), str(b.get("received_at", "")), str(b.get("verdict", "")),
             str(b.get("organization", "")), str(b.get("bundle_id") or "-"),
             str(b.get("bundle_root_hash") or "-")[:16]) for b in bundles]
    headers = ("UPLOAD", "RECEIVED", "VERDICT", "ORGANIZATION", "BUNDLE", "ROOT HASH")
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, *rows]:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    if not rows:
        click.echo("auditkit: no uploads visible to this token", err=True)


@intake.command("migrate")
@_STORE
@click.option("--index", envvar="AUDITKIT_INDEX", required=True, metavar="postgresql://…",
              help="The new, empty PostgreSQL database (or AUDITKIT_INDEX).")
@click.option("--objects", envvar="AUDITKIT_OBJECTS", required=True, metavar="s3://BUCKET/PREFIX",
              help="The bucket for the archives and reports (or AUDITKIT_OBJECTS).")
def migrate(store: Path, index: str, objects: str) -> None:
    """Copy an embedded STORE (SQLite + folder) into PostgreSQL and S3; STORE is only read.

    Objects, tokens, uploads, assessments and the intake log (line for line, so every
    receipt stays valid) are copied; the target database must be new.
    """
    from ..intake.migrate import migrate_store

    report = migrate_store(store, index, objects,
                           progress=lambda line: click.echo(f"auditkit: {line}", err=True))
    click.echo(
        f"auditkit: migrated {report.tokens} tokens, {report.uploads} uploads, "
        f"{report.assessments} assessments, {report.objects} objects "
        f"({report.objects_present} already in the bucket), {report.log_entries} log entries",
        err=True,
    )


@intake.group()
def key() -> None:
    """The server's receipt-signing key."""


@key.command("export")
@_STORE
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the PEM public key here instead of stdout.",
)
def key_export(store: Path, output: Path | None) -> None:
    """Print the PEM public key that receipts are signed with."""
    from ..fsio import write_bytes
    from ..intake.store import export_public_key

    pem = export_public_key(store)
    if output is None:
        click.echo(pem.decode(), nl=False)
    else:
        write_bytes(output, pem)
        click.echo(f"auditkit: wrote {output}", err=True)


@intake.group()
def log() -> None:
    """The hash-chained intake log."""


@log.command("verify")
@_STORE
@_INDEX
def log_verify(store: Path, index: str | None) -> None:
    """Check every entry chains to the one before and the end matches the index (exit 4 if not).

    With --index the log is the one all servers share, in PostgreSQL.
    """
    from ..intake.store import verify_store_log

    report = verify_store_log(store, index=index)
    note = f" ({report.unanchored} written after the last anchor)" if report.unanchored else ""
    click.echo(f"intake log OK: {report.entries} entries, head {report.last[1]}{note}")


@click.command()
@click.argument("bundle", type=click.Path(exists=True, path_type=Path))
@_SERVER
@_TOKEN_FILE
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Save the signed receipt here (default: print it on stdout).",
)
@click.option(
    "--key",
    "key_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Check the receipt's signature against this server public key.",
)
@click.option(
    "--retry",
    "retries",
    default=0,
    show_default=True,
    type=click.IntRange(0, 100),
    help="Try again this many times (after 1, 2, 4 … 30 s) while the server is unreachable "
    "or failing (what would exit 6). Safe: a bundle already accepted gets its original receipt.",
)
def submit(
    bundle: Path,
    server: str,
    token_file: Path | None,
    output: Path | None,
    key_path: Path | None,
    retries: int,
) -> None:
    """Upload BUNDLE (.zip, .tar.gz, or a folder, packed first) and print the signed receipt.

    Exit 0 accepted (also when the same bundle was accepted before), 3 rejected
    (reasons on stderr, receipt still written), 2 bad token, 6 server unreachable.
    """
    from ..intake.client import BundleRejected, SubmitOutcome, read_token
    from ..intake.client import submit as upload

    def save(outcome: SubmitOutcome) -> None:
        text = json.dumps(outcome.signed.model_dump(mode="json"), indent=2) + "\n"
        if output is None:
            click.echo(text, nl=False)
        else:
            from ..fsio import write_text

            write_text(output, text)
        if key_path is not None:
            from ..intake.receipts import load_public_key, verify_receipt

            verify_receipt(outcome.signed, load_public_key(key_path), "server receipt")

    import time

    from ..errors import AuditkitError

    secret = read_token(token_file)
    for attempt in range(retries + 1):
        try:
            outcome = upload(bundle, server, secret)
            break
        except BundleRejected as exc:
            save(exc.outcome)
            raise
        except AuditkitError as exc:
            if exc.exit_code != 6 or attempt == retries:
                raise
            pause = min(2**attempt, 30)
            click.echo(f"auditkit: {exc.render()}; retrying in {pause} s "
                       f"({attempt + 1} of {retries})", err=True)
            time.sleep(pause)
    save(outcome)
    receipt = outcome.signed.receipt
    again = " (already received earlier; original receipt)" if outcome.duplicate else ""
    click.echo(
        f"auditkit: accepted {bundle.name} as {receipt.bundle_id} root {receipt.bundle_root_hash} "
        f"(upload {receipt.upload_id}){again}", err=True
    )


@click.command()
@click.argument("ref", metavar="ID")
@click.option(
    "-o",
    "--output",
    "output_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the archive and its receipt into (created if missing).",
)
@_SERVER
@_TOKEN_FILE
@click.option(
    "--key",
    "key_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Check the bundle's receipt against this server public key.",
)
def fetch(
    ref: str, output_dir: Path, server: str, token_file: Path | None, key_path: Path | None
) -> None:
    """Download bundle ID with its receipt; prints the archive path.

    ID is a bundle root hash (or a unique prefix of 6 or more hex digits, as
    `auditkit intake list` shows them; `sha256:` allowed) or an upload id (up_...).
    Exit 4 if the download does not match the receipt's SHA-256.
    """
    from ..intake.client import fetch as download
    from ..intake.client import read_token

    outcome = download(ref, output_dir, server, read_token(token_file))
    if key_path is not None:
        from ..intake.receipts import verify_receipt_file

        verify_receipt_file(outcome.receipt, key_path)
    click.echo(str(outcome.archive))
    click.echo(f"auditkit: receipt in {outcome.receipt}", err=True)


@click.group()
def receipt() -> None:
    """Intake receipts."""


@receipt.command("verify")
@click.argument("receipt_file", metavar="RECEIPT.json", type=click.Path(path_type=Path))
@click.option(
    "--key",
    "key_path",
    required=True,
    type=click.Path(path_type=Path),
    help="The server's public key (auditkit intake key export).",
)
def receipt_verify(receipt_file: Path, key_path: Path) -> None:
    """Check a receipt's signature offline (exit 4 if it does not verify)."""
    from ..intake.receipts import verify_receipt_file

    checked = verify_receipt_file(receipt_file, key_path)
    subject = checked.bundle_root_hash or checked.archive_sha256
    archive = f" from archive {checked.archive_name!r}" if checked.archive_name else ""
    click.echo(
        f"receipt OK: {checked.verdict} {subject}{archive} for {checked.organization} "
        f"received {checked.received_at} (log entry {checked.log_seq})"
    )
