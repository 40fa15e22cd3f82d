"""The hand-written OpenAPI document: every route described, and schemathesis finds no server error."""

from __future__ import annotations

import re

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from auditkit.intake.app import create_app
from auditkit.intake.openapi import openapi_document

from .support import Tenants


def _routes(app) -> set[tuple[str, str]]:
    found = set()
    for route in app.routes:
        for method in route.methods or ():
            if method != "HEAD":
                found.add((route.path, method.lower()))
    return found


def test_every_route_is_described_and_nothing_else(service):
    app = create_app(service)
    described = {(path, method) for path, ops in openapi_document()["paths"].items()
                 for method in ops}
    assert _routes(app) == described


def test_served_document_is_the_static_one(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.json() == openapi_document()


def test_every_error_status_has_a_schema():
    for path, ops in openapi_document()["paths"].items():
        for method, op in ops.items():
            for status, answer in op["responses"].items():
                assert re.fullmatch(r"[1-5][0-9][0-9]", status), (path, method, status)
                assert answer.get("description"), (path, method, status)


def test_api_has_no_server_errors(service, tenants: Tenants):
    """Every operation, fuzzed from the document: no 5xx, statuses and bodies as described."""
    app = create_app(service)
    loaded = schemathesis.openapi.from_asgi("/openapi.json", app)
    checks = [not_a_server_error, status_code_conformance, content_type_conformance,
              response_schema_conformance]
    operations = [result.ok() for result in loaded.get_all_operations()]
    labels = {f"{op.method.upper()} {op.path}" for op in operations}
    described = {f"{m.upper()} {p}" for p, ops in openapi_document()["paths"].items() for m in ops}
    assert described - labels <= {"GET /openapi.json"}  # schemathesis leaves out its own source
    for operation in operations:
        token = tenants.acme if operation.method.upper() == "POST" else tenants.auditor_all
        _fuzz(operation, {"Authorization": f"Bearer {token}"}, checks)()


def _fuzz(operation, headers: dict[str, str], checks: list):
    @given(case=operation.as_strategy())
    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck),
              database=None)
    def run(case) -> None:
        case.call_and_validate(headers=headers, checks=checks)

    return run
