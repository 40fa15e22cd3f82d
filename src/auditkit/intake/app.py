"""The Starlette application of the intake server: routes, errors as JSON, the upload page.

Each route authenticates, calls one :class:`IntakeService` method and turns the
result into a response. HTML is rendered by a Jinja environment with
``autoescape=True`` and ``StrictUndefined`` from ``templates/intake``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import anyio
import anyio.to_thread
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from .. import __version__
from ..resources import data_dir
from .formupload import FormUpload
from .models import UploadRecord
from .openapi import openapi_document
from .portfolio_routes import portfolio_routes
from .problems import ApiError, BadRequest, ServerFailed, TimedOut
from .receipts import public_pem
from .service import IntakeService

LOG = logging.getLogger("auditkit.intake")
_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def template_environment() -> Environment:
    """The page templates: autoescaped, strict about undefined names."""
    return Environment(
        loader=FileSystemLoader(str(data_dir("templates") / "intake")),
        autoescape=True,
        undefined=StrictUndefined,
    )


def _declared_length(request: Request) -> int | None:
    value = request.headers.get("content-length")
    if value is None:
        return None
    if not value.isdigit():
        raise BadRequest("Content-Length is not a number")
    return int(value)


def _closing(request: Request) -> dict[str, str]:
    """Close the connection after refusing a request body, so the server stops reading it."""
    return {"Connection": "close"} if request.method == "POST" else {}


ARCHIVE_NAME_HEADER = "X-Archive-Name"
"""Request header naming the uploaded archive's file (percent-encoded UTF-8); receipts record it."""


def _archive_name(request: Request) -> str | None:
    from urllib.parse import unquote

    value = request.headers.get(ARCHIVE_NAME_HEADER)
    return unquote(value, errors="replace") if value else None


def receipt_file_name(archive: str) -> str:
    """``NAME.receipt.json`` for the uploaded archive ``NAME`` (its last path segment, made safe)."""
    base = archive.replace("\\", "/").rsplit("/", 1)[-1] or "bundle"
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in base)[:120].lstrip(".") or "bundle"
    return f"{safe}.receipt.json"


