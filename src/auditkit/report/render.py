"""Render a results file to an unsigned PDF/A-3b audit report (and optionally its HTML).

The HTML comes from the Jinja templates (:mod:`.env`); WeasyPrint lays it out
with the confined URL fetcher (:mod:`.fetcher`) and writes PDF/A-3b with
``results.json`` (and ``manifest.yaml`` when given) attached with relationship
``Data``. The SHA-256 of each attachment is printed in the report and recorded in
the document information (``/AuditkitResultsSHA256``, ``/AuditkitManifestSHA256``)
so that a signature over the file also covers which results it was rendered from.

Output is reproducible: every date in the file comes from the assessment's as-of
date (document and attachment dates, ``SOURCE_DATE_EPOCH`` for font subsetting
unless the caller set it), so the same results give the same bytes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..catalog.assessment import UNRECORDED_AUDITOR
from ..catalog.models import SEVERITY_ORDER, id_key
from ..errors import IntegrityError, InternalError, InvalidInputError
from ..fsio import write_bytes, write_text
from ..results import crosswalk
from ..results.model import IntegrityFailure, Results
from . import commitments as cm
from .env import make_environment, template_dir
from .join import join
from .parts import Layout, RenderedPart, describe, page_numbers, render_part, render_parts, split

TEMPLATE = "report.html.j2"
PDF_VARIANT = "pdf/a-3b"
"""WeasyPrint writes one variant per file (PDF/A or PDF/UA, not both): PDF/A-3b, tagged (see docs/reports.md)."""
STYLESHEET = "report.css"
RESULTS_NAME = "results.json"
MANIFEST_NAME = "manifest.yaml"
DRAFT_KEY = "AuditkitDraft"
"""Document-information key marking an unsigned draft rendering (``sign_pdf`` refuses those)."""
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
STATUSES = (
    "satisfied",
    "partially-satisfied",
    "not-satisfied",
    "insufficient-evidence",
    "waived",
    "not-applicable",
    "not-assessed",
)


@dataclass(frozen=True)
class RenderedReport:
    """What :func:`render_report` wrote."""

    output: Path
    html_output: Path | None
    pages: int
    results_sha256: str
    manifest_sha256: str | None
    seconds: float
    """Wall time of layout and PDF writing."""
    warnings: list[str] = field(default_factory=list)
    """WeasyPrint's warnings, for the caller to show (the CLI prints them on stderr)."""


def _as_of_datetime(results: Results) -> dt.datetime:
    try:
        day = dt.date.fromisoformat(results.assessment.as_of[:10])
    except ValueError as exc:
        raise InvalidInputError(
            f"as-of date {results.assessment.as_of!r} is not an ISO date", where="/assessment/as_of"
        ) from exc
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _load(source: Results | Path | str) -> tuple[Results, bytes, str]:
    from ..results.io import MAX_RESULTS_BYTES, results_from_bytes, to_json_bytes

    if isinstance(source, Results):
        raw = to_json_bytes(source)
        return source, raw, "results"
    path = Path(source)
    try:
        if path.stat().st_size > MAX_RESULTS_BYTES:
            raise InvalidInputError("results file is too large", where=str(path))
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InvalidInputError("file not found", where=str(path)) from None
    return results_from_bytes(raw, str(path)), raw, str(path)


def integrity_failures(results: Results) -> list[IntegrityFailure]:
    """The evidence files the results record as failing their manifest hash or size.

    The bundle-level list, plus any item whose own verdict says so (results written
    before that list existed, or edited by hand), so none can be missed.
    """
    from ..evidence.bundle import INTEGRITY_FAILURES

    found = {f.path: f for f in results.bundle.integrity_failures}
    for item in results.bundle.items:
        if item.integrity in INTEGRITY_FAILURES and item.path not in found:
            found[item.path] = IntegrityFailure(path=item.path, integrity=item.integrity,
                                                problem=item.problem or item.integrity)
    return sorted(found.values(), key=lambda f: f.path)


