"""What changed between two assessments: ``auditkit diff OLD NEW`` as a library.

:func:`diff_results` compares two :class:`Results` (pure, no I/O): control status
changes (including controls added or removed), overall and per-family score deltas,
the rating change, evidence items whose SHA-256 changed or that were added or removed
(by path and kind), and findings that are new or resolved. :func:`render` turns the
comparison into Markdown or JSON; :func:`load_side` reads one side from disk.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..errors import UsageError
from .formats.markdown import cell, code, text
from .model import Results

DiffFormat = Literal["markdown", "json"]
DIFF_FORMATS: tuple[DiffFormat, ...] = ("markdown", "json")


@dataclass(frozen=True)
class Side:
    """What identifies one assessment in a comparison."""

    source: str
    bundle_id: str
    root_hash: str
    as_of: str
    auditee: str
    catalog_digest: str
    catalog_version: str
    profile: str
    tool_version: str


@dataclass(frozen=True)
class StatusChange:
    """A control whose status differs (``old`` or ``new`` is None when absent on that side)."""

    control: str
    family: str
    title: str
    old: str | None
    new: str | None

    @property
    def change(self) -> str:
        return "added" if self.old is None else "removed" if self.new is None else "changed"


@dataclass(frozen=True)
class ScoreChange:
    """A score on both sides (None: not scored, or absent) and its delta."""

    scope: str
    title: str
    old: float | None
    new: float | None

    @property
    def delta(self) -> float | None:
        if self.old is None or self.new is None:
            return None
        return round(self.new - self.old, 2)


@dataclass(frozen=True)
class EvidenceChange:
    """An evidence item added, removed, or whose SHA-256 (or kind) changed; keyed by path."""

    path: str
    kind: str
    change: Literal["added", "removed", "changed"]
    old_sha256: str | None
    new_sha256: str | None
    old_kind: str | None = None


@dataclass(frozen=True)
class FindingChange:
    """A finding present on one side only (keyed by control)."""

    control: str
    family: str
    severity: str
    status: str
    title: str
    summary: str


@dataclass(frozen=True)
class ResultsDiff:
    """Everything that changed from ``old`` to ``new``."""

    old: Side
    new: Side
    overall: ScoreChange
    old_rating: str
    new_rating: str
    families: list[ScoreChange] = field(default_factory=list)
    controls: list[StatusChange] = field(default_factory=list)
    evidence: list[EvidenceChange] = field(default_factory=list)
    new_findings: list[FindingChange] = field(default_factory=list)
    resolved_findings: list[FindingChange] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether anything a reader would care about differs."""
        return bool(self.controls or self.evidence or self.new_findings or self.resolved_findings
                    or self.old_rating != self.new_rating or self.overall.old != self.overall.new
                    or any(f.old != f.new for f in self.families))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["changed"] = self.changed
        data["overall"]["delta"] = self.overall.delta
        for entry, family in zip(data["families"], self.families, strict=True):
            entry["delta"] = family.delta
        for entry, control in zip(data["controls"], self.controls, strict=True):
            entry["change"] = control.change
        return data


def _side(results: Results, source: str) -> Side:
    return Side(source=source, bundle_id=results.bundle.id, root_hash=results.bundle.root_hash,
                as_of=results.assessment.as_of, auditee=results.assessment.auditee,
                catalog_digest=results.catalog.digest, catalog_version=results.catalog.version,
                profile=results.profile.id, tool_version=results.tool.version)


def _order(old_ids: list[str], new_ids: list[str]) -> list[str]:
    """New order first, then what only the old side had, each id once."""
    seen = dict.fromkeys(new_ids)
    seen.update(dict.fromkeys(i for i in old_ids if i not in seen))
    return list(seen)


