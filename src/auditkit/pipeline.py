"""The I/O edge of an assessment: load catalog, profile, assessment and bundle, then call the engine.

The engine stays pure; this module is where files are read. ``auditkit assess``,
``auditkit run`` and ``auditkit demo`` all go through :func:`run_assessment`.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .catalog import load_catalog, load_profile
from .catalog.assessment import UNRECORDED_AUDITOR, Assessment, Auditor, Engagement, load_assessment
from .engine.workers import Limits
from .errors import InvalidInputError
from .results.model import BundleSignature, Results


@dataclass(frozen=True)
class AssessmentRun:
    """What an assessment used and produced, for the caller to report."""

    results: Results
    assessment_source: str | None
    notes: list[str] = field(default_factory=list)
    manifest_bytes: bytes | None = None


def default_assessment_path(bundle: Path) -> Path:
    """``NAME.assessment.yaml`` beside the bundle ``NAME``, ``NAME.zip`` or ``NAME.tar.gz``."""
    name = bundle.name
    for suffix in (".tar.gz", ".tgz", ".zip"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return bundle.parent / f"{name}.assessment.yaml"


def run_assessment(
    bundle_path: Path,
    *,
    controls: Path | None = None,
    profile: str | None = None,
    assessment_path: Path | None = None,
    as_of: _dt.date | None = None,
    limits: Limits | None = None,
    trust: Sequence[Path] = (),
    allow_integrity_failures: bool = False,
) -> AssessmentRun:
    """Load everything ``auditkit assess`` needs and assess the bundle.

    Fails closed on the bundle's trust chain: with ``trust`` the manifest signature must
    verify against it (:class:`~auditkit.errors.IntegrityError` otherwise), and a file
    failing its manifest hash or size raises
    :class:`~auditkit.evidence.BundleIntegrityError` before anything is assessed, unless
    ``allow_integrity_failures``; the results then record the failures.
    """
    from .engine import EngineOptions, assess
    from .engine.inputs import EvidenceSet
    from .evidence import load_evidence, open_bundle
    from .evidence.bundle import INTEGRITY_FAILURES

    notes: list[str] = []
    catalog = load_catalog([controls] if controls else None)
    if assessment_path is None:
        candidate = default_assessment_path(bundle_path)
        if candidate.is_file():
            assessment_path = candidate
            notes.append(f"using the assessment file beside the bundle: {candidate}")
    assessment: Assessment | None = (
        load_assessment(assessment_path, catalog) if assessment_path is not None else None
    )
    profile_name = profile or (assessment.engagement.profile if assessment else None)
    loaded_profile = load_profile(profile_name, catalog)
    with open_bundle(bundle_path) as bundle:
        signature = _bundle_signature(bundle, trust, notes)
        loaded = load_evidence(bundle)
        failing = [entry for entry in loaded if entry.integrity in INTEGRITY_FAILURES]
        if failing and not allow_integrity_failures:
            raise _integrity_refusal([entry.problem or entry.item.path for entry in failing])
        if failing:
            one = len(failing) == 1
            notes.append(f"warning: {len(failing)} evidence file{'' if one else 's'} "
                         f"fail{'s its' if one else ' their'} manifest hash or size; assessed anyway "
                         "(--allow-integrity-failures): the results record this and the report states it "
                         "on its cover")
        evidence = EvidenceSet.from_bundle(bundle, loaded)
        with bundle.open_member("manifest.yaml") as handle:
            manifest_bytes = handle.read()
    if assessment is not None:
        from .catalog.scaffold import assessment_warnings

        notes.extend(f"warning: {line}" for line in assessment_warnings(
            catalog, loaded_profile, assessment, evidence.organization, filled=True, as_of=as_of))
    if assessment is None:
        day = as_of or _default_as_of(evidence)
        notes.append(f"no assessment file: procedures count as not performed; as-of date {day.isoformat()}")
        assessment = Assessment(engagement=Engagement(
            auditee=evidence.organization, auditor=Auditor(name=UNRECORDED_AUDITOR), as_of=day))
    results = assess(catalog, loaded_profile, evidence, assessment, as_of,
                     options=EngineOptions(limits=limits or Limits()))
    bundle_info = results.bundle.model_copy(update={"signature": signature,
                                                    "signed": signature.status == "verified"})
    return AssessmentRun(results.model_copy(update={"bundle": bundle_info}), assessment.source, notes,
                         manifest_bytes)


def _bundle_signature(bundle: Any, trust: Sequence[Path], notes: list[str]) -> BundleSignature:
    """Verify ``manifest.sig`` against ``trust`` (raises if that fails), or say why it was not."""
    from .evidence.names import SIGNATURE_NAME

    if trust:
        signer = bundle.verify_signature(list(trust))
        notes.append(f"bundle signature verified: {signer.subject} (certificate sha256:{signer.fingerprint})")
        return BundleSignature(status="verified", signer=signer.subject, fingerprint=signer.fingerprint,
                               trust_anchor=signer.trust_anchor)
    if bundle.signature is not None:
        notes.append(f"warning: {bundle.where(SIGNATURE_NAME)}: bundle signature present but not checked "
                     "(pass --trust CA.pem to check it); the results and the report say so")
        return BundleSignature(status="not-checked")
    return BundleSignature(status="absent")


def _integrity_refusal(problems: list[str]) -> Exception:
    from .evidence import BundleIntegrityError

    count = len(problems)
    return BundleIntegrityError([
        *problems,
        f"{count} evidence file{'s' if count != 1 else ''} fail{'s' if count == 1 else ''} the manifest's "
        "hash or size: nothing was assessed or written (to assess anyway, with the failures recorded in "
        "the results and stated on the report's cover, pass --allow-integrity-failures)",
    ])


@dataclass(frozen=True)
class Signer:
    """A PKCS#12 signing key and its passphrase, plus optional PAdES options."""

    p12: Path
    passphrase: bytes | None
    tsa_url: str | None = None
    certify: bool = False


