"""Upload streaming: the size cap is enforced while reading, nothing partial is left on disk."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx

from .support import Tenants, bearer

CAP = 4 * 1024 * 1024  # the ``service`` fixture's cap
CHUNK = 256 * 1024


def _leftovers(store: Path) -> list[Path]:
    return [p for folder in ("incoming", "quarantine", "objects") for p in (store / folder).iterdir()]


def _events(store: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (store / "intake.log.jsonl").read_text().splitlines()]


def test_declared_size_over_cap_refused_without_reading(service, tenants: Tenants):
    from auditkit.intake.app import create_app

    pulled = 0

    async def body():
        nonlocal pulled
        for _ in range(64):
            pulled += 1
            yield b"\0" * CHUNK

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(service))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            return await c.post("/api/v1/bundles", content=body(),
                                headers={**bearer(tenants.acme), "Content-Length": str(64 * CHUNK)})

    response = asyncio.run(go())
    assert response.status_code == 413
    assert "cap" in response.json()["error"]["message"]
    assert pulled <= 1  # at most the transport's first read; the app read none of it
    assert _leftovers(tenants.store) == []


def test_streamed_body_over_cap_stops_reading_at_the_cap(service, tenants: Tenants):
    from auditkit.intake.app import create_app

    pulled = 0
    total_chunks = 200  # 50 MiB offered, cap is 4 MiB

    async def body():
        nonlocal pulled
        for _ in range(total_chunks):
            pulled += 1
            yield b"\1" * CHUNK

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(service))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            return await c.post("/api/v1/bundles", content=body(), headers=bearer(tenants.acme))

    response = asyncio.run(go())
    assert response.status_code == 413
    assert pulled <= CAP // CHUNK + 2, f"read {pulled} chunks past a {CAP // CHUNK}-chunk cap"
    assert _leftovers(tenants.store) == []
    refused = [e for e in _events(tenants.store) if e["event"] == "refused"]
    assert len(refused) == 1 and refused[0]["organization"] == "ACME"


def test_not_an_archive_is_rejected_with_a_signed_receipt(client, service, tenants: Tenants):
    response = client.post("/api/v1/bundles", content=b"just some text, not an archive",
                           headers=bearer(tenants.acme))
    assert response.status_code == 422
    signed = response.json()
    receipt = signed["receipt"]
    assert receipt["verdict"] == "rejected"
    assert receipt["organization"] == "ACME"
    assert receipt["bundle_root_hash"] is None
    assert any("not a .zip or .tar.gz" in r for r in receipt["reasons"])
    assert signed["signature"]["algorithm"] == "Ed25519"
    assert _leftovers(tenants.store) == []
    events = [e["event"] for e in _events(tenants.store)]
    assert events[-2:] == ["received", "rejected"]


def test_empty_upload_is_400(client, tenants: Tenants):
    response = client.post("/api/v1/bundles", content=b"", headers=bearer(tenants.acme))
    assert response.status_code == 400
    assert _leftovers(tenants.store) == []


def test_list_limit_is_checked(client, tenants: Tenants):
    listing = client.get("/api/v1/bundles?limit=0", headers=bearer(tenants.acme))
    assert listing.status_code == 400


def test_stalled_upload_times_out_and_leaves_nothing(tenants: Tenants):
    from auditkit.intake.app import create_app
    from auditkit.intake.server import open_service
    from auditkit.intake.service import IntakeSettings

    service = open_service(tenants.store, IntakeSettings(idle_timeout=0.2))

    async def body():
        yield b"PK\x03\x04" + b"\0" * 1000
        await asyncio.sleep(5)  # bounded: the server gives up after 0.2 s
        yield b"never read"

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(service))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            return await asyncio.wait_for(
                c.post("/api/v1/bundles", content=body(), headers=bearer(tenants.acme)), 10)

    try:
        response = asyncio.run(go())
    finally:
        service.close()
    assert response.status_code == 408
    assert response.headers["connection"] == "close"
    assert _leftovers(tenants.store) == []


def test_client_disconnect_mid_upload_leaves_nothing(service, tenants: Tenants):
    from auditkit.intake.app import create_app

    app = create_app(service)
    messages = [
        {"type": "http.request", "body": b"PK\x03\x04" + b"\0" * 4096, "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, object]] = []

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/api/v1/bundles", "raw_path": b"/api/v1/bundles",
        "query_string": b"", "root_path": "", "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 5555),
        "headers": [(b"authorization", f"Bearer {tenants.acme}".encode()), (b"host", b"x")],
    }
    asyncio.run(asyncio.wait_for(app(scope, receive, send), 10))
    assert sent[0]["status"] == 400
    assert _leftovers(tenants.store) == []
    last = _events(tenants.store)[-1]
    assert last["event"] == "refused" and "abandoned" in str(last["reason"])


def test_page_upload_over_cap_refused_and_nothing_left(client, tenants: Tenants):
    response = client.post(
        "/upload",
        data={"token": tenants.acme},
        files={"bundle": ("big.zip", b"PK\x03\x04" + b"\0" * (CAP + 1), "application/zip")},
    )
    assert response.status_code == 413
    assert "cap" in response.text and response.headers["content-type"].startswith("text/html")
    assert _leftovers(tenants.store) == []


def test_page_upload_without_token_is_401_before_the_file_is_read(client, tenants: Tenants):
    response = client.post("/upload", data={"token": ""},
                           files={"bundle": ("x.zip", b"PK\x03\x04", "application/zip")})
    assert response.status_code == 401
    assert "Content-Security-Policy" in response.headers
    assert _leftovers(tenants.store) == []
