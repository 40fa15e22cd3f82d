"""The PostgreSQL index (psycopg 3): the :class:`IntakeIndex` that several servers share.

Schema changes are versioned SQL files in ``intake/migrations/`` (``NNNN_name.sql``),
applied in order at open, each in its own transaction, recorded in
``schema_migrations``, under an advisory lock so servers starting together apply
each once. Exactly one accepted upload per (organization, root hash) is the
partial unique index ``uploads_accepted``; :meth:`exclusive` is a session-level
advisory lock, which PostgreSQL releases by itself when the holder's connection
dies (a killed server or worker never leaves a lock behind). A database that cannot
be reached raises :class:`~auditkit.intake.problems.Unavailable` (HTTP 503, exit 6).
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Iterator, Sequence
from importlib import resources
from typing import Any

from .models import AssessmentRecord, TokenRecord, UploadRecord
from .problems import Unavailable
from .storage import (
    TOKEN_COLUMNS,
    UPLOAD_COLUMNS,
    assessment_row,
    token_from_row,
    token_row,
    upload_from_row,
    upload_row,
)

_MIGRATION = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_MIGRATION_LOCK = 0x61756469  # "audi": one advisory lock id for applying migrations


def migrations() -> list[tuple[int, str, str]]:
    """``(version, file name, SQL)`` of every shipped migration, in order."""
    found = []
    for entry in resources.files("auditkit.intake").joinpath("migrations").iterdir():
        match = _MIGRATION.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def _lock_id(name: str) -> int:
    """A signed 64-bit advisory lock id for ``name``."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def redact(url: str) -> str:
    """``url`` without its password, for messages."""
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", url)


