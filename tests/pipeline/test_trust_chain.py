"""The trust chain from evidence to signed report, driven through the CLI as users run it.

Files failing their manifest hashes stop `assess`/`run`/`report` (exit 4) unless
--allow-integrity-failures, which makes the report say so on its cover; bundle
signatures are checked with --trust and recorded; `verify --bundle` re-verifies
the bundle in full.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from auditkit.cli import cli

ROOT = Path(__file__).resolve().parent.parent.parent
SAMPLES = ROOT / "evidence_samples"
TAMPERED = SAMPLES / "globex-tampered"
PASS = "trust-chain passphrase"
STATEMENT = "EVIDENCE INTEGRITY FAILURE"


def _cli(*args: object, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False,
                              env={"AUDITKIT_KEY_PASSPHRASE": PASS, **(env or {})})


def _errors(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [line for line in result.stderr.splitlines() if line.startswith("auditkit: error:")]


def _pages(pdf: Path) -> list[str]:
    done = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True, timeout=120)
    return [" ".join(page.split()) for page in done.stdout.split("\f")[:-1]]


def _summary_page(pages: list[str]) -> str:
    return next(page for page in pages[2:] if "Executive summary" in page[:200])


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """An auditor's report key, a submitter's bundle key and a stranger's, each with its CA."""
    out = {}
    for who, org in (("auditor", "Example Assurance LLP"), ("submitter", "Acme Submitter"),
                     ("stranger", "Mallory Ltd")):
        folder = tmp_path_factory.mktemp(f"keys-{who}")
        result = _cli("keys", "init", "-o", folder, "--org", org)
        assert result.exit_code == 0, result.output
        out[f"{who}_p12"], out[f"{who}_ca"] = folder / "signer.p12", folder / "ca.pem"
    return out


def _seal_signed(folder: Path, p12: Path) -> None:
    result = _cli("bundle", "seal", folder, "--sign-key", p12)
    assert result.exit_code == 0, result.output
    assert (folder / "manifest.sig").is_file()


@pytest.fixture(scope="module")
def signed_bundle(tmp_path_factory: pytest.TempPathFactory, keys: dict[str, Path]) -> Path:
    """The acme-us sample, its manifest signed by the submitter (CMS), assessment file beside it."""
    folder = tmp_path_factory.mktemp("signed") / "acme-us"
    shutil.copytree(SAMPLES / "acme-us", folder)
    shutil.copy(SAMPLES / "acme-us.assessment.yaml", folder.parent / "acme-us.assessment.yaml")
    _seal_signed(folder, keys["submitter_p12"])
    return folder


def _fingerprint(p12: Path) -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    _key, cert, _chain = pkcs12.load_key_and_certificates(p12.read_bytes(), PASS.encode())
    assert cert is not None
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


# ───────────── files failing their hashes ─────────────

def test_assess_tampered_exits_4_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    result = _cli("assess", TAMPERED, "-o", out)
    assert result.exit_code == 4, result.output
    errors = _errors(result)
    assert any("evidence/board-roster.json" in line and "SHA-256" in line for line in errors), errors
    assert "--allow-integrity-failures" in errors[-1]
    assert not out.exists() and list(tmp_path.iterdir()) == []
    to_stdout = _cli("assess", TAMPERED)
    assert to_stdout.exit_code == 4 and to_stdout.stdout == ""


def test_run_tampered_writes_no_results_and_no_report(tmp_path: Path, keys: dict[str, Path]) -> None:
    outdir = tmp_path / "out"
    result = _cli("run", TAMPERED, "-o", outdir, "--sign-key", keys["auditor_p12"])
    assert result.exit_code == 4, result.output
    assert not outdir.exists() or list(outdir.iterdir()) == []
    outdir.mkdir(exist_ok=True)
    (outdir / "report.pdf").write_bytes(b"%PDF- an earlier run")
    again = _cli("run", TAMPERED, "-o", outdir, "--sign-key", keys["auditor_p12"])
    assert again.exit_code == 4
    assert any("left untouched from an earlier run" in line and "report.pdf" in line for line in _errors(again))
    assert sorted(p.name for p in outdir.iterdir()) == ["report.pdf"]
    assert (outdir / "report.pdf").read_bytes() == b"%PDF- an earlier run"


@pytest.fixture(scope="module")
def allowed_run(tmp_path_factory: pytest.TempPathFactory, keys: dict[str, Path]) -> Path:
    outdir = tmp_path_factory.mktemp("allowed") / "out"
    result = _cli("run", TAMPERED, "-o", outdir, "--sign-key", keys["auditor_p12"], "--allow-integrity-failures")
    assert result.exit_code == 0, result.output
    assert "warning: 1 evidence file fails its manifest hash or size; assessed anyway" in result.stderr
    return outdir


