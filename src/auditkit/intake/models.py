"""The intake server's records: tokens, principals, upload records and signed receipts.

Everything the intake subsystem stores or sends is one of these frozen pydantic
models, so rows read back from the index and JSON read from a receipt file are
checked at the boundary like every other auditkit input.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Role = Literal["submitter", "auditor"]
Verdict = Literal["accepted", "rejected"]
INTEGRITY_PREFIX = "integrity: "
"""Starts each rejection reason that is an integrity failure (hash, size, signature): clients exit 4 on it."""

ORG_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
SHA256_PATTERN = r"^[0-9a-f]{64}$"
RECEIPT_FORMAT: Literal["auditkit-intake-receipt/2"] = "auditkit-intake-receipt/2"
"""Receipts name the uploaded archive since format 2; format 1 receipts (no ``archive_name``) still verify."""
LEGACY_RECEIPT_FORMAT = "auditkit-intake-receipt/1"
ARCHIVE_NAME_MAX = 255


def check_org(value: str) -> str:
    """Return ``value`` if it is a valid organization name, else raise ``ValueError``."""
    if not ORG_PATTERN.match(value):
        raise ValueError(
            f"organization {value!r} must be 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return value


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TokenRecord(_Frozen):
    """An API token as the index keeps it: only the SHA-256 of the secret is stored."""

    token_id: str = Field(description="Public identifier, shown in receipts and logs.")
    organization: str = Field(description="The tenant the token belongs to.")
    role: Role
    grants: tuple[str, ...] = Field(default=(), description="Organizations an auditor may read.")
    secret_sha256: str = Field(pattern=SHA256_PATTERN)
    created_at: str
    revoked: bool = False

    @field_validator("organization")
    @classmethod
    def _valid_org(cls, value: str) -> str:
        return check_org(value)


class Principal(_Frozen):
    """The caller of a request, after its token was checked."""

    token_id: str
    organization: str
    role: Role
    grants: tuple[str, ...] = ()

    @property
    def readable_orgs(self) -> tuple[str, ...]:
        """Organizations whose bundles this caller may list and read."""
        return self.grants if self.role == "auditor" else (self.organization,)


class Receipt(_Frozen):
    """What the server attests about one upload; signed as RFC 8785 canonical JSON."""

    format: Literal["auditkit-intake-receipt/1", "auditkit-intake-receipt/2"] = RECEIPT_FORMAT
    upload_id: str
    organization: str = Field(description="The tenant of the submitting token.")
    submitter_token_id: str
    received_at: str = Field(description="UTC time the upload was fully received (RFC 3339).")
    archive_sha256: str = Field(pattern=SHA256_PATTERN)
    archive_name: str | None = Field(
        default=None,
        max_length=ARCHIVE_NAME_MAX,
        description="File name of the uploaded archive as the submitter gave it (last path segment, "
        "control characters removed); null when none was given. Absent from format 1 receipts.",
    )
    size: int = Field(ge=0, description="Archive size in bytes.")
    verdict: Verdict
    reasons: tuple[str, ...] = Field(default=(), description="Why it was rejected, one per line.")
    bundle_root_hash: str | None = Field(default=None, description="Null when rejected.")
    bundle_id: str | None = None
    bundle_organization: str | None = Field(
        default=None, description="The organization named in the bundle's manifest."
    )
    item_count: int | None = None
    log_seq: int = Field(
        ge=1, description="Sequence number of the intake-log entry of the verdict."
    )
    log_entry_sha256: str = Field(pattern=SHA256_PATTERN)
    server_key_id: str

    @model_validator(mode="after")
    def _format_1_has_no_archive_name(self) -> Receipt:
        if self.format == LEGACY_RECEIPT_FORMAT and self.archive_name is not None:
            raise ValueError("a format 1 receipt has no archive_name")
        return self

    def signed_content(self) -> dict[str, Any]:
        """The JSON object whose RFC 8785 form is signed (format 1 receipts had no ``archive_name``)."""
        content: dict[str, Any] = self.model_dump(mode="json")
        if self.format == LEGACY_RECEIPT_FORMAT:
            content.pop("archive_name", None)
        return content


def archive_name(raw: str | None) -> str | None:
    """The name a receipt records for an uploaded archive: its last path segment, printable, capped."""
    if not raw:
        return None
    import unicodedata

    base = unicodedata.normalize("NFC", raw.replace("\\", "/").rsplit("/", 1)[-1])
    cleaned = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip()
    return cleaned[:ARCHIVE_NAME_MAX] or None


class Signature(_Frozen):
    """A detached Ed25519 signature over the canonical JSON of a receipt."""

    algorithm: Literal["Ed25519"] = "Ed25519"
    key_id: str = Field(description="First 16 hex digits of SHA-256 of the raw public key.")
    value: str = Field(description="Base64 signature.")


class SignedReceipt(_Frozen):
    """A receipt and its signature: the body of every upload answer and of receipt files."""

    receipt: Receipt
    signature: Signature


class UploadRecord(_Frozen):
    """One upload as the index keeps it (accepted or rejected)."""

    upload_id: str
    organization: str
    token_id: str
    received_at: str
    archive_sha256: str
    size: int
    verdict: Verdict
    reasons: tuple[str, ...] = ()
    bundle_root_hash: str | None = None
    bundle_id: str | None = None
    archive_format: str = Field(description="zip or tar.gz")
    signed_receipt: SignedReceipt

    def summary(self) -> dict[str, object]:
        """The JSON shape of a bundle in API listings."""
        return {
            "upload_id": self.upload_id,
            "organization": self.organization,
            "received_at": self.received_at,
            "archive_sha256": self.archive_sha256,
            "size": self.size,
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "bundle_root_hash": self.bundle_root_hash,
            "bundle_id": self.bundle_id,
            "archive_format": self.archive_format,
        }


class AssessmentRecord(_Frozen):
    """One assessment a worker ran on an accepted bundle, and where its outputs are."""

    assessment_key: str = Field(
        pattern=SHA256_PATTERN,
        description="SHA-256 of 'root hash/catalog digest/profile digest': one assessment each.",
    )
    organization: str
    upload_id: str
    bundle_root_hash: str = Field(pattern=SHA256_PATTERN)
    bundle_id: str | None = None
    catalog_digest: str
    profile_id: str
    profile_digest: str
    assessed_at: str = Field(description="UTC time the signed report was stored (RFC 3339).")
    as_of: str
    period_end: str | None = Field(default=None, description="End of the bundle's period.")
    score: float | None
    rating: str
    critical_open: int = Field(ge=0, description="Findings of severity critical.")
    findings: int = Field(ge=0)
    results_sha256: str = Field(pattern=SHA256_PATTERN, description="results.json object.")
    report_sha256: str = Field(pattern=SHA256_PATTERN, description="Signed report.pdf object.")
    report_size: int = Field(ge=0)
    worker: str = Field(description="host:pid of the worker that ran it.")
