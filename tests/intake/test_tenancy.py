"""Tokens and tenants: 401 for a missing or wrong token, 404 for anything of another tenant."""

from __future__ import annotations

import hashlib
import json

import pytest

from .support import Tenants, bearer, seed_accepted


def test_missing_token_is_401(client):
    for method, path in [("GET", "/api/v1/bundles"), ("POST", "/api/v1/bundles"),
                         ("GET", "/api/v1/bundles/" + "a" * 64),
                         ("GET", "/api/v1/bundles/" + "a" * 64 + "/archive")]:
        response = client.request(method, path, content=b"x" if method == "POST" else None)
        assert response.status_code == 401, (method, path)
        assert response.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("header", ["Bearer akt_wrong", "Basic dXNlcjpwYXNz", "Bearer ", "akt_x y z",
                                    "Bearer " + "x" * 300])
def test_wrong_or_malformed_token_is_401(client, header):
    response = client.get("/api/v1/bundles", headers={"Authorization": header})
    assert response.status_code == 401


def test_revoked_token_is_401(client, service, tenants: Tenants):
    assert client.get("/api/v1/bundles", headers=bearer(tenants.acme)).status_code == 200
    record = service.store.index.find_token(hashlib.sha256(tenants.acme.encode()).hexdigest())
    assert service.store.index.revoke_token(record.token_id)
    assert client.get("/api/v1/bundles", headers=bearer(tenants.acme)).status_code == 401


def test_tokens_stored_only_as_hashes(tenants: Tenants):
    raw = (tenants.store / "index.sqlite3").read_bytes()
    wal = tenants.store / "index.sqlite3-wal"
    raw += wal.read_bytes() if wal.exists() else b""
    for token in (tenants.acme, tenants.globex, tenants.auditor):
        assert token.encode() not in raw
        assert hashlib.sha256(token.encode()).hexdigest().encode() in raw


def test_submitter_sees_only_its_own_organization(client, service, tenants: Tenants):
    acme_root = seed_accepted(service, "ACME", b"PK\x03\x04acme archive", "acme-q3")
    globex_root = seed_accepted(service, "GLOBEX", b"PK\x03\x04globex archive", "globex-q3")

    listed = client.get("/api/v1/bundles", headers=bearer(tenants.acme)).json()["bundles"]
    assert [b["bundle_root_hash"] for b in listed] == [acme_root]

    own = client.get(f"/api/v1/bundles/{acme_root}", headers=bearer(tenants.acme))
    assert own.status_code == 200 and own.json()["organization"] == "ACME"

    # Another tenant's bundle is indistinguishable from one that does not exist.
    other = client.get(f"/api/v1/bundles/{globex_root}", headers=bearer(tenants.acme))
    missing = client.get("/api/v1/bundles/" + "e" * 64, headers=bearer(tenants.acme))
    assert other.status_code == missing.status_code == 404
    assert other.json()["error"]["code"] == missing.json()["error"]["code"] == "not-found"
    assert other.json()["error"]["message"].replace(globex_root, "REF") == missing.json()["error"][
        "message"
    ].replace("e" * 64, "REF")
    archive = client.get(f"/api/v1/bundles/{globex_root}/archive", headers=bearer(tenants.acme))
    assert archive.status_code == 404
    by_upload = client.get("/api/v1/bundles", headers=bearer(tenants.globex)).json()["bundles"][0]
    assert client.get(f"/api/v1/bundles/{by_upload['upload_id']}",
                      headers=bearer(tenants.acme)).status_code == 404


def test_auditor_reads_granted_organizations_only(client, service, tenants: Tenants):
    acme_root = seed_accepted(service, "ACME", b"PK\x03\x04acme archive 2", "acme-q3")
    globex_root = seed_accepted(service, "GLOBEX", b"PK\x03\x04globex archive 2", "globex-q3")

    listed = client.get("/api/v1/bundles", headers=bearer(tenants.auditor)).json()["bundles"]
    assert {b["organization"] for b in listed} == {"ACME"}
    download = client.get(f"/api/v1/bundles/{acme_root}/archive", headers=bearer(tenants.auditor))
    assert download.status_code == 200
    assert download.content == b"PK\x03\x04acme archive 2"
    assert download.headers["x-archive-sha256"] == hashlib.sha256(download.content).hexdigest()
    assert client.get(f"/api/v1/bundles/{globex_root}/archive",
                      headers=bearer(tenants.auditor)).status_code == 404

    both = client.get("/api/v1/bundles", headers=bearer(tenants.auditor_all)).json()["bundles"]
    assert {b["organization"] for b in both} == {"ACME", "GLOBEX"}


def test_auditor_cannot_upload(client, tenants: Tenants):
    response = client.post("/api/v1/bundles", content=b"PK\x03\x04", headers=bearer(tenants.auditor))
    assert response.status_code == 403


def test_download_is_logged(client, service, tenants: Tenants):
    root = seed_accepted(service, "ACME", b"PK\x03\x04logged", "acme-q3")
    client.get(f"/api/v1/bundles/{root}/archive", headers=bearer(tenants.auditor))
    events = [line for line in service.store.log_path.read_text().splitlines() if '"download"' in line]
    assert len(events) == 1 and root in events[0]


def test_token_create_refuses_bad_input(tmp_path):
    from auditkit.errors import InvalidInputError, UsageError
    from auditkit.intake.store import create_token

    with pytest.raises(InvalidInputError):
        create_token(tmp_path / "s", "../etc", "submitter")
    with pytest.raises(UsageError):
        create_token(tmp_path / "s", "ACME", "auditor")
    with pytest.raises(UsageError):
        create_token(tmp_path / "s", "ACME", "submitter", ["GLOBEX"])


def test_token_commands(tmp_path):
    from click.testing import CliRunner

    from auditkit.cli import cli

    store = str(tmp_path / "s")
    created = CliRunner().invoke(cli, ["intake", "token", "create", "--store", store, "--org",
                                       "ACME", "--role", "submitter"])
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip()
    assert secret.startswith("akt_") and len(secret) > 40
    assert "shown only now" in created.stderr

    listed = CliRunner().invoke(cli, ["intake", "token", "list", "--store", store])
    assert listed.exit_code == 0 and secret not in listed.output
    token_id = json.loads(listed.stdout.splitlines()[0])["token_id"]
    assert "secret_sha256" not in listed.stdout

    assert CliRunner().invoke(cli, ["intake", "token", "revoke", "--store", store,
                                    token_id]).exit_code == 0
    unknown = CliRunner().invoke(cli, ["intake", "token", "revoke", "--store", store, "tok_nope"])
    assert unknown.exit_code == 3 and "no such token" in unknown.output
    assert json.loads(CliRunner().invoke(cli, ["intake", "token", "list", "--store", store])
                      .stdout.splitlines()[0])["revoked"] is True

    bad = CliRunner().invoke(cli, ["intake", "token", "list", "--store", str(tmp_path / "none")])
    assert bad.exit_code == 2


def test_second_server_on_a_store_is_refused(service, tenants: Tenants):
    from auditkit.errors import UsageError
    from auditkit.intake.server import open_service

    with pytest.raises(UsageError, match="another auditkit server"):
        open_service(tenants.store)
