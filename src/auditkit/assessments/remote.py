"""The portfolio read from a server's API, for a regulator who holds a token but no database access.

``GET /api/v1/portfolio`` lists the rows the token may read; each signed report is
fetched from its ``report_url``. Errors are the intake client's: 401/403 exit 2,
unreachable or 5xx exit 6, each one line naming the server.
"""

from __future__ import annotations

from pathlib import Path

from ..intake.client import _base, _client, _transport_errors, raise_for_status
from .portfolio import PortfolioRow


def remote_portfolio(server: str, token: str, timeout: float = 60.0) -> list[tuple[PortfolioRow, str]]:
    """``(row, report_url)`` for every organization the token may read, as the server orders them."""
    server = _base(server)
    with _client(server, token, timeout) as client, _transport_errors(server, "reading the portfolio"):
        response = client.get("/api/v1/portfolio")
        raise_for_status(response, server)
        rows = response.json()["portfolio"]
    fields = set(PortfolioRow.model_fields)
    return [(PortfolioRow.model_validate({k: v for k, v in row.items() if k in fields}), str(row["report_url"]))
            for row in rows]


def download_report(server: str, token: str, report_url: str, target: Path, timeout: float = 120.0) -> Path:
    """Save one signed report (written atomically)."""
    from ..fsio import write_bytes

    server = _base(server)
    if not report_url.startswith("/api/v1/assessments/"):
        raise ValueError(f"unexpected report URL {report_url!r}")
    with _client(server, token, timeout) as client, _transport_errors(server, "downloading a report"):
        response = client.get(report_url)
        raise_for_status(response, server)
        write_bytes(target, response.content)
    return target