def test_allowed_run_records_the_failures_and_states_them_on_cover_and_summary(allowed_run: Path) -> None:
    data = json.loads((allowed_run / "results.json").read_text())
    failures = data["bundle"]["integrity_failures"]
    assert [(f["path"], f["integrity"]) for f in failures] == [("evidence/board-roster.json", "hash-mismatch")]
    pages = _pages(allowed_run / "report.pdf")
    for page in (pages[0], _summary_page(pages)):
        assert STATEMENT in page and "evidence/board-roster.json (hash-mismatch)" in page
        assert "--allow-integrity-failures" in page
    assert not any("UNSIGNED DRAFT" in page for page in pages)  # run signs


def test_verify_of_an_allowed_report_warns_and_the_bundle_recheck_fails(allowed_run: Path,
                                                                       keys: dict[str, Path]) -> None:
    report = allowed_run / "report.pdf"
    ok = _cli("verify", report, "--trust", keys["auditor_ca"])
    assert ok.exit_code == 0, ok.output
    assert "WARNING:" in ok.stdout and "evidence/board-roster.json" in ok.stdout
    recheck = _cli("verify", report, "--trust", keys["auditor_ca"], "--bundle", TAMPERED)
    assert recheck.exit_code == 4
    assert "fails re-verification" in recheck.stderr and "board-roster.json" in recheck.stderr


def test_report_refuses_results_recording_failures_unless_allowed(allowed_run: Path, tmp_path: Path) -> None:
    refused = _cli("report", allowed_run / "results.json", "-o", tmp_path / "r.pdf")
    assert refused.exit_code == 4
    (line,) = _errors(refused)
    assert "results.json" in line and "evidence/board-roster.json" in line and "--allow-integrity-failures" in line
    assert list(tmp_path.iterdir()) == []
    drawn = _cli("report", allowed_run / "results.json", "-o", tmp_path / "r.pdf", "--allow-integrity-failures")
    assert drawn.exit_code == 0, drawn.output
    pages = _pages(tmp_path / "r.pdf")
    assert STATEMENT in pages[0] and STATEMENT in _summary_page(pages)
    assert all("UNSIGNED DRAFT" in page for page in pages)


def test_item_verdicts_alone_are_enough_for_report_to_refuse(allowed_run: Path, tmp_path: Path) -> None:
    data = json.loads((allowed_run / "results.json").read_text())
    data["bundle"]["integrity_failures"] = []  # the per-item verdict still says hash-mismatch
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(data))
    result = _cli("report", edited, "-o", tmp_path / "r.pdf")
    assert result.exit_code == 4 and "board-roster.json" in result.stderr


# ───────────── bundle signatures ─────────────

@pytest.fixture(scope="module")
def trusted_run(tmp_path_factory: pytest.TempPathFactory, signed_bundle: Path, keys: dict[str, Path]) -> Path:
    outdir = tmp_path_factory.mktemp("trusted") / "out"
    result = _cli("run", signed_bundle, "-o", outdir, "--sign-key", keys["auditor_p12"],
                  "--trust", keys["submitter_ca"])
    assert result.exit_code == 0, result.output
    assert "bundle signature verified: " in result.stderr
    return outdir


def test_verified_signer_is_recorded_and_stated(trusted_run: Path, keys: dict[str, Path]) -> None:
    signature = json.loads((trusted_run / "results.json").read_text())["bundle"]["signature"]
    assert signature["status"] == "verified" and "Acme Submitter" in signature["signer"]
    assert signature["fingerprint"] == _fingerprint(keys["submitter_p12"])
    assert "Acme Submitter" in signature["trust_anchor"]
    pages = _pages(trusted_run / "report.pdf")
    assert "Bundle signature verified: signed by" in pages[0]
    assert signature["fingerprint"] in pages[0].replace(" ", "")
    assert "manifest not signed" not in " ".join(pages) and "not checked" not in pages[0]


