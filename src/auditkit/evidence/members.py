"""What every bundle reader shares: members, capped member streams, refusals, the scan.

:class:`Reader` is a scanned, accepted bundle source; its subclasses read folders
(:mod:`.folder`), ``.zip`` (:mod:`.ziparchive`) and ``.tar.gz`` (:mod:`.tararchive`).
:class:`MemberStream` counts the bytes it gives out, refuses more than the member
may hold, and refuses a member that is itself an archive (by magic bytes).
:class:`Problems` gathers refusals during a scan so that all are reported at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import lzma
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..errors import InvalidInputError, ProblemList
from .limits import CHUNK_SIZE, Limits, format_size
from .names import fold, name_problem, show

_MAGIC = (
    (0, b"PK\x03\x04", "a zip archive"),
    (0, b"PK\x05\x06", "a zip archive"),
    (0, b"PK\x07\x08", "a zip archive"),
    (0, b"\x1f\x8b", "a gzip file"),
    (0, b"\xfd7zXZ\x00", "an xz file"),
    (0, b"7z\xbc\xaf\x27\x1c", "a 7z archive"),
    (0, b"\x28\xb5\x2f\xfd", "a zstd file"),
    (0, b"Rar!\x1a\x07", "a rar archive"),
    (257, b"ustar", "a tar archive"),
)
_BZIP2_BLOCKS = (b"1AY&SY", b"\x17rE8P\x90")  # first block, or end of an empty stream
HEAD_SIZE = 512
_HEAD = HEAD_SIZE
READ_ERRORS = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError, tarfile.TarError, ValueError,
               NotImplementedError)
"""What reading a damaged archive member can raise (``NotImplementedError``: an unknown compression)."""


def _reason(exc: BaseException) -> str:
    return str(exc)[:160] or type(exc).__name__


def nested_archive(head: bytes) -> str | None:
    """What archive format ``head`` (a file's first bytes) starts with, if any."""
    for offset, magic, what in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return what
    if (
        head[:3] == b"BZh"
        and head[3:4] in b"123456789"
        and head[3:4]
        and head[4:10] in _BZIP2_BLOCKS
    ):
        return "a bzip2 file"
    return None


def refuse_nested(head: bytes, where: str) -> None:
    """Refuse a member whose first bytes (``HEAD_SIZE`` of them) show an archive format."""
    what = nested_archive(head)
    if what:
        raise InvalidInputError(
            f"member is itself {what}; nested archives are not accepted",
            where=where,
            hint="put the files themselves in the bundle",
        )


def over_limit(limit: int, where: str) -> InvalidInputError:
    """The refusal of a member that holds more bytes than it may."""
    return InvalidInputError(
        f"member holds more than the {limit} bytes it was allowed",
        where=where,
        hint="the archive header understates its size, or the file changed while read",
    )


@dataclass(frozen=True)
class Member:
    """A regular file of the bundle, as listed by its archive or folder."""

    name: str
    size: int
    sha256: str | None = None
    """Known already (``.tar.gz`` members are hashed while being spooled)."""


class MemberStream(io.RawIOBase):
    """A member's bytes, capped at ``limit``, refusing nested archives; errors name the member."""

    def __init__(self, raw: BinaryIO, where: str, limit: int, *, check_nested: bool = True):
        super().__init__()
        self._raw = raw
        self._where = where
        self._limit = limit
        self._count = 0
        self._head: bytes | None = None if check_nested else b""
        self._head_pos = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        """Up to ``size`` bytes (fewer only at the end); all that is left if ``size`` < 0."""
        if size is None or size < 0:
            return self.readall()
        buffer = bytearray(size)
        view = memoryview(buffer)
        filled = 0
        while filled < size:
            n = self.readinto(view[filled:])
            if not n:
                break
            filled += n
        view.release()
        del buffer[filled:]
        return bytes(buffer)

    def _raw_read(self, size: int) -> bytes:
        try:
            return self._raw.read(size)
        except InvalidInputError:
            raise
        except READ_ERRORS as exc:
            raise InvalidInputError(
                f"cannot read member: {_reason(exc)} (truncated or corrupt)",
                where=self._where,
            ) from None

    def _fill_head(self) -> None:
        head = b""
        while len(head) < _HEAD:
            chunk = self._raw_read(_HEAD - len(head))
            if not chunk:
                break
            head += chunk
        refuse_nested(head, self._where)
        self._head = head

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._head is None:
            self._fill_head()
        view = memoryview(buffer).cast("B")
        head = self._head or b""
        if self._head_pos < len(head):
            n = min(len(view), len(head) - self._head_pos)
            view[:n] = head[self._head_pos : self._head_pos + n]
            self._head_pos += n
        else:
            try:
                got = self._raw.readinto(view)  # type: ignore[attr-defined]
            except InvalidInputError:
                raise
            except READ_ERRORS as exc:
                raise InvalidInputError(
                    f"cannot read member: {_reason(exc)} (truncated or corrupt)",
                    where=self._where,
                ) from None
            n = got or 0
        self._count += n
        if self._count > self._limit:
            raise over_limit(self._limit, self._where)
        return n

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._raw.close()
        super().close()


class Problems:
    """Refusals gathered during a scan, raised together."""

    def __init__(self, display: str, separator: str = "!"):
        self.display = display
        self.separator = separator
        self.lines: list[str] = []

    def add(self, member: str | None, reason: str, hint: str | None = None) -> None:
        where = self.display if member is None else f"{self.display}{self.separator}{show(member)}"
        if hint is None:
            hint = (
                "re-create the bundle with 'auditkit bundle pack'"
                if member is None
                else "remove or replace that file, then seal and pack again"
            )
        self.lines.append(f"{where}: {reason}" + (f" ({hint})" if hint else ""))

    def raise_if_any(self) -> None:
        if len(self.lines) == 1:
            raise InvalidInputError(self.lines[0])
        if self.lines:
            raise ProblemList(self.lines)


class Reader:
    """A scanned, accepted bundle source. Subclasses fill ``members``."""

    def __init__(self, source: Path, limits: Limits):
        self.source = source
        self.limits = limits
        self.display = str(source)
        self.members: dict[str, Member] = {}
        self._problems = Problems(self.display)
        self._folded: dict[str, str] = {}
        self._folders: set[str] = set()
        self._total = 0
        self._entries = 0

    def where(self, name: str) -> str:
        """How messages name member ``name``."""
        return f"{self.display}!{name}"

    def open(self, name: str) -> MemberStream:
        """Stream member ``name`` (capped at its listed size)."""
        raise NotImplementedError

    def digest(self, name: str, advance: Callable[[int], None] | None = None) -> tuple[str, int]:
        """SHA-256 (hex) and byte count of member ``name``, read through one reused buffer."""
        digest = hashlib.sha256()
        size = 0
        with self.open(name) as stream:
            for chunk in iter_chunks(stream):
                digest.update(chunk)
                size += len(chunk)
                if advance:
                    advance(len(chunk))
        return digest.hexdigest(), size

    def close(self) -> None:
        """Release handles and temporary files."""

    # scanning helpers shared by the formats
    def _count_entry(self) -> None:
        self._entries += 1
        if self._entries > self.limits.max_files:
            self._problems.add(
                None,
                f"more than {self.limits.max_files} members",
                "raise --max-files if this is expected",
            )
            self._problems.raise_if_any()

    def _accept_name(self, name: str, *, folder: bool = False) -> bool:
        reason = name_problem(name)
        if reason:
            self._problems.add(name, reason)
            return False
        key = fold(name)
        if key in self._folded and not (folder and key in self._folders):
            self._problems.add(
                name,
                f"duplicate name (same as {show(self._folded[key])} "
                "after Unicode normalization and case folding)",
            )
            return False
        parts = key.split("/")
        for depth in range(1, len(parts)):
            prefix = "/".join(parts[:depth])
            if prefix in self._folded and prefix not in self._folders:
                self._problems.add(
                    name, f"{show(self._folded[prefix])} is both a file and a folder"
                )
                return False
            self._folders.add(prefix)
        if folder:
            if key in self._folded and key not in self._folders:
                self._problems.add(name, f"{show(self._folded[key])} is both a file and a folder")
                return False
            self._folders.add(key)
        elif key in self._folders:
            self._problems.add(name, "is both a file and a folder")
            return False
        self._folded[key] = name
        return True

    def _accept_size(self, name: str, size: int, stored: int | None = None) -> bool:
        limits = self.limits
        if size > limits.max_file_size:
            self._problems.add(
                name,
                f"member is {format_size(size)}, over the "
                f"{format_size(limits.max_file_size)} per-file limit",
                "raise --max-file-size if this is expected",
            )
            return False
        self._total += size
        if self._total > limits.max_total_size:
            self._problems.add(
                name,
                f"members add up to more than the {format_size(limits.max_total_size)} total limit",
                "raise --max-size if this is expected",
            )
            self._problems.raise_if_any()
        if (
            stored is not None
            and size >= limits.ratio_floor
            and size > limits.max_ratio * max(stored, 1)
        ):
            self._problems.add(
                name,
                f"compression ratio {size / max(stored, 1):.0f}:1 is over the "
                f"limit of {limits.max_ratio:.0f}:1 (zip bomb?)",
                "raise --max-ratio if this is expected",
            )
            return False
        return True


def iter_chunks(stream: MemberStream) -> Iterator[memoryview]:
    """Read ``stream`` in 1 MiB chunks through one reused buffer."""
    buffer = bytearray(CHUNK_SIZE)
    view = memoryview(buffer)
    while n := stream.readinto(view):
        yield view[:n]
