"""The regulator's portfolio: per organization, the latest assessment, its trend and open criticals.

Built from the index's assessment records only (no report is opened): per
organization the assessments are ordered by the end of the bundle's period, then
by when they were stored; the latest is compared with the one before it. The trend
is the score difference (``None`` for a first assessment or an unscored one).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from ..intake.models import AssessmentRecord
from ..intake.storage import IntakeIndex


class PortfolioRow(BaseModel):
    """One organization in the portfolio."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    organization: str
    assessments: int
    bundle_id: str | None
    period_end: str | None
    assessed_at: str
    rating: str
    score: float | None
    previous_rating: str | None
    previous_score: float | None
    trend: float | None
    """Latest score minus the previous one."""
    critical_open: int
    findings: int
    assessment_key: str
    report_sha256: str

    @property
    def trend_word(self) -> str:
        if self.previous_rating is None:
            return "first"
        if self.trend is None:
            return "n/a"
        if abs(self.trend) < 0.005:
            return "steady"
        return "up" if self.trend > 0 else "down"


def _order(record: AssessmentRecord) -> tuple[str, str]:
    return (record.period_end or "", record.assessed_at)


def portfolio(index: IntakeIndex, orgs: Sequence[str] | None = None) -> list[PortfolioRow]:
    """Rows for ``orgs`` (every organization if None), critical findings first, then by name."""
    by_org: dict[str, list[AssessmentRecord]] = defaultdict(list)
    for record in index.list_assessments(orgs):
        by_org[record.organization].append(record)
    rows = []
    for org, records in by_org.items():
        records.sort(key=_order)
        latest = records[-1]
        previous = records[-2] if len(records) > 1 else None
        trend = None
        if previous is not None and latest.score is not None and previous.score is not None:
            trend = round(latest.score - previous.score, 4)
        rows.append(
            PortfolioRow(
                organization=org,
                assessments=len(records),
                bundle_id=latest.bundle_id,
                period_end=latest.period_end,
                assessed_at=latest.assessed_at,
                rating=latest.rating,
                score=latest.score,
                previous_rating=previous.rating if previous else None,
                previous_score=previous.score if previous else None,
                trend=trend,
                critical_open=latest.critical_open,
                findings=latest.findings,
                assessment_key=latest.assessment_key,
                report_sha256=latest.report_sha256,
            )
        )
    rows.sort(key=lambda row: (-row.critical_open, row.organization))
    return rows
