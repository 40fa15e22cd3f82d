"""The intake log: an append-only, hash-chained JSON-lines record of every intake event.

Each line is one canonical JSON object (RFC 8785) holding ``seq`` (1, 2, ...),
``time``, ``event`` and its fields, and ``prev``: the SHA-256 of the previous
line's bytes (64 zeros for the first). Lines are written with a single
``write`` on an ``O_APPEND`` descriptor and ``fsync``'d, so a killed server
leaves whole lines. After each append the index's *anchor* moves to the new
``(seq, sha256, end offset)``: removing or editing the last entries, which a
chain alone cannot notice, then contradicts the anchor. Receipts carry the
sequence number and hash of their verdict entry, so outsiders hold anchors too.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import IntegrityError, ProblemList
from .storage import ZERO_HASH

Head = tuple[int, str, int]


def _canonical(entry: dict[str, Any]) -> bytes:
    import rfc8785

    return rfc8785.dumps(entry)


def _is_canonical(entry: dict[str, Any], line: bytes) -> bool:
    try:
        return _canonical(entry) == line
    except (ValueError, RecursionError):  # rfc8785 refuses e.g. integers beyond 2**53, NaN
        return False


@dataclass(frozen=True)
class LogEntry:
    """One appended entry: its sequence number, its line's SHA-256 and where it ends."""

    seq: int
    sha256: str
    end_offset: int
    data: dict[str, Any]

    @property
    def head(self) -> Head:
        """The anchor that points at this entry."""
        return (self.seq, self.sha256, self.end_offset)


class IntakeLog:
    """Appends entries to ``path``; one writer process (the server holds the store lock)."""

    def __init__(self, path: Path, head: Head, on_append: Callable[[Head], None]):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._on_append = on_append
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        self._seq, self._prev, self._offset = self._adopt(head)

    def _adopt(self, head: Head) -> Head:
        """Check the log against the anchor and take over entries written after it.

        A server killed between writing an entry and moving the anchor leaves
        chain-valid entries past the anchor; they are adopted. Anything else
        (a torn line, a broken chain, a log shorter than the anchor) refuses.
        """
        report = verify_log(self.path, head)
        if report.last != head:
            self._on_append(report.last)
        return report.last

    @property
    def head(self) -> Head:
        return (self._seq, self._prev, self._offset)

    def append(self, event: str, time: str, *, anchor: bool = True, **fields: Any) -> LogEntry:
        """Append one entry, fsync it, move the anchor; returns the entry.

        With ``anchor=False`` the caller moves the anchor itself (to ``entry.head``),
        in the same index transaction as the record the entry is about.
        """
        with self._lock:
            entry = {"seq": self._seq + 1, "time": time, "event": event, **fields}
            entry["prev"] = self._prev
            line = _canonical(entry)
            data = line + b"\n"
            written = os.write(self._fd, data)
            if written != len(data):  # pragma: no cover - regular files write whole
                raise OSError(f"short write to {self.path}")
            os.fsync(self._fd)
            self._seq += 1
            self._prev = hashlib.sha256(line).hexdigest()
            self._offset += len(data)
            if anchor:
                self._on_append(self.head)
            return LogEntry(self._seq, self._prev, self._offset, entry)

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1


@dataclass(frozen=True)
class LogReport:
    """The outcome of a successful verification."""

    entries: int
    last: Head
    unanchored: int


def _lines(path: Path) -> Iterator[tuple[int, bytes, int]]:
    """``(line number, line without newline, end offset)``; a torn last line has no newline."""
    offset = 0
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            offset += len(raw)
            yield number, raw, offset


def verify_log(path: Path, anchor: Head, *, max_problems: int = 20) -> LogReport:
    """Check the whole chain and the anchor; raise :class:`ProblemList` naming each bad line."""
    if not Path(path).exists():
        if anchor[0]:
            raise IntegrityError(
                f"intake log is missing but the index anchors {anchor[0]} entries", where=str(path)
            )
        return LogReport(0, (0, ZERO_HASH, 0), 0)
    return verify_lines(_lines(Path(path)), str(path), anchor, max_problems=max_problems)


def verify_lines(
    lines: Iterable[tuple[int, bytes, int]], where: str, anchor: Head, *, max_problems: int = 20
) -> LogReport:
    """Check ``(line number, line with its newline, end offset)`` entries as one chain."""
    problems: list[str] = []
    prev = ZERO_HASH
    count = 0
    last: Head = (0, ZERO_HASH, 0)
    anchor_seq, anchor_hash, _ = anchor
    for number, raw, end in lines:
        if len(problems) >= max_problems:
            problems.append(f"{where}: further problems not listed")
            break
        if not raw.endswith(b"\n"):
            problems.append(f"{where}:{number}: incomplete entry (no line end): torn write")
            break
        line = raw[:-1]
        digest = hashlib.sha256(line).hexdigest()
        try:
            entry = json.loads(line)
            if not isinstance(entry, dict):
                raise ValueError("not an object")
        except (ValueError, RecursionError):
            problems.append(f"{where}:{number}: not a JSON object: entry edited or damaged")
            prev, count = digest, number
            continue
        seq = entry.get("seq")
        if seq != number:
            problems.append(
                f"{where}:{number}: sequence number is {seq}, expected {number}: "
                "an entry before it was removed or inserted"
            )
        elif entry.get("prev") != prev:
            problems.append(
                f"{where}:{number}: does not chain to line {number - 1}: "
                f"line {number - 1} was edited or an entry was removed before line {number}"
            )
        elif not _is_canonical(entry, line):
            problems.append(f"{where}:{number}: not in canonical form: entry edited")
        if number == anchor_seq and digest != anchor_hash:
            problems.append(
                f"{where}:{number}: differs from the hash the index anchored: entry edited"
            )
        prev, count, last = digest, number, (number, digest, end)
    if count < anchor_seq:
        problems.append(
            f"{where}:{count + 1}: missing: the index anchors {anchor_seq} entries, "
            f"the log has {count}: entries were removed from the end"
        )
    if problems:
        raise ProblemList(problems, exit_code=IntegrityError.exit_code)
    return LogReport(count, last, count - anchor_seq)
