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
