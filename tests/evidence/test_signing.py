"""CMS signatures over the canonical manifest: good, tampered, wrong CA, and openssl agrees."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from auditkit.errors import IntegrityError, UsageError
from auditkit.evidence import open_bundle, seal_bundle, verify_bundle
from auditkit.signing.cms import sign_detached, verify_detached
from auditkit.signing.passphrase import ENV_VAR, resolve_passphrase

from .test_hostile import error_lines

PASS = b"correct horse"


@pytest.fixture
def signed(cli, make_folder, keys, monkeypatch, sandbox):
    folder = make_folder()
    secret = sandbox / "pass.txt"
    secret.write_bytes(PASS + b"\n")
    result = cli("bundle", "seal", folder, "--sign-key", keys["acme_p12"], "--passphrase-file", secret)
    assert result.exit_code == 0, result.stderr
    assert (folder / "manifest.sig").is_file()
    return folder


def test_good_signature(cli, signed, keys):
    result = cli("bundle", "verify", signed, "--trust", keys["acme_ca"])
    assert result.exit_code == 0, result.stderr
    assert "signed by O=Acme" in result.stdout
    report = verify_bundle(signed, trust=keys["acme_ca"])
    assert report.signed and report.signer and "Acme" in report.signer


def test_signed_bundle_without_trust_warns(cli, signed):
    result = cli("bundle", "verify", signed)
    assert result.exit_code == 0
    assert "signature present but not checked" in result.stderr
    assert "not signed (or signature not checked)" in result.stdout


def test_signature_survives_packing(cli, signed, keys, sandbox):
    assert cli("bundle", "pack", signed, "-o", sandbox / "s.tar.gz").exit_code == 0
    assert cli("bundle", "verify", sandbox / "s.tar.gz", "--trust", keys["acme_ca"]).exit_code == 0


def test_tampered_signature(cli, signed, keys):
    sig = bytearray((signed / "manifest.sig").read_bytes())
    sig[-10] ^= 0x01
    (signed / "manifest.sig").write_bytes(bytes(sig))
    result = cli("bundle", "verify", signed, "--trust", keys["acme_ca"])
    assert result.exit_code == 4
    (line,) = error_lines(result)
    assert "manifest.sig" in line and "bad signature" in line


def test_manifest_changed_after_signing(cli, signed, keys):
    manifest = signed / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("organization: Acme U.S.", "organization: Acme US"))
    result = cli("bundle", "verify", signed, "--trust", keys["acme_ca"])
    assert result.exit_code == 4
    assert "manifest changed after signing" in result.stderr


def test_wrong_ca(cli, signed, keys):
    result = cli("bundle", "verify", signed, "--trust", keys["other_ca"])
    assert result.exit_code == 4
    (line,) = error_lines(result)
    assert "manifest.sig" in line
    assert "untrusted signature: signed by Acme Auditor (issued by Acme Audit Signing CA), not issued by the trusted CA Other Audit Signing CA" in line, line
    assert "candidates exhausted" not in line


def test_trust_requires_a_signature(cli, make_folder, keys):
    result = cli("bundle", "verify", make_folder(), "--trust", keys["acme_ca"])
    assert result.exit_code == 4 and "not signed" in result.stderr


def test_resealing_without_key_drops_the_stale_signature(signed):
    seal_bundle(signed)
    assert not (signed / "manifest.sig").exists()


def test_wrong_passphrase(cli, make_folder, keys, monkeypatch):
    monkeypatch.setenv(ENV_VAR, "wrong")
    folder = make_folder()
    result = cli("bundle", "seal", folder, "--sign-key", keys["acme_p12"])
    assert result.exit_code == 4 and "passphrase" in result.stderr
    assert not (folder / "manifest.sig").exists()


def test_openssl_accepts_the_signature(signed, keys, sandbox):
    openssl = shutil.which("openssl") or "/usr/bin/openssl"
    with open_bundle(signed) as bundle:
        content = sandbox / "canonical.json"
        content.write_bytes(bundle.canonical_manifest())
    done = subprocess.run(
        [openssl, "cms", "-verify", "-binary", "-inform", "DER", "-in", str(signed / "manifest.sig"),
         "-content", str(content), "-CAfile", str(keys["acme_ca"]), "-purpose", "any", "-out", "/dev/null"],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Verification successful" in done.stderr
    content.write_bytes(content.read_bytes().replace(b"Acme", b"Acne"))
    tampered = subprocess.run(
        [openssl, "cms", "-verify", "-binary", "-inform", "DER", "-in", str(signed / "manifest.sig"),
         "-content", str(content), "-CAfile", str(keys["acme_ca"]), "-purpose", "any", "-out", "/dev/null"],
        capture_output=True, text=True, check=False,
    )
    assert tampered.returncode != 0


def test_library_sign_and_verify(keys):
    signature = sign_detached(b"content", keys["acme_p12"], PASS)
    assert "Acme" in verify_detached(signature, b"content", keys["acme_ca"]).subject
    with pytest.raises(IntegrityError, match="does not match the signed digest"):
        verify_detached(signature, b"other", keys["acme_ca"])
    with pytest.raises(IntegrityError, match="cannot read the CMS"):
        verify_detached(b"\x30\x03\x02\x01\x01", b"content", keys["acme_ca"])


def test_passphrase_sources(tmp_path: Path):
    secret = tmp_path / "p"
    secret.write_bytes(b"from-file\r\nignored")
    assert resolve_passphrase(secret, {ENV_VAR: "env"}) == b"from-file"
    assert resolve_passphrase(None, {ENV_VAR: "env"}) == b"env"
    assert resolve_passphrase(None, {}) is None
    (tmp_path / "empty").write_bytes(b"")
    with pytest.raises(UsageError, match="empty"):
        resolve_passphrase(tmp_path / "empty")
    with pytest.raises(UsageError, match="cannot read"):
        resolve_passphrase(tmp_path / "missing")


def test_no_passphrase_option_value_on_the_command_line(cli):
    result = cli("bundle", "seal", "--help")
    assert "--passphrase-file" in result.stdout
    assert "--passphrase " not in result.stdout and "--passphrase TEXT" not in result.stdout


def _rsa_p12(folder: Path, *, leaf_usage_sign: bool = True) -> tuple[Path, Path]:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "RSA Test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(1)
          .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "RSA Submitter")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(leaf_usage_sign, False, not leaf_usage_sign, False, False, False,
                                         False, False, False), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    p12 = folder / "rsa.p12"
    p12.write_bytes(pkcs12.serialize_key_and_certificates(
        b"rsa", key, leaf, [ca], serialization.BestAvailableEncryption(PASS)))
    ca_pem = folder / "rsa-ca.pem"
    ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return p12, ca_pem


def test_rsa_signature_and_openssl(tmp_path: Path):
    p12, ca_pem = _rsa_p12(tmp_path)
    signature = sign_detached(b"canonical", p12, PASS)
    assert "RSA Submitter" in verify_detached(signature, b"canonical", ca_pem).subject
    (tmp_path / "c").write_bytes(b"canonical")
    (tmp_path / "s").write_bytes(signature)
    done = subprocess.run(
        ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(tmp_path / "s"),
         "-content", str(tmp_path / "c"), "-CAfile", str(ca_pem), "-purpose", "any", "-out", "/dev/null"],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr


def test_certificate_without_signing_key_usage_is_refused(tmp_path: Path):
    p12, ca_pem = _rsa_p12(tmp_path, leaf_usage_sign=False)
    signature = sign_detached(b"canonical", p12, PASS)
    with pytest.raises(IntegrityError, match="not allowed to sign"):
        verify_detached(signature, b"canonical", ca_pem)
