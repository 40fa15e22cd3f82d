"""``auditkit report``, ``keys init``, ``cosign`` and ``verify``: signed PDF audit reports.

Only ``click`` and the standard library are imported here; WeasyPrint, pyHanko and
cryptography load inside the commands that need them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import IntegrityError, UsageError
from .options import OUTPUT_FILE


def _say(message: str) -> None:
    click.echo(message, err=True)


def render_warnings(messages: list[str]) -> list[str]:
    """WeasyPrint's warnings as the user sees them: all with --debug, else only the actionable one, once."""
    from ..report.messages import summarize

    if click.get_current_context().find_root().params.get("debug"):
        return [f"weasyprint: {m}" for m in messages]
    return summarize(messages)


def _passphrase(passphrase_file: Path | None, key: Path, *, confirm: bool = False) -> bytes | None:
    """From --passphrase-file, $AUDITKIT_KEY_PASSPHRASE, or a hidden prompt on a terminal."""
    from ..signing.passphrase import resolve_passphrase

    passphrase = resolve_passphrase(passphrase_file)
    if passphrase is None and sys.stdin.isatty():
        passphrase = click.prompt(
            f"Passphrase for {key}",
            hide_input=True,
            confirmation_prompt=confirm,
            default="",
            show_default=False,
            err=True,
        ).encode("utf-8")
    return passphrase or None


_KEY_FILE_HELP = (
    "File whose first line is the key passphrase (else $AUDITKIT_KEY_PASSPHRASE, else a prompt). "
    "There is deliberately no option taking the passphrase itself."
)


@click.command()
@click.argument("results", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=False)
@click.option("-o", "--output", type=OUTPUT_FILE, metavar="FILE", required=True,
              help="The PDF to write (PDF/A-3b).")
@click.option("--html", "html_output", type=OUTPUT_FILE, metavar="FILE",
              help="Also write the report as one standalone HTML file.")
