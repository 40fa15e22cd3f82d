"""The worked example in docs/scoring.md is what the engine computes."""

from __future__ import annotations

import re

from auditkit.catalog.models import Rating
from auditkit.engine import assess

from .conftest import AS_OF, WIDGETS_OK, assessment, document, evidence, monthly_reports


def test_worked_example_matches_engine(root, catalog, profile):
    text = (root / "docs" / "scoring.md").read_text()
    documented = float(re.search(r"= \*\*(\d+\.\d+)\*\*", text).group(1))
    widgets = WIDGETS_OK + [{"name": "bad", "approved": False, "n": 1, "colour": "red"}]
    ev = evidence(document("widget-list", "evidence/widgets.json", widgets),
                  document("gizmo-list", "evidence/gizmos.json", [{"id": "g", "country": "US"}]),
                  *monthly_reports())
    ratings = (Rating(name="effective", min_score=80), Rating(name="partially-effective", min_score=60),
               Rating(name="ineffective", min_score=0))
    lenient = profile.model_copy(update={"scoring": profile.scoring.model_copy(update={"ratings": ratings})})
    results = assess(catalog, lenient, ev, assessment(), AS_OF)
    rows = {m.group(1): float(m.group(2)) for m in re.finditer(r"\| (TT-\d) \|.*?([\d.]+) \|$", text, re.M)}
    assert set(rows) == {"TT-1", "TT-2", "TT-4", "TT-5"}
    got = {c.id: c.credit for c in results.controls if c.credit is not None}
    assert rows == {k: v for k, v in got.items() if k in rows}
    assert results.overall.score == documented
    assert results.overall.uncapped_rating == "effective"
    assert results.overall.rating == "partially-effective" and results.overall.capped_by == ["TT-1"]