def create_app(service: IntakeService) -> Starlette:
    """The ASGI application over an opened service (the caller closes the service)."""
    env = template_environment()

    def page(name: str, code: int = 200, **context: Any) -> HTMLResponse:
        html = env.get_template(name).render(version=__version__, **context)
        headers = {**_SECURITY_HEADERS, "Content-Security-Policy": _CSP}
        return HTMLResponse(html, status_code=code, headers=headers)

    def api_json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return JSONResponse(
            data, status_code=status, headers={**_SECURITY_HEADERS, **(headers or {})}
        )

    def api(handler: Handler) -> Handler:
        async def wrapped(request: Request) -> Response:
            try:
                return await handler(request)
            except ApiError as exc:
                return api_json(exc.to_json(), exc.status, _closing(request))
            except ClientDisconnect:
                LOG.info("client went away during %s %s", request.method, request.url.path)
                return Response(status_code=400, headers={"Connection": "close"})
            except Exception:
                LOG.exception("internal error on %s %s", request.method, request.url.path)
                failure = ServerFailed("internal server error (see the server log)")
                return api_json(failure.to_json(), failure.status)

        return wrapped

    async def index(request: Request) -> Response:
        return page("index.html", max_upload_mb=service.settings.max_upload_bytes // 2**20)

    async def upload_form(request: Request) -> Response:
        try:
            form = FormUpload(request.headers.get("content-type"), request.stream().__aiter__())
            try:
                with anyio.fail_after(service.settings.auth_timeout):
                    fields = await form.read_fields()
            except TimeoutError:
                raise TimedOut(
                    f"the form's token did not arrive within {service.settings.auth_timeout:g} s"
                ) from None
            who = service.authenticate(fields.get("token", "").strip() or None)
            result = await service.upload(who, form.file_chunks(), None, form.filename)
        except ApiError as exc:
            response = page("error.html", exc.status, status=exc.status, message=exc.render())
            response.headers.update(_closing(request))
            return response
        except ClientDisconnect:
            LOG.info("client went away during the page upload")
            return Response(status_code=400, headers={"Connection": "close"})
        except Exception:
            LOG.exception("internal error on the upload page")
            return page("error.html", 500, status=500, message="internal server error")
        receipt = result.signed.receipt
        return page(
            "result.html",
            result.status,
            receipt=receipt,
            duplicate=result.duplicate,
            filename=form.filename or "bundle",
            receipt_name=receipt_file_name(form.filename or receipt.bundle_id or receipt.upload_id),
            receipt_json=json.dumps(result.signed.model_dump(mode="json"), indent=2),
        )

    async def healthz(request: Request) -> Response:
        return api_json({"status": "ok"})

    async def openapi(request: Request) -> Response:
        return api_json(openapi_document())

    async def info(request: Request) -> Response:
        return api_json(
            {
                "version": __version__,
                "max_upload_bytes": service.settings.max_upload_bytes,
                "server_key_id": service.key_id,
                "server_public_key_pem": public_pem(service.key.public_key()).decode(),
            }
        )

    @api
    async def upload(request: Request) -> Response:
        who = service.authenticate(request.headers.get("authorization"))
        result = await service.upload(
            who, request.stream(), _declared_length(request), _archive_name(request)
        )
        return api_json(result.signed.model_dump(mode="json"), result.status)

    @api
    async def list_bundles(request: Request) -> Response:
        who = service.authenticate(request.headers.get("authorization"))
        raw = request.query_params.get("limit", "100")
        if not raw.isdigit() or not 1 <= int(raw) <= 1000:
            raise BadRequest("limit must be an integer from 1 to 1000")
        records = service.list_bundles(who, int(raw))
        return api_json({"bundles": [r.summary() for r in records]})

    @api
    async def get_bundle(request: Request) -> Response:
        who = service.authenticate(request.headers.get("authorization"))
        record = service.get_bundle(who, request.path_params["ref"])
        body = {**record.summary(), "receipt": record.signed_receipt.model_dump(mode="json")}
        return api_json(body)

    def archive_headers(record: UploadRecord) -> dict[str, str]:
        name = f"{record.bundle_id or record.upload_id}.{record.archive_format}"
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
        return {
            **_SECURITY_HEADERS,
            "Content-Length": str(record.size),
            "Content-Disposition": f'attachment; filename="{safe}"',
            "X-Archive-SHA256": record.archive_sha256,
            "X-Bundle-Root-Hash": record.bundle_root_hash or "",
            "Content-Type": "application/octet-stream",
        }

    @api
    async def archive(request: Request) -> Response:
        who = service.authenticate(request.headers.get("authorization"))
        ref = request.path_params["ref"]
        if request.method == "HEAD":  # headers only: not a download, so not logged as one
            record = await anyio.to_thread.run_sync(service.archive_record, who, ref)
            return Response(status_code=200, headers=archive_headers(record))
        record, handle = await anyio.to_thread.run_sync(service.open_archive, who, ref)

        async def body() -> AsyncIterator[bytes]:
            try:
                while chunk := await anyio.to_thread.run_sync(handle.read, 1024 * 1024):
                    yield chunk
            finally:
                handle.close()

        return StreamingResponse(body(), headers=archive_headers(record))

    routes = [
        Route("/", index, methods=["GET"]),
        Route("/upload", upload_form, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/api/v1/info", info, methods=["GET"]),
        Route("/api/v1/bundles", upload, methods=["POST"]),
        Route("/api/v1/bundles", list_bundles, methods=["GET"]),
        Route("/api/v1/bundles/{ref}", get_bundle, methods=["GET"]),
        Route("/api/v1/bundles/{ref}/archive", archive, methods=["GET"]),
    ]
    routes += portfolio_routes(service, api, api_json, page)
    app = Starlette(routes=routes)
    app.state.service = service
    return app