def build_context(
    results: Results, *, results_sha256: str, manifest_sha256: str | None, signed: bool = False
) -> dict[str, Any]:
    """Everything the template sees: the results plus orderings and lookups made here."""
    a = results.assessment
    family_by_id = {f.id: f for f in results.families}
    controls_by_family = []
    untested_by_family = []
    for family in results.families:
        controls = [c for c in results.controls if c.family == family.id and c.status != "not-assessed"]
        untested = [c for c in results.controls if c.family == family.id and c.status == "not-assessed"]
        if controls:
            controls_by_family.append((family, controls))
        if untested:
            untested_by_family.append((family, untested))
    orphans = [c for c in results.controls if c.family not in family_by_id]
    if orphans:
        raise InvalidInputError(
            f"control {orphans[0].id} names family {orphans[0].family!r} that the results lack",
            where="/controls",
        )
    findings = sorted(
        results.findings, key=lambda f: (SEVERITY_ORDER.get(f.severity, 9), id_key(f.control))
    )
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.severity] = counts.get(f.severity, 0) + 1
    ratings = sorted(
        (
            {
                "name": str(r.get("name", r.get("rating", "?"))),
                "min_score": float(r.get("min_score", 0)),
            }
            for r in results.profile.ratings
        ),
        key=lambda r: -float(r["min_score"]),  # type: ignore[arg-type]
    )
    return {
        "r": results,
        "title": f"Audit report: {a.auditee}, {a.period.start} to {a.period.end}",
        "subject": (
            f"Safeguard controls assessment of {a.auditee} as of {a.as_of}: "
            f"{results.overall.rating}, score {_fmt_score(results.overall.score)}"
        ),
        "keywords": ["audit report", "safeguard controls", a.auditee, results.bundle.id,
                     results.overall.rating],
        "document_date": _as_of_datetime(results).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "results_sha256": results_sha256,
        "manifest_sha256": manifest_sha256,
        "controls_by_family": controls_by_family,
        "untested_by_family": untested_by_family,
        "untested_count": sum(len(c) for _, c in untested_by_family),
        "untested_ids": {c.id for _, controls in untested_by_family for c in controls},
        "findings": findings,
        "finding_counts": sorted(counts.items(), key=lambda kv: SEVERITY_ORDER.get(kv[0], 9)),
        "items_by_path": {item.path: item for item in results.bundle.items},
        "labels": {c.id: c.shown_id for c in results.controls},
        "sections": {c.id for _, controls in controls_by_family for c in controls},
        "crosswalk": crosswalk.build(results).rows,
        "ratings": ratings,
        "statuses": STATUSES,
        "severity_weights": sorted(results.profile.severity_weights.items(),
                                   key=lambda kv: (SEVERITY_ORDER.get(kv[0], 9), kv[0])),
        "auditor_recorded": a.auditor.name != UNRECORDED_AUDITOR or bool(a.auditor.organization),
        "signed": signed,
        "integrity_failures": integrity_failures(results),
    }


def _fmt_score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def build_html(
    results: Results, *, results_sha256: str, manifest_sha256: str | None = None, signed: bool = False
) -> str:
    """The report as HTML (stylesheet linked as ``report.css`` relative to the templates).

    ``signed=False`` makes it a draft: "UNSIGNED DRAFT" in the margin of every page and on
    the cover, no signature box and no claim that a signature establishes authenticity.
    """
    env = make_environment()
    context = build_context(results, results_sha256=results_sha256, manifest_sha256=manifest_sha256,
                            signed=signed)
    return env.get_template(TEMPLATE).render(**context)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage().splitlines()[0] if record.getMessage() else ""
        self.messages.append(message[:300])


@contextlib.contextmanager
def captured_warnings() -> Iterator[_Collect]:
    logger = logging.getLogger("weasyprint")
    handler = _Collect()
    saved = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.propagate = saved


@contextlib.contextmanager
def _source_date_epoch(moment: dt.datetime) -> Iterator[None]:
    if "SOURCE_DATE_EPOCH" in os.environ:
        yield
        return
    os.environ["SOURCE_DATE_EPOCH"] = str(int(moment.timestamp()))
    try:
        yield
    finally:
        os.environ.pop("SOURCE_DATE_EPOCH", None)


