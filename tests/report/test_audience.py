"""Audience views: commitments in the full report, redacted signed views, and their verification."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from auditkit.cli import cli

from .conftest import MANIFEST

ENV = {"AUDITKIT_KEY_PASSPHRASE": "audience-test-passphrase"}


def _run(*args: object):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, [str(a) for a in args], env=ENV)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("audience") / "keys"
    result = _run("keys", "init", "-o", folder, "--org", "Example Assurance LLP")
    assert result.exit_code == 0, result.output
    return folder


@pytest.fixture(scope="module")
def full(keys: Path, results_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The signed full report, rendered once for the module."""
    out = tmp_path_factory.mktemp("audience-full") / "FULL.pdf"
    manifest = out.with_name("manifest.yaml")
    manifest.write_bytes(MANIFEST)
    result = _run("report", results_file, "-o", out, "--sign-key", keys / "signer.p12", "--manifest", manifest)
    assert result.exit_code == 0, result.output
    assert "disclosable items committed" in result.output
    return out


def _view(full: Path, keys: Path, audience: str, out: Path):  # type: ignore[no-untyped-def]
    return _run("report", "--audience", audience, "--full", full, "--trust", keys / "ca.pem",
                "--sign-key", keys / "signer.p12", "-o", out)


@pytest.fixture(scope="module")
def public(full: Path, keys: Path) -> Path:
    out = full.with_name("PUBLIC.pdf")
    result = _view(full, keys, "public", out)
    assert result.exit_code == 0, result.output
    return out


def _attachments(pdf: Path) -> dict[str, bytes]:
    import pikepdf

    with pikepdf.open(pdf) as doc:
        return {name: spec.get_file().read_bytes() for name, spec in doc.attachments.items()}


def _fingerprint(pdf: Path) -> str:
    return hashlib.sha256(pdf.read_bytes()).hexdigest()


def test_full_report_commits_without_disclosing_salts(full: Path, keys: Path, results_file: Path) -> None:
    files = _attachments(full)
    listed = json.loads(files["commitments.json"])["commitments"]
    ids = [entry["id"] for entry in listed]
    assert ids[0] == "overall" and "family:DL" in ids and "control:DL-1" in ids
    assert not any("evidence/" in i for i in ids)  # evidence paths are blinded in the list
    assert sum(i.startswith("evidence:~") for i in ids) == 7
    assert set(listed[0]) == {"id", "commitment"}
    sidecar = full.with_name("FULL.pdf.salts.json")
    assert sidecar.stat().st_mode & 0o777 == 0o600
    salts = json.loads(sidecar.read_text())["items"]
    assert len(salts) == len(ids) and "evidence:evidence/board-roster-2026-q3.json" in salts
    assert all(salt["salt"] not in files["commitments.json"].decode() for salt in salts.values())
    assert len({s["salt"] for s in salts.values()}) == len(ids)  # a fresh salt per item
    result = _run("verify", full, "--trust", keys / "ca.pem")
    assert result.exit_code == 0, result.output


def test_public_view_verifies(public: Path, full: Path, keys: Path) -> None:
    result = _run("verify", public, "--trust", keys / "ca.pem", "--against", _fingerprint(full))
    assert result.exit_code == 0, result.output
    assert "public view" in result.output
    disclosed = 1 + 4  # overall and the four families of the sample
    total = len(json.loads(_attachments(full)["commitments.json"])["commitments"])
    assert f"{disclosed} items disclosed and proven, {total - disclosed} withheld" in result.output
    assert "equals the fingerprint given" in result.output


def test_wrong_fingerprint_is_refused(public: Path, keys: Path) -> None:
    result = _run("verify", public, "--trust", keys / "ca.pem", "--against", "ab" * 32)
    assert result.exit_code == 4
    assert "not the sha256:" + "ab" * 32 in result.output


