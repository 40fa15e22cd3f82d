"""Signing keys for reports: a private signing CA and one auditor certificate issued by it.

:func:`init_keys` makes an EC P-256 self-signed CA (``CA:true``, ``keyCertSign``) and
an EC P-256 signing certificate issued by it (``digitalSignature`` +
``nonRepudiation``, subject and authority key identifiers), then writes
``signer.p12`` (the signing key, its certificate and the CA certificate, encrypted
with the passphrase, mode 0600) and ``ca.pem`` (the CA certificate to hand to
readers, who pass it to ``auditkit verify --trust``). The CA private key is used
once and never written: to rotate, run ``keys init`` again and distribute the new
``ca.pem``. :func:`load_signer` reads a ``signer.p12`` back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import IntegrityError, InvalidInputError, UsageError
from ..fsio import write_bytes

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

SIGNER_FILE = "signer.p12"
CA_FILE = "ca.pem"
CA_VALIDITY_DAYS = 3650
SIGNER_VALIDITY_DAYS = 825


@dataclass(frozen=True)
class KeySet:
    """What :func:`init_keys` wrote."""

    p12: Path
    """PKCS#12 with the signing key, its certificate and the CA certificate (mode 0600)."""
    ca_pem: Path
    """The CA certificate (PEM), the trust anchor for ``auditkit verify --trust``."""
    signer_subject: str
    """The signing certificate's subject, RFC 4514."""
    ca_fingerprint: str
    """SHA-256 of the CA certificate (DER), hex."""
    not_after: dt.datetime
    """End of the signing certificate's validity."""


@dataclass(frozen=True)
class LoadedSigner:
    """A signing key and its chain read from a PKCS#12 file (``cryptography`` objects)."""

    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    cert: x509.Certificate
    chain: list[x509.Certificate]


UB_NAME = 64
"""X.509 upper bound of an organization and a common name (RFC 5280 ub-organization-name, ub-common-name)."""


def _common_name(text: str, suffix: str) -> str:
    """``text suffix``, with ``text`` shortened (``...``) so that the whole fits in 64 bytes."""
    room = UB_NAME - len(suffix) - 1
    if len(text.encode("utf-8")) <= room:
        return f"{text} {suffix}"
    cut = text
    while len(cut.encode("utf-8")) > room - 3:
        cut = cut[:-1]
    return f"{cut}... {suffix}"


def _check_length(value: str, option: str, what: str) -> None:
    if len(value.encode("utf-8")) > UB_NAME:
        raise InvalidInputError(
            f"{option} is {len(value)} characters ({len(value.encode('utf-8'))} bytes in UTF-8); "
            f"X.509 allows at most {UB_NAME} in {what} "
            f"(RFC 5280 ub-{what.replace(' ', '-')})",
            hint=f"shorten {option} (e.g. drop the legal form)",
        )


def _name(common_name: str, org: str) -> x509.Name:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
        ]
    )


def issue_keys(
    org: str, *, signer_name: str | None = None, now: dt.datetime | None = None
) -> tuple[
    ec.EllipticCurvePrivateKey, x509.Certificate, ec.EllipticCurvePrivateKey, x509.Certificate
]:
    """Make ``(ca_key, ca_cert, signer_key, signer_cert)``; nothing is written."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    org = org.strip()
    if not org:
        raise UsageError("the organization name is empty", hint="pass --org NAME")
    now = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    start = now - dt.timedelta(minutes=5)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    _check_length(org, "--org", "organization name")
    if signer_name:
        _check_length(signer_name.strip(), "--name", "common name")
    ca_name = _name(_common_name(org, "Audit Signing CA"), org)
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(now + dt.timedelta(days=CA_VALIDITY_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )

    signer_key = ec.generate_private_key(ec.SECP256R1())
    signer_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(signer_name.strip() if signer_name else _common_name(org, "Auditor"), org))
        .issuer_name(ca_name)
        .public_key(signer_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(now + dt.timedelta(days=SIGNER_VALIDITY_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(signer_key.public_key()), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return ca_key, ca_cert, signer_key, signer_cert


def init_keys(
    out_dir: Path,
    *,
    org: str,
    passphrase: bytes,
    signer_name: str | None = None,
    force: bool = False,
    now: dt.datetime | None = None,
) -> KeySet:
    """Create ``signer.p12`` and ``ca.pem`` in ``out_dir`` (atomically; refuses to overwrite)."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise UsageError("output folder does not exist", where=str(out_dir), hint="create it first")
    if not passphrase:
        raise UsageError(
            "an empty passphrase would leave the signing key unprotected",
            hint="use --passphrase-file or AUDITKIT_KEY_PASSPHRASE",
        )
    p12_path, ca_path = out_dir / SIGNER_FILE, out_dir / CA_FILE
    if not force:
        for existing in (p12_path, ca_path):
            if existing.exists():
                raise UsageError(
                    "already exists", where=str(existing), hint="choose another folder or --force"
                )
    _, ca_cert, signer_key, signer_cert = issue_keys(org, signer_name=signer_name, now=now)
    p12 = pkcs12.serialize_key_and_certificates(
        name=b"auditkit report signer",
        key=signer_key,
        cert=signer_cert,
        cas=[ca_cert],
        encryption_algorithm=serialization.BestAvailableEncryption(passphrase),
    )
    write_bytes(p12_path, p12, mode=0o600)
    write_bytes(ca_path, ca_cert.public_bytes(serialization.Encoding.PEM), mode=0o644)
    return KeySet(
        p12=p12_path,
        ca_pem=ca_path,
        signer_subject=signer_cert.subject.rfc4514_string(),
        ca_fingerprint=ca_cert.fingerprint(hashes.SHA256()).hex(),
        not_after=signer_cert.not_valid_after_utc,
    )


def read_pkcs12(p12: Path) -> bytes:
    """The PKCS#12 file's bytes; a file that cannot be read is a usage error."""
    try:
        return Path(p12).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read the signing key: {exc.strerror}", where=str(p12)) from exc


def unopenable_pkcs12(p12: Path) -> IntegrityError:
    """The error for a PKCS#12 file that does not open (wrong passphrase or damaged file)."""
    return IntegrityError(
        "cannot open the PKCS#12 signing key (wrong passphrase or damaged file)",
        where=str(p12),
        hint="check --passphrase-file / AUDITKIT_KEY_PASSPHRASE",
    )


def load_signer(p12: Path, passphrase: bytes | None) -> LoadedSigner:
    """Read a PKCS#12 file; a wrong passphrase or a damaged file is an :class:`IntegrityError`."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import pkcs12

    try:
        key, cert, chain = pkcs12.load_key_and_certificates(read_pkcs12(p12), passphrase or None)
    except ValueError as exc:
        raise unopenable_pkcs12(p12) from exc
    if key is None or cert is None:
        raise IntegrityError(
            "the PKCS#12 file holds no private key and certificate", where=str(p12)
        )
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise IntegrityError(
            f"unsupported key type {type(key).__name__} (EC or RSA expected)", where=str(p12)
        )
    return LoadedSigner(key=key, cert=cert, chain=list(chain))
