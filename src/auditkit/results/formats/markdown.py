"""``--format markdown``: a short summary to paste into a ticket or a pull request.

Overall score and rating (with the reason when the rating is capped), a table of
family scores, a table of failing controls with their first reasons, waivers and
auditor overrides marked as such, and the bundle root hash and catalog digest that
pin what was assessed. Text from the results is escaped so it cannot break a table
(``|``, newlines) or turn into links, images, emphasis or HTML.
"""

from __future__ import annotations

from ..model import ControlResult, Results
from .junit import FAILING, failure_lines

NAME = "markdown"
SUFFIX = ".md"

MAX_REASONS = 3
_ESCAPES = str.maketrans({
    "\\": "\\\\", "`": "\\`", "*": "\\*", "_": "\\_", "[": "\\[", "]": "\\]", "|": "\\|",
    "<": "&lt;", ">": "&gt;", "&": "&amp;",
})


def text(value: object) -> str:
    """Plain text for one line of Markdown: inline syntax escaped, newlines folded to spaces."""
    return " ".join(str(value).translate(_ESCAPES).split())


def cell(value: object) -> str:
    """Text for a table cell: escaped, and each line break kept as ``<br>``."""
    lines = [text(line) for line in str(value).splitlines()] or [""]
    return "<br>".join(line for line in lines if line) or " "


def code(value: object, *, table: bool = False) -> str:
    """A code span for identifiers and digests (backticks and line breaks removed).

    In a table cell ``|`` is escaped too: GFM splits cells even inside code spans.
    """
    span = "`" + " ".join(str(value).replace("`", "'").split()) + "`"
    return span.replace("|", "\\|") if table else span


def _score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _row(*cells: str) -> str:
    return "| " + " | ".join(cells) + " |"


def _reasons(control: ControlResult) -> str:
    lines = failure_lines(control) or [control.status]
    shown = [cell(line) for line in lines[:MAX_REASONS]]
    if len(lines) > MAX_REASONS:
        shown.append(f"… and {len(lines) - MAX_REASONS} more")
    return "<br>".join(shown)


def _headline(results: Results) -> list[str]:
    overall = results.overall
    a = results.assessment
    out = [
        f"# Assessment of {text(a.auditee)}",
        "",
        f"Bundle {code(results.bundle.id)} · "
        f"period {text(a.period.start)} to {text(a.period.end)} · "
        f"as of {text(a.as_of)} · profile {code(results.profile.id)} · "
        f"auditor {text(a.auditor.name)}",
        "",
        f"**Overall score: {_score(overall.score)} / 100 · rating: {text(overall.rating)}**",
        "",
    ]
    if overall.capped_by:
        out += [f"> **Rating capped** at {text(overall.rating)} (the score alone gives "
                f"{text(overall.uncapped_rating)}) because critical controls are not satisfied: "
                f"{', '.join(text(c) for c in overall.capped_by)}.", ""]
    counts = " · ".join(f"{n} {text(status)}" for status, n in overall.status_counts.items())
    out += [f"Controls: {counts}" if counts else "Controls: none", ""]
    return out


def _families(results: Results) -> list[str]:
    out = ["## Family scores", "", _row("Family", "Score", "Controls", "Statuses"),
           _row("---", "---:", "---:", "---")]
    for family in results.families:
        statuses = ", ".join(f"{n} {text(s)}" for s, n in family.status_counts.items())
        out.append(_row(f"{text(family.id)} {cell(family.title)}", _score(family.score),
                        str(family.controls), statuses or " "))
    return [*out, ""]


def _failing(results: Results) -> list[str]:
    by_id = {c.id: c for c in results.controls}
    order = [by_id[f.control] for f in results.findings if f.control in by_id]
    order += [c for c in results.controls if c not in order]
    failing = [c for c in order if c.status in FAILING]
    out = ["## Failing controls", ""]
    if not failing:
        return [*out, "None.", ""]
    out += [_row("Control", "Severity", "Status", "Reasons"), _row("---", "---", "---", "---")]
    for control in failing:
        status = text(control.status)
        if control.override is not None:
            status = f"{status} (**OVERRIDE** from {text(control.computed_status)})"
        out.append(_row(f"{text(control.id)} {cell(control.title)}", text(control.severity), status,
                        _reasons(control)))
    return [*out, ""]


def _judgements(results: Results) -> list[str]:
    rows = []
    for c in results.controls:
        if c.waiver is not None and c.waiver.state != "not-needed":
            w = c.waiver
            mark = {"applied": "**WAIVED**", "expired": "**WAIVER EXPIRED** (ignored)",
                    "refused-unwaivable": "**WAIVER REFUSED** (unwaivable)"}[w.state]
            rows.append(_row(text(c.id), mark,
                             f"until {text(w.expires)}, approved by {cell(w.approved_by)}: "
                             f"{cell(w.justification)} (computed {text(c.computed_status)})"))
        if c.override is not None:
            o = c.override
            by = f" by {cell(o.by)}" if o.by else ""
            rows.append(_row(text(c.id), "**OVERRIDE**",
                             f"{text(c.computed_status)} → {text(c.status)}{by}: {cell(o.reason)}"))
        if c.status == "not-applicable":
            reason = cell(c.not_applicable or "no justification")
            rows.append(_row(text(c.id), "not applicable", reason))
    out = ["## Waivers, overrides and exclusions", ""]
    if not rows:
        return [*out, "None.", ""]
    return [*out, _row("Control", "Judgement", "Detail"), _row("---", "---", "---"), *rows, ""]


def render(results: Results) -> bytes:
    lines = [*_headline(results), *_families(results), *_failing(results), *_judgements(results)]
    lines += [
        "---",
        "",
        f"Bundle root hash: {code(results.bundle.root_hash)}  ",
        f"Catalog digest: {code(results.catalog.digest)} "
        f"(version {text(results.catalog.version)})  ",
        f"Profile digest: {code(results.profile.digest)}  ",
        f"auditkit {text(results.tool.version)}",
        "",
    ]
    return "\n".join(lines).encode("utf-8", "replace")  # lone surrogates become "?"
