"""Whether the evidence of one kind is sufficient for one requirement (pure: no I/O, no clock).

Given a control's evidence requirement (``auditkit.catalog.models.EvidenceRequirement``:
``kind``, ``formats``, ``required``, ``max_age_days``, ``coverage``), the manifest items
of the bundle, the assessment period and the as-of date, :func:`evidence_problems`
lists what is wrong, one line each:

* **missing**: no item of the kind (only for ``required`` evidence);
* **format**: an item whose file format is not among ``formats`` (it is not counted);
* **stale**: the most recently collected item was collected more than
  ``max_age_days`` days before ``as_of``;
* **coverage** ``period``: the union of the items' periods (an item without a period
  covers the day it was collected) must cover the assessment period, every day;
* **coverage** ``monthly`` / ``quarterly`` / ``yearly``: every calendar month / quarter
  / year that overlaps the assessment period must hold an item whose period lies
  within it or whose ``collected_at`` date falls in it.
"""

from __future__ import annotations

import calendar
import datetime as _dt
from collections.abc import Sequence
from typing import Any, Protocol

from .manifest import ManifestItem, Period
from .parsers import format_of

MAX_LISTED_GAPS = 5
_ONE_DAY = _dt.timedelta(days=1)


class Requirement(Protocol):
    """The fields of ``auditkit.catalog.models.EvidenceRequirement`` used here."""

    @property
    def kind(self) -> str: ...
    @property
    def formats(self) -> Sequence[str]: ...
    @property
    def required(self) -> bool: ...
    @property
    def max_age_days(self) -> int | None: ...
    @property
    def coverage(self) -> str | None: ...


def _as_period(period: Any) -> tuple[_dt.date, _dt.date]:
    if isinstance(period, Period):
        return period.start, period.end
    if isinstance(period, dict):
        start, end = period["start"], period["end"]
    else:
        start, end = period
    return _as_date(start), _as_date(end)


def _as_date(value: Any) -> _dt.date:
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    return _dt.date.fromisoformat(str(value))


def _collected_day(item: ManifestItem) -> _dt.date:
    stamp = item.collected_at
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(_dt.UTC)
    return stamp.date()


def _slice_index(day: _dt.date, unit: str) -> int:
    """Ordinal of the calendar month, quarter or year holding ``day``."""
    if unit == "yearly":
        return day.year
    if unit == "monthly":
        return day.year * 12 + day.month - 1
    return day.year * 4 + (day.month - 1) // 3


def _slice_at(index: int, unit: str) -> tuple[_dt.date, _dt.date]:
    """First and last day of the slice numbered ``index`` (see :func:`_slice_index`)."""
    if unit == "yearly":
        return _dt.date(index, 1, 1), _dt.date(index, 12, 31)
    year, part = divmod(index, 12 if unit == "monthly" else 4)
    first = part + 1 if unit == "monthly" else 3 * part + 1
    last = first if unit == "monthly" else first + 2
    return _dt.date(year, first, 1), _dt.date(year, last, calendar.monthrange(year, last)[1])


def calendar_slices(start: _dt.date, end: _dt.date, unit: str) -> list[tuple[_dt.date, _dt.date]]:
    """The calendar months, quarters or years overlapping start..end (``unit``: monthly...)."""
    return [_slice_at(i, unit) for i in range(_slice_index(start, unit), _slice_index(end, unit) + 1)]


def _label(piece: tuple[_dt.date, _dt.date], unit: str) -> str:
    start = piece[0]
    if unit == "monthly":
        return f"{start.year:04d}-{start.month:02d}"
    if unit == "quarterly":
        return f"{start.year:04d}-Q{(start.month - 1) // 3 + 1}"
    return f"{start.year:04d}"


