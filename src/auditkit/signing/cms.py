"""Detached CMS (PKCS#7) signatures over a bundle's canonical manifest (``manifest.sig``).

Signing uses ``cryptography``'s ``PKCS7SignatureBuilder`` (detached, binary, SHA-256,
with signed attributes, signer certificate and chain embedded). ``cryptography``
offers no CMS verification, so :func:`verify_detached` parses the structure with
``asn1crypto`` and checks, failing closed on anything unexpected:

1. one SignedData with exactly one SignerInfo and no embedded content;
2. the signer certificate (found by issuer and serial or by key identifier);
3. with signed attributes: content type ``data`` and a message digest equal to
   the digest of the canonical manifest, then the signature over the DER SET OF
   the signed attributes; without: the signature over the content itself;
4. the signer's chain to a CA certificate of the trust file, with
   ``cryptography.x509.verification`` (validity at the verification time, CA
   constraints, key usage).

Every failure is an :class:`~auditkit.errors.IntegrityError` (exit 4). The result
interoperates with ``openssl cms -verify -binary``.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import IntegrityError, InvalidInputError

_DIGESTS = {"sha256": "SHA256", "sha384": "SHA384", "sha512": "SHA512"}

Trust = Path | Sequence[Path]
"""One PEM/DER file of CA certificates, or several."""


@dataclass(frozen=True)
class CmsSigner:
    """Who made a signature that :func:`verify_detached` accepted."""

    subject: str
    """The signer certificate's subject, RFC 4514."""
    fingerprint: str
    """SHA-256 of the signer certificate (DER), lowercase hex."""
    trust_anchor: str
    """Subject (RFC 4514) of the trusted CA certificate the chain ends at."""


def sign_detached(content: bytes, key_file: Path, passphrase: bytes | None) -> bytes:
    """A DER detached CMS signature over ``content`` with the PKCS#12 key in ``key_file``."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.serialization import pkcs7

    from .keys import load_signer

    signer = load_signer(key_file, passphrase)
    builder = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(content)
        .add_signer(signer.cert, signer.key, hashes.SHA256())
    )
    for cert in signer.chain:
        builder = builder.add_certificate(cert)
    return builder.sign(
        serialization.Encoding.DER,
        [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary],
    )


def _fail(message: str, where: str, hint: str | None = None) -> IntegrityError:
    return IntegrityError(f"bad signature: {message}", where=where, hint=hint)


def _load_trust(trust: Trust) -> list[Any]:
    paths = [trust] if isinstance(trust, str | Path) else list(trust)
    if not paths:
        raise InvalidInputError("no trust anchor given", hint="pass --trust CA.pem")
    return [anchor for path in paths for anchor in _load_trust_file(Path(path))]


def _names(trust: Trust) -> str:
    paths = [trust] if isinstance(trust, str | Path) else list(trust)
    return ", ".join(str(p) for p in paths)


def _load_trust_file(trust: Path) -> list[Any]:
    from cryptography import x509

    try:
        data = Path(trust).read_bytes()
    except OSError as exc:
        raise InvalidInputError(
            f"cannot read the trust file: {exc.strerror}", where=str(trust)
        ) from None
    try:
        anchors = x509.load_pem_x509_certificates(data)
    except ValueError:
        try:
            anchors = [x509.load_der_x509_certificate(data)]
        except ValueError:
            raise InvalidInputError(
                "the trust file holds no PEM or DER certificate", where=str(trust)
            ) from None
    return anchors


def _cn(name: Any) -> str:
    from cryptography.x509.oid import NameOID

    found = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(found[0].value) if found else str(name.rfc4514_string())


def _untrusted(leaf: Any, intermediates: list[Any], anchors: list[Any], reason: str) -> str:
    """Why the chain failed, in words: most often the signer's CA is simply not the trusted one."""
    issuers = [leaf, *intermediates]
    by_anchor = False
    for cert in issuers:
        for anchor in anchors:
            try:
                cert.verify_directly_issued_by(anchor)
                by_anchor = True
            except (ValueError, TypeError, Exception):  # noqa: BLE001, S112 - any failure: not issued by it
                continue
    trusted = "; ".join(_cn(a.subject) for a in anchors[:3])
    if not by_anchor:
        return (f"signed by {_cn(leaf.subject)} (issued by {_cn(leaf.issuer)}), "
                f"not issued by the trusted CA {trusted}")
    reason = reason.replace("validation failed:", "").replace("candidates exhausted:", "").strip()
    return f"the signer's certificate chains to {trusted} but is not valid: {reason[:200]}"


def _find_signer(sid: Any, certs: list[Any]) -> Any:
    if sid.name == "issuer_and_serial_number":
        issuer = sid.chosen["issuer"]
        serial = sid.chosen["serial_number"].native
        for cert in certs:
            if cert.serial_number == serial and cert.issuer == issuer:
                return cert
    elif sid.name == "subject_key_identifier":
        wanted = sid.chosen.native
        for cert in certs:
            if cert.key_identifier == wanted:
                return cert
    return None


