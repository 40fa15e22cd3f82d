"""Signed receipts checked offline, and the hash-chained intake log's tamper detection."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest
from click.testing import CliRunner

from auditkit.cli import cli

from .support import Tenants, bearer


@pytest.fixture
def receipt_and_key(client, tenants: Tenants, tmp_path: Path) -> tuple[Path, Path]:
    response = client.post("/api/v1/bundles", content=b"not an archive at all",
                           headers=bearer(tenants.acme))
    assert response.status_code == 422
    receipt = tmp_path / "receipt.json"
    receipt.write_text(json.dumps(response.json(), indent=2))
    key = tmp_path / "server.pub"
    result = CliRunner().invoke(cli, ["intake", "key", "export", "--store", str(tenants.store),
                                      "-o", str(key)])
    assert result.exit_code == 0, result.output
    return receipt, key


def test_receipt_verifies_offline(receipt_and_key):
    receipt, key = receipt_and_key
    result = CliRunner().invoke(cli, ["receipt", "verify", str(receipt), "--key", str(key)])
    assert result.exit_code == 0, result.output
    assert "receipt OK: rejected" in result.output


def test_receipt_names_the_archive_and_verify_says_it(client, tenants: Tenants, tmp_path: Path):
    hostile = "../../evil\\dir/q3\u202e\x07 bundle.zip"
    response = client.post("/api/v1/bundles", content=b"not an archive at all",
                           headers={**bearer(tenants.acme), "X-Archive-Name": quote(hostile, safe="")})
    assert response.status_code == 422
    assert response.json()["receipt"]["archive_name"] == "q3 bundle.zip"  # last segment, no control/bidi characters
    receipt = tmp_path / "named.json"
    receipt.write_text(response.text)
    key = tmp_path / "server.pub"
    CliRunner().invoke(cli, ["intake", "key", "export", "--store", str(tenants.store), "-o", str(key)])
    result = CliRunner().invoke(cli, ["receipt", "verify", str(receipt), "--key", str(key)])
    assert result.exit_code == 0, result.output
    assert "from archive 'q3 bundle.zip'" in result.output
    doc = json.loads(receipt.read_text())
    doc["receipt"]["archive_name"] = "other.zip"  # the name is signed like every other field
    receipt.write_text(json.dumps(doc))
    assert CliRunner().invoke(cli, ["receipt", "verify", str(receipt), "--key", str(key)]).exit_code == 4


def test_format_1_receipts_without_archive_name_still_verify(tenants: Tenants, tmp_path: Path):
    import base64

    import rfc8785
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    from auditkit.intake.receipts import key_id

    public = tmp_path / "server.pub"
    CliRunner().invoke(cli, ["intake", "key", "export", "--store", str(tenants.store), "-o", str(public)])
    key = load_pem_private_key((tenants.store / "server-key.pem").read_bytes(), password=None)

    old = {"format": "auditkit-intake-receipt/1", "upload_id": "up_0", "organization": "ACME",
           "submitter_token_id": "tok_0", "received_at": "2026-10-03T14:00:01Z", "archive_sha256": "0" * 64,
           "size": 1, "verdict": "rejected", "reasons": ["bad"], "bundle_root_hash": None, "bundle_id": None,
           "bundle_organization": None, "item_count": None, "log_seq": 1, "log_entry_sha256": "0" * 64,
           "server_key_id": key_id(key.public_key())}
    signature = base64.b64encode(key.sign(rfc8785.dumps(old))).decode()
    path = tmp_path / "old.json"
    path.write_text(json.dumps({"receipt": old, "signature": {"algorithm": "Ed25519",
                                                             "key_id": key_id(key.public_key()), "value": signature}}))
    result = CliRunner().invoke(cli, ["receipt", "verify", str(path), "--key", str(public)])
    assert result.exit_code == 0, result.output
    old["archive_name"] = "smuggled.zip"  # a format 1 receipt cannot gain a name
    path.write_text(json.dumps({"receipt": old, "signature": {"algorithm": "Ed25519",
                                                             "key_id": key_id(key.public_key()), "value": signature}}))
    assert CliRunner().invoke(cli, ["receipt", "verify", str(path), "--key", str(public)]).exit_code == 3


@pytest.mark.parametrize("field,value", [("verdict", "accepted"), ("organization", "GLOBEX"),
                                         ("size", 1), ("reasons", [])])
def test_altered_receipt_fails_with_exit_4(receipt_and_key, field, value):
    receipt, key = receipt_and_key
    doc = json.loads(receipt.read_text())
    doc["receipt"][field] = value
    receipt.write_text(json.dumps(doc))
    result = CliRunner().invoke(cli, ["receipt", "verify", str(receipt), "--key", str(key)])
    assert result.exit_code == 4, result.output
    assert "signature does not verify" in result.output


def test_receipt_from_another_key_fails_with_exit_4(receipt_and_key, tmp_path):
    receipt, _ = receipt_and_key
    other = tmp_path / "other.pub"
    CliRunner().invoke(cli, ["intake", "key", "export", "--store", str(tmp_path / "other"),
                             "-o", str(other)])
    result = CliRunner().invoke(cli, ["receipt", "verify", str(receipt), "--key", str(other)])
    assert result.exit_code == 4
    assert "not by the given key" in result.output


def test_malformed_receipt_is_invalid_input(receipt_and_key):
    receipt, key = receipt_and_key
    receipt.write_text('{"receipt": {}, "signature": {}}')
    result = CliRunner().invoke(cli, ["receipt", "verify", str(receipt), "--key", str(key)])
    assert result.exit_code == 3
    assert "not an auditkit intake receipt" in result.output


def test_receipt_anchors_its_log_entry(receipt_and_key, tenants: Tenants):
    import hashlib

    receipt, _ = receipt_and_key
    doc = json.loads(receipt.read_text())["receipt"]
    lines = (tenants.store / "intake.log.jsonl").read_bytes().splitlines()
    entry = lines[doc["log_seq"] - 1]
    assert hashlib.sha256(entry).hexdigest() == doc["log_entry_sha256"]
    assert json.loads(entry)["upload_id"] == doc["upload_id"]


def _log_verify(store: Path):
    return CliRunner().invoke(cli, ["intake", "log", "verify", "--store", str(store)])


@pytest.fixture
def busy_log(client, service, tenants: Tenants) -> Path:
    for i in range(4):
        client.post("/api/v1/bundles", content=f"junk {i}".encode(), headers=bearer(tenants.acme))
    client.get("/api/v1/bundles", headers=bearer(tenants.acme))
    log = tenants.store / "intake.log.jsonl"
    assert len(log.read_text().splitlines()) == 1 + 4 * 2  # server-start + received/rejected
    result = _log_verify(tenants.store)
    assert result.exit_code == 0, result.output
    assert "intake log OK: 9 entries" in result.output
    return log


def test_removed_entry_is_detected(busy_log, tenants: Tenants):
    lines = busy_log.read_bytes().splitlines(keepends=True)
    busy_log.write_bytes(b"".join(lines[:3] + lines[4:]))
    result = _log_verify(tenants.store)
    assert result.exit_code == 4
    assert f"{busy_log}:4: sequence number is 5, expected 4" in result.output


def test_edited_entry_is_detected(busy_log, tenants: Tenants):
    lines = busy_log.read_bytes().splitlines(keepends=True)
    lines[2] = lines[2].replace(b'"ACME"', b'"GLOBEX"')
    busy_log.write_bytes(b"".join(lines))
    result = _log_verify(tenants.store)
    assert result.exit_code == 4
    assert f"{busy_log}:4: does not chain to line 3: line 3 was edited" in result.output


def test_edited_last_entry_is_detected_by_the_anchor(busy_log, tenants: Tenants):
    lines = busy_log.read_bytes().splitlines(keepends=True)
    lines[-1] = lines[-1].replace(b'"rejected"', b'"accepted"')
    busy_log.write_bytes(b"".join(lines))
    result = _log_verify(tenants.store)
    assert result.exit_code == 4
    assert f"{busy_log}:9: differs from the hash the index anchored" in result.output


def test_truncated_log_is_detected_by_the_anchor(busy_log, tenants: Tenants):
    lines = busy_log.read_bytes().splitlines(keepends=True)
    busy_log.write_bytes(b"".join(lines[:-2]))
    result = _log_verify(tenants.store)
    assert result.exit_code == 4
    assert f"{busy_log}:8: missing: the index anchors 9 entries" in result.output


def test_torn_last_line_is_reported(busy_log, tenants: Tenants):
    with busy_log.open("ab") as handle:
        handle.write(b'{"seq": 10, "ev')
    result = _log_verify(tenants.store)
    assert result.exit_code == 4
    assert "incomplete entry" in result.output


def test_server_refuses_to_start_on_a_tampered_log(busy_log, service, tenants: Tenants):
    from auditkit.errors import ProblemList
    from auditkit.intake.server import open_service

    service.close()
    lines = busy_log.read_bytes().splitlines(keepends=True)
    busy_log.write_bytes(b"".join(lines[:3] + lines[4:]))
    with pytest.raises(ProblemList):
        open_service(tenants.store)