def test_signature_present_but_no_trust_is_recorded_as_not_checked(signed_bundle: Path, tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    result = _cli("assess", signed_bundle, "-o", out)
    assert result.exit_code == 0, result.output
    assert "bundle signature present but not checked" in result.stderr
    data = json.loads(out.read_text())
    assert data["bundle"]["signature"] == {"status": "not-checked", "signer": None, "fingerprint": None,
                                           "trust_anchor": None}
    assert data["bundle"]["signed"] is False
    assert _cli("report", out, "-o", tmp_path / "r.pdf").exit_code == 0
    cover = _pages(tmp_path / "r.pdf")[0]
    assert "Bundle signature present but not checked (no trust anchor was given)" in cover


def test_untrusted_unsigned_or_altered_bundle_signature_exits_4(signed_bundle: Path, tmp_path: Path,
                                                              keys: dict[str, Path]) -> None:
    out = tmp_path / "results.json"
    stranger = _cli("assess", signed_bundle, "-o", out, "--trust", keys["stranger_ca"])
    assert stranger.exit_code == 4 and "untrusted signature" in stranger.stderr and "manifest.sig" in stranger.stderr
    unsigned = _cli("assess", SAMPLES / "acme-us", "-o", out, "--trust", keys["submitter_ca"])
    assert unsigned.exit_code == 4 and "not signed" in unsigned.stderr
    altered = tmp_path / "altered"
    shutil.copytree(signed_bundle, altered)
    sig = bytearray((altered / "manifest.sig").read_bytes())
    sig[-10] ^= 0x01
    (altered / "manifest.sig").write_bytes(bytes(sig))
    bad = _cli("assess", altered, "-o", out, "--trust", keys["submitter_ca"], "--allow-integrity-failures")
    assert bad.exit_code == 4 and "bad signature" in bad.stderr
    assert not out.exists()


# ───────────── verify --bundle re-verifies in full ─────────────

def test_verify_bundle_says_what_it_checked(trusted_run: Path, signed_bundle: Path, keys: dict[str, Path]) -> None:
    report = trusted_run / "report.pdf"
    full = _cli("verify", report, "--trust", keys["auditor_ca"], "--bundle", signed_bundle,
                "--bundle-trust", keys["submitter_ca"])
    assert full.exit_code == 0, full.output
    assert "re-verified in full" in full.stdout and "matches the results" in full.stdout
    assert "all present with the size and SHA-256 the manifest pins" in full.stdout
    (line,) = [line for line in full.stdout.splitlines() if "signature verified:" in line]
    assert "Acme Submitter" in line and _fingerprint(keys["submitter_p12"]) in line
    partial = _cli("verify", report, "--trust", keys["auditor_ca"], "--bundle", signed_bundle)
    assert partial.exit_code == 0
    assert "signature present, not checked (pass --bundle-trust CA.pem to check it)" in partial.stdout


def test_verify_bundle_refuses_changed_files_with_the_same_root_hash(trusted_run: Path, signed_bundle: Path,
                                                                     tmp_path: Path, keys: dict[str, Path]) -> None:
    changed = tmp_path / "changed"
    shutil.copytree(signed_bundle, changed)
    target = next(p for p in sorted((changed / "evidence").rglob("*.json")))
    data = bytearray(target.read_bytes())
    at = next(i for i in range(10, len(data)) if chr(data[i]).islower())
    data[at] = ord(chr(data[at]).upper())  # same size, still valid JSON, different bytes
    target.write_bytes(bytes(data))
    result = _cli("verify", trusted_run / "report.pdf", "--trust", keys["auditor_ca"], "--bundle", changed)
    assert result.exit_code == 4
    assert "fails re-verification" in result.stderr and target.name in result.stderr
    assert "matches" not in result.stdout
    unlisted = tmp_path / "unlisted"
    shutil.copytree(signed_bundle, unlisted)
    (unlisted / "evidence" / "extra.json").write_text("{}")
    result = _cli("verify", trusted_run / "report.pdf", "--trust", keys["auditor_ca"], "--bundle", unlisted)
    assert result.exit_code == 4 and "not listed in the manifest" in result.stderr


def test_verify_bundle_re_signed_by_someone_else_is_refused(trusted_run: Path, signed_bundle: Path,
                                                            tmp_path: Path, keys: dict[str, Path]) -> None:
    resigned = tmp_path / "resigned"
    shutil.copytree(signed_bundle, resigned)
    _seal_signed(resigned, keys["stranger_p12"])
    result = _cli("verify", trusted_run / "report.pdf", "--trust", keys["auditor_ca"], "--bundle", resigned,
                  "--bundle-trust", keys["stranger_ca"])
    assert result.exit_code == 4
    assert "not by the one the results record" in result.stderr


def test_bundle_trust_needs_bundle(trusted_run: Path, keys: dict[str, Path]) -> None:
    result = _cli("verify", trusted_run / "report.pdf", "--bundle-trust", keys["submitter_ca"])
    assert result.exit_code == 2 and "--bundle-trust needs --bundle" in result.stderr
