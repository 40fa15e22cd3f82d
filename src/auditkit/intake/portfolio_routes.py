"""The server's portfolio: ``/api/v1/portfolio``, signed-report downloads, and the ``/portfolio`` page.

A token sees the organizations it may read (a submitter its own, an auditor or
regulator its grants); anyone else's assessment answers 404 like a missing one.
Report downloads are logged (``report-download``). The page is a plain form: the
token is posted, never put in a URL; each report is a download button posting it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Coroutine
from typing import Any

import anyio.to_thread
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .models import Principal
from .problems import ApiError, BadRequest, NotFound
from .service import IntakeService
from .store import utc_now

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def _rows(service: IntakeService, who: Principal) -> list[dict[str, Any]]:
    from ..assessments.portfolio import portfolio

    rows = []
    for row in portfolio(service.store.index, who.readable_orgs):
        data = row.model_dump(mode="json")
        data["trend_word"] = row.trend_word
        data["report_url"] = f"/api/v1/assessments/{row.assessment_key}/report"
        rows.append(data)
    return rows


def _open_report(service: IntakeService, who: Principal, key: str) -> tuple[str, Any]:
    record = service.store.index.find_assessment(key) if len(key) == 64 else None
    if record is None or record.organization not in who.readable_orgs:
        raise NotFound(f"no assessment {key[:80]!r} visible to this token")
    try:
        handle = service.store.objects.get(record.report_sha256)
    except KeyError:
        raise NotFound(f"the report of assessment {key[:16]} is missing from storage") from None
    with contextlib.ExitStack() as guard:
        guard.callback(handle.close)
        service.log.append("report-download", utc_now(), organization=record.organization,
                           token_id=who.token_id, assessment_key=key,
                           report_sha256=record.report_sha256)
        guard.pop_all()
    return f"{record.organization}-{record.bundle_id or key[:12]}.pdf", handle


def portfolio_routes(service: IntakeService, api: Callable[[Handler], Handler],
                     api_json: Callable[..., Response], page: Callable[..., Response]) -> list[Route]:
    """The routes, built with the app's own JSON, error and page helpers."""

    async def pdf(who: Principal, key: str) -> Response:
        name, handle = await anyio.to_thread.run_sync(_open_report, service, who, key)
        try:
            data = await anyio.to_thread.run_sync(handle.read)
        finally:
            handle.close()
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
        return Response(data, media_type="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{safe}"',
                                 "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})

    @api
    async def portfolio_json(request: Request) -> Response:
        who = service.authenticate(request.headers.get("authorization"))
        rows = await anyio.to_thread.run_sync(_rows, service, who)
        return api_json({"portfolio": rows})

    @api
    async def report(request: Request) -> Response:
        who = service.authenticate(request.headers.get("authorization"))
        return await pdf(who, request.path_params["key"])

    async def form(request: Request) -> Response:
        return page("portfolio.html", rows=None, token="")

    async def shown(request: Request) -> Response:
        try:
            try:
                async with request.form(max_files=0, max_fields=4, max_part_size=4096) as fields:
                    token = str(fields.get("token", "")).strip()
                    key = str(fields.get("assessment", ""))
            except HTTPException as exc:  # starlette's own form limits
                raise BadRequest(str(exc.detail)) from None
            who = service.authenticate(token or None)
            if key:
                return await pdf(who, key)
            rows = await anyio.to_thread.run_sync(_rows, service, who)
        except ApiError as exc:
            return page("error.html", exc.status, status=exc.status, message=exc.render())
        return page("portfolio.html", rows=rows, token=token)

    return [
        Route("/portfolio", form, methods=["GET"]),
        Route("/portfolio", shown, methods=["POST"]),
        Route("/api/v1/portfolio", portfolio_json, methods=["GET"]),
        Route("/api/v1/assessments/{key}/report", report, methods=["GET"]),
    ]


_ROW = {
    "type": "object",
    "required": ["organization", "rating", "score", "trend", "critical_open", "report_url"],
    "properties": {
        "organization": {"type": "string"},
        "assessments": {"type": "integer"},
        "bundle_id": {"type": ["string", "null"]},
        "period_end": {"type": ["string", "null"]},
        "assessed_at": {"type": "string"},
        "rating": {"type": "string"},
        "score": {"type": ["number", "null"]},
        "previous_rating": {"type": ["string", "null"]},
        "previous_score": {"type": ["number", "null"]},
        "trend": {"type": ["number", "null"]},
        "trend_word": {"enum": ["first", "n/a", "steady", "up", "down"]},
        "critical_open": {"type": "integer"},
        "findings": {"type": "integer"},
        "assessment_key": {"type": "string"},
        "report_sha256": {"type": "string"},
        "report_url": {"type": "string"},
    },
}


def portfolio_paths(json_of: Callable[[dict[str, Any]], dict[str, Any]],
                    errors: Callable[..., dict[str, Any]], html: dict[str, Any],
                    secured: list[dict[str, list[str]]]) -> dict[str, Any]:
    """The OpenAPI description of the routes above."""
    page_answers = {str(s): {"description": d, "content": html}
                    for s, d in ((200, "The portfolio table, or the token form"),
                                 (400, "Malformed form"), (401, "Bad token"),
                                 (404, "No such assessment"),
                                 (503, "Storage unavailable"))}
    return {
        "/portfolio": {
            "get": {"summary": "The portfolio page (asks for a token)",
                    "responses": {"200": {"description": "HTML form", "content": html}}},
            "post": {
                "summary": "The portfolio for the posted token; with `assessment`, that signed report",
                "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {
                    "schema": {"type": "object", "required": ["token"],
                               "properties": {"token": {"type": "string"},
                                              "assessment": {"type": "string"}}}}}},
                "responses": page_answers,
            },
        },
        "/api/v1/portfolio": {
            "get": {
                "summary": "Latest assessment per organization the token may read",
                "security": secured,
                "responses": {
                    "200": {"description": "Rows, open criticals first",
                            "content": json_of({"type": "object", "required": ["portfolio"],
                                                "properties": {"portfolio": {"type": "array",
                                                                             "items": _ROW}}})},
                    **errors(401, 503),
                },
            }
        },
        "/api/v1/assessments/{key}/report": {
            "get": {
                "summary": "The signed PDF report of one assessment; logged as a report download",
                "security": secured,
                "parameters": [{"name": "key", "in": "path", "required": True,
                                "description": "The assessment key (64 hex digits).",
                                "schema": {"type": "string"}}],
                "responses": {
                    "200": {"description": "The signed report",
                            "content": {"application/pdf": {"schema": {"type": "string",
                                                                        "format": "binary"}}}},
                    **errors(401, 404, 503),
                },
            }
        },
    }
