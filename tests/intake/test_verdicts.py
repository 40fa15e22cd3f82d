"""Verification outcomes through the real verifier: accepted, idempotent, hostile bundles rejected."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from .support import (
    Tenants,
    bearer,
    bundle_files,
    good_zip,
    hostile_bundles,
    write_tgz,
)


def _events(store: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (store / "intake.log.jsonl").read_text().splitlines()]


def test_good_bundle_accepted_and_stored(client, tenants: Tenants, tmp_path: Path):
    from auditkit.evidence import verify_bundle

    archive = good_zip(tmp_path)
    expected_root = verify_bundle(archive).root_hash
    response = client.post("/api/v1/bundles", content=archive.read_bytes(),
                           headers=bearer(tenants.acme))
    assert response.status_code == 201, response.text
    receipt = response.json()["receipt"]
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    assert receipt["verdict"] == "accepted" and receipt["reasons"] == []
    assert receipt["bundle_root_hash"] == expected_root
    assert receipt["archive_sha256"] == digest
    assert receipt["bundle_id"] == "acme-us-2026-q3"
    stored = tenants.store / "objects" / digest
    assert stored.read_bytes() == archive.read_bytes()
    assert stored.stat().st_mode & 0o222 == 0  # immutable
    assert list((tenants.store / "quarantine").iterdir()) == []
    assert list((tenants.store / "incoming").iterdir()) == []

    fetched = client.get(f"/api/v1/bundles/{expected_root}/archive", headers=bearer(tenants.auditor))
    assert fetched.status_code == 200 and fetched.content == archive.read_bytes()


def test_same_root_hash_twice_is_idempotent(client, tenants: Tenants, tmp_path: Path):
    files = bundle_files("acme-twice")
    from .support import write_zip

    as_zip = write_zip(tmp_path / "a.zip", files)
    as_tgz = write_tgz(tmp_path / "a.tar.gz", files)  # other bytes, same manifest, same root
    first = client.post("/api/v1/bundles", content=as_zip.read_bytes(), headers=bearer(tenants.acme))
    again = client.post("/api/v1/bundles", content=as_zip.read_bytes(), headers=bearer(tenants.acme))
    repacked = client.post("/api/v1/bundles", content=as_tgz.read_bytes(),
                           headers=bearer(tenants.acme))
    assert first.status_code == 201
    assert again.status_code == repacked.status_code == 200
    assert again.json() == first.json() == repacked.json()
    listed = client.get("/api/v1/bundles", headers=bearer(tenants.acme)).json()["bundles"]
    assert len(listed) == 1
    assert len(list((tenants.store / "objects").iterdir())) == 1
    assert [e["event"] for e in _events(tenants.store)].count("duplicate") == 2

    # Another tenant uploading the same bundle gets its own record; nothing reveals the first.
    other = client.post("/api/v1/bundles", content=as_zip.read_bytes(), headers=bearer(tenants.globex))
    assert other.status_code == 201
    assert other.json()["receipt"]["organization"] == "GLOBEX"


def test_hostile_bundles_rejected_with_reasons(client, tenants: Tenants, tmp_path: Path):
    cases = hostile_bundles(tmp_path)
    assert len(cases) >= 7
    for case in cases:
        response = client.post("/api/v1/bundles", content=case.archive.read_bytes(),
                               headers=bearer(tenants.acme))
        assert response.status_code == 422, (case.name, response.text)
        receipt = response.json()["receipt"]
        assert receipt["verdict"] == "rejected", case.name
        assert receipt["reasons"], case.name
        assert all(str(tenants.store) not in reason for reason in receipt["reasons"]), case.name
        for target in case.escape_targets:
            assert not target.exists() and not target.is_symlink(), (case.name, target)
    for folder in ("objects", "quarantine", "incoming"):
        assert list((tenants.store / folder).iterdir()) == [], folder
    rejected = [e for e in _events(tenants.store) if e["event"] == "rejected"]
    assert len(rejected) == len(cases)
    listed = client.get("/api/v1/bundles", headers=bearer(tenants.acme)).json()["bundles"]
    assert {b["verdict"] for b in listed} == {"rejected"}
    assert client.get(f"/api/v1/bundles/{listed[0]['upload_id']}/archive",
                      headers=bearer(tenants.acme)).status_code == 404


@pytest.mark.parametrize("name", ["absolute-path", "dotdot-member", "symlink", "zip-bomb",
                                  "duplicate-names", "tampered-file"])
def test_each_hostile_reason_names_the_problem(client, tenants: Tenants, tmp_path: Path, name):
    case = next(c for c in hostile_bundles(tmp_path) if c.name == name)
    response = client.post("/api/v1/bundles", content=case.archive.read_bytes(),
                           headers=bearer(tenants.acme))
    reasons = " ".join(response.json()["receipt"]["reasons"])
    expected = {"absolute-path": "absolute", "dotdot-member": "..", "symlink": "link",
                "zip-bomb": "ratio", "duplicate-names": "duplicate",
                "tampered-file": "manifest"}[name]
    assert expected in reasons
