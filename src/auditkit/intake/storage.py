"""Where the intake server keeps bundles and what it knows about them.

Two small interfaces, so a deployment can swap either half:

* :class:`ObjectStore` holds archives, immutable and content-addressed by the
  SHA-256 of their bytes. :class:`FilesystemObjectStore` keeps them under
  ``STORE/objects/<sha256>``; :class:`~auditkit.intake.s3store.S3ObjectStore`
  maps the same four calls onto ``PutObject`` (with ``If-None-Match: *``),
  ``GetObject``, ``ListObjectsV2`` and ``HeadObject``.
* :class:`IntakeIndex` holds tokens, upload records and the intake log's anchor.
  :class:`~auditkit.intake.sqliteindex.SqliteIndex` keeps them in
  ``STORE/index.sqlite3`` (WAL mode); :class:`~auditkit.intake.pgindex.PostgresIndex`
  in PostgreSQL, for several servers.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import BinaryIO, Protocol

from .models import AssessmentRecord, SignedReceipt, TokenRecord, UploadRecord


class ObjectStore(Protocol):
    """Immutable, content-addressed archive storage."""

    def put(self, digest: str, source: Path) -> bool:
        """Adopt the complete local file ``source`` whose SHA-256 is ``digest``.

        The file is consumed (moved or uploaded, then removed). Returns False if
        the object already existed, in which case the stored one is kept.
        """
        ...

    def get(self, digest: str) -> BinaryIO:
        """Open the object for reading; raises ``KeyError`` if it is absent."""
        ...

    def list(self) -> Iterator[str]:
        """Every stored digest."""
        ...

    def exists(self, digest: str) -> bool:
        """Whether ``digest`` is stored."""
        ...


class IntakeIndex(Protocol):
    """Tokens, upload records and the intake log's anchor."""

    def add_token(self, token: TokenRecord) -> None: ...

    def find_token(self, secret_sha256: str) -> TokenRecord | None: ...

    def list_tokens(self) -> list[TokenRecord]: ...

    def revoke_token(self, token_id: str) -> bool: ...

    def find_accepted(self, orgs: Sequence[str], root_hash: str) -> UploadRecord | None: ...

    def get_upload(self, orgs: Sequence[str], upload_id: str) -> UploadRecord | None: ...

    def list_uploads(self, orgs: Sequence[str], limit: int) -> list[UploadRecord]: ...

    def count_uploads(self) -> int: ...

    def record_upload(
        self, record: UploadRecord, log_head: tuple[int, str, int] | None = None
    ) -> UploadRecord:
        """Store ``record`` and, if given, move the log anchor forward in the same transaction.

        If an accepted record with the same organization and root hash exists,
        nothing is stored and the existing record is returned.
        """
        ...

    def log_head(self) -> tuple[int, str, int]:
        """``(seq, sha256, end offset)`` of the last anchored log entry; ``(0, zeros, 0)``."""
        ...

    def set_log_head(self, head: tuple[int, str, int]) -> None: ...

    def exclusive(self, name: str) -> AbstractContextManager[None]:
        """A lock named ``name`` across every process using this index, released if one dies."""
        ...

    def record_assessment(self, record: AssessmentRecord) -> AssessmentRecord:
        """Store ``record`` unless one with its key exists; returns the stored one."""
        ...

    def find_assessment(self, key: str) -> AssessmentRecord | None: ...

    def list_assessments(self, orgs: Sequence[str] | None = None) -> list[AssessmentRecord]:
        """Assessments of ``orgs`` (every organization if None), newest first."""
        ...

    def close(self) -> None: ...


_DIGEST_CHARS = set("0123456789abcdef")


def _check_digest(digest: str) -> str:
    if len(digest) != 64 or not set(digest) <= _DIGEST_CHARS:
        raise KeyError(digest)
    return digest


class FilesystemObjectStore:
    """Objects as read-only files ``ROOT/<sha256>``; written by rename, so never partial."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, digest: str) -> Path:
        return self.root / _check_digest(digest)

    def put(self, digest: str, source: Path) -> bool:
        target = self._path(digest)
        if target.exists():
            source.unlink(missing_ok=True)
            return False
        os.chmod(source, 0o444)
        with open(source, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(source, target)
        _fsync_dir(self.root)
        return True

    def get(self, digest: str) -> BinaryIO:
        try:
            return open(self._path(digest), "rb")  # noqa: SIM115 - caller closes
        except FileNotFoundError:
            raise KeyError(digest) from None

    def list(self) -> Iterator[str]:
        for entry in sorted(os.listdir(self.root)):
            if len(entry) == 64 and set(entry) <= _DIGEST_CHARS:
                yield entry

    def exists(self, digest: str) -> bool:
        try:
            return self._path(digest).is_file()
        except KeyError:
            return False


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


ZERO_HASH = "0" * 64

# Rows of the ``tokens`` and ``uploads`` tables, the same in every index.
TOKEN_COLUMNS = "token_id, secret_sha256, organization, role, grants, created_at, revoked"  # noqa: S105
UPLOAD_COLUMNS = (
    "upload_id, organization, token_id, received_at, archive_sha256, size, verdict, reasons, "
    "bundle_root_hash, bundle_id, archive_format, signed_receipt"
)


def token_row(token: TokenRecord) -> tuple[object, ...]:
    """``token`` as values for :data:`TOKEN_COLUMNS`."""
    grants = json.dumps(list(token.grants))
    return (token.token_id, token.secret_sha256, token.organization, token.role, grants,
            token.created_at, token.revoked)


def token_from_row(row: Sequence[object]) -> TokenRecord:
    data = dict(zip([n.strip() for n in TOKEN_COLUMNS.split(",")], row, strict=True))
    data["grants"] = tuple(json.loads(str(data["grants"])))
    data["revoked"] = bool(data["revoked"])
    return TokenRecord.model_validate(data)


def upload_row(record: UploadRecord) -> tuple[object, ...]:
    """``record`` as values for :data:`UPLOAD_COLUMNS`."""
    return (record.upload_id, record.organization, record.token_id, record.received_at,
            record.archive_sha256, record.size, record.verdict, json.dumps(list(record.reasons)),
            record.bundle_root_hash, record.bundle_id, record.archive_format,
            record.signed_receipt.model_dump_json())


def assessment_row(record: AssessmentRecord) -> tuple[object, ...]:
    """``record`` as values for the ``assessments`` table (indexed columns, then the JSON)."""
    return (record.assessment_key, record.organization, record.upload_id, record.bundle_root_hash,
            record.model_dump_json(), record.assessed_at)


def upload_from_row(row: Sequence[object]) -> UploadRecord:
    data = dict(zip([n.strip() for n in UPLOAD_COLUMNS.split(",")], row, strict=True))
    data["reasons"] = tuple(json.loads(str(data["reasons"])))
    data["signed_receipt"] = SignedReceipt.model_validate_json(str(data["signed_receipt"]))
    return UploadRecord.model_validate(data)