def diff_results(old: Results, new: Results, *, old_source: str = "old",
                 new_source: str = "new") -> ResultsDiff:
    """Compare two results; every list follows the new side's order, then the old's."""
    old_c = {c.id: c for c in old.controls}
    new_c = {c.id: c for c in new.controls}
    controls = []
    for cid in _order(list(old_c), list(new_c)):
        before, after = old_c.get(cid), new_c.get(cid)
        if before is not None and after is not None and before.status == after.status:
            continue
        ref = after or before
        assert ref is not None
        controls.append(StatusChange(cid, ref.family, ref.title, before.status if before else None,
                                     after.status if after else None))

    old_f = {f.id: f for f in old.families}
    new_f = {f.id: f for f in new.families}
    families = []
    for fid in _order(list(old_f), list(new_f)):
        fam_before, fam_after = old_f.get(fid), new_f.get(fid)
        title = (fam_after or fam_before).title  # type: ignore[union-attr]
        families.append(ScoreChange(fid, title, fam_before.score if fam_before else None,
                                    fam_after.score if fam_after else None))

    old_e = {i.path: i for i in old.bundle.items}
    new_e = {i.path: i for i in new.bundle.items}
    evidence = []
    for path in sorted(old_e.keys() | new_e.keys()):
        was, now = old_e.get(path), new_e.get(path)
        if was is None and now is not None:
            evidence.append(EvidenceChange(path, now.kind, "added", None, now.sha256))
        elif now is None and was is not None:
            evidence.append(EvidenceChange(path, was.kind, "removed", was.sha256, None))
        elif was is not None and now is not None:
            if (was.sha256, was.kind) == (now.sha256, now.kind):
                continue
            old_kind = was.kind if was.kind != now.kind else None
            evidence.append(EvidenceChange(path, now.kind, "changed", was.sha256, now.sha256,
                                           old_kind))

    def findings(results: Results, other: Results) -> list[FindingChange]:
        present = {f.control for f in other.findings}
        return [FindingChange(f.control, f.family, f.severity, f.status, f.title, f.summary)
                for f in results.findings if f.control not in present]

    return ResultsDiff(
        old=_side(old, old_source), new=_side(new, new_source),
        overall=ScoreChange("overall", "Overall", old.overall.score, new.overall.score),
        old_rating=old.overall.rating, new_rating=new.overall.rating,
        families=families, controls=controls, evidence=evidence,
        new_findings=findings(new, old), resolved_findings=findings(old, new),
    )


def load_side(path: Path, *, trust: Sequence[Path] = (), notes: list[str] | None = None) -> Results:
    """One side of a comparison: a ``results.json``, or a signed PDF report (recognised by ``%PDF-``).

    From a report, the embedded ``results.json`` is read after the report is verified
    against ``trust`` (signature, coverage, chain, embedded digest: exit 4 if any fails).
    Without ``trust`` it is read only if its digest matches the one recorded in the
    document, and a line saying the signature was not verified is added to ``notes``.
    """
    from .io import load_results

    try:
        with path.open("rb") as handle:
            head = handle.read(5)
    except OSError:
        head = b""  # load_results reports a missing or unreadable file with its own message
    if head == b"%PDF-":
        return _results_from_report(path, trust, notes if notes is not None else [])
    return load_results(path)


def _results_from_report(path: Path, trust: Sequence[Path], notes: list[str]) -> Results:
    import hashlib
    import io as _io

    from ..errors import IntegrityError
    from ..signing.verify import INFO_RESULTS_DIGEST, RESULTS_NAME, embedded_files, verify_report
    from .io import results_from_bytes

    if trust:
        verify_report(path, trust=list(trust))
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(_io.BytesIO(path.read_bytes()), strict=False)
        found = [data for name, data in embedded_files(reader) if name == RESULTS_NAME]
        recorded = str(reader.trailer["/Info"].get(INFO_RESULTS_DIGEST, "")) if "/Info" in reader.trailer else ""
    except Exception as exc:  # noqa: BLE001 - a damaged PDF raises anything
        raise IntegrityError(f"the report cannot be read ({type(exc).__name__})", where=str(path)) from None
    if len(found) != 1:
        raise IntegrityError(f"expected one embedded {RESULTS_NAME}, found {len(found)}", where=str(path),
                             hint="pass the results.json the report was made from")
    if hashlib.sha256(found[0]).hexdigest() != recorded.lower():
        raise IntegrityError(f"the embedded {RESULTS_NAME} is not the one the report was rendered from",
                             where=str(path), hint="do not rely on this report")
    if not trust:
        notes.append(f"{path}: signature not verified (pass --trust CA.pem to verify it); compared the "
                     f"embedded {RESULTS_NAME}, which matches the digest recorded in the report")
    return results_from_bytes(found[0], f"{path}!{RESULTS_NAME}")


def diff_files(old: Path, new: Path, *, trust: Sequence[Path] = (), notes: list[str] | None = None) -> ResultsDiff:
    """Load both sides (results files or signed reports) and compare them."""
    return diff_results(load_side(old, trust=trust, notes=notes), load_side(new, trust=trust, notes=notes),
                        old_source=str(old), new_source=str(new))


