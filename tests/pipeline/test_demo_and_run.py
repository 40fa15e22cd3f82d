"""`auditkit demo` and `auditkit run`: the whole pipeline as a user runs it, checked independently."""

from __future__ import annotations

import json
import re
import subprocess

import pytest


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from click.testing import CliRunner

    from auditkit.cli import cli

    out = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(cli, ["demo", "-o", str(out)], catch_exceptions=False)
    return out, result


def test_demo_writes_signed_reports_and_prints_verify_commands(demo):
    out, result = demo
    assert result.exit_code == 0, result.output
    assert (out / "ca.pem").read_text().startswith("-----BEGIN CERTIFICATE-----")
    for name in ("acme-us", "globex", "globex-tampered"):
        assert (out / name / "report.pdf").stat().st_size > 10_000
        assert json.loads((out / name / "results.json").read_text())["bundle"]["id"]
        assert (out / name / "report.pdf.salts.json").stat().st_mode & 0o777 == 0o600
    commands = re.findall(r"^auditkit verify .*$", result.output, re.M)
    assert len(commands) == 3 and all("--trust" in c for c in commands)
    assert "BUNDLE INTEGRITY FAILURE (exit 4)" in result.output and "board-roster.json" in result.output
    assert "auditkit run globex-tampered refuses it (exit 4) and writes nothing" in result.output
    assert "running it again with --allow-integrity-failures" in result.output
    tampered = next(c for c in commands if "globex-tampered" in c)
    assert "--bundle" in tampered and "# exits 4" in tampered
    assert not list(out.glob("**/.render-*")) and not list(out.glob("**/*.tmp"))


def test_demo_tampered_report_states_the_failure_and_its_bundle_check_fails(demo, invoke, root):
    out, _ = demo
    report = out / "globex-tampered" / "report.pdf"
    cover = subprocess.run(["pdftotext", "-l", "1", str(report), "-"], capture_output=True, text=True,
                           timeout=60, check=True).stdout
    assert "EVIDENCE INTEGRITY FAILURE" in cover and "evidence/board-roster.json" in cover
    assert invoke("verify", report, "--trust", out / "ca.pem").exit_code == 0
    # globex-tampered has globex's manifest, so the same root hash: only a full re-check tells them apart
    for name in ("globex", "globex-tampered"):
        verdict = invoke("verify", out / name / "report.pdf", "--trust", out / "ca.pem",
                         "--bundle", root / "evidence_samples" / "globex-tampered")
        assert verdict.exit_code == 4 and "board-roster.json" in verdict.output


@pytest.mark.parametrize("name", ["acme-us", "globex"])
def test_demo_reports_verify_with_auditkit_and_pdfsig(demo, invoke, root, name):
    out, _ = demo
    verdict = invoke("verify", out / name / "report.pdf", "--trust", out / "ca.pem",
                     "--bundle", root / "evidence_samples" / name)
    assert verdict.exit_code == 0, verdict.output
    assert "matches" in verdict.output
    text = subprocess.run(["pdfsig", str(out / name / "report.pdf")], capture_output=True, text=True,
                          timeout=60).stdout
    assert "Signature is Valid." in text and "Total document signed" in text


def test_demo_report_embeds_the_results_it_was_made_from(demo):
    out, _ = demo
    listing = subprocess.run(["pdfdetach", "-list", str(out / "globex" / "report.pdf")], capture_output=True,
                             text=True, timeout=60).stdout
    assert "results.json" in listing and "manifest.yaml" in listing
    saved = out / "embedded.json"
    subprocess.run(["pdfdetach", "-savefile", "results.json", "-o", str(saved), str(out / "globex" / "report.pdf")],
                   check=True, timeout=60)
    assert saved.read_bytes() == (out / "globex" / "results.json").read_bytes()


def test_run_with_keys_init(invoke, root, tmp_path, monkeypatch):
    monkeypatch.setenv("AUDITKIT_KEY_PASSPHRASE", "correct horse battery staple")
    keys = invoke("keys", "init", "-o", tmp_path / "keys", "--org", "Example Assurance LLP")
    assert keys.exit_code == 0, keys.output
    result = invoke("run", root / "evidence_samples" / "acme-us", "-o", tmp_path / "out",
                    "--sign-key", tmp_path / "keys" / "signer.p12")
    assert result.exit_code == 0, result.output
    verdict = invoke("verify", tmp_path / "out" / "report.pdf", "--trust", tmp_path / "keys" / "ca.pem")
    assert verdict.exit_code == 0, verdict.output


def test_run_with_wrong_passphrase_fails_fast_and_writes_nothing(invoke, root, tmp_path, monkeypatch):
    monkeypatch.setenv("AUDITKIT_KEY_PASSPHRASE", "right passphrase")
    assert invoke("keys", "init", "-o", tmp_path / "keys", "--org", "Example").exit_code == 0
    monkeypatch.setenv("AUDITKIT_KEY_PASSPHRASE", "wrong passphrase")
    result = invoke("run", root / "evidence_samples" / "acme-us", "-o", tmp_path / "out",
                    "--sign-key", tmp_path / "keys" / "signer.p12")
    assert result.exit_code == 4
    assert not (tmp_path / "out" / "report.pdf").exists()
