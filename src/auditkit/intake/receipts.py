"""The server's Ed25519 key and the receipts it signs.

The key is created in the store on first use (``STORE/server-key.pem``, mode
0600, PKCS#8) beside its public half (``STORE/server.pub``). A receipt is signed
over its RFC 8785 canonical JSON, so anyone holding the public key can check a
receipt file offline with :func:`verify_receipt_file`.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from ..errors import IntegrityError, InvalidInputError
from ..fsio import write_bytes
from .models import Receipt, Signature, SignedReceipt

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

PRIVATE_NAME = "server-key.pem"
PUBLIC_NAME = "server.pub"
MAX_RECEIPT_BYTES = 1024 * 1024


def key_id(public: Ed25519PublicKey) -> str:
    """First 16 hex digits of the SHA-256 of the raw 32-byte public key."""
    from cryptography.hazmat.primitives import serialization

    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_pem(public: Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_or_create_key(store: Path) -> Ed25519PrivateKey:
    """The store's signing key, created (exclusively, so two starts cannot race) if absent."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = store / PRIVATE_NAME
    if not path.exists():
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        tmp = store / f".{PRIVATE_NAME}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
                handle.flush()
                os.fsync(handle.fileno())
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)  # never replaces a key another process just made
        finally:
            tmp.unlink(missing_ok=True)
    data = path.read_bytes()
    loaded = serialization.load_pem_private_key(data, password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise InvalidInputError("server key is not an Ed25519 key", where=str(path))
    key = loaded
    public_path = store / PUBLIC_NAME
    pem_public = public_pem(key.public_key())
    if not public_path.exists() or public_path.read_bytes() != pem_public:
        write_bytes(public_path, pem_public)
    return key


def sign_receipt(key: Ed25519PrivateKey, receipt: Receipt) -> SignedReceipt:
    """Sign the canonical JSON of ``receipt``."""
    import rfc8785

    message = rfc8785.dumps(receipt.signed_content())
    signature = Signature(
        key_id=key_id(key.public_key()), value=base64.b64encode(key.sign(message)).decode()
    )
    return SignedReceipt(receipt=receipt, signature=signature)


def load_public_key(path: Path) -> Ed25519PublicKey:
    """Read a PEM Ed25519 public key (as written by ``auditkit intake key export``)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"cannot read key: {exc.strerror}", where=str(path)) from None
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        raise InvalidInputError(
            "not a PEM public key", where=str(path), hint="use `auditkit intake key export`"
        ) from None
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidInputError("not an Ed25519 public key", where=str(path))
    return key


def verify_receipt(signed: SignedReceipt, public: Ed25519PublicKey, where: str) -> Receipt:
    """Return the receipt if its signature holds under ``public``; else raise IntegrityError."""
    import rfc8785
    from cryptography.exceptions import InvalidSignature

    if signed.signature.key_id != key_id(public):
        raise IntegrityError(
            f"receipt was signed by key {signed.signature.key_id}, not by the given key "
            f"{key_id(public)}",
            where=where,
            hint="check you have the right server's public key",
        )
    try:
        raw = base64.b64decode(signed.signature.value, validate=True)
        public.verify(raw, rfc8785.dumps(signed.receipt.signed_content()))
    except (InvalidSignature, ValueError):
        raise IntegrityError(
            "receipt signature does not verify: the receipt was altered or not issued by "
            "this server",
            where=where,
        ) from None
    return signed.receipt


def parse_receipt(data: bytes, where: str) -> SignedReceipt:
    """Parse a signed receipt document, refusing unknown fields."""
    try:
        return SignedReceipt.model_validate_json(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        pointer = "/" + "/".join(str(p) for p in first["loc"])
        raise InvalidInputError(
            f"not an auditkit intake receipt: {pointer}: {first['msg']}", where=where
        ) from None


def verify_receipt_file(path: Path, key_path: Path) -> Receipt:
    """Offline check of a receipt file against a server public key."""
    public = load_public_key(key_path)
    try:
        size = Path(path).stat().st_size
        if size > MAX_RECEIPT_BYTES:
            raise InvalidInputError(f"file is {size} bytes; receipts are small", where=str(path))
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"cannot read receipt: {exc.strerror}", where=str(path)) from None
    return verify_receipt(parse_receipt(data, str(path)), public, str(path))
