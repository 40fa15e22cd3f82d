"""Migrating an embedded store to PostgreSQL + S3: everything kept, receipts and the log still valid."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import psycopg

from ..intake.support import Tenants, bearer, bundle_files, good_zip, write_zip
from .servers import S3, Postgres
from .support import Deployment, invoke


def test_migrate_embedded_store_then_serve_it_scaled(live, tenants: Tenants, tmp_path: Path,
                                                    postgres: Postgres, s3_env: S3):
    receipts = []
    for name in ("acme-m1", "acme-m2"):
        out = tmp_path / f"{name}.receipt.json"
        done = invoke("submit", str(good_zip(tmp_path, name)), "--server", live.url, "-o", str(out),
                      env={"AUDITKIT_TOKEN": tenants.acme})
        assert done.exit_code == 0, done.output
        receipts.append(out)
    bad = bundle_files("acme-bad")
    bad["evidence/datastore-inventory.json"] += b"x"
    assert invoke("submit", str(write_zip(tmp_path / "bad.zip", bad)), "--server", live.url,
                  env={"AUDITKIT_TOKEN": tenants.acme}).exit_code == 4  # a hash mismatch, as bundle verify exits locally
    live.process.terminate()
    live.process.wait(timeout=10)
    before = sorted(p.name for p in (tenants.store / "objects").iterdir())
    log_before = (tenants.store / "intake.log.jsonl").read_bytes()

    index, objects = postgres.new_database(), s3_env.new_bucket()
    moved = invoke("intake", "migrate", "--store", str(tenants.store), "--index", index, "--objects", objects)
    assert moved.exit_code == 0, moved.output
    assert "4 tokens, 3 uploads, 0 assessments, 2 objects" in moved.output
    assert sorted(p.name for p in (tenants.store / "objects").iterdir()) == before  # source untouched
    assert (tenants.store / "intake.log.jsonl").read_bytes() == log_before
    with psycopg.connect(index) as conn:
        lines = [line for (line,) in conn.execute("SELECT line FROM intake_log ORDER BY seq")]
    assert "\n".join(lines).encode() + b"\n" == log_before
    again = invoke("intake", "migrate", "--store", str(tenants.store), "--index", index, "--objects", objects)
    assert again.exit_code == 2 and "not empty" in again.output

    # The same tokens, records and key now serve from the shared backends.
    folder = tmp_path / "scaled"
    folder.mkdir()
    for name in ("server-key.pem", "server.pub"):
        (folder / name).write_bytes((tenants.store / name).read_bytes())
    dep = Deployment(index, objects, [folder], tenants.acme, tenants.globex, tenants.auditor)
    (server,) = dep.start()
    try:
        root = json.loads(receipts[0].read_text())["receipt"]["bundle_root_hash"]
        got = httpx.get(f"{server.url}/api/v1/bundles/{root}/archive", headers=bearer(tenants.auditor),
                        timeout=10)
        assert got.status_code == 200 and got.content == (tmp_path / "acme-m1.zip").read_bytes()
        listed = httpx.get(f"{server.url}/api/v1/bundles", headers=bearer(tenants.acme), timeout=10).json()
        assert sorted(b["verdict"] for b in listed["bundles"]) == ["accepted", "accepted", "rejected"]
        repeat = httpx.post(f"{server.url}/api/v1/bundles", content=(tmp_path / "acme-m2.zip").read_bytes(),
                            headers=bearer(tenants.acme), timeout=30)
        assert repeat.status_code == 200  # known from before the migration: the original receipt
        assert repeat.json() == json.loads(receipts[1].read_text())
    finally:
        dep.stop()
    key = tmp_path / "server.pub"
    key.write_bytes((tenants.store / "server.pub").read_bytes())
    for receipt in receipts:
        assert invoke("receipt", "verify", str(receipt), "--key", str(key)).exit_code == 0
    assert invoke("intake", "log", "verify", "--store", str(folder), "--index", index).exit_code == 0
