"""The embedded server (SQLite + folder) assessing accepted bundles in its own process: no other server."""

from __future__ import annotations

import json
import os
from pathlib import Path

from auditkit.intake.store import create_token

from ..intake.support import good_zip, start_server, stop_server
from .support import PASSPHRASE, invoke, signing, wait_for


def test_embedded_server_assesses_in_process_and_portfolio_reads_the_folder(tmp_path: Path, monkeypatch):
    keys = signing(tmp_path)
    store = tmp_path / "store"
    acme, _ = create_token(store, "ACME", "submitter")
    monkeypatch.setenv("AUDITKIT_KEY_PASSPHRASE", PASSPHRASE)
    server = start_server(store, extra=("--assess-key", str(keys.p12), "--assess-controls", str(keys.controls)))
    try:
        for name in ("acme-2026-q2", "acme-2026-q3"):
            result = invoke("submit", str(good_zip(tmp_path, name)), "--server", server.url,
                            env={"AUDITKIT_TOKEN": acme})
            assert result.exit_code == 0, result.output

        def rows():
            listed = invoke("portfolio", "--store", str(store), "--format", "json")
            assert listed.exit_code == 0, listed.output
            found = [json.loads(line) for line in listed.stdout.splitlines()]
            return found if found and found[0]["assessments"] == 2 else None

        (row,) = wait_for(rows, "both in-process assessments")
        assert row["organization"] == "ACME" and row["bundle_id"] == "acme-2026-q3"
        assert row["previous_rating"] is not None and row["trend_word"] in ("steady", "up", "down")
    finally:
        stop_server(server)
    reports = tmp_path / "reports"
    saved = invoke("portfolio", "--store", str(store), "--reports", str(reports))
    assert saved.exit_code == 0 and str(reports / "ACME.pdf") in saved.stdout
    assert invoke("verify", str(reports / "ACME.pdf"), "--trust", str(keys.ca)).exit_code == 0
    log = [json.loads(line)["event"] for line in (store / "intake.log.jsonl").read_text().splitlines()]
    assert log.count("assessed") == 2 and log.count("assessment-started") == 2
    assert invoke("intake", "log", "verify", "--store", str(store)).exit_code == 0
    assert os.listdir(store / "quarantine") == []


def test_embedded_assessments_check_bundle_signatures_against_assess_trust(tmp_path: Path, monkeypatch):
    """With --assess-trust a signed bundle is assessed with its signer recorded; an unsigned one is not assessed."""
    import pikepdf

    from ..intake.support import bundle_files, write_folder

    keys = signing(tmp_path)
    secret = tmp_path / "secret"
    secret.write_text(PASSPHRASE + "\n")
    signed = write_folder(tmp_path / "acme-signed", bundle_files("acme-signed"))
    sealed = invoke("bundle", "seal", str(signed), "--sign-key", str(keys.p12), "--passphrase-file", str(secret))
    assert sealed.exit_code == 0, sealed.output
    assert (signed / "manifest.sig").is_file()
    store = tmp_path / "store"
    acme, _ = create_token(store, "ACME", "submitter")
    monkeypatch.setenv("AUDITKIT_KEY_PASSPHRASE", PASSPHRASE)
    server = start_server(store, extra=("--assess-key", str(keys.p12), "--assess-controls", str(keys.controls),
                                        "--assess-trust", str(keys.ca)))
    try:
        for bundle in (signed, good_zip(tmp_path, "acme-unsigned")):
            result = invoke("submit", str(bundle), "--server", server.url, env={"AUDITKIT_TOKEN": acme})
            assert result.exit_code == 0, result.output

        def events():
            log = [json.loads(line) for line in (store / "intake.log.jsonl").read_text().splitlines()]
            done = [e for e in log if e["event"] in ("assessed", "assessment-failed")]
            return done if len(done) == 2 else None

        done = wait_for(events, "both in-process assessments")
    finally:
        stop_server(server)
    failed = [e for e in done if e["event"] == "assessment-failed"]
    assert len(failed) == 1 and "not signed" in failed[0]["reason"].lower(), failed
    reports = tmp_path / "reports"
    saved = invoke("portfolio", "--store", str(store), "--reports", str(reports))
    assert saved.exit_code == 0, saved.output
    assert invoke("verify", str(reports / "ACME.pdf"), "--trust", str(keys.ca)).exit_code == 0
    with pikepdf.open(reports / "ACME.pdf") as pdf:
        results = json.loads(pdf.attachments["results.json"].get_file().read_bytes())
    assert results["bundle"]["id"] == "acme-signed"
    assert results["bundle"]["signature"]["status"] == "verified"
    assert "Scale Test CA" in results["bundle"]["signature"]["trust_anchor"]
