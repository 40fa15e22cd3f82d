"""An intake store folder: its layout, its tokens, and opening it for a server.

::

    STORE/
      objects/<sha256>       accepted archives, read-only, content-addressed
      index.sqlite3          tokens, upload records, log anchor (WAL mode)
      intake.log.jsonl       hash-chained event log
      server-key.pem         Ed25519 receipt-signing key (0600); server.pub beside it
      incoming/              uploads being received (emptied at every start)
      quarantine/            one private folder per bundle under verification (same)
      server.lock            held by the one server using the store

With ``index="postgresql://..."`` the index *and the log* live in PostgreSQL
(:mod:`auditkit.intake.pgindex`, :mod:`auditkit.intake.dblog`); with
``objects="s3://bucket/prefix"`` the archives live in S3
(:mod:`auditkit.intake.s3store`). The folder then only holds the server's key,
``incoming/`` and ``quarantine/``: each of several servers has its own.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import secrets
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

from ..errors import InvalidInputError, UsageError
from .log import IntakeLog, LogReport, verify_log
from .models import Role, TokenRecord, check_org
from .sqliteindex import SqliteIndex
from .storage import FilesystemObjectStore, IntakeIndex, ObjectStore

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from .dblog import DatabaseLog

TOKEN_PREFIX = "akt_"  # noqa: S105 - a prefix, not a secret


def utc_now() -> str:
    """The current UTC time, RFC 3339 with microseconds and ``Z``."""
    now = dt.datetime.now(dt.UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass
class IntakeStore:
    """An opened store: its object store, its index, and (for a server) its log and key."""

    root: Path
    objects: ObjectStore
    index: IntakeIndex
    log: IntakeLog | DatabaseLog | None = None
    key: Ed25519PrivateKey | None = None
    _lock_file: IO[bytes] | None = field(default=None, repr=False)

    @property
    def incoming(self) -> Path:
        return self.root / "incoming"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def log_path(self) -> Path:
        return self.root / "intake.log.jsonl"

    def close(self) -> None:
        """Close the log, the index and release the server lock (safe to call twice)."""
        if self.log is not None:
            self.log.close()
        self.index.close()
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None


def _index(root: Path, url: str | None) -> IntakeIndex:
    if url is None:
        return SqliteIndex(root / "index.sqlite3")
    if not url.startswith(("postgresql://", "postgres://")):
        raise UsageError("--index must be a postgresql:// URL", where=url)
    from .pgindex import PostgresIndex

    return PostgresIndex(url)


def _objects(root: Path, url: str | None) -> ObjectStore:
    if url is None:
        return FilesystemObjectStore(root / "objects")
    from .s3store import S3ObjectStore

    return S3ObjectStore(url)


def open_store(
    root: Path, *, create: bool = True, index: str | None = None, objects: str | None = None
) -> IntakeStore:
    """Open (and lay out, if ``create``) a store for tools: tokens, key export, log checks.

    ``index`` (a ``postgresql://`` URL) and ``objects`` (an ``s3://`` URL) replace the
    folder's SQLite index and ``objects/``.
    """
    root = Path(root)
    if not root.is_dir():
        if not create:
            raise UsageError("intake store not found", where=str(root), hint="check --store")
        root.mkdir(parents=True, mode=0o700)
    if index is None and not (root / "index.sqlite3").exists() and not create:
        raise UsageError("not an intake store (no index.sqlite3)", where=str(root))
    for sub in ("objects", "incoming", "quarantine"):
        (root / sub).mkdir(mode=0o700, exist_ok=True)
    opened_index = _index(root, index)
    try:
        return IntakeStore(root=root, objects=_objects(root, objects), index=opened_index)
    except BaseException:
        opened_index.close()
        raise


def _open_log(store: IntakeStore) -> IntakeLog | DatabaseLog:
    from .pgindex import PostgresIndex

    if isinstance(store.index, PostgresIndex):
        from .dblog import DatabaseLog

        return DatabaseLog(store.index)
    return IntakeLog(store.log_path, store.index.log_head(), store.index.set_log_head)


def open_for_serving(
    root: Path, *, index: str | None = None, objects: str | None = None
) -> IntakeStore:
    """Open a store for the one server that may use this folder.

    Takes the folder's lock, deletes whatever a killed server left in ``incoming/``
    and ``quarantine/`` (never visible: only complete, verified archives reach the
    object store and only then the index), checks the log against its anchor, and
    loads or creates the signing key.
    """
    from .receipts import load_or_create_key

    store = open_store(root, index=index, objects=objects)
    lock = open(store.root / "server.lock", "wb")  # noqa: SIM115 - held for the server's life
    try:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        store.close()
        raise UsageError("another auditkit server is using this store", where=str(root)) from None
    store._lock_file = lock
    try:
        for folder in (store.incoming, store.quarantine):
            for entry in folder.iterdir():
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
        store.key = load_or_create_key(store.root)
        store.log = _open_log(store)
    except BaseException:
        store.close()
        raise
    return store


def verify_store_log(root: Path, *, index: str | None = None) -> LogReport:
    """Verify a store's intake log against the anchor in its index."""
    store = open_store(root, create=index is not None, index=index)
    try:
        if index is not None:
            from .dblog import verify_database_log
            from .pgindex import PostgresIndex

            assert isinstance(store.index, PostgresIndex)
            return verify_database_log(store.index)
        return verify_log(store.log_path, store.index.log_head())
    finally:
        store.close()


def create_token(
    root: Path,
    organization: str,
    role: Role,
    grants: Sequence[str] = (),
    *,
    index: str | None = None,
) -> tuple[str, TokenRecord]:
    """Create an API token; returns the secret (shown once) and the stored record."""
    try:
        check_org(organization)
        for grant in grants:
            check_org(grant)
    except ValueError as exc:
        raise InvalidInputError(str(exc), where="--org/--grant") from None
    if role == "submitter" and grants:
        raise UsageError("--grant is only for auditor tokens", where="--grant")
    if role == "auditor" and not grants:
        raise UsageError(
            "an auditor token needs at least one --grant ORG",
            where="--grant",
            hint="name the organizations it may read",
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = TokenRecord(
        token_id="tok_" + secrets.token_hex(6),
        organization=organization,
        role=role,
        grants=tuple(dict.fromkeys(grants)),
        secret_sha256=hash_token(secret),
        created_at=utc_now(),
    )
    store = open_store(root, index=index)
    try:
        from .receipts import load_or_create_key

        load_or_create_key(store.root)
        store.index.add_token(record)
    finally:
        store.close()
    return secret, record


def export_public_key(root: Path) -> bytes:
    """The PEM public key receipts are signed with (the key is created if absent)."""
    from .receipts import load_or_create_key, public_pem

    store = open_store(root)
    try:
        return public_pem(load_or_create_key(store.root).public_key())
    finally:
        store.close()
