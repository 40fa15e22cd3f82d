"""``--format csv``: the findings as a spreadsheet, one row per finding, safe to open in Excel.

Columns: control, family, severity, status, title, summary, remediation, after a
header row; rows in the results' order (severity, then control id). Every cell that
a spreadsheet could read as a formula (first character, after leading whitespace,
one of ``= + - @`` or a tab or carriage return) is prefixed with ``'`` (CSV
injection, OWASP). RFC 4180 quoting, CRLF line ends, UTF-8 without a byte order mark.
"""

from __future__ import annotations

import csv
import io

from ..model import Results

NAME = "csv"
SUFFIX = ".csv"

COLUMNS = ("control", "family", "severity", "status", "title", "summary", "remediation")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """``cell`` made inert for spreadsheets: a leading ``'`` when it could start a formula."""
    if cell.startswith(FORMULA_START) or cell.lstrip(" \t\r\n").startswith(FORMULA_START):
        return "'" + cell
    return cell


def render(results: Results) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(COLUMNS)
    for finding in results.findings:
        writer.writerow([neutralise(str(getattr(finding, column))) for column in COLUMNS])
    return buffer.getvalue().encode("utf-8", "replace")  # lone surrogates become "?"
