"""The default index: tokens, upload records, assessments and the log anchor in one SQLite file.

WAL mode, ``synchronous=FULL``, one connection behind a lock (one server per
store folder). :meth:`SqliteIndex.exclusive` takes an ``fcntl`` lock on a file
beside the database, so in-process assessment threads and any local worker
process agree, and a dead process never holds it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from .models import AssessmentRecord, TokenRecord, UploadRecord
from .storage import (
    TOKEN_COLUMNS,
    UPLOAD_COLUMNS,
    ZERO_HASH,
    assessment_row,
    token_from_row,
    token_row,
    upload_from_row,
    upload_row,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
    token_id TEXT PRIMARY KEY,
    secret_sha256 TEXT NOT NULL UNIQUE,
    organization TEXT NOT NULL,
    role TEXT NOT NULL,
    grants TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS uploads (
    upload_id TEXT PRIMARY KEY,
    organization TEXT NOT NULL,
    token_id TEXT NOT NULL,
    received_at TEXT NOT NULL,
    archive_sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    verdict TEXT NOT NULL,
    reasons TEXT NOT NULL,
    bundle_root_hash TEXT,
    bundle_id TEXT,
    archive_format TEXT NOT NULL,
    signed_receipt TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS uploads_accepted
    ON uploads (organization, bundle_root_hash) WHERE verdict = 'accepted';
CREATE INDEX IF NOT EXISTS uploads_org ON uploads (organization, received_at);
CREATE TABLE IF NOT EXISTS assessments (
    assessment_key TEXT PRIMARY KEY,
    organization TEXT NOT NULL,
    upload_id TEXT NOT NULL,
    bundle_root_hash TEXT NOT NULL,
    record TEXT NOT NULL,
    assessed_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS assessments_org ON assessments (organization, assessed_at);
CREATE TABLE IF NOT EXISTS log_anchor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    end_offset INTEGER NOT NULL
);
"""