def render_report(
    results: Results | Path | str,
    *,
    manifest_bytes: bytes | None,
    output: Path,
    html_output: Path | None = None,
    signed: bool = False,
    allow_integrity_failures: bool = False,
    progress: Callable[[str], None] | None = None,
    commitments: bytes | None = None,
    jobs: int | None = None,
) -> RenderedReport:
    """Render ``results`` (a results file or model) to an unsigned PDF/A-3b at ``output``.

    The rendering is a draft (``UNSIGNED DRAFT`` on every page, no signature box, and
    ``/AuditkitDraft`` in the document information, so :func:`auditkit.sign_pdf` refuses
    it) unless ``signed=True``: pass that only when the output is signed next, as
    ``auditkit report --sign-key`` and ``auditkit run`` do.

    Results that record evidence integrity failures (files failing their manifest hash
    or size) are refused with :class:`~auditkit.errors.IntegrityError` (exit 4) unless
    ``allow_integrity_failures``; the report then states the failures on its cover and
    in the executive summary.

    ``progress`` is called with each rendering step in words ("laying out pages: part 3 of 9").

    The report is laid out as independent parts on ``jobs`` worker processes (default
    :data:`~.parts.DEFAULT_JOBS`, at most the CPUs) and joined (:mod:`.parts`, :mod:`.join`):
    memory stays that of one part, whatever the number of controls.

    ``commitments`` (a ``commitments.json`` from :mod:`.commitments`) is attached beside
    the results and its SHA-256 recorded as ``/AuditkitCommitmentsSHA256``, so the
    report's signature covers the list that audience views are later proven against.
    """
    model, raw, source = _load(results)
    failures = integrity_failures(model)
    if failures and not allow_integrity_failures:
        names = ", ".join(f.path for f in failures[:5]) + (" …" if len(failures) > 5 else "")
        raise IntegrityError(
            f"the results record {len(failures)} evidence file{'s' if len(failures) != 1 else ''} failing "
            f"the manifest's hash or size ({names}); refusing to render them as a report",
            where=source, hint="pass --allow-integrity-failures to render a report that states the "
            "failures on its cover",
        )
    if manifest_bytes is not None and len(manifest_bytes) > MAX_MANIFEST_BYTES:
        raise InvalidInputError("manifest too large to embed", where=MANIFEST_NAME)
    results_sha256 = hashlib.sha256(raw).hexdigest()
    manifest_sha256 = hashlib.sha256(manifest_bytes).hexdigest() if manifest_bytes else None
    html = build_html(model, results_sha256=results_sha256, manifest_sha256=manifest_sha256,
                      signed=signed)
    moment = _as_of_datetime(model)
    folder = template_dir()
    layout = split(html)
    say = progress or (lambda _step: None)

    started = time.perf_counter()
    with captured_warnings() as collected, _source_date_epoch(moment):
        parts = render_parts(layout, folder, jobs=jobs, done=lambda k, n, part: say(
            f"laying out pages: part {k} of {n} ({part.pages} pages)"))
        _refuse_fetches(folder, [url for part in parts for url in part.refused])
        say("laying out the cover and contents")
        from weasyprint.urls import FatalURLFetchingError  # only now: not held while the parts render

        from .fetcher import make_fetcher

        fetcher = make_fetcher(folder)
        try:
            document = _render_front(layout, parts, folder, fetcher)
            pdf = _write_with_attachments(
                document, raw=raw, manifest_bytes=manifest_bytes, results_sha256=results_sha256,
                manifest_sha256=manifest_sha256, root_hash=model.bundle.root_hash, moment=moment,
                signed=signed, commitments=commitments,
            )
        except FatalURLFetchingError as exc:
            _refuse_fetches(folder, fetcher.refused or [str(exc)])
        front = RenderedPart(pdf=pdf, pages=len(document.pages), bookmarks=describe(document)[1])
        total = front.pages + sum(part.pages for part in parts)
        say(f"numbering {total} pages")
        numbers = render_part(layout.numbers(total), str(folder), tagged=False, variant=None)
        _refuse_fetches(folder, numbers.refused)
        say(f"joining {len(parts) + 1} parts")
        pdf, join_warnings = join(front, parts, numbers.pdf)
    seconds = time.perf_counter() - started
    warnings = collected.messages + [w for part in (*parts, numbers) for w in part.warnings] + join_warnings
    return _finish(
        pdf, pages=total, output=output, html_output=html_output, html=html,
        folder=folder, results_sha256=results_sha256, manifest_sha256=manifest_sha256,
        seconds=seconds, warnings=warnings,
    )


def _refuse_fetches(folder: Path, refused: Sequence[str]) -> None:
    if refused:
        raise InvalidInputError(
            f"the report template asked for a forbidden resource: {'; '.join(refused)}",
            where=str(folder), hint="templates may use only their own folder and data: URLs",
        )


