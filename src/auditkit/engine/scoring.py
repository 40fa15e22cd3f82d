"""Statuses, credits, scores, rating and the score trace (docs/scoring.md explains the rules).

Pure functions over check outcomes, procedure results, evidence problems, waivers
and overrides; every number they produce gets a trace entry saying where it came from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..catalog.models import Profile

STATUSES = ("satisfied", "partially-satisfied", "not-satisfied", "insufficient-evidence",
            "not-applicable", "waived", "not-assessed")
UNSCORED = ("not-applicable", "waived", "not-assessed")


@dataclass(frozen=True)
class Item:
    """One creditable unit of a control: a check or a procedure."""

    label: str
    weight: float
    earned: bool


def round_score(value: float) -> float:
    return round(value + 0.0, 2)


def control_credit(items: Sequence[Item]) -> tuple[float, str]:
    """Weighted share of earned items, with the arithmetic as text."""
    total = sum(i.weight for i in items)
    earned = sum(i.weight for i in items if i.earned)
    credit = earned / total if total else 0.0
    parts = ", ".join(f"{i.label} {'+' if i.earned else '0/'}{i.weight:g}" for i in items)
    return credit, f"{earned:g} of {total:g} weighted items earned ({parts})"


def status_from_credit(credit: float, threshold: float) -> str:
    if credit >= 1.0:
        return "satisfied"
    if credit >= threshold:
        return "partially-satisfied"
    return "not-satisfied"


def override_credit(status: str, computed: float, threshold: float) -> float | None:
    """Credit an auditor's overriding status carries (None: the control leaves the score)."""
    if status == "satisfied":
        return 1.0
    if status == "partially-satisfied":
        return computed if threshold <= computed < 1.0 else threshold
    if status in ("not-satisfied", "insufficient-evidence"):
        return 0.0
    return None


@dataclass(frozen=True)
class Scored:
    """A control's final standing for the score."""

    control_id: str
    family: str
    severity: str
    weight: float
    status: str
    credit: float | None


def weighted(scored: Sequence[Scored]) -> tuple[float | None, str]:
    counted = [s for s in scored if s.status not in UNSCORED and s.credit is not None]
    total = sum(s.weight for s in counted)
    if not total:
        return None, "no scored controls"
    earned = sum(s.weight * (s.credit or 0.0) for s in counted)
    how = f"100 x {earned:g} / {total:g} (sum of weight x credit over sum of weights, {len(counted)} controls)"
    return 100.0 * earned / total, how


def rating_for(score: float | None, profile: Profile) -> str:
    ratings = profile.scoring.ratings
    if score is None:
        return ratings[-1].name
    for rating in ratings:
        if score >= rating.min_score:
            return rating.name
    return ratings[-1].name


def cap_rating(rating: str, scored: Sequence[Scored], profile: Profile) -> tuple[str, list[str]]:
    """Apply the critical-failure cap: the rating may not be better than the cap.

    Returns the rating and the critical controls that lowered it (empty when the cap did not)."""
    cap = profile.scoring.critical_failure_cap
    failing = sorted(s.control_id for s in scored
                     if s.severity == "critical" and s.status not in ("satisfied", *UNSCORED))
    if cap is None or not failing:
        return rating, []
    order = [r.name for r in profile.scoring.ratings]
    if order.index(rating) < order.index(cap):
        return cap, failing
    return rating, []
