"""auditkit keys init, report and verify through the CLI: outputs, messages and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from auditkit.cli import cli

ENV = {"AUDITKIT_KEY_PASSPHRASE": "cli-test-passphrase"}


@pytest.fixture(scope="module")
def cli_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli") / "keys"
    result = CliRunner().invoke(cli, ["keys", "init", "-o", str(folder), "--org", "Example Assurance LLP"],
                                env=ENV)
    assert result.exit_code == 0, result.output
    assert (folder / "signer.p12").stat().st_mode & 0o777 == 0o600
    return folder


@pytest.fixture(scope="module")
def signed_report(cli_keys: Path, results_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli-report") / "report.pdf"
    result = CliRunner().invoke(
        cli, ["report", str(results_file), "-o", str(out), "--sign-key", str(cli_keys / "signer.p12")],
        env=ENV,
    )
    assert result.exit_code == 0, result.output
    assert "signed PAdES B-B" in result.output
    assert not list(out.parent.glob(".*unsigned*"))
    return out


def test_keys_init_needs_a_passphrase(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["keys", "init", "-o", str(tmp_path / "k"), "--org", "X"],
                                env={"AUDITKIT_KEY_PASSPHRASE": ""})
    assert result.exit_code == 2
    assert "no passphrase" in result.output


def test_keys_init_passphrase_file(tmp_path: Path) -> None:
    secret = tmp_path / "pass.txt"
    secret.write_text("from-a-file\n")
    result = CliRunner().invoke(cli, ["keys", "init", "-o", str(tmp_path / "k"), "--org", "X",
                                      "--passphrase-file", str(secret)])
    assert result.exit_code == 0, result.output
    from auditkit.signing.keys import load_signer

    assert load_signer(tmp_path / "k" / "signer.p12", b"from-a-file").cert is not None


def test_verify_ok(signed_report: Path, cli_keys: Path) -> None:
    result = CliRunner().invoke(cli, ["verify", str(signed_report), "--trust", str(cli_keys / "ca.pem")])
    assert result.exit_code == 0, result.output
    assert "OK:" in result.output and "entire file" in result.output


def test_verify_untrusted_and_tampered_exit_4(signed_report: Path, cli_keys: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["verify", str(signed_report)])
    assert result.exit_code == 4
    assert "no trust anchor" in result.output
    bad = tmp_path / "bad.pdf"
    data = bytearray(signed_report.read_bytes())
    data[len(data) // 3] ^= 0xFF
    bad.write_bytes(bytes(data))
    result = CliRunner().invoke(cli, ["verify", str(bad), "--trust", str(cli_keys / "ca.pem")])
    assert result.exit_code == 4
    assert "verification FAILED" in result.output


def _signature_gap(data: bytes) -> tuple[int, int]:
    import re

    match = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", data)
    assert match
    start, length, second, _ = (int(v) for v in match.groups())
    return start + length, second


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_verify_refuses_altered_signature_padding(signed_report: Path, cli_keys: Path, tmp_path: Path,
                                                  where: str) -> None:
    data = bytearray(signed_report.read_bytes())
    gap_start, gap_end = _signature_gap(bytes(data))
    hex_digits = bytes(data[gap_start + 1 : gap_end - 1])
    padding_from = len(hex_digits.rstrip(b"0"))  # the zeros after the CMS blob
    padding_from += padding_from % 2
    assert len(hex_digits) - padding_from > 200, "expected a few hundred bytes of padding"
    offset = {"first": padding_from + 2, "middle": (padding_from + len(hex_digits)) // 2 & ~1,
              "last": len(hex_digits) - 2}[where]
    data[gap_start + 1 + offset : gap_start + 1 + offset + 2] = b"7F"
    bad = tmp_path / "padded.pdf"
    bad.write_bytes(bytes(data))
    result = CliRunner().invoke(cli, ["verify", str(bad), "--trust", str(cli_keys / "ca.pem")])
    assert result.exit_code == 4, result.output
    assert "unsigned padding after the CMS signature" in result.output and "not zero" in result.output
    assert not any(line.startswith("OK") for line in result.output.splitlines())


def test_verify_refuses_a_mixed_case_signature_string(signed_report: Path, cli_keys: Path,
                                                      tmp_path: Path) -> None:
    data = bytearray(signed_report.read_bytes())
    gap_start, _ = _signature_gap(bytes(data))
    letter = next(i for i in range(gap_start + 1, gap_start + 200) if chr(data[i]) in "ABCDEF")
    data[letter] = ord(chr(data[letter]).lower())  # the same bytes, spelled differently
    bad = tmp_path / "case.pdf"
    bad.write_bytes(bytes(data))
    result = CliRunner().invoke(cli, ["verify", str(bad), "--trust", str(cli_keys / "ca.pem")])
    assert result.exit_code == 4 and "one letter case" in result.output, result.output


def test_verify_bundle_root_hash_mismatch(signed_report: Path, cli_keys: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "manifest.yaml").write_text(
        "bundle:\n  id: other\n  organization: Other\n  period: {start: 2026-07-01, end: 2026-09-30}\n"
        "  submitted_by: {name: X, email: x@example.com}\n  created: 2026-10-03T14:00:00Z\nitems: []\n"
    )
    result = CliRunner().invoke(cli, ["verify", str(signed_report), "--trust", str(cli_keys / "ca.pem"),
                                      "--bundle", str(bundle)])
    assert result.exit_code == 4, result.output
    assert "differs from the one in the results" in result.output


def test_report_unsigned_with_html(results_file: Path, tmp_path: Path) -> None:
    out, html = tmp_path / "r.pdf", tmp_path / "r.html"
    result = CliRunner().invoke(cli, ["report", str(results_file), "-o", str(out), "--html", str(html)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF-") and "<html" in html.read_text()
    result = CliRunner().invoke(cli, ["verify", str(out)])
    assert result.exit_code == 4 and "not signed" in result.output


def test_report_jobs_change_nothing_but_the_processes(results_file: Path, tmp_path: Path) -> None:
    made: list[list[str]] = []
    for jobs in ("1", "2"):
        out = tmp_path / f"jobs-{jobs}.pdf"
        result = CliRunner().invoke(cli, ["report", str(results_file), "-o", str(out), "--jobs", jobs])
        assert result.exit_code == 0, result.output
        made.append(_pages(out))
    assert made[0] == made[1]  # the bytes differ only by the fresh commitment salts
    result = CliRunner().invoke(cli, ["report", str(results_file), "-o", str(tmp_path / "x.pdf"), "--jobs", "0"])
    assert result.exit_code == 2 and "--jobs" in result.output


def _pages(pdf: Path) -> list[str]:
    done = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True, timeout=120)
    pages = done.stdout.split("\f")[:-1]
    assert pages
    return [" ".join(page.split()) for page in pages]


AUTHENTICITY = "Its authenticity is established by the digital signature"


def test_unsigned_report_is_a_draft_on_every_page(results_file: Path, cli_keys: Path, tmp_path: Path) -> None:
    out = tmp_path / "draft.pdf"
    result = CliRunner().invoke(cli, ["report", str(results_file), "-o", str(out)])
    assert result.exit_code == 0, result.output
    pages = _pages(out)
    missing = [n for n, page in enumerate(pages, start=1) if "UNSIGNED DRAFT" not in page]
    assert missing == [], f"pages without the draft mark: {missing}"
    assert "Unsigned draft. This copy carries no digital signature" in pages[0]
    assert not any(AUTHENTICITY in page for page in pages)
    assert "NOT SIGNED: UNSIGNED DRAFT" in pages[-1].upper()

    from auditkit.errors import InvalidInputError
    from auditkit.signing import sign_pdf

    with pytest.raises(InvalidInputError, match="unsigned draft"):  # a draft cannot be signed later
        sign_pdf(out, tmp_path / "signed.pdf", p12=cli_keys / "signer.p12",
                 passphrase=ENV["AUDITKIT_KEY_PASSPHRASE"].encode())
    assert not (tmp_path / "signed.pdf").exists()


def test_signed_report_is_not_marked_draft(signed_report: Path) -> None:
    pages = _pages(signed_report)
    assert not any("UNSIGNED" in page.upper() or "DRAFT" in page.upper() for page in pages)
    assert AUTHENTICITY in pages[0]


def test_report_usage_errors(results_file: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["report", str(results_file), "-o", str(tmp_path / "r.pdf"),
                                      "--tsa-url", "http://tsa.example"])
    assert result.exit_code == 2 and "need --sign-key" in result.output
    assert not (tmp_path / "r.pdf").exists()


def test_report_wrong_passphrase_exit_4(results_file: Path, cli_keys: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["report", str(results_file), "-o", str(tmp_path / "r.pdf"), "--sign-key",
              str(cli_keys / "signer.p12")], env={"AUDITKIT_KEY_PASSPHRASE": "wrong"},
    )
    assert result.exit_code == 4, result.output
    assert not (tmp_path / "r.pdf").exists()
    assert not list(tmp_path.glob(".*"))


def test_report_module_imports_only_click() -> None:
    probe = ("import sys, json; import auditkit.cli.report; "
             "print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                          timeout=60)
    loaded = set(json.loads(done.stdout))
    assert not loaded & {"weasyprint", "pyhanko", "cryptography", "jinja2", "pydantic"}


def test_pdfsig_accepts_the_signed_report(signed_report: Path) -> None:
    text = subprocess.run(["pdfsig", str(signed_report)], capture_output=True, text=True,
                          timeout=60).stdout
    assert "Signature is Valid." in text and "Total document signed" in text


def test_public_api_names() -> None:
    import auditkit

    assert callable(auditkit.render_report)
    assert callable(auditkit.sign_pdf)
    assert callable(auditkit.verify_report)


def test_report_bundle_must_be_the_one_assessed(results_file: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "manifest.yaml").write_text(
        "bundle:\n  id: other\n  organization: Other\n  period: {start: 2026-07-01, end: 2026-09-30}\n"
        "  submitted_by: {name: X, email: x@example.com}\n  created: 2026-10-03T14:00:00Z\nitems: []\n"
    )
    result = CliRunner().invoke(cli, ["report", str(results_file), "-o", str(tmp_path / "r.pdf"),
                                      "--bundle", str(bundle)])
    assert result.exit_code == 4, result.output
    assert "not the one assessed" in result.output