def _check_signature(
    public_key: Any, algorithm: Any, digest_name: str, signature: bytes, data: bytes
) -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

    hash_algorithm = getattr(hashes, _DIGESTS[digest_name])()
    algo = algorithm.signature_algo
    if isinstance(public_key, rsa.RSAPublicKey) and algo == "rsassa_pkcs1v15":
        public_key.verify(signature, data, padding.PKCS1v15(), hash_algorithm)
    elif isinstance(public_key, rsa.RSAPublicKey) and algo == "rsassa_pss":
        params = algorithm["parameters"]
        pss_hash = getattr(hashes, _DIGESTS[params["hash_algorithm"]["algorithm"].native])()
        salt = params["salt_length"].native
        public_key.verify(signature, data, padding.PSS(padding.MGF1(pss_hash), salt), pss_hash)
    elif isinstance(public_key, ec.EllipticCurvePublicKey) and algo == "ecdsa":
        public_key.verify(signature, data, ec.ECDSA(hash_algorithm))
    elif isinstance(public_key, ed25519.Ed25519PublicKey) and algo == "ed25519":
        public_key.verify(signature, data)
    else:
        raise ValueError(f"unsupported signature algorithm {algo} for {type(public_key).__name__}")


def _check_key_usage(cert: Any, where: str) -> None:
    from cryptography import x509

    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not (usage.digital_signature or usage.content_commitment):
        raise _fail("the signer's certificate is not allowed to sign (key usage)", where)


def verify_detached(
    signature: bytes,
    content: bytes,
    trust: Trust,
    *,
    where: str = "manifest.sig",
    at: _dt.datetime | None = None,
) -> CmsSigner:
    """Check a detached CMS ``signature`` over ``content`` against CA certificates in ``trust``.

    Returns the signer (subject, certificate fingerprint, trust anchor). Raises
    :class:`IntegrityError` on any failure.
    """
    from asn1crypto import cms as acms
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.x509 import verification

    anchors = _load_trust(trust)
    try:
        info = acms.ContentInfo.load(signature, strict=True)
        if info["content_type"].native != "signed_data":
            raise _fail("not a CMS SignedData structure", where)
        signed = info["content"]
        if signed["encap_content_info"]["content"].native is not None:
            raise _fail("the signature embeds content; a detached signature is expected", where)
        signer_infos = signed["signer_infos"]
        if len(signer_infos) != 1:
            raise _fail(f"{len(signer_infos)} signers; exactly one is expected", where)
        signer_info = signer_infos[0]
        certs = [c.chosen for c in (signed["certificates"] or []) if c.name == "certificate"]
        signer_cert = _find_signer(signer_info["sid"], certs)
        if signer_cert is None:
            raise _fail("the signer's certificate is not in the signature", where)
        digest_name = signer_info["digest_algorithm"]["algorithm"].native
        if digest_name not in _DIGESTS:
            raise _fail(f"unsupported digest algorithm {digest_name}", where)
        attrs = signer_info["signed_attrs"]
        if attrs.native is not None and len(attrs):
            by_type = {a["type"].native: a["values"] for a in attrs}
            if [v.native for v in by_type.get("content_type", [])] != ["data"]:
                raise _fail("signed content type is not 'data'", where)
            digests = [v.native for v in by_type.get("message_digest", [])]
            if digests != [hashlib.new(digest_name, content).digest()]:
                raise _fail(
                    "the manifest does not match the signed digest (manifest changed "
                    "after signing)",
                    where,
                    "seal and sign the bundle again",
                )
            encoded = attrs.dump()
            signed_bytes = b"\x31" + encoded[1:]
        else:
            signed_bytes = content
        leaf = x509.load_der_x509_certificate(signer_cert.dump())
        _check_key_usage(leaf, where)
        intermediates = [
            x509.load_der_x509_certificate(c.dump())
            for c in certs
            if c is not signer_cert and not c.self_issued
        ]
        _check_signature(
            leaf.public_key(),
            signer_info["signature_algorithm"],
            digest_name,
            signer_info["signature"].native,
            signed_bytes,
        )
    except IntegrityError:
        raise
    except InvalidSignature:
        raise _fail(
            "the signature does not verify (manifest or signature altered)", where
        ) from None
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise _fail(f"cannot read the CMS signature: {str(exc)[:160]}", where) from None
    try:
        builder = verification.PolicyBuilder().store(verification.Store(anchors))
        builder = builder.time(at or _dt.datetime.now(_dt.UTC))
        builder = builder.extension_policies(
            ca_policy=verification.ExtensionPolicy.webpki_defaults_ca(),
            ee_policy=verification.ExtensionPolicy.permit_all(),
        )
        chain = builder.build_client_verifier().verify(leaf, intermediates).chain
    except verification.VerificationError as exc:
        raise IntegrityError(
            f"untrusted signature: {_untrusted(leaf, intermediates, anchors, str(exc))}",
            where=where,
            hint=f"check that --trust {_names(trust)} is the submitter's CA certificate",
        ) from None
    return CmsSigner(
        subject=str(leaf.subject.rfc4514_string()),
        fingerprint=hashlib.sha256(leaf.public_bytes(serialization.Encoding.DER)).hexdigest(),
        trust_anchor=str(chain[-1].subject.rfc4514_string()),
    )