def render(diff: ResultsDiff, fmt: DiffFormat = "markdown") -> bytes:
    """The comparison as Markdown (for people) or JSON (for tools)."""
    if fmt == "json":
        return (json.dumps(diff.to_dict(), indent=2, ensure_ascii=False, allow_nan=False)
                + "\n").encode("utf-8", "replace")
    if fmt == "markdown":
        return _markdown(diff).encode("utf-8", "replace")
    raise UsageError(f"unknown diff format {fmt!r}", hint=f"use one of {', '.join(DIFF_FORMATS)}")


def _score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _delta(change: ScoreChange) -> str:
    if change.delta is None:
        return "added" if change.old is None and change.new is not None else (
            "removed" if change.new is None and change.old is not None else "–")
    return f"{change.delta:+.2f}" if change.delta else "0.00"


def _status(value: str | None) -> str:
    return "*(absent)*" if value is None else text(value)


def _short(digest: str | None) -> str:
    return "–" if digest is None else code(digest[:12], table=True)


_SIDE_ROWS = (("Source", "source", True), ("Auditee", "auditee", False),
              ("Bundle", "bundle_id", True), ("Bundle root hash", "root_hash", True),
              ("As of", "as_of", False), ("Catalog digest", "catalog_digest", True),
              ("Catalog version", "catalog_version", False), ("Profile", "profile", True),
              ("auditkit", "tool_version", False))


def _markdown(d: ResultsDiff) -> str:
    out = ["# Changes between two assessments", "",
           "| | Old | New |", "| --- | --- | --- |"]
    for label, attr, as_code in _SIDE_ROWS:
        old, new = getattr(d.old, attr), getattr(d.new, attr)
        if as_code:
            out.append(f"| {label} | {code(old, table=True)} | {code(new, table=True)} |")
        else:
            out.append(f"| {label} | {cell(old)} | {cell(new)} |")
    out.append("")
    if d.old.auditee != d.new.auditee:
        out += ["> **Different auditees**: make sure these two assessments are meant to be "
                "compared.", ""]
    if d.old.catalog_digest != d.new.catalog_digest:
        out += ["> **Different catalogs**: a status change may come from a changed control, "
                "not from the evidence.", ""]
    if not d.changed:
        out += ["No changes in statuses, scores, evidence or findings.", ""]

    rating = (f"{text(d.old_rating)} → **{text(d.new_rating)}**" if d.old_rating != d.new_rating
              else f"unchanged ({text(d.new_rating)})")
    out += ["## Scores", "", f"Rating: {rating}", "",
            "| Scope | Old | New | Change |", "| --- | ---: | ---: | ---: |"]
    for s in [d.overall, *d.families]:
        label = "**Overall**" if s.scope == "overall" else f"{text(s.scope)} {cell(s.title)}"
        out.append(f"| {label} | {_score(s.old)} | {_score(s.new)} | {_delta(s)} |")
    out.append("")

    out += ["## Control status changes", ""]
    if d.controls:
        out += ["| Control | Old | New | Change |", "| --- | --- | --- | --- |"]
        out += [f"| {text(c.control)} {cell(c.title)} | {_status(c.old)} | {_status(c.new)} | "
                f"{c.change} |" for c in d.controls]
    else:
        out.append("None.")
    out.append("")

    out += ["## Evidence changes", ""]
    if d.evidence:
        out += ["| Path | Kind | Change | Old sha256 | New sha256 |",
                "| --- | --- | --- | --- | --- |"]
        for e in d.evidence:
            kind = text(e.kind) + (f" (was {text(e.old_kind)})" if e.old_kind else "")
            out.append(f"| {code(e.path, table=True)} | {kind} | {e.change} | "
                       f"{_short(e.old_sha256)} | {_short(e.new_sha256)} |")
    else:
        out.append("None.")
    out.append("")

    sections = (("New findings", d.new_findings), ("Resolved findings", d.resolved_findings))
    for heading, items in sections:
        out += [f"## {heading}", ""]
        if items:
            out += ["| Control | Severity | Status | Summary |", "| --- | --- | --- | --- |"]
            out += [f"| {text(f.control)} {cell(f.title)} | {text(f.severity)} | "
                    f"{text(f.status)} | {cell(f.summary)} |" for f in items]
        else:
            out.append("None.")
        out.append("")
    return "\n".join(out)
