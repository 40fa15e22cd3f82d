"""Sufficiency of evidence for a requirement: missing, format, stale, period and calendar coverage."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditkit.evidence import ManifestItem, evidence_problems
from auditkit.evidence.sufficiency import calendar_slices, uncovered

PERIOD = (dt.date(2026, 7, 1), dt.date(2026, 9, 30))
AS_OF = dt.date(2026, 10, 15)


@dataclass(frozen=True)
class Req:
    kind: str = "log"
    formats: tuple[str, ...] = ("csv", "json")
    required: bool = True
    max_age_days: int | None = None
    coverage: str | None = None
    description: str | None = None


def item(path="e/log.csv", kind="log", collected="2026-10-01T00:00:00Z", period=None) -> ManifestItem:
    data = {"path": path, "kind": kind, "sha256": "0" * 64, "size": 1, "collected_at": collected}
    if period:
        data["period"] = {"start": period[0], "end": period[1]}
    return ManifestItem.model_validate(data)


def test_real_requirement_model_is_accepted():
    from auditkit.catalog.models import EvidenceRequirement

    req = EvidenceRequirement(kind="log", formats=("csv",), max_age_days=31)
    assert evidence_problems(req, [item()], PERIOD, AS_OF) == []


def test_missing_required_and_optional():
    assert evidence_problems(Req(), [], PERIOD, AS_OF) == ["log: required evidence is missing (no item of this kind)"]
    assert evidence_problems(Req(required=False), [], PERIOD, AS_OF) == []
    assert evidence_problems(Req(), [item(kind="other")], PERIOD, AS_OF)


def test_wrong_format_is_not_counted():
    problems = evidence_problems(Req(), [item(path="e/log.pdf")], PERIOD, AS_OF)
    assert any("is pdf, not one of" in p for p in problems)
    assert any("no item in an accepted format" in p for p in problems)


def test_stale_judged_on_the_newest_item():
    old = item(collected="2026-08-01T00:00:00Z")
    (problem,) = evidence_problems(Req(max_age_days=31), [old], PERIOD, AS_OF)
    assert "stale" in problem and "75 days" in problem
    fresh = item(path="e/b.csv", collected="2026-10-10T00:00:00Z")
    assert evidence_problems(Req(max_age_days=31), [old, fresh], PERIOD, AS_OF) == []
    edge = item(collected="2026-09-14T23:00:00-02:00")  # 2026-09-15 UTC: exactly 30 days
    assert evidence_problems(Req(max_age_days=30), [edge], PERIOD, AS_OF) == []


def test_period_coverage():
    half = item(period=("2026-07-01", "2026-08-15"))
    (problem,) = evidence_problems(Req(coverage="period"), [half], PERIOD, AS_OF)
    assert "missing 2026-08-16..2026-09-30" in problem
    rest = item(path="e/b.csv", period=("2026-08-16", "2026-10-31"))
    assert evidence_problems(Req(coverage="period"), [half, rest], PERIOD, AS_OF) == []


def test_quarterly_and_monthly_coverage():
    july = item(path="e/7.csv", period=("2026-07-01", "2026-07-31"))
    august = item(path="e/8.csv", collected="2026-08-31T12:00:00Z")
    problems = evidence_problems(Req(coverage="monthly"), [july, august], PERIOD, AS_OF)
    assert problems == ["log: no item for month 2026-09 of the period 2026-07-01..2026-09-30"]
    assert evidence_problems(Req(coverage="quarterly"), [july], PERIOD, AS_OF) == []
    whole_year = item(period=("2026-01-01", "2026-12-31"), collected="2027-01-05T00:00:00Z")
    (problem,) = evidence_problems(Req(coverage="quarterly"), [whole_year], PERIOD, AS_OF)
    assert "2026-Q3" in problem
    long = (dt.date(2025, 11, 15), dt.date(2026, 2, 10))
    (problem,) = evidence_problems(Req(coverage="yearly"), [july], long, AS_OF)
    assert "year 2025 of" in problem


@pytest.mark.parametrize(("unit", "count"), [("monthly", 3), ("quarterly", 1), ("yearly", 1)])
def test_calendar_slices(unit, count):
    assert len(calendar_slices(*PERIOD, unit)) == count
    assert calendar_slices(dt.date(2026, 12, 31), dt.date(2027, 1, 1), unit)[-1][0].year == 2027


dates = st.dates(dt.date(2025, 1, 1), dt.date(2027, 12, 31))


@given(st.lists(st.tuples(dates, dates).map(sorted), max_size=6), dates, dates)
def test_uncovered_days_are_exactly_the_gaps(intervals, a, b):
    start, end = min(a, b), max(a, b)
    gaps = uncovered([tuple(i) for i in intervals], start, end)
    day = start
    while day <= end:
        covered = any(low <= day <= high for low, high in intervals)
        in_gap = any(low <= day <= high for low, high in gaps)
        assert covered != in_gap, day
        day += dt.timedelta(days=1)


edge_dates = st.one_of(st.dates(dt.date(1, 1, 1), dt.date(1, 3, 31)), st.dates(dt.date(9999, 10, 1), dt.date.max))


@given(st.lists(st.tuples(edge_dates, edge_dates).map(sorted), max_size=4), edge_dates, edge_dates)
def test_uncovered_at_the_ends_of_the_calendar(intervals, a, b):
    start, end = min(a, b), max(a, b)
    gaps = uncovered([tuple(i) for i in intervals], start, end)
    for low, high in gaps:
        assert start <= low <= high <= end
        assert not any(i_low <= high and low <= i_high for i_low, i_high in intervals)


@pytest.mark.parametrize("unit", ["monthly", "quarterly", "yearly"])
@given(days=st.lists(st.one_of(edge_dates, st.dates()), min_size=1, max_size=5), a=st.dates(), b=st.dates())
def test_slice_coverage_matches_walking_the_slices(unit, days, a, b):
    start, end = min(a, b), max(a, b)
    if (end - start).days > 3 * 366:
        end = min(dt.date.max, start + dt.timedelta(days=3 * 366))
    items = [item(path=f"e/{i}.csv", collected=f"{d.isoformat()}T12:00:00Z") for i, d in enumerate(days)]
    problems = evidence_problems(Req(coverage=unit), items, (start, end), AS_OF)
    slices = calendar_slices(start, end, unit)
    assert slices[0][0] <= start and slices[-1][1] >= end
    missing = [s for s in slices if not any(s[0] <= d <= s[1] for d in days)]
    if not missing:
        assert problems == []
    else:
        (problem,) = problems
        assert f"{len(missing) - 5} more" in problem if len(missing) > 5 else "more" not in problem
