"""What ``assess`` and ``run`` tell a person: a ✔/✗ summary, and the ``--fail-on`` gate.

On a terminal the summary is coloured (unless ``NO_COLOR`` is set) and marks every
family and every control that needs attention; to a pipe or file it is one line.
Only click and the standard library are used.
"""

from __future__ import annotations

import os
import sys
from typing import Any, TextIO

import click

NEEDS_ATTENTION = ("not-satisfied", "partially-satisfied", "insufficient-evidence")
_MARKS = {  # status: (mark, ASCII fallback, colour)
    "satisfied": ("✔", "+", "green"),
    "partially-satisfied": ("◐", "~", "yellow"),
    "not-satisfied": ("✗", "x", "red"),
    "insufficient-evidence": ("?", "?", "magenta"),
    "waived": ("⊘", "w", "cyan"),
    "not-applicable": ("–", "-", "bright_black"),
    "not-assessed": ("·", ".", "bright_black"),
}


def _unicode(stream: TextIO) -> bool:
    try:
        "✔✗◐⊘–·".encode(stream.encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


class _Painter:
    def __init__(self, stream: TextIO):
        self.color = stream.isatty() and not os.environ.get("NO_COLOR")
        self.unicode = _unicode(stream)

    def mark(self, status: str) -> str:
        mark, ascii_mark, colour = _MARKS.get(status, ("?", "?", "white"))
        text = mark if self.unicode else ascii_mark
        return click.style(text, fg=colour, bold=True) if self.color else text

    def bold(self, text: str) -> str:
        return click.style(text, bold=True) if self.color else text


def _score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def summary_lines(results: Any, stream: TextIO) -> list[str]:
    """The terminal summary: overall verdict, a line per family, the controls that need attention."""
    paint = _Painter(stream)
    overall = results.overall
    best: dict[str, Any] = max(results.profile.ratings, key=lambda r: float(r.get("min_score", 0)), default={})
    top = overall.rating == best.get("name", best.get("rating"))
    verdict = paint.mark("satisfied" if top else "not-satisfied")
    a = results.assessment
    lines = [paint.bold(f"{a.auditee}: bundle {results.bundle.id}, as of {a.as_of}"),
             f"{verdict} overall {_score(overall.score)} / 100: {overall.rating}"
             + (f" (capped by {', '.join(overall.capped_by)})" if overall.capped_by else "")]
    width = max((len(f.title) for f in results.families), default=0)
    for family in results.families:
        counts = "  ".join(f"{paint.mark(s)} {n}" for s, n in sorted(family.status_counts.items()))
        lines.append(f"  {family.id:<6} {family.title:<{width}}  {_score(family.score):>5}  {counts}")
    failing = [c for c in results.controls if c.status in NEEDS_ATTENTION]
    if failing:
        lines.append(paint.bold(f"Controls needing attention ({len(failing)} of {len(results.controls)}):"))
        id_width = max(len(c.id) for c in failing)
        for c in failing:
            lines.append(f"  {paint.mark(c.status)} {c.id:<{id_width}}  {c.severity:<8}  "
                         f"{c.status.replace('-', ' '):<21}  {c.title}")
    else:
        lines.append(f"{paint.mark('satisfied')} no control needs attention")
    return lines


def print_summary(results: Any, *, to_stdout: bool = False) -> None:
    """The summary on stdout (``to_stdout``) or stderr: full on a terminal, one line otherwise."""
    stream = sys.stdout if to_stdout else sys.stderr
    if stream.isatty():
        color = bool(_Painter(stream).color)
        for line in summary_lines(results, stream):
            click.echo(line, err=not to_stdout, color=color)
        return
    overall = results.overall
    failing = [c for c in results.controls if c.status in NEEDS_ATTENTION]
    click.echo(f"auditkit: overall {_score(overall.score)} ({overall.rating}); {len(failing)} of "
               f"{len(results.controls)} controls need attention", err=not to_stdout)


FAIL_ON_HELP = ("Exit 1 when the rating is RATING or worse (a rating of the profile, e.g. partially-effective), "
                "or, with 'critical', when any critical control is not satisfied.")


def fail_on_problem(results: Any, fail_on: str) -> str | None:
    """Why ``--fail-on fail_on`` fails these results, or None; a usage error for an unknown rating."""
    from ..errors import UsageError

    if fail_on == "critical":
        bad = [c.id for c in results.controls if c.severity == "critical" and c.status in NEEDS_ATTENTION]
        return f"critical control{'s' if len(bad) != 1 else ''} not satisfied: {', '.join(bad)}" if bad else None
    ratings = sorted(results.profile.ratings, key=lambda r: -float(r.get("min_score", 0)))
    names = [str(r.get("name", r.get("rating"))) for r in ratings]
    if fail_on not in names:
        raise UsageError(f"--fail-on {fail_on!r} is not a rating of profile {results.profile.id!r}",
                         hint=f"choose critical or one of: {', '.join(names)}")
    if overall_rank(names, results.overall.rating) >= names.index(fail_on):
        return f"rating {results.overall.rating} is at or below --fail-on {fail_on}"
    return None


def overall_rank(names: list[str], rating: str) -> int:
    return names.index(rating) if rating in names else len(names)