def uncovered(
    intervals: Sequence[tuple[_dt.date, _dt.date]], start: _dt.date, end: _dt.date
) -> list[tuple[_dt.date, _dt.date]]:
    """The spans of start..end (inclusive days) that no interval covers.

    Safe at the ends of the calendar (0001-01-01, 9999-12-31): no day is computed
    outside start..end."""
    gaps = []
    cursor = start
    for low, high in sorted(intervals):
        if high < cursor:
            continue
        if low > end:
            break
        if low > cursor:
            gaps.append((cursor, min(low - _ONE_DAY, end)))
        if high >= end:
            return gaps
        cursor = max(cursor, high + _ONE_DAY)
    gaps.append((cursor, end))
    return gaps


def _listed(names: list[str], total: int) -> str:
    more = f" and {total - len(names)} more" if total > len(names) else ""
    return ", ".join(names) + more


def _slice_problem(kind: str, items: Sequence[ManifestItem], start: _dt.date, end: _dt.date, unit: str) -> str | None:
    """Which slices of start..end hold no item; counted, not enumerated, so a
    10,000-year period costs no more than a quarter."""
    held = {_slice_index(_collected_day(i), unit) for i in items}
    held |= {
        _slice_index(i.period.start, unit)
        for i in items
        if i.period is not None and _slice_index(i.period.start, unit) == _slice_index(i.period.end, unit)
    }
    first, last = _slice_index(start, unit), _slice_index(end, unit)
    total = last - first + 1 - sum(1 for index in held if first <= index <= last)
    if total == 0:
        return None
    shown: list[str] = []
    index = first
    while len(shown) < MAX_LISTED_GAPS and index <= last:
        if index not in held:
            shown.append(_label(_slice_at(index, unit), unit))
        index += 1
    name = {"monthly": "month", "quarterly": "quarter", "yearly": "year"}[unit]
    return f"{kind}: no item for {name}{'s' if total > 1 else ''} {_listed(shown, total)} of the period {start}..{end}"


def evidence_problems(
    requirement: Requirement, items: Sequence[ManifestItem], period: Any, as_of: _dt.date
) -> list[str]:
    """What keeps ``items`` from meeting ``requirement`` for ``period`` on ``as_of`` (empty if met).

    ``period`` is the assessment period: a :class:`Period`, ``(start, end)`` or ``{start, end}``
    of dates or ISO date strings. Items of other kinds are ignored.
    """
    kind = requirement.kind
    start, end = _as_period(period)
    problems: list[str] = []
    formats = set(requirement.formats or ())
    mine = []
    for item in items:
        if item.kind != kind:
            continue
        fmt = format_of(item.path)
        if formats and fmt not in formats:
            problems.append(
                f"{kind}: {item.path} is {fmt}, not one of the accepted formats "
                f"({', '.join(sorted(formats))})"
            )
        else:
            mine.append(item)
    if not mine:
        if requirement.required:
            detail = "in an accepted format" if problems else "of this kind"
            problems.append(f"{kind}: required evidence is missing (no item {detail})")
        return problems
    newest = max(mine, key=lambda i: i.collected_at)
    if requirement.max_age_days is not None:
        age = (as_of - _collected_day(newest)).days
        if age > requirement.max_age_days:
            problems.append(
                f"{kind}: stale: the newest item ({newest.path}) was collected "
                f"{_collected_day(newest)}, {age} days before {as_of} "
                f"(at most {requirement.max_age_days} allowed)"
            )
    coverage = requirement.coverage
    if coverage == "period":
        spans = [
            (i.period.start, i.period.end) if i.period else (_collected_day(i), _collected_day(i))
            for i in mine
        ]
        gaps = uncovered(spans, start, end)
        if gaps:
            shown = [f"{a}..{b}" if a != b else str(a) for a, b in gaps[:MAX_LISTED_GAPS]]
            problems.append(
                f"{kind}: items do not cover the period {start}..{end}: missing {_listed(shown, len(gaps))}"
            )
    elif coverage in ("monthly", "quarterly", "yearly"):
        problem = _slice_problem(kind, mine, start, end, coverage)
        if problem:
            problems.append(problem)
    return problems