class PostgresIndex:
    """Tokens, uploads, assessments and the log's head in one PostgreSQL database."""

    def __init__(self, url: str, *, max_connections: int = 8):
        import psycopg
        from psycopg_pool import ConnectionPool

        self.url = url
        self.where = redact(url)
        self._errors: tuple[type[BaseException], ...] = (
            psycopg.OperationalError,
            psycopg.InterfaceError,
        )
        try:
            psycopg.connect(url, connect_timeout=5).close()  # fail fast: refused, no such db
            self._pool = ConnectionPool(
                url,
                min_size=1,
                max_size=max_connections,
                timeout=5,
                reconnect_timeout=3600,
                open=False,
                check=ConnectionPool.check_connection,
                kwargs={"autocommit": True, "connect_timeout": 5},
            )
            self._pool.open(wait=True, timeout=15)
        except Exception as exc:  # PoolTimeout, OperationalError: the database is not there
            raise Unavailable(
                f"{self.where}: cannot connect to PostgreSQL ({type(exc).__name__})",
                hint="check --index and that the database is up",
            ) from None
        self.migrate()

    # connections

    @contextlib.contextmanager
    def _conn(self) -> Iterator[Any]:
        try:
            with self._pool.connection() as conn:
                yield conn
        except self._errors as exc:
            raise Unavailable(
                f"{self.where}: PostgreSQL unavailable ({str(exc).strip().splitlines()[0][:200]})",
                hint="retry shortly",
            ) from None
        except Exception as exc:
            if type(exc).__name__ == "PoolTimeout":
                raise Unavailable(f"{self.where}: no database connection free", hint="retry") from None
            raise

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Any]:
        """A connection inside one transaction (committed on success)."""
        with self._conn() as conn, conn.transaction():
            yield conn

    def _rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        with self._conn() as conn:
            return list(conn.execute(sql, params).fetchall())

    def migrate(self) -> list[str]:
        """Apply the migrations this database lacks; returns the names applied."""
        applied: list[str] = []
        with self._conn() as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK,))
            try:
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                    "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
                )
                done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
                for version, name, sql in migrations():
                    if version in done:
                        continue
                    with conn.transaction():
                        conn.execute(sql)
                        conn.execute(
                            "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                            (version, name),
                        )
                    applied.append(name)
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK,))
        return applied

    def schema_version(self) -> int:
        return int(self._rows("SELECT coalesce(max(version), 0) FROM schema_migrations")[0][0])

    @contextlib.contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """Hold the deployment-wide lock ``name`` (released if this process dies)."""
        with self._conn() as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (_lock_id(name),))
            try:
                yield
            finally:
                with contextlib.suppress(*self._errors):
                    conn.execute("SELECT pg_advisory_unlock(%s)", (_lock_id(name),))

    # tokens

    def add_token(self, token: TokenRecord) -> None:
        with self.transaction() as conn:
            conn.execute(
                f"INSERT INTO tokens ({TOKEN_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s)",  # noqa: S608
                token_row(token),
            )

    def find_token(self, secret_sha256: str) -> TokenRecord | None:
        rows = self._rows(
            f"SELECT {TOKEN_COLUMNS} FROM tokens WHERE secret_sha256 = %s",  # noqa: S608
            (secret_sha256,),
        )
        return token_from_row(rows[0]) if rows else None

    def list_tokens(self) -> list[TokenRecord]:
        rows = self._rows(f"SELECT {TOKEN_COLUMNS} FROM tokens ORDER BY created_at, token_id")  # noqa: S608
        return [token_from_row(row) for row in rows]

    def revoke_token(self, token_id: str) -> bool:
        with self.transaction() as conn:
            cursor = conn.execute("UPDATE tokens SET revoked = TRUE WHERE token_id = %s", (token_id,))
            return bool(cursor.rowcount)

    # uploads

    def find_accepted(self, orgs: Sequence[str], root_hash: str) -> UploadRecord | None:
        rows = self._rows(
            f"SELECT {UPLOAD_COLUMNS} FROM uploads WHERE verdict = 'accepted' "  # noqa: S608
            "AND bundle_root_hash = %s AND organization = ANY(%s) "
            "ORDER BY received_at, upload_id LIMIT 1",
            (root_hash, list(orgs)),
        )
        return upload_from_row(rows[0]) if rows else None

    def get_upload(self, orgs: Sequence[str], upload_id: str) -> UploadRecord | None:
        rows = self._rows(
            f"SELECT {UPLOAD_COLUMNS} FROM uploads WHERE upload_id = %s "  # noqa: S608
            "AND organization = ANY(%s)",
            (upload_id, list(orgs)),
        )
        return upload_from_row(rows[0]) if rows else None

    def list_uploads(self, orgs: Sequence[str], limit: int) -> list[UploadRecord]:
        rows = self._rows(
            f"SELECT {UPLOAD_COLUMNS} FROM uploads WHERE organization = ANY(%s) "  # noqa: S608
            "ORDER BY received_at DESC, upload_id LIMIT %s",
            (list(orgs), limit),
        )
        return [upload_from_row(row) for row in rows]

    def count_uploads(self) -> int:
        return int(self._rows("SELECT count(*) FROM uploads")[0][0])

    def record_upload(
        self, record: UploadRecord, log_head: tuple[int, str, int] | None = None
    ) -> UploadRecord:
        """Insert ``record``; an accepted duplicate returns the existing row instead.

        ``log_head`` is not needed: the log lives in this database and its head moves
        in the same transaction as each entry.
        """
        with self.transaction() as conn:
            inserted = conn.execute(
                f"INSERT INTO uploads ({UPLOAD_COLUMNS}) "  # noqa: S608
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT DO NOTHING RETURNING upload_id",
                upload_row(record),
            ).fetchall()
            if inserted:
                return record
            rows = conn.execute(
                f"SELECT {UPLOAD_COLUMNS} FROM uploads WHERE verdict = 'accepted' "  # noqa: S608
                "AND organization = %s AND bundle_root_hash = %s",
                (record.organization, record.bundle_root_hash),
            ).fetchall()
        return upload_from_row(rows[0])

    # assessments

    def record_assessment(self, record: AssessmentRecord) -> AssessmentRecord:
        """Insert ``record`` unless its key exists; returns the stored one."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO assessments (assessment_key, organization, upload_id, "
                "bundle_root_hash, record, assessed_at) VALUES (%s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (assessment_key) DO NOTHING",
                assessment_row(record),
            )
            row = conn.execute(
                "SELECT record FROM assessments WHERE assessment_key = %s", (record.assessment_key,)
            ).fetchone()
        return AssessmentRecord.model_validate_json(row[0])

    def find_assessment(self, key: str) -> AssessmentRecord | None:
        rows = self._rows("SELECT record FROM assessments WHERE assessment_key = %s", (key,))
        return AssessmentRecord.model_validate_json(rows[0][0]) if rows else None

    def list_assessments(self, orgs: Sequence[str] | None = None) -> list[AssessmentRecord]:
        """Assessments of ``orgs`` (all if None), newest first."""
        if orgs is None:
            rows = self._rows("SELECT record FROM assessments ORDER BY assessed_at DESC")
        else:
            rows = self._rows(
                "SELECT record FROM assessments WHERE organization = ANY(%s) "
                "ORDER BY assessed_at DESC",
                (list(orgs),),
            )
        return [AssessmentRecord.model_validate_json(row[0]) for row in rows]

    # log anchor (the log itself: intake.dblog)

    def log_head(self) -> tuple[int, str, int]:
        seq, digest, offset = self._rows("SELECT seq, sha256, end_offset FROM log_anchor")[0]
        return (int(seq), str(digest), int(offset))

    def set_log_head(self, head: tuple[int, str, int]) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE log_anchor SET seq = %s, sha256 = %s, end_offset = %s WHERE seq < %s",
                (*head, head[0]),
            )

    def close(self) -> None:
        self._pool.close()