class SqliteIndex:
    """The default index: one SQLite file in WAL mode, one connection behind a lock."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._local_locks: dict[str, threading.Lock] = {}
        self._local_locks_guard = threading.Lock()
        self._db = sqlite3.connect(
            self.path, timeout=30, isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        with self._transaction() as db:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
        with contextlib.suppress(OSError):
            os.chmod(self.path, 0o600)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _query(self, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
        with self._lock:
            return list(self._db.execute(sql, params).fetchall())

    # tokens

    def add_token(self, token: TokenRecord) -> None:
        with self._transaction() as db:
            db.execute(
                f"INSERT INTO tokens ({TOKEN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
                token_row(token),
            )

    def find_token(self, secret_sha256: str) -> TokenRecord | None:
        rows = self._query(
            "SELECT token_id, secret_sha256, organization, role, grants, created_at, revoked "
            "FROM tokens WHERE secret_sha256 = ?",
            (secret_sha256,),
        )
        return token_from_row(rows[0]) if rows else None

    def list_tokens(self) -> list[TokenRecord]:
        rows = self._query(
            "SELECT token_id, secret_sha256, organization, role, grants, created_at, revoked "
            "FROM tokens ORDER BY created_at, token_id"
        )
        return [token_from_row(row) for row in rows]

    def revoke_token(self, token_id: str) -> bool:
        with self._transaction() as db:
            cursor = db.execute("UPDATE tokens SET revoked = 1 WHERE token_id = ?", (token_id,))
            return cursor.rowcount > 0

    # uploads

    @staticmethod
    def _in(orgs: Sequence[str]) -> str:
        return ",".join("?" for _ in orgs) or "NULL"

    def find_accepted(self, orgs: Sequence[str], root_hash: str) -> UploadRecord | None:
        rows = self._query(
            f"SELECT {UPLOAD_COLUMNS} FROM uploads WHERE verdict = 'accepted' "  # noqa: S608
            f"AND bundle_root_hash = ? AND organization IN ({self._in(orgs)}) "
            "ORDER BY received_at, upload_id LIMIT 1",
            (root_hash, *orgs),
        )
        return upload_from_row(rows[0]) if rows else None

    def get_upload(self, orgs: Sequence[str], upload_id: str) -> UploadRecord | None:
        rows = self._query(
            f"SELECT {UPLOAD_COLUMNS} FROM uploads WHERE upload_id = ? "  # noqa: S608
            f"AND organization IN ({self._in(orgs)})",
            (upload_id, *orgs),
        )
        return upload_from_row(rows[0]) if rows else None

    def list_uploads(self, orgs: Sequence[str], limit: int) -> list[UploadRecord]:
        rows = self._query(
            f"SELECT {UPLOAD_COLUMNS} FROM uploads "  # noqa: S608
            f"WHERE organization IN ({self._in(orgs)}) "
            "ORDER BY received_at DESC, upload_id LIMIT ?",
            (*orgs, limit),
        )
        return [upload_from_row(row) for row in rows]

    def count_uploads(self) -> int:
        return int(str(self._query("SELECT COUNT(*) FROM uploads")[0][0]))

    def record_upload(
        self, record: UploadRecord, log_head: tuple[int, str, int] | None = None
    ) -> UploadRecord:
        with self._transaction() as db:
            if record.verdict == "accepted":
                rows = db.execute(
                    f"SELECT {UPLOAD_COLUMNS} FROM uploads WHERE verdict = 'accepted' "  # noqa: S608
                    "AND organization = ? AND bundle_root_hash = ?",
                    (record.organization, record.bundle_root_hash),
                ).fetchall()
                if rows:
                    return upload_from_row(rows[0])
            db.execute(
                f"INSERT INTO uploads ({UPLOAD_COLUMNS}) VALUES ({','.join('?' * 12)})",  # noqa: S608
                upload_row(record),
            )
            if log_head is not None:
                self._write_head(db, log_head)
        return record

    # log anchor

    def log_head(self) -> tuple[int, str, int]:
        rows = self._query("SELECT seq, sha256, end_offset FROM log_anchor WHERE id = 1")
        if not rows:
            return (0, ZERO_HASH, 0)
        seq, digest, offset = rows[0]
        return (int(str(seq)), str(digest), int(str(offset)))

    @staticmethod
    def _write_head(db: sqlite3.Connection, head: tuple[int, str, int]) -> None:
        db.execute(
            "INSERT INTO log_anchor (id, seq, sha256, end_offset) VALUES (1, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, sha256 = excluded.sha256, "
            "end_offset = excluded.end_offset WHERE excluded.seq > log_anchor.seq",
            head,
        )

    def set_log_head(self, head: tuple[int, str, int]) -> None:
        """Move the anchor forward to ``head`` (never backward)."""
        with self._transaction() as db:
            self._write_head(db, head)

    # assessments

    @contextlib.contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        locks = self.path.parent / "locks"
        locks.mkdir(mode=0o700, exist_ok=True)
        target = locks / (hashlib.sha256(name.encode()).hexdigest()[:32] + ".lock")
        with open(target, "wb") as handle:
            with self._local_locks_guard:
                local = self._local_locks.setdefault(name, threading.Lock())
            with local:  # flock is per open file: threads of this process queue here first
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def record_assessment(self, record: AssessmentRecord) -> AssessmentRecord:
        with self._transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO assessments VALUES (?, ?, ?, ?, ?, ?)",
                assessment_row(record),
            )
            row = db.execute(
                "SELECT record FROM assessments WHERE assessment_key = ?", (record.assessment_key,)
            ).fetchone()
        return AssessmentRecord.model_validate_json(str(row[0]))

    def find_assessment(self, key: str) -> AssessmentRecord | None:
        rows = self._query("SELECT record FROM assessments WHERE assessment_key = ?", (key,))
        return AssessmentRecord.model_validate_json(str(rows[0][0])) if rows else None

    def list_assessments(self, orgs: Sequence[str] | None = None) -> list[AssessmentRecord]:
        if orgs is None:
            rows = self._query("SELECT record FROM assessments ORDER BY assessed_at DESC")
        else:
            rows = self._query(
                f"SELECT record FROM assessments WHERE organization IN ({self._in(orgs)}) "  # noqa: S608
                "ORDER BY assessed_at DESC",
                tuple(orgs),
            )
        return [AssessmentRecord.model_validate_json(str(row[0])) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