@click.option("--manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="manifest.yaml to embed beside results.json.")
@click.option("--bundle", type=click.Path(exists=True, path_type=Path),
              help="Embed this bundle's manifest.yaml (its root hash must be the one assessed).")
@click.option("--sign-key", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="PKCS#12 signing key (from 'auditkit keys init'); without it the PDF is an unsigned draft.")
@click.option("--passphrase-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help=_KEY_FILE_HELP)
@click.option("--tsa-url", help="RFC 3161 time-stamp server: makes the signature PAdES B-T.")
@click.option("--certify", is_flag=True,
              help="Certification signature: after it only further signatures ('auditkit cosign') "
                   "are allowed, no change to the content.")
@click.option("--allow-integrity-failures", is_flag=True,
              help="Render results that record evidence failing its manifest hash or size (else exit 4); "
                   "the report states the failures on its cover and in the summary.")
@click.option("--audience", type=click.Choice(["full", "regulator", "auditee", "public"]), default="full",
              show_default=True,
              help="Who the PDF is for. With RESULTS: the full report (full or regulator). With --full: a "
                   "redacted view of that signed report (public: overall rating and family scores; auditee: "
                   "also controls, findings and evidence paths and hashes; regulator: everything).")
@click.option("--full", "full_report", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The signed full report to make an audience view of (instead of RESULTS); needs "
                   "--sign-key (the auditor key that signed it) and --trust.")
@click.option("--salts", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The private salts file of the full report (default: FULL.pdf.salts.json beside it).")
@click.option("--trust", type=click.Path(exists=True, dir_okay=False, path_type=Path), multiple=True,
              help="CA certificate(s) (PEM) the full report must verify against before a view is made.")
@click.option("--jobs", type=click.IntRange(1, 64), default=None,
              help="Processes laying out the report's parts at once (each needs up to about 150 MiB) "
                   "[default: 2, at most the CPUs; 1: in this process].")
def report(
    results: Path,
    output: Path,
    html_output: Path | None,
    manifest: Path | None,
    bundle: Path | None,
    sign_key: Path | None,
    passphrase_file: Path | None,
    tsa_url: str | None,
    certify: bool,
    allow_integrity_failures: bool,
    audience: str,
    full_report: Path | None,
    salts: Path | None,
    trust: tuple[Path, ...],
    jobs: int | None,
) -> None:
    """Render RESULTS (results.json from 'auditkit assess') as a PDF/A-3b audit report, and sign it.

    The PDF embeds results.json (and the bundle manifest) as attachments. With
    --sign-key it is signed PAdES B-B (B-T with --tsa-url); check it with
    'auditkit verify'. Without --sign-key it is an UNSIGNED DRAFT, marked so on
    every page. Exit 3 on invalid results, 4 if the key cannot be opened or the
    results record evidence integrity failures (see --allow-integrity-failures).

    The full report also embeds commitments.json, a salted commitment to each item a
    view may disclose, and writes their salts to OUTPUT.salts.json (mode 0600; keep it
    private). 'auditkit report --audience public --full FULL.pdf --trust CA --sign-key K
    -o VIEW.pdf' then makes a redacted view that 'auditkit verify' proves item by item
    against the full report's signed commitments (exit 4 if the full report fails
    verification).
    """
    if full_report is not None or salts is not None or trust:
        _view(results, output, full_report, salts, trust, audience, sign_key, passphrase_file, tsa_url,
              certify, html_output, manifest, bundle)
        return
    if results is None:
        raise UsageError("give RESULTS (a full report) or --full FULL.pdf (an audience view)")
    if audience not in ("full", "regulator"):
        raise UsageError(f"--audience {audience} makes a view: give --full FULL.pdf (the signed full report)")
    from ..report.commitments import commit, commitments_json, write_salts
    from ..report.render import render_report
    from ..results.io import load_results

    if manifest is not None and bundle is not None:
        raise UsageError("give --manifest or --bundle, not both")
    if (tsa_url or certify or passphrase_file) and sign_key is None:
        raise UsageError("--tsa-url, --certify and --passphrase-file need --sign-key")
    from ..fsio import output_kind

    for path in (output, html_output):
        if path is not None:
            output_kind(path)  # a refused output path fails before the long render
    manifest_bytes = _manifest_bytes(manifest, bundle, results)
    passphrase = None
    if sign_key is not None:
        from ..signing.keys import load_signer

        passphrase = _passphrase(passphrase_file, sign_key)
        load_signer(sign_key, passphrase)  # a wrong passphrase fails before the long render

    import tempfile

    committed = commit(load_results(results))
    with tempfile.TemporaryDirectory(prefix="auditkit-report-") as scratch:
        # signing needs the whole rendering first: it never sits beside the output
        target = Path(scratch) / "unsigned.pdf" if sign_key is not None else output
        from ..progress import step_line

        with step_line("rendering") as progress:
            rendered = render_report(
                results, manifest_bytes=manifest_bytes, output=target, html_output=html_output,
                signed=sign_key is not None, allow_integrity_failures=allow_integrity_failures,
                progress=progress, commitments=commitments_json(committed), jobs=jobs,
            )
        for warning in render_warnings(rendered.warnings):
            _say(f"auditkit: warning: {warning}")
        _say(f"rendered {rendered.pages} pages in {rendered.seconds:.2f} s "
             f"(results.json sha256:{rendered.results_sha256})")
        if sign_key is not None:
            from ..signing.pades import sign_pdf

            signed = sign_pdf(target, output, p12=sign_key, passphrase=passphrase,
                              tsa_url=tsa_url, certify=certify)
            _say(f"signed {signed.level}{' (certified)' if signed.certified else ''} by "
                 f"{signed.signer} in {signed.seconds * 1000:.0f} ms")
    if output_kind(output) == "file":
        sidecar = write_salts(output, committed)
        _say(f"{len(committed)} disclosable items committed; salts in {sidecar} (private: needed for views)")
    click.echo(str(output))
    if html_output is not None:
        click.echo(str(html_output))


def _view(results: Path | None, output: Path, full_report: Path | None, salts: Path | None,
          trust: tuple[Path, ...], audience: str, sign_key: Path | None, passphrase_file: Path | None,
          tsa_url: str | None, certify: bool, html_output: Path | None, manifest: Path | None,
          bundle: Path | None) -> None:
    """``auditkit report --audience A --full FULL.pdf``: a redacted, signed view of a full report."""
    import tempfile

    from ..fsio import output_kind
    from ..report.view import render_view

    if full_report is None:
        raise UsageError("--salts and --trust apply to audience views: give --full FULL.pdf")
    if results is not None or html_output or manifest or bundle:
        raise UsageError("an audience view is made from --full alone: no RESULTS, --html, --manifest or --bundle")
    if audience == "full":
        raise UsageError("--full needs --audience public, auditee or regulator")
    if sign_key is None or not trust:
        raise UsageError("an audience view needs --sign-key (the auditor key) and --trust CA.pem")
    output_kind(output)
    passphrase = _passphrase(passphrase_file, sign_key)
    with tempfile.TemporaryDirectory(prefix="auditkit-view-") as scratch:
        target = Path(scratch) / "unsigned.pdf"
        rendered = render_view(full_report, audience=audience, trust=list(trust), salts=salts, output=target,
                               sign_key=sign_key, passphrase=passphrase)
        for warning in render_warnings(rendered.warnings):
            _say(f"auditkit: warning: {warning}")
        _say(f"rendered the {audience} view: {rendered.pages} pages, {rendered.disclosed} items disclosed, "
             f"{rendered.withheld} withheld (full report sha256:{rendered.full_report_sha256})")
        from ..signing.pades import sign_pdf

        signed = sign_pdf(target, output, p12=sign_key, passphrase=passphrase, tsa_url=tsa_url, certify=certify,
                          reason=f"Audit report, {audience} view")
        _say(f"signed {signed.level} by {signed.signer}")
    click.echo(str(output))


def _manifest_bytes(manifest: Path | None, bundle: Path | None, results: Path) -> bytes | None:
    if manifest is not None:
        return manifest.read_bytes()
    if bundle is None:
        return None
    from ..evidence import open_bundle
    from ..results.io import load_results

    assessed = load_results(results).bundle.root_hash
    with open_bundle(bundle) as opened:
        if opened.root_hash.lower() != assessed.lower():
            raise IntegrityError(
                f"this bundle's root hash {opened.root_hash} is not the one assessed ({assessed})",
                where=str(bundle), hint="pass the bundle the results were computed from",
            )
        with opened.open_member("manifest.yaml") as handle:
            return handle.read()


@click.group()
def keys() -> None:
    """Signing keys for reports."""


@keys.command("init")
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              required=True, help="Folder for signer.p12 and ca.pem (created if missing).")
@click.option("--org", required=True, help="Organization named in the certificates.")
@click.option("--name", "signer_name", help="Signer's common name (default: ORG Auditor).")
@click.option("--passphrase-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help=_KEY_FILE_HELP)
@click.option("--force", is_flag=True, help="Overwrite existing signer.p12 / ca.pem.")
def keys_init(out_dir: Path, org: str, signer_name: str | None, passphrase_file: Path | None,
              force: bool) -> None:
    """Make a private signing CA (EC P-256) and a signing certificate issued by it.

    Writes signer.p12 (key + certificate + CA, passphrase-protected, mode 0600) and
    ca.pem (give it to report readers for 'auditkit verify --trust'). The CA's own
    private key is not kept.
    """
    from ..signing.keys import SIGNER_FILE, init_keys

    passphrase = _passphrase(passphrase_file, out_dir / SIGNER_FILE, confirm=True)
    if not passphrase:
        raise UsageError(
            "no passphrase", hint="use --passphrase-file, $AUDITKIT_KEY_PASSPHRASE or a terminal"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    made = init_keys(out_dir, org=org, passphrase=passphrase, signer_name=signer_name, force=force)
    click.echo(str(made.p12))
    click.echo(str(made.ca_pem))
    _say(f"signer: {made.signer_subject} (valid until {made.not_after:%Y-%m-%d})")
    _say(f"CA fingerprint sha256:{made.ca_fingerprint} (publish it with ca.pem)")


@click.command()
@click.argument("report_pdf", metavar="REPORT.pdf",
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--role", type=click.Choice(["reviewer", "auditee"]), required=True,
              help="reviewer: the engagement quality reviewer's countersignature; "
                   "auditee: the audited organization's acknowledgement.")
@click.option("--sign-key", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="PKCS#12 signing key (key and certificate, e.g. from 'auditkit keys init').")
@click.option("--passphrase-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help=_KEY_FILE_HELP)
@click.option("--tsa-url", help="RFC 3161 time-stamp server: makes the co-signature PAdES B-T.")
@click.option("-o", "--output", type=OUTPUT_FILE, metavar="FILE", required=True,
              help="The co-signed PDF to write.")
def cosign(report_pdf: Path, role: str, sign_key: Path, passphrase_file: Path | None,
           tsa_url: str | None, output: Path) -> None:
    """Add a co-signature to REPORT.pdf, a report the auditor has signed.

    The signature goes in field auditkit-ROLE, with the role in its reason, as an
    incremental update that adds only that signature: the auditor's signature and
    the report's content stay as signed. Exit 3 if the report is unsigned, a
    signature on it does not verify, or ROLE has signed already; 4 if the key
    cannot be opened. Check the result with 'auditkit verify --require-roles'.
    """
    from ..signing.cosign import cosign_pdf
    from ..signing.keys import load_signer

    passphrase = _passphrase(passphrase_file, sign_key)
    load_signer(sign_key, passphrase)
    signed = cosign_pdf(report_pdf, output, role=role, p12=sign_key, passphrase=passphrase, tsa_url=tsa_url)
    _say(f"co-signed as {role} ({signed.level}) by {signed.signer} in {signed.seconds * 1000:.0f} ms")
    click.echo(str(output))


@click.command()
@click.argument("pdf", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--trust", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              multiple=True, help="Trusted CA certificate(s), PEM (repeatable).")
@click.option("--bundle", type=click.Path(exists=True, path_type=Path),
              help="Re-verify this evidence bundle in full (as 'auditkit bundle verify' does) and check "
                   "it is the one the results were computed from.")
@click.option("--bundle-trust", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              multiple=True, help="CA certificate(s) (PEM, repeatable) the bundle's manifest.sig must "
                                  "verify against; without it the bundle signature is not checked.")
@click.option("--require-roles", metavar="ROLE,...", default="",
              help="Comma-separated roles that must have signed: auditor, reviewer, auditee.")
@click.option("--against", metavar="SHA256",
              help="For an audience view: the full report's SHA-256 fingerprint it must come from.")
@click.option("--full", "full_report", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="For an audience view: the signed full report it must come from (verified too).")
def verify(pdf: Path, trust: tuple[Path, ...], bundle: Path | None, bundle_trust: tuple[Path, ...],
           require_roles: str, against: str | None, full_report: Path | None) -> None:
    """Verify a signed report: every signature (the auditor's and any co-signature) intact and
    trusted, nothing but signatures added after the auditor signed, the last signature covering
    the whole file, embedded results matching, and optionally the bundle.

    Every signer is listed with role, subject, signing time and status.

    With --bundle the bundle is re-verified in full (structure, manifest schema,
    every file's size and SHA-256, no unlisted file, the signature with
    --bundle-trust) and must have the root hash the results name. With
    --require-roles each role named must have signed. Exit 0 when everything
    holds; 4, with every reason (missing roles named), otherwise.

    An audience view ('auditkit report --audience') is verified item by item: each
    disclosed item must match its salted commitment in the full report's commitment
    list, whose detached CMS signature must verify against --trust; with --against
    or --full the full report it came from is checked too. It prints "N items
    disclosed and proven, M withheld"; any mismatch exits 4 naming the item.
    """
    from ..signing.verify import verify_report

    if bundle_trust and bundle is None:
        raise UsageError("--bundle-trust needs --bundle")
    roles = [r.strip() for r in require_roles.split(",") if r.strip()]
    verdict = verify_report(pdf, trust=list(trust), bundle=bundle, bundle_trust=list(bundle_trust),
                            require_roles=roles, against=against, full=full_report)
    for line in verdict.lines():
        click.echo(line)
