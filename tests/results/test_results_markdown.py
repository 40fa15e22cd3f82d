"""Markdown summary: golden file, content a reviewer needs, escaping of hostile text."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from auditkit.results.formats import markdown

_PIPE = re.compile(r"(?<!\\)\|")


def test_golden(results, golden):
    golden("summary.md", markdown.render(results))


def test_summary_content(results):
    md = markdown.render(results).decode()
    assert "**Overall score: 86.50 / 100 · rating: partially-effective**" in md
    assert "**Rating capped** at partially-effective (the score alone gives effective)" in md
    assert "| DL Data localization | 80.00 | 3 |" in md
    assert results.bundle.root_hash in md and results.catalog.digest in md
    failing = md.split("## Failing controls")[1].split("##")[0]
    assert [line.split()[1] for line in failing.splitlines() if line.startswith("| ") and line[2:4] in ("DL", "TP")] \
        == ["DL-2", "DL-3", "TP-1"]
    assert "check DL-2.1 fail: 3 records break the rule (3 offending records)" in failing
    assert "TP-3 | **WAIVED** | until 2026-12-31" in md
    assert "TP-4 | **OVERRIDE** | not-satisfied → satisfied by Lee Park" in md
    assert "TP-2 | not applicable | No sub-processors" in md


def test_table_cells_are_escaped(results):
    md = markdown.render(results).decode()
    assert r"DL-2 Egress \| flows stay &lt;inside&gt; the U.S. &amp; approved peers" in md


def test_reasons_are_capped(make_results, make_control):
    from auditkit.results import model as rm

    checks = [rm.CheckResult(id=f"DL-9.{i}", title="t", outcome="fail", expression="x", evidence_kinds=[])
              for i in range(1, 6)]
    md = markdown.render(make_results(controls=[make_control("DL-9", "DL", "not-satisfied", checks=checks)]))
    assert "check DL-9.3 fail<br>… and 2 more" in md.decode()


@settings(max_examples=100, deadline=None)
@given(title=st.text(min_size=1, max_size=40), reason=st.text(min_size=1, max_size=40))
def test_hostile_text_cannot_break_a_table(make_results, make_control, title, reason):
    from auditkit.results import model as rm

    control = make_control("DL-9", "DL", "not-satisfied", title=title,
                           checks=[rm.CheckResult(id="DL-9.1", title="t", outcome="error", reason=reason,
                                                  expression="x", evidence_kinds=[])],
                           override=rm.OverrideInfo(status="not-satisfied", reason=reason, by=title))
    md = markdown.render(make_results(controls=[control])).decode()
    rows = [line for line in md.split("\n") if line.startswith("| DL-9")]
    assert len(rows) == 2
    assert len(_PIPE.findall(rows[0])) == 5
    assert len(_PIPE.findall(rows[1])) == 4
    for row in rows:
        assert "<" not in row.replace("<br>", "")
        assert "](" not in row.replace("\\](", "")
