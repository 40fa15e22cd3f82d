"""The server as a real subprocess on 127.0.0.1: client commands, concurrency, a SIGKILL mid-upload."""

from __future__ import annotations

import asyncio
import json
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from auditkit.cli import cli

from .support import (
    LiveServer,
    Tenants,
    bearer,
    bundle_files,
    free_port,
    good_zip,
    start_server,
    stop_server,
    write_folder,
    write_zip,
)


def _run(args: list[str], token: str | None = None):
    env = {"AUDITKIT_TOKEN": token} if token else {}
    return CliRunner().invoke(cli, args, env=env)


def _log_ok(store: Path) -> str:
    result = _run(["intake", "log", "verify", "--store", str(store)])
    assert result.exit_code == 0, result.output
    return result.output


def test_submit_fetch_and_verify_receipt(live: LiveServer, tenants: Tenants, tmp_path: Path):
    archive = good_zip(tmp_path)
    receipt = tmp_path / "receipt.json"
    result = _run(["submit", str(archive), "--server", live.url, "-o", str(receipt)], tenants.acme)
    assert result.exit_code == 0, result.output
    assert "accepted acme-us-2026-q3" in result.output
    root = json.loads(receipt.read_text())["receipt"]["bundle_root_hash"]

    key = tmp_path / "server.pub"
    assert _run(["intake", "key", "export", "--store", str(tenants.store), "-o", str(key)]).exit_code == 0
    assert _run(["receipt", "verify", str(receipt), "--key", str(key)]).exit_code == 0

    again = _run(["submit", str(archive), "--server", live.url, "--key", str(key)], tenants.acme)
    assert again.exit_code == 0 and "already received earlier" in again.output

    out = tmp_path / "fetched"
    out.mkdir()
    fetched = _run(["fetch", root, "-o", str(out), "--server", live.url, "--key", str(key)],
                   tenants.auditor)
    assert fetched.exit_code == 0, fetched.output
    assert (out / "acme-us-2026-q3.zip").read_bytes() == archive.read_bytes()
    assert (out / "acme-us-2026-q3.receipt.json").exists()

    token_file = tmp_path / "token"
    token_file.write_text(tenants.globex + "\n")
    other = _run(["fetch", root, "-o", str(out), "--server", live.url, "--token-file",
                  str(token_file)])
    assert other.exit_code == 3
    assert "(404)" in other.output and "no bundle" in other.output
    _log_ok(tenants.store)


def test_submit_rejected_bundle_exit_4_on_a_hash_mismatch_with_reasons(live: LiveServer, tenants: Tenants,
                                                                       tmp_path: Path):
    files = bundle_files("acme-bad")
    files["evidence/datastore-inventory.json"] += b"tampered"
    archive = write_zip(tmp_path / "bad.zip", files)
    receipt = tmp_path / "receipt.json"
    result = _run(["submit", str(archive), "--server", live.url, "-o", str(receipt)], tenants.acme)
    assert result.exit_code == 4, result.output  # as `auditkit bundle verify` exits on the same bundle locally
    assert "bundle rejected by the server" in result.output
    assert "manifest says" in result.output
    reasons = json.loads(receipt.read_text())["receipt"]["reasons"]
    assert json.loads(receipt.read_text())["receipt"]["verdict"] == "rejected"
    assert all(r.startswith("integrity: ") for r in reasons), reasons
    local = _run(["bundle", "verify", str(archive)])
    assert local.exit_code == 4


def test_submit_rejected_invalid_bundle_exit_3(live: LiveServer, tenants: Tenants, tmp_path: Path):
    files = bundle_files("acme-bad")
    files["manifest.yaml"] = files["manifest.yaml"].replace(b"organization:", b"organisation:")
    archive = write_zip(tmp_path / "bad.zip", files)
    result = _run(["submit", str(archive), "--server", live.url], tenants.acme)
    assert result.exit_code == 3, result.output
    assert "unknown key 'organisation' (did you mean 'organization'?)" in result.output


def test_submit_packs_a_folder_first(live: LiveServer, tenants: Tenants, tmp_path: Path):
    folder = write_folder(tmp_path / "acme-folder", bundle_files("acme-folder"))
    result = _run(["submit", str(folder), "--server", live.url], tenants.acme)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["receipt"]["bundle_id"] == "acme-folder"


def test_client_messages_and_exit_codes(live: LiveServer, tenants: Tenants, tmp_path: Path):
    archive = write_zip(tmp_path / "x.zip", {"a.txt": b"a"})
    bad = _run(["submit", str(archive), "--server", live.url], "akt_not-a-real-token")
    assert bad.exit_code == 2
    assert "(401)" in bad.output and "unknown or revoked API token" in bad.output

    none = CliRunner().invoke(cli, ["submit", str(archive), "--server", live.url],
                              env={"AUDITKIT_TOKEN": ""})
    assert none.exit_code == 2 and "no API token" in none.output

    refused = _run(["submit", str(archive), "--server", f"http://127.0.0.1:{free_port()}"],
                   tenants.acme)
    assert refused.exit_code == 6
    assert "cannot connect" in refused.output

    out = tmp_path / "o"
    out.mkdir()
    missing = _run(["fetch", "f" * 64, "-o", str(out), "--server", live.url], tenants.auditor)
    assert missing.exit_code == 3 and "(404)" in missing.output

    wrong_role = _run(["submit", str(archive), "--server", live.url], tenants.auditor)
    assert wrong_role.exit_code == 2 and "(403)" in wrong_role.output


