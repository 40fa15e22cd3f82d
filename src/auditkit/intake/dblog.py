"""The intake log kept in the PostgreSQL index, so every server of a deployment writes one chain.

Same entries, same canonical lines, same verifier as the file log
(:mod:`auditkit.intake.log`): only the storage differs. Each append is one
transaction that locks the single ``log_anchor`` row (``SELECT ... FOR UPDATE``),
inserts the next line into ``intake_log`` and moves the head, so appends from any
number of servers are serialized into one sequence with no gaps, and an entry and
its head can never disagree. Rows are never updated or deleted by auditkit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .log import Head, LogEntry, LogReport, _canonical, verify_lines

if TYPE_CHECKING:
    from .pgindex import PostgresIndex


class DatabaseLog:
    """The :class:`~auditkit.intake.log.IntakeLog` interface over the ``intake_log`` table."""

    def __init__(self, index: PostgresIndex, *, check: bool = True):
        self.index = index
        self.path = f"{index.where}#intake_log"
        if check:
            verify_database_log(index)

    @property
    def head(self) -> Head:
        return self.index.log_head()

    def append(self, event: str, time: str, *, anchor: bool = True, **fields: Any) -> LogEntry:
        """Append one entry (``anchor`` is ignored: the head always moves with the entry)."""
        with self.index.transaction() as conn:
            seq, prev, offset = conn.execute(
                "SELECT seq, sha256, end_offset FROM log_anchor WHERE id = 1 FOR UPDATE"
            ).fetchone()
            entry = {"seq": int(seq) + 1, "time": time, "event": event, **fields, "prev": prev}
            line = _canonical(entry)
            digest = hashlib.sha256(line).hexdigest()
            end = int(offset) + len(line) + 1
            conn.execute(
                "INSERT INTO intake_log (seq, line) VALUES (%s, %s)", (entry["seq"], line.decode())
            )
            conn.execute(
                "UPDATE log_anchor SET seq = %s, sha256 = %s, end_offset = %s WHERE id = 1",
                (entry["seq"], digest, end),
            )
        return LogEntry(entry["seq"], digest, end, entry)

    def close(self) -> None:
        """Nothing to close: the index owns the connections."""


def _rows(index: PostgresIndex) -> Iterator[tuple[int, bytes, int]]:
    offset = 0
    with index.transaction() as conn:
        cursor = conn.cursor(name="intake_log_walk")
        cursor.itersize = 2000
        cursor.execute("SELECT line FROM intake_log ORDER BY seq")
        for number, (line,) in enumerate(cursor, start=1):
            raw = line.encode() + b"\n"
            offset += len(raw)
            yield number, raw, offset


def verify_database_log(index: PostgresIndex) -> LogReport:
    """Walk the whole chain in ``intake_log`` against the head row; raises naming each bad entry."""
    return verify_lines(_rows(index), f"{index.where}#intake_log", index.log_head())


def import_log(index: PostgresIndex, path: Path, anchor: Head) -> LogReport:
    """Copy a file log, verified against ``anchor``, into an empty ``intake_log`` line for line.

    Sequence numbers and hashes stay the same, so every receipt still points at its entry.
    """
    from ..errors import UsageError
    from .log import verify_log

    report = verify_log(path, anchor)
    with index.transaction() as conn:
        seq = conn.execute("SELECT seq FROM log_anchor WHERE id = 1 FOR UPDATE").fetchone()[0]
        if int(seq) != 0:
            raise UsageError("the target database already has an intake log", where=index.where,
                             hint="migrate into a new, empty database")
        with open(path, "rb") as handle, conn.cursor().copy("COPY intake_log (seq, line) FROM STDIN") as copy:
            for number, raw in enumerate(handle, start=1):
                copy.write_row((number, raw.rstrip(b"\n").decode()))
        conn.execute("UPDATE log_anchor SET seq = %s, sha256 = %s, end_offset = %s WHERE id = 1",
                     report.last)
    return report