def test_altered_disclosure_is_refused_naming_the_item(public: Path, keys: Path, tmp_path: Path) -> None:
    import pikepdf

    files = _attachments(public)
    doc = json.loads(files["disclosures.json"])
    for entry in doc["disclosures"]:
        if entry["id"] == "family:DL":
            entry["item"]["score"] = 100.0
    forged = tmp_path / "forged.pdf"
    with pikepdf.open(public) as pdf:
        pdf.attachments["disclosures.json"] = pikepdf.AttachedFileSpec(
            pdf, json.dumps(doc).encode(), filename="disclosures.json")
        pdf.save(forged)
    result = _run("verify", forged, "--trust", keys / "ca.pem")
    assert result.exit_code == 4
    assert "item family:DL does not match its commitment" in result.output


def test_public_view_discloses_nothing_withheld(public: Path, full: Path, tmp_path: Path) -> None:
    files = _attachments(public)
    assert "results.json" not in files and "manifest.yaml" not in files
    assert set(files) == {"commitments.json", "commitments.p7s", "disclosures.json", "source.json"}
    done = subprocess.run(["pdftotext", "-layout", str(public), "-"], capture_output=True, text=True,
                          check=True, timeout=120)
    text = done.stdout + "\n".join(data.decode("utf-8", "replace") for data in files.values())
    words = " ".join(done.stdout.split())
    total = len(json.loads(files["commitments.json"])["commitments"])
    assert "PUBLIC VIEW" in words and f"discloses 5 items of the full report and withholds {total - 5} items" in words
    results = json.loads(_attachments(full)["results.json"])
    withheld = [
        results["findings"][0]["summary"],
        results["controls"][0]["title"],
        results["bundle"]["items"][0]["path"],
        results["bundle"]["items"][0]["sha256"],
        "Migrate or delete the offending datastores",
    ]
    for secret in withheld:
        assert secret not in text, secret
    assert results["families"][0]["title"] in text  # disclosed: family scores


def test_auditee_view_verifies_against_the_full_report(full: Path, keys: Path) -> None:
    out = full.with_name("AUDITEE.pdf")
    made = _view(full, keys, "auditee", out)
    assert made.exit_code == 0, made.output
    files = _attachments(out)
    assert "results.json" not in files and "manifest.yaml" not in files
    disclosed = json.loads(files["disclosures.json"])["disclosures"]
    assert any(d["id"].startswith("control:") for d in disclosed)
    assert all(set(d["item"]) == {"path", "sha256", "kind", "collected_at"}
               for d in disclosed if d["id"].startswith("evidence:"))
    result = _run("verify", out, "--trust", keys / "ca.pem", "--full", full)
    assert result.exit_code == 0, result.output
    assert "0 withheld" in result.output
    assert "the full report given matches and verifies" in result.output


def test_regulator_view_carries_the_manifest(full: Path, keys: Path) -> None:
    out = full.with_name("REGULATOR.pdf")
    made = _view(full, keys, "regulator", out)
    assert made.exit_code == 0, made.output
    files = _attachments(out)
    assert "manifest.yaml" in files and "results.json" not in files
    result = _run("verify", out, "--trust", keys / "ca.pem", "--against", "sha256:" + _fingerprint(full))
    assert result.exit_code == 0, result.output
    assert "regulator view" in result.output


def test_verify_against_applies_only_to_views(full: Path, keys: Path) -> None:
    result = _run("verify", full, "--trust", keys / "ca.pem", "--against", _fingerprint(full))
    assert result.exit_code == 4
    assert "apply to audience views" in result.output


def test_a_view_needs_the_full_reports_key_and_trust(full: Path, keys: Path, tmp_path: Path) -> None:
    result = _run("report", "--audience", "public", "--full", full, "-o", tmp_path / "v.pdf")
    assert result.exit_code == 2
    assert "--sign-key" in result.output
    other = tmp_path / "other"
    assert _run("keys", "init", "-o", other, "--org", "Someone Else").exit_code == 0
    result = _run("report", "--audience", "public", "--full", full, "--trust", keys / "ca.pem",
                  "--sign-key", other / "signer.p12", "-o", tmp_path / "v.pdf")
    assert result.exit_code == 4
    assert "not the one that signed the full report" in result.output


