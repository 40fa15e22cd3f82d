"""Moving an embedded store (SQLite + folder) onto a scaled deployment (PostgreSQL + S3).

The source folder is only read (scratch files go to a private temp folder). The
target database must be new (no log yet); the bucket may already hold some of the
objects (``put`` never overwrites). Order:
check the source log against its anchor, copy the objects (each checked against
its name while copying), then tokens, upload records, assessments, and last the
log, line for line, so sequence numbers and entry hashes, and therefore every
receipt, stay valid. A migration that stops half way can be rerun into a fresh
database; the bucket's objects are reused.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import IntegrityError, UsageError
from .store import open_store


@dataclass(frozen=True)
class MigrationReport:
    tokens: int
    uploads: int
    assessments: int
    objects: int
    objects_present: int
    log_entries: int


def migrate_store(root: Path, index: str, objects: str,
                  progress: Callable[[str], None] = lambda _: None) -> MigrationReport:
    """Copy the store at ``root`` into ``index`` (postgresql://) and ``objects`` (s3://)."""
    from .dblog import import_log, verify_database_log
    from .log import verify_log
    from .pgindex import PostgresIndex

    scratch = tempfile.TemporaryDirectory(prefix="auditkit-migrate-")
    source = open_store(root, create=False)
    try:
        target = open_store(Path(scratch.name), index=index, objects=objects)
    except BaseException:
        source.close()
        scratch.cleanup()
        raise
    try:
        assert isinstance(target.index, PostgresIndex)
        anchor = source.index.log_head()
        verify_log(source.log_path, anchor)
        if target.index.log_head()[0] or target.index.count_uploads():
            raise UsageError("the target database is not empty", where=target.index.where,
                             hint="migrate into a new database")
        digests = list(source.objects.list())
        stored = present = 0
        for number, digest in enumerate(digests, start=1):
            if target.objects.exists(digest):
                present += 1
                continue
            fd, name = tempfile.mkstemp(dir=scratch.name)
            copy = hashlib.sha256()
            with source.objects.get(digest) as handle, os.fdopen(fd, "wb") as out:
                while chunk := handle.read(1024 * 1024):
                    copy.update(chunk)
                    out.write(chunk)
            if copy.hexdigest() != digest:
                os.unlink(name)
                raise IntegrityError(f"object differs from its name {digest}", where=str(root / "objects"))
            target.objects.put(digest, Path(name))
            stored += 1
            if number % 100 == 0:
                progress(f"objects: {number}/{len(digests)}")
        tokens = source.index.list_tokens()
        for token in tokens:
            target.index.add_token(token)
        orgs = sorted({t.organization for t in tokens} | {g for t in tokens for g in t.grants}
                      | {a.organization for a in source.index.list_assessments()})
        uploads = sorted(source.index.list_uploads(orgs, 10**9) if orgs else [],
                         key=lambda u: (u.received_at, u.upload_id))
        if len(uploads) != source.index.count_uploads():
            raise UsageError("some uploads belong to no token's organization; not migrated",
                             where=str(root / "index.sqlite3"))
        for upload in uploads:
            target.index.record_upload(upload)
        assessments = source.index.list_assessments()
        for assessment in assessments:
            target.index.record_assessment(assessment)
        progress(f"records: {len(tokens)} tokens, {len(uploads)} uploads, {len(assessments)} assessments")
        report = import_log(target.index, source.log_path, anchor)
        verify_database_log(target.index)
        return MigrationReport(len(tokens), len(uploads), len(assessments), stored, present, report.entries)
    finally:
        target.close()
        source.close()
        scratch.cleanup()
