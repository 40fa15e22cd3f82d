"""``auditkit run`` (assess + report + sign one bundle) and ``auditkit demo`` (all shipped samples)."""

from __future__ import annotations

import datetime as _dt
import shlex
from pathlib import Path
from typing import Any

import click

from .assess import limit_options, print_summary, trust_options
from .options import parse_date as _date


def _limits(workers: int, memory_mb: int, timeout: float) -> Any:
    from ..engine.workers import Limits

    return Limits(workers=workers, timeout_s=timeout, memory_mb=memory_mb)


@click.command("run")
@click.argument("bundle", type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--output", "outdir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for results.json and report.pdf (created if missing).")
@click.option("--sign-key", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="PKCS#12 signing key (from `auditkit keys init` or your CA).")
@click.option("--passphrase-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="File whose first line is the key passphrase (else $AUDITKIT_KEY_PASSPHRASE, else a prompt).")
@click.option("--tsa-url", help="RFC 3161 time-stamp server: makes the signature PAdES B-T.")
@click.option("--certify", is_flag=True,
              help="Certification signature: only further signatures (auditkit cosign) allowed after it.")
@click.option("--controls", type=click.Path(exists=True, path_type=Path), help="Catalog folder (default: shipped).")
@click.option("--profile", help="Profile name or path.")
@click.option("--assessment", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Assessment file (default: NAME.assessment.yaml beside the bundle, if present).")
@click.option("--as-of", callback=_date, help="Date freshness and waivers are judged at (YYYY-MM-DD).")
@click.option("--html", is_flag=True, help="Also write report.html.")
@trust_options
@limit_options
def run(bundle: Path, outdir: Path, sign_key: Path, passphrase_file: Path | None, tsa_url: str | None,
        certify: bool, controls: Path | None, profile: str | None, assessment: Path | None,
        as_of: _dt.date | None, html: bool, trust: tuple[Path, ...], allow_integrity_failures: bool,
        workers: int, memory_mb: int, timeout: float) -> None:
    """Assess BUNDLE, render the PDF report and sign it, into OUTDIR.

    Beside report.pdf goes report.pdf.salts.json (mode 0600, keep it private): the
    salts of the report's commitments, needed for 'auditkit report --audience'.

    Exit 4, writing nothing (no results.json, no report), when an evidence file
    fails its manifest hash or size (unless --allow-integrity-failures: then the
    signed report states the failures on its cover) or the bundle signature
    fails --trust.
    """
    from ..pipeline import Signer, run_pipeline
    from .report import _passphrase

    signer = Signer(sign_key, _passphrase(passphrase_file, sign_key), tsa_url, certify)
    out = run_pipeline(bundle, outdir, signer, html=html, controls=controls, profile=profile,
                       assessment_path=assessment, as_of=as_of, limits=_limits(workers, memory_mb, timeout),
                       trust=trust, allow_integrity_failures=allow_integrity_failures)
    for note in out.run.notes:
        click.echo(f"auditkit: {note}", err=True)
    from .report import render_warnings

    for warning in render_warnings(out.warnings):
        click.echo(f"auditkit: warning: {warning}", err=True)
    print_summary(out.run.results)
    click.echo(f"auditkit: {out.report_path}: {out.pages} pages, rendered in {out.render_seconds:.1f} s, "
               f"signed in {out.sign_seconds:.2f} s", err=True)
    click.echo(str(out.results_path))
    click.echo(str(out.report_path))


@click.command("demo")
@click.option("-o", "--output", "outdir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("auditkit-demo"), show_default=True, help="Folder for the demo's outputs.")
@click.option("--samples", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of bundles (default: the shipped evidence_samples/).")
@limit_options
def demo(outdir: Path, samples: Path | None, workers: int, memory_mb: int, timeout: float) -> None:
    """The whole pipeline on every sample bundle, signed with a throwaway demo CA.

    Writes OUTDIR/ca.pem and, per bundle, OUTDIR/NAME/results.json and report.pdf,
    then prints the `auditkit verify` commands that check them. A bundle whose
    files fail their manifest hashes (the shipped globex-tampered) shows the
    refusal `auditkit run` gives (exit 4, nothing written), then is run again with
    --allow-integrity-failures, so its signed report states the failure on its cover.
    """
    import secrets
    import tempfile

    from ..errors import AuditkitError
    from ..evidence import BundleIntegrityError, verify_bundle
    from ..fsio import write_bytes
    from ..pipeline import Signer, run_pipeline, sample_bundles
    from ..resources import data_dir
    from ..signing.keys import init_keys

    folder = samples or data_dir("evidence_samples")
    bundles = sample_bundles(folder)
    outdir.mkdir(parents=True, exist_ok=True)
    passphrase = secrets.token_urlsafe(24).encode()
    failed: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="auditkit-demo-key-") as keydir:
        keys = init_keys(Path(keydir), org="auditkit demo CA (throwaway)", passphrase=passphrase)
        write_bytes(outdir / "ca.pem", keys.ca_pem.read_bytes())
        signer = Signer(keys.p12, passphrase)
        click.echo(f"auditkit demo: {len(bundles)} bundles from {folder}; throwaway CA {outdir / 'ca.pem'}", err=True)
        reports = []
        limits = _limits(workers, memory_mb, timeout)
        for bundle in bundles:
            name = bundle.name.removesuffix(".zip").removesuffix(".tar.gz")
            try:
                verdict = verify_bundle(bundle)
                click.echo(f"\n{name}: bundle verified, root hash {verdict.root_hash[:16]}…", err=True)
            except AuditkitError as exc:
                click.echo(f"\n{name}: BUNDLE INTEGRITY FAILURE (exit {exc.exit_code}): {exc.lines[0]}", err=True)
            try:
                out = run_pipeline(bundle, outdir / name, signer, limits=limits)
            except BundleIntegrityError as exc:
                failed.add(name)
                click.echo(f"  auditkit run {name} refuses it (exit {exc.exit_code}) and writes nothing:", err=True)
                for line in exc.lines:
                    click.echo(f"    {line}", err=True)
                click.echo("  running it again with --allow-integrity-failures: the signed report states the "
                           "failure on its cover and in its summary", err=True)
                out = run_pipeline(bundle, outdir / name, signer, limits=limits, allow_integrity_failures=True)
            overall = out.run.results.overall
            score = "n/a" if overall.score is None else f"{overall.score:.2f}"
            click.echo(f"  overall {score} ({overall.rating}); {out.pages}-page report rendered in "
                       f"{out.render_seconds:.1f} s, signed in {out.sign_seconds:.2f} s", err=True)
            reports.append(out.report_path)
    click.echo("\nCheck the signed reports (signature, whole-file coverage, chain, embedded results, and the "
               "bundle re-verified):", err=True)
    ca = shlex.quote(str(outdir / "ca.pem"))
    for report in reports:
        bundle_dir = folder / report.parent.name
        extra = f" --bundle {shlex.quote(str(bundle_dir))}" if bundle_dir.exists() else ""
        failing = extra and bundle_dir.name in failed
        note = "  # exits 4: the bundle fails its hashes, as the report says" if failing else ""
        click.echo(f"auditkit verify {shlex.quote(str(report))} --trust {ca}{extra}{note}")
