"""CSV findings: golden file, one row per finding, and no cell a spreadsheet would run."""

from __future__ import annotations

import csv
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from auditkit.results.formats import csv_format
from auditkit.results.model import Finding

FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def test_golden(results, golden):
    golden("findings.csv", csv_format.render(results))


def test_one_row_per_finding_with_a_header(results):
    rows = _rows(csv_format.render(results))
    assert rows[0] == ["control", "family", "severity", "status", "title", "summary", "remediation"]
    assert [r[0] for r in rows[1:]] == [f.control for f in results.findings]
    assert {r[3] for r in rows[1:]} == {"not-satisfied", "insufficient-evidence", "partially-satisfied",
                                        "waived", "satisfied"}
    dl2 = next(r for r in rows if r[0] == "DL-2")
    assert dl2[6] == "'=HYPERLINK(\"http://evil.example\")\nthen block the flows"
    dl3 = next(r for r in rows if r[0] == "DL-3")
    assert dl3[6] == "'-Re-collect the attestation this quarter."
    tp4 = next(r for r in rows if r[0] == "TP-4")
    assert tp4[5].startswith("Auditor override: computed not satisfied, reported satisfied.")


def test_neutralise_examples():
    assert csv_format.neutralise("=1+1") == "'=1+1"
    assert csv_format.neutralise("  @SUM(A1)") == "'  @SUM(A1)"
    assert csv_format.neutralise("\tx") == "'\tx"
    assert csv_format.neutralise("\r=x") == "'\r=x"
    assert csv_format.neutralise("plain - text") == "plain - text"
    assert csv_format.neutralise("") == ""


_cell = st.one_of(
    st.text(max_size=30),
    st.builds(lambda c, t: c + t, st.sampled_from(FORMULA + (" =", "\n+", " \t-")), st.text(max_size=20)),
)


@settings(max_examples=200, deadline=None)
@given(cells=st.lists(st.tuples(_cell, _cell, _cell, _cell, _cell), min_size=1, max_size=4))
def test_no_cell_starts_with_a_formula_character(make_results, cells):
    base = make_results()
    findings = [Finding(control=a, family=b, severity=c, status="not-satisfied", title=d, summary=e,
                        remediation=a + e) for a, b, c, d, e in cells]
    rows = _rows(csv_format.render(base.model_copy(update={"findings": findings})))
    assert len(rows) == len(findings) + 1
    for row in rows[1:]:
        assert len(row) == 7
        for cell in row:
            assert not cell.startswith(FORMULA)
            assert not cell.lstrip(" \t\r\n").startswith(FORMULA) or cell.startswith("'")
    # nothing is lost: removing the guard gives back the original text
    for finding, row in zip(findings, rows[1:], strict=True):
        title = row[4][1:] if row[4] != finding.title else row[4]
        assert title == finding.title
