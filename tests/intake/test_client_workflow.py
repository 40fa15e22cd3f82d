"""The intake client as a compliance team and an auditor use it: list, fetch by a root-hash prefix into a
new folder, receipts named after the archive."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from auditkit.cli import cli

from .support import LiveServer, Tenants, good_zip


def _run(args: list[str], token: str):
    return CliRunner().invoke(cli, [str(a) for a in args], env={"AUDITKIT_TOKEN": token})


def test_list_then_fetch_by_prefix_into_a_new_folder(live: LiveServer, tenants: Tenants, tmp_path: Path):
    archive = good_zip(tmp_path)
    submitted = _run(["submit", archive, "--server", live.url, "-o", tmp_path / "r.json"], tenants.acme)
    assert submitted.exit_code == 0, submitted.output
    assert f"accepted {archive.name} as acme-us-2026-q3 root" in submitted.output
    receipt = json.loads((tmp_path / "r.json").read_text())["receipt"]
    root = receipt["bundle_root_hash"]
    assert receipt["format"] == "auditkit-intake-receipt/2"
    assert receipt["archive_name"] == archive.name  # the signed receipt names the uploaded archive

    listed = _run(["intake", "list", "--server", live.url], tenants.auditor)
    assert listed.exit_code == 0, listed.output
    header, *rows = listed.stdout.splitlines()
    assert header.split() == ["UPLOAD", "RECEIVED", "VERDICT", "ORGANIZATION", "BUNDLE", "ROOT", "HASH"]
    assert any("accepted" in row and "acme-us-2026-q3" in row and root[:16] in row for row in rows), rows
    as_json = _run(["intake", "list", "--server", live.url, "--format", "json"], tenants.auditor)
    assert json.loads(as_json.stdout)["bundles"][0]["bundle_root_hash"] == root

    out = tmp_path / "a" / "b"  # does not exist yet
    fetched = _run(["fetch", root[:12], "-o", out, "--server", live.url], tenants.auditor)
    assert fetched.exit_code == 0, fetched.output
    assert (out / "acme-us-2026-q3.zip").read_bytes() == archive.read_bytes()
    assert (out / "acme-us-2026-q3.receipt.json").is_file()
    again = _run(["fetch", f"sha256:{root}", "-o", out, "--server", live.url], tenants.auditor)
    assert again.exit_code == 0, again.output

    unknown = "0" * 12 if not root.startswith("0" * 12) else "f" * 12
    missing = _run(["fetch", unknown, "-o", out, "--server", live.url], tenants.auditor)
    assert missing.exit_code == 3
    assert f"no accepted bundle visible to this token has a root hash starting {unknown}" in missing.output
    short = _run(["fetch", root[:4], "-o", out, "--server", live.url], tenants.auditor)
    assert short.exit_code == 2 and "a prefix of at least 6 hex digits" in short.output


def test_fetch_into_a_file_is_refused(live: LiveServer, tenants: Tenants, tmp_path: Path):
    target = tmp_path / "file"
    target.write_text("x")
    result = _run(["fetch", "0" * 64, "-o", target, "--server", live.url], tenants.auditor)
    assert result.exit_code == 2 and "is a file" in result.output  # click refuses it before any request