def _render_front(layout: Layout, parts: Sequence[RenderedPart], folder: Path, fetcher: Any) -> Any:
    """The cover and contents laid out, the contents giving the page each entry starts on.

    Those numbers count the front's own pages, which they cannot change (one entry per
    line whatever its number), so a second layout is needed only when the guess of two
    pages (cover and one page of contents) was wrong."""
    from .fetcher import layout_html

    guess = 2
    for _ in range(3):
        document = layout_html(layout.front_document(page_numbers(guess, parts)), folder, fetcher)
        if len(document.pages) == guess:
            break
        guess = len(document.pages)
    return document


def _write_with_attachments(
    document: Any, *, raw: bytes, manifest_bytes: bytes | None, results_sha256: str,
    manifest_sha256: str | None, root_hash: str, moment: dt.datetime, signed: bool,
    commitments: bytes | None = None,
) -> bytes:
    """PDF/A-3b bytes of the report ``document`` with the digests in its metadata and the files attached."""
    metadata = {"AuditkitResultsSHA256": results_sha256, "AuditkitBundleRootHash": root_hash}
    files = [(RESULTS_NAME, raw, "Assessment results (auditkit)")]
    if manifest_bytes:
        metadata["AuditkitManifestSHA256"] = manifest_sha256 or ""
        files.append((MANIFEST_NAME, manifest_bytes, "Evidence bundle manifest"))
    if commitments:
        metadata[cm.COMMITMENTS_KEY] = hashlib.sha256(commitments).hexdigest()
        files.append((cm.COMMITMENTS_NAME, commitments,
                      "Salted commitments to each disclosable item (audience views)"))
    return write_pdfa(document, files=files, metadata=metadata, moment=moment, signed=signed)


def write_pdfa(
    document: Any, *, files: Sequence[tuple[str, bytes, str]], metadata: Mapping[str, str],
    moment: dt.datetime, signed: bool,
) -> bytes:
    """PDF/A-3b bytes of a rendered ``document``: ``metadata`` in its document information
    (plus the draft mark when not ``signed``) and ``files`` (name, bytes, description)
    attached, the EmbeddedFiles name tree sorted as it must be."""
    import weasyprint

    document.metadata.custom.update(metadata)
    if not signed:
        document.metadata.custom[DRAFT_KEY] = "unsigned draft"
    attachments = sorted(
        (weasyprint.Attachment(string=data, name=name, description=description,
                               created=moment, modified=moment, relationship="Data")
         for name, data, description in files),
        key=lambda a: a.name.encode("utf-8"),
    )
    pdf: bytes = document.write_pdf(pdf_variant=PDF_VARIANT, pdf_tags=True, custom_metadata=True,
                                    attachments=attachments, finisher=_one_af_entry_per_file)
    return pdf


def _one_af_entry_per_file(_document: Any, pdf: Any) -> None:
    """WeasyPrint 70 lists every attachment twice in the catalog's /AF; keep the first of each."""
    entries = pdf.catalog.get("AF")
    if entries is None:
        return
    seen: set[str] = set()
    unique = [e for e in entries if not (str(e) in seen or seen.add(str(e)))]  # type: ignore[func-returns-value]
    entries.clear()
    entries.extend(unique)


def _finish(
    pdf: Any, *, pages: int, output: Path, html_output: Path | None, html: str, folder: Path,
    results_sha256: str, manifest_sha256: str | None, seconds: float, warnings: list[str],
) -> RenderedReport:
    if not isinstance(pdf, bytes) or not pdf.startswith(b"%PDF-"):
        raise InternalError("WeasyPrint produced no PDF")
    write_bytes(Path(output), pdf)
    if html_output is not None:
        css = (folder / STYLESHEET).read_text(encoding="utf-8")
        standalone = html.replace(
            f'<link rel="stylesheet" href="{STYLESHEET}">', f"<style>\n{css}</style>", 1
        )
        write_text(Path(html_output), standalone)
    return RenderedReport(
        output=Path(output),
        html_output=Path(html_output) if html_output else None,
        pages=pages,
        results_sha256=results_sha256,
        manifest_sha256=manifest_sha256,
        seconds=seconds,
        warnings=warnings,
    )