def test_over_cap_upload_refused_and_nothing_left(tenants: Tenants, tmp_path: Path):
    server = start_server(tenants.store, max_upload_mb=1)
    try:
        big = write_zip(tmp_path / "big.zip", {"noise.bin": bytes(range(256)) * 8192},
                        compression=0)  # 2 MiB
        local = _run(["submit", str(big), "--server", server.url], tenants.acme)
        assert local.exit_code == 3 and "over the server's cap" in local.output

        sent = 0

        def body():
            nonlocal sent
            for _ in range(64):  # 16 MiB offered against a 1 MiB cap
                sent += 1
                yield b"\0" * (256 * 1024)

        status = None
        try:
            response = httpx.post(f"{server.url}/api/v1/bundles", content=body(),
                                  headers=bearer(tenants.acme), timeout=30)
            status = response.status_code
        except httpx.HTTPError:
            status = "closed"  # the server may close before the client reads the 413
        assert status in (413, "closed")
        assert sent < 64, "the server read the whole body"
        assert list((tenants.store / "incoming").iterdir()) == []
        assert list((tenants.store / "objects").iterdir()) == []
    finally:
        stop_server(server)


def test_twenty_concurrent_uploads(live: LiveServer, tenants: Tenants, tmp_path: Path):
    archives = [good_zip(tmp_path, f"acme-c{i:02d}") for i in range(20)]

    async def upload_all() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=20)
        async with httpx.AsyncClient(base_url=live.url, limits=limits, timeout=60) as client:
            return await asyncio.wait_for(asyncio.gather(*(
                client.post("/api/v1/bundles", content=a.read_bytes(), headers=bearer(tenants.acme))
                for a in archives
            )), timeout=120)

    responses = asyncio.run(upload_all())
    assert [r.status_code for r in responses] == [201] * 20
    roots = {r.json()["receipt"]["bundle_root_hash"] for r in responses}
    assert len(roots) == 20
    listed = httpx.get(f"{live.url}/api/v1/bundles", headers=bearer(tenants.auditor)).json()
    assert {b["bundle_root_hash"] for b in listed["bundles"]} == roots
    assert len(list((tenants.store / "objects").iterdir())) == 20

    entries = [json.loads(x) for x in (tenants.store / "intake.log.jsonl").read_text().splitlines()]
    accepted = {e["upload_id"] for e in entries if e["event"] == "accepted"}
    received = {e["upload_id"] for e in entries if e["event"] == "received"}
    assert accepted == received == {r.json()["receipt"]["upload_id"] for r in responses}
    seqs = {r.json()["receipt"]["log_seq"] for r in responses}
    assert len(seqs) == 20
    assert "intake log OK" in _log_ok(tenants.store)


def test_sigkill_mid_upload_then_restart(tenants: Tenants, tmp_path: Path):
    port = free_port()
    server = start_server(tenants.store, port=port)
    incoming = tenants.store / "incoming"
    stop = threading.Event()
    outcome: dict[str, object] = {}

    def slow_body():
        yield b"PK\x03\x04"
        for _ in range(400):  # at most ~8 s, ends early once the server is gone
            if stop.is_set():
                return
            yield b"\0" * 65536
            time.sleep(0.02)

    def upload() -> None:
        try:
            outcome["status"] = httpx.post(f"{server.url}/api/v1/bundles", content=slow_body(),
                                           headers=bearer(tenants.acme), timeout=20).status_code
        except httpx.HTTPError as exc:
            outcome["error"] = type(exc).__name__

    thread = threading.Thread(target=upload, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        partial = [p for p in incoming.iterdir() if p.stat().st_size > 0]
        if partial:
            break
        time.sleep(0.02)
    else:
        pytest.fail("the upload never reached the server")
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(timeout=10)
    stop.set()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert "error" in outcome, outcome  # the client saw the connection die
    assert list(incoming.iterdir())  # the partial upload is still on disk ...

    restarted = start_server(tenants.store, port=port)
    try:
        assert list(incoming.iterdir()) == []  # ... and gone after the restart
        assert list((tenants.store / "objects").iterdir()) == []
        listed = httpx.get(f"{restarted.url}/api/v1/bundles", headers=bearer(tenants.acme)).json()
        assert listed["bundles"] == []
        events = [json.loads(x)["event"]
                  for x in (tenants.store / "intake.log.jsonl").read_text().splitlines()]
        assert events == ["server-start", "server-start"]
        _log_ok(tenants.store)

        response = httpx.post(f"{restarted.url}/api/v1/bundles",
                              content=good_zip(tmp_path).read_bytes(),
                              headers=bearer(tenants.acme), timeout=30)
        assert response.status_code == 201, response.text
        _log_ok(tenants.store)
    finally:
        stop_server(restarted)


def test_fetch_refuses_a_malformed_id(tmp_path: Path):
    result = _run(["fetch", "../../openapi.json", "-o", str(tmp_path), "--server",
                   "http://127.0.0.1:9"], "akt_x")
    assert result.exit_code == 2
    assert "is not a bundle root hash" in result.output