def test_view_of_an_untrusted_full_report_is_refused(full: Path, keys: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    assert _run("keys", "init", "-o", other, "--org", "Someone Else").exit_code == 0
    result = _run("report", "--audience", "public", "--full", full, "--trust", other / "ca.pem",
                  "--sign-key", keys / "signer.p12", "-o", tmp_path / "v.pdf")
    assert result.exit_code == 4
    assert not (tmp_path / "v.pdf").exists()


def test_check_disclosures_names_the_altered_item() -> None:
    from auditkit.errors import IntegrityError
    from auditkit.report import commitments as cm

    salt = bytes(16)
    item = {"id": "DL", "title": "Data localization", "score": 50.0}
    listed = {"family:DL": cm.commitment(salt, item), "overall": "0" * 64}
    good = cm.disclosures_json("public", [("family:DL", salt, item)])
    proven = cm.check_disclosures(good, listed)
    assert (proven.disclosed, proven.withheld) == (1, 1)
    bad = cm.disclosures_json("public", [("family:DL", salt, {**item, "score": 51.0})])
    with pytest.raises(IntegrityError, match="family:DL"):
        cm.check_disclosures(bad, listed)


@settings(max_examples=60, deadline=None)
@given(
    item=st.dictionaries(st.text(max_size=8), st.one_of(st.none(), st.booleans(), st.text(max_size=20),
                                                          st.integers(-(2**53) + 1, 2**53 - 1),
                                                          st.floats(allow_nan=False, allow_infinity=False)),
                         max_size=5),
    salt=st.binary(min_size=16, max_size=16),
    path=st.text(min_size=1, max_size=30),
)
def test_commitments_prove_exactly_the_committed_item(item: dict, salt: bytes, path: str) -> None:
    """Any disclosed item round-trips through JSON and proves; any changed value or salt does not."""
    from auditkit.errors import IntegrityError
    from auditkit.report import commitments as cm

    item_id = f"evidence:{path}"
    listed = {cm.listed_id(item_id, salt): cm.commitment(salt, item)}
    assert next(iter(listed)).startswith("evidence:~") and next(iter(listed)) != item_id
    assert cm.check_disclosures(cm.disclosures_json("auditee", [(item_id, salt, item)]), listed).disclosed == 1
    changed = {**item, "__changed__": 1}  # keys are at most 8 characters: never there before
    with pytest.raises(IntegrityError, match="does not match"):
        cm.check_disclosures(cm.disclosures_json("auditee", [(item_id, salt, changed)]), listed)
    other_salt = bytes([salt[0] ^ 1]) + salt[1:]
    with pytest.raises(IntegrityError):
        cm.check_disclosures(cm.disclosures_json("auditee", [(item_id, other_salt, item)]), listed)


def test_full_report_whose_commitments_are_not_the_recorded_ones_fails(
        keys: Path, results_file: Path, tmp_path: Path) -> None:
    """commitments.json swapped before signing (digest recorded at rendering kept): verify exits 4."""
    import pikepdf

    from auditkit.report.commitments import commit, commitments_json
    from auditkit.report.render import render_report
    from auditkit.results.io import load_results
    from auditkit.signing.pades import sign_pdf

    committed = commit(load_results(results_file))
    unsigned = tmp_path / "unsigned.pdf"
    render_report(results_file, manifest_bytes=MANIFEST, output=unsigned, signed=True,
                  commitments=commitments_json(committed))
    swapped = tmp_path / "swapped.pdf"
    with pikepdf.open(unsigned) as pdf:
        pdf.attachments["commitments.json"] = pikepdf.AttachedFileSpec(
            pdf, b'{"format": 1, "commitments": []}\n', filename="commitments.json")
        pdf.save(swapped)
    signed = tmp_path / "signed.pdf"
    sign_pdf(swapped, signed, p12=keys / "signer.p12", passphrase=ENV["AUDITKIT_KEY_PASSPHRASE"].encode())
    result = _run("verify", signed, "--trust", keys / "ca.pem")
    assert result.exit_code == 4, result.output
    assert "the embedded commitments.json does not match the digest recorded at rendering" in result.output