@dataclass(frozen=True)
class PipelineOutput:
    results_path: Path
    report_path: Path
    run: AssessmentRun
    pages: int
    warnings: list[str]
    render_seconds: float
    sign_seconds: float


def run_pipeline(bundle_path: Path, outdir: Path, signer: Signer, *, html: bool = False,
                 allow_integrity_failures: bool = False, **assess_options: Any) -> PipelineOutput:
    """Assess ``bundle_path``, render the report and sign it: ``results.json`` and ``report.pdf`` in ``outdir``.

    The report embeds the commitments audience views are proven against; their salts go
    to ``report.pdf.salts.json`` (mode 0600) beside it.

    The unsigned PDF exists only as a temp file; ``report.pdf`` appears complete and signed or not at all.
    When the assessment is refused (an integrity failure, a bad bundle signature) nothing is written.
    """
    import tempfile

    from .evidence import BundleIntegrityError
    from .fsio import output_kind, write_bytes
    from .report import render_report
    from .report.commitments import commit, commitments_json, write_salts
    from .results.io import to_json_bytes
    from .signing.keys import load_signer
    from .signing.pades import sign_pdf

    load_signer(signer.p12, signer.passphrase)  # a wrong passphrase fails before the long render
    for name in ("results.json", "report.pdf", *(("report.html",) if html else ())):
        output_kind(outdir / name)  # so does an output path that would be refused
    try:
        run = run_assessment(bundle_path, allow_integrity_failures=allow_integrity_failures, **assess_options)
    except BundleIntegrityError as exc:
        stale = [outdir / name for name in ("results.json", "report.pdf") if (outdir / name).exists()]
        if stale:
            exc.problems.append(f"left untouched from an earlier run: {', '.join(map(str, stale))}")
        raise
    outdir.mkdir(parents=True, exist_ok=True)
    results_path = outdir / "results.json"
    write_bytes(results_path, to_json_bytes(run.results))
    report_path = outdir / "report.pdf"
    committed = commit(run.results)
    with tempfile.TemporaryDirectory(dir=outdir, prefix=".render-") as scratch:
        unsigned = Path(scratch) / "unsigned.pdf"
        rendered = render_report(results_path, manifest_bytes=run.manifest_bytes, output=unsigned,
                                 html_output=outdir / "report.html" if html else None, signed=True,
                                 allow_integrity_failures=allow_integrity_failures,
                                 commitments=commitments_json(committed))
        signed = sign_pdf(unsigned, report_path, p12=signer.p12, passphrase=signer.passphrase,
                          tsa_url=signer.tsa_url, certify=signer.certify)
    if output_kind(report_path) == "file":
        write_salts(report_path, committed)
    return PipelineOutput(results_path, report_path, run, rendered.pages, list(rendered.warnings),
                          rendered.seconds, signed.seconds)


def sample_bundles(folder: Path) -> list[Path]:
    """The bundles in a samples folder: sub-folders holding a manifest.yaml, and archives."""
    found = [p for p in sorted(folder.iterdir())
             if (p.is_dir() and (p / "manifest.yaml").is_file()) or p.name.endswith((".zip", ".tar.gz"))]
    if not found:
        raise InvalidInputError("no evidence bundles here", where=str(folder),
                                hint="a bundle is a folder with manifest.yaml, a .zip or a .tar.gz")
    return found


def _default_as_of(evidence: object) -> _dt.date:
    created = getattr(evidence, "created", None)
    period = getattr(evidence, "period", None)
    text = created or (period[1] if period else None)
    if not text:
        raise InvalidInputError("no as-of date", hint="pass --as-of YYYY-MM-DD or an assessment file")
    return _dt.date.fromisoformat(str(text)[:10])
