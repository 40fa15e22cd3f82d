"""Safe reading of bundles: one interface over folders, ``.zip`` and ``.tar.gz``.

Nothing is ever extracted. Before any member's data is read, the whole listing is
checked: member names (see :mod:`.names`), duplicates after NFC + case folding,
links, devices and other special files, the member count, declared sizes (per
file and total) and compression ratios, and for zip files that no two members
share or overlap their data. While reading, bytes are counted so a member that
lies about its size is stopped at the size it declared, and a member that is
itself an archive (zip, gzip, tar, bzip2, xz, 7z, zstd, rar by magic bytes) is
refused. ``.tar.gz`` members are read once, in order, through
``TarFile.extractfile`` (regular members only) into a private temporary folder
under numbered names, hashing them on the way.

Every refusal names the archive and member: ``bundle.zip!../../x: path contains
'..' (it would leave the bundle)``; many at once are reported together.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import os
import shutil
import stat
import struct
import tarfile
import tempfile
import threading
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, cast

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
_HEAD = 512
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, tarfile.TarError, ValueError)


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
        return bytes(buffer[:filled])

    def _raw_read(self, size: int) -> bytes:
        try:
            return self._raw.read(size)
        except InvalidInputError:
            raise
        except _READ_ERRORS as exc:
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
        what = nested_archive(head)
        if what:
            raise InvalidInputError(
                f"member is itself {what}; nested archives are not accepted",
                where=self._where,
                hint="put the files themselves in the bundle",
            )
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
            except _READ_ERRORS as exc:
                raise InvalidInputError(
                    f"cannot read member: {_reason(exc)} (truncated or corrupt)",
                    where=self._where,
                ) from None
            n = got or 0
        self._count += n
        if self._count > self._limit:
            raise InvalidInputError(
                f"member holds more than the {self._limit} bytes it was allowed",
                where=self._where,
                hint="the archive header understates its size, or the file changed while read",
            )
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


class _Bounded:
    """A decompressed stream that refuses to be read or skipped past ``limit`` bytes.

    Stops gzip bombs, including oversized pax or long-name headers that ``tarfile``
    would read into memory whole, before the bytes are produced.
    """

    def __init__(self, raw: Any, limit: int, display: str):
        self._raw = raw
        self._limit = limit
        self._display = display

    def _refuse(self) -> InvalidInputError:
        return InvalidInputError(
            f"archive expands past {format_size(self._limit)} (size or ratio limit; gzip bomb?)",
            where=self._display,
            hint="raise --max-size or --max-ratio if this is expected",
        )

    def read(self, size: int = -1) -> bytes:
        position = self._raw.tell()
        if size is None or size < 0 or position + size > self._limit:
            size = self._limit - position + 1
        data: bytes = self._raw.read(size)
        if position + len(data) > self._limit:
            raise self._refuse()
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        target = offset if whence == 0 else self._raw.tell() + offset if whence == 1 else None
        if target is None:
            raise OSError("seeking from the end is not supported")
        if target > self._limit:
            raise self._refuse()
        return int(self._raw.seek(target))

    def tell(self) -> int:
        return int(self._raw.tell())


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


class FolderReader(Reader):
    """A bundle that is a plain folder. Symlinks, hard links and special files are refused."""

    def __init__(self, source: Path, limits: Limits):
        super().__init__(source, limits)
        self._problems.separator = "/"
        self._root = os.open(source, os.O_RDONLY | os.O_DIRECTORY)
        try:
            self._scan()
        except BaseException:
            os.close(self._root)
            raise

    def where(self, name: str) -> str:
        return str(self.source / name)

    def _scan(self) -> None:
        stack: list[tuple[bytes, str]] = [(os.fsencode(self.source), "")]
        while stack:
            path, prefix = stack.pop()
            try:
                entries = sorted(os.scandir(path), key=lambda e: e.name)
            except OSError as exc:
                self._problems.add(prefix or ".", f"cannot list folder: {exc.strerror}")
                continue
            for entry in entries:
                self._count_entry()
                try:
                    text = entry.name.decode("utf-8")
                except UnicodeDecodeError:
                    bad = prefix + entry.name.decode("utf-8", "surrogateescape")
                    self._problems.add(bad, "name is not valid UTF-8")
                    continue
                name = prefix + text
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError as exc:
                    self._problems.add(name, f"cannot stat: {exc.strerror}")
                    continue
                mode = info.st_mode
                if stat.S_ISLNK(mode):
                    self._problems.add(
                        name,
                        "is a symbolic link; links are not accepted",
                        "replace it with the file itself",
                    )
                elif stat.S_ISDIR(mode):
                    if self._accept_name(name, folder=True):
                        stack.append((entry.path, name + "/"))
                elif not stat.S_ISREG(mode):
                    self._problems.add(
                        name, "is a device, pipe or socket; only regular files are accepted"
                    )
                elif info.st_nlink > 1:
                    self._problems.add(
                        name,
                        "is a hard link; links are not accepted",
                        "replace it with a copy of the file",
                    )
                elif self._accept_name(name) and self._accept_size(name, info.st_size):
                    self.members[name] = Member(name, info.st_size)
        self._problems.raise_if_any()

    def open(self, name: str) -> MemberStream:
        member = self.members[name]
        parts = name.split("/")
        fd = os.dup(self._root)
        try:
            for part in parts[:-1]:
                next_fd = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
                os.close(fd)
                fd = next_fd
            file_fd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=fd)
        except OSError as exc:
            raise InvalidInputError(
                f"cannot open: {exc.strerror}", where=self.where(name)
            ) from None
        finally:
            os.close(fd)
        info = os.fstat(file_fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(file_fd)
            raise InvalidInputError("is no longer a regular file", where=self.where(name))
        raw = os.fdopen(file_fd, "rb", buffering=0)
        limit = max(member.size, min(info.st_size, self.limits.max_file_size))
        return MemberStream(cast(BinaryIO, raw), self.where(name), limit)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._root)


def zip_entry_count(path: Path) -> int | None:
    """The member count a zip's end-of-central-directory record declares, read before parsing."""
    size = path.stat().st_size
    tail_size = min(size, 22 + 65535 + 20 + 56)
    with path.open("rb") as handle:
        handle.seek(size - tail_size)
        tail = handle.read(tail_size)
    end = tail.rfind(b"PK\x05\x06")
    if end < 0 or end + 22 > len(tail):
        return None
    (count,) = struct.unpack("<H", tail[end + 10 : end + 12])
    if count != 0xFFFF:
        return int(count)
    locator = end - 20
    if locator < 0 or tail[locator : locator + 4] != b"PK\x06\x07":
        return None
    (offset,) = struct.unpack("<Q", tail[locator + 8 : locator + 16])
    with path.open("rb") as handle:
        handle.seek(offset)
        record = handle.read(56)
    if record[:4] != b"PK\x06\x06" or len(record) < 40:
        return None
    (count64,) = struct.unpack("<Q", record[32:40])
    return int(count64)


class ZipReader(Reader):
    """A ``.zip`` bundle, checked from its central directory before anything is read."""

    def __init__(self, source: Path, limits: Limits):
        super().__init__(source, limits)
        self._local = threading.local()
        self._handles: list[zipfile.ZipFile] = []
        self._lock = threading.Lock()
        self._infos: dict[str, zipfile.ZipInfo] = {}
        declared = zip_entry_count(source)
        if declared is not None and declared > limits.max_files:
            raise InvalidInputError(
                f"{self.display}: {declared} members, over the limit of {limits.max_files}"
                " (raise --max-files if this is expected)"
            )
        try:
            self._zip = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
            raise InvalidInputError(
                f"truncated or corrupt zip archive: {str(exc)[:160]}", where=self.display
            ) from None
        self._handles.append(self._zip)
        try:
            self._scan(source.stat().st_size)
        except BaseException:
            self.close()
            raise

    def _scan(self, archive_size: int) -> None:
        infos = self._zip.infolist()
        if len(infos) > self.limits.max_files:
            self._problems.add(
                None,
                f"{len(infos)} members, over the limit of {self.limits.max_files}",
                "raise --max-files if this is expected",
            )
            self._problems.raise_if_any()
        offsets: dict[int, str] = {}
        for info in infos:
            self._count_entry()
            raw_name = info.filename
            if not info.flag_bits & 0x800:
                try:
                    raw_name = raw_name.encode("cp437").decode("utf-8")
                except UnicodeEncodeError:
                    pass
                except UnicodeDecodeError:
                    shown = raw_name.encode("cp437").decode("utf-8", "surrogateescape")
                    self._problems.add(shown, "name is not valid UTF-8")
                    continue
            name = raw_name
            is_dir = name.endswith("/")
            mode = info.external_attr >> 16
            if info.header_offset in offsets:
                self._problems.add(
                    name,
                    f"shares its data with {show(offsets[info.header_offset])} "
                    "(overlapping members: zip bomb?)",
                )
                continue
            offsets[info.header_offset] = name
            if info.create_system == 3 and stat.S_ISLNK(mode):
                self._problems.add(name, "is a symbolic link; links are not accepted")
                continue
            if info.create_system == 3 and stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
                self._problems.add(
                    name, "is a device or special file; only regular files are accepted"
                )
                continue
            if info.flag_bits & 0x1:
                self._problems.add(name, "is encrypted; encrypted members are not accepted")
                continue
            if is_dir:
                self._accept_name(name[:-1], folder=True)
                continue
            if not self._accept_name(name):
                continue
            if self._accept_size(name, info.file_size, info.compress_size):
                self.members[name] = Member(name, info.file_size)
                self._infos[name] = info
        # no member's data may run into the next member's header
        ordered = sorted(infos, key=lambda i: i.header_offset)
        for current, following in zip(ordered, ordered[1:], strict=False):
            if current.header_offset == following.header_offset:
                continue  # reported above
            if current.header_offset + current.compress_size > following.header_offset:
                self._problems.add(
                    current.filename,
                    f"overlaps {show(following.filename)} (overlapping members: zip bomb?)",
                )
        total = sum(m.size for m in self.members.values())
        if total >= self.limits.ratio_floor and total > self.limits.max_ratio * max(
            archive_size, 1
        ):
            self._problems.add(
                None,
                f"archive expands {total / max(archive_size, 1):.0f}-fold, over the "
                f"limit of {self.limits.max_ratio:.0f} (zip bomb?)",
                "raise --max-ratio if this is expected",
            )
        self._problems.raise_if_any()

    def _handle(self) -> zipfile.ZipFile:
        handle: zipfile.ZipFile | None = getattr(self._local, "zip", None)
        if handle is None:
            handle = zipfile.ZipFile(self.source)
            with self._lock:
                self._handles.append(handle)
            self._local.zip = handle
        return handle

    def open(self, name: str) -> MemberStream:
        info = self._infos[name]
        try:
            raw = self._handle().open(info)
        except _READ_ERRORS as exc:
            raise InvalidInputError(
                f"cannot read member: {str(exc)[:160]} (truncated or corrupt)",
                where=self.where(name),
            ) from None
        return MemberStream(cast(BinaryIO, raw), self.where(name), info.file_size)

    def close(self) -> None:
        with self._lock:
            for handle in self._handles:
                with contextlib.suppress(Exception):
                    handle.close()
            self._handles.clear()


class TarGzReader(Reader):
    """A ``.tar.gz`` bundle, read once in order; regular members are spooled to a private folder."""

    def __init__(self, source: Path, limits: Limits):
        super().__init__(source, limits)
        self._tmp = tempfile.mkdtemp(prefix="auditkit-bundle-")
        self._spooled: dict[str, str] = {}
        try:
            self._scan(source.stat().st_size)
        except BaseException:
            self.close()
            raise

    def _scan(self, archive_size: int) -> None:
        try:
            with (
                gzip.open(self.source, "rb") as unzipped,
                tarfile.open(
                    fileobj=cast(
                        Any, _Bounded(unzipped, self._stream_limit(archive_size), self.display)
                    ),
                    mode="r:",
                    encoding="utf-8",
                    errors="surrogateescape",
                ) as tar,
            ):
                index = 0
                while True:
                    info = tar.next()
                    if info is None:
                        break
                    self._count_entry()
                    self._member(tar, info, index)
                    index += 1
                    expanded = self._total
                    if (
                        expanded >= self.limits.ratio_floor
                        and expanded > self.limits.max_ratio * archive_size
                    ):
                        self._problems.add(
                            None,
                            f"archive expands more than {self.limits.max_ratio:.0f}-fold "
                            "(gzip bomb?)",
                            "raise --max-ratio if this is expected",
                        )
                        break
                self._drain(tar)
        except InvalidInputError:
            raise
        except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
            self._problems.add(None, f"truncated or corrupt .tar.gz archive: {str(exc)[:160]}")
        self._problems.raise_if_any()

    def _stream_limit(self, archive_size: int) -> int:
        """Most bytes the decompressed tar stream may hold: data, headers and padding."""
        limits = self.limits
        limit = limits.max_total_size + limits.max_files * 3 * 512 + 1024 * 1024
        by_ratio = int(limits.max_ratio * archive_size)
        return min(limit, max(by_ratio, limits.ratio_floor))

    def _drain(self, tar: tarfile.TarFile) -> None:
        fileobj = tar.fileobj
        if fileobj is None:  # pragma: no cover
            return
        left = 1024 * 1024
        while chunk := fileobj.read(64 * 1024):
            left -= len(chunk)
            if left < 0:
                self._problems.add(None, "unexpected data after the end of the archive")
                return

    def _member(self, tar: tarfile.TarFile, info: tarfile.TarInfo, index: int) -> None:
        name = info.name
        if name.startswith("./"):
            name = name[2:]
        if name in ("", ".", "./"):
            return
        if info.isdir():
            self._accept_name(name.rstrip("/"), folder=True)
            return
        if info.issym() or info.islnk():
            self._problems.add(
                name,
                f"is a {'symbolic' if info.issym() else 'hard'} link to "
                f"{show(info.linkname)}; links are not accepted",
            )
            return
        if info.ischr() or info.isblk() or info.isfifo():
            self._problems.add(name, "is a device or pipe; only regular files are accepted")
            return
        if not info.isreg() or info.issparse():
            self._problems.add(name, "unsupported member type; only regular files are accepted")
            return
        if not self._accept_name(name) or not self._accept_size(name, info.size):
            return
        if self._problems.lines:
            self.members[name] = Member(name, info.size)  # already refused: do not spool
            return
        self._spool(tar, info, name, index)

    def _spool(self, tar: tarfile.TarFile, info: tarfile.TarInfo, name: str, index: int) -> None:
        extracted = tar.extractfile(info)
        if extracted is None:  # pragma: no cover - isreg() members always have data
            self._problems.add(name, "member has no data")
            return
        target = os.path.join(self._tmp, str(index))
        digest = hashlib.sha256()
        stream = MemberStream(cast(BinaryIO, extracted), self.where(name), info.size)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        count = 0
        buffer = bytearray(CHUNK_SIZE)
        view = memoryview(buffer)
        with os.fdopen(fd, "wb") as out:
            while n := stream.readinto(view):
                digest.update(view[:n])
                out.write(view[:n])
                count += n
        if count != info.size:
            self._problems.add(name, f"member is truncated ({count} of {info.size} bytes)")
            return
        self.members[name] = Member(name, info.size, digest.hexdigest())
        self._spooled[name] = target

    def open(self, name: str) -> MemberStream:
        member = self.members[name]
        raw = open(self._spooled[name], "rb", buffering=0)  # noqa: SIM115 - closed by MemberStream
        return MemberStream(cast(BinaryIO, raw), self.where(name), member.size)

    def close(self) -> None:
        shutil.rmtree(self._tmp, ignore_errors=True)


def open_reader(source: Path, limits: Limits) -> Reader:
    """Scan ``source`` (folder, zip or tar.gz by content) and return its reader, or refuse it."""
    source = Path(source)
    if source.is_dir():
        return FolderReader(source, limits)
    try:
        with source.open("rb") as handle:
            head = handle.read(4)
    except FileNotFoundError:
        raise InvalidInputError("bundle not found", where=str(source)) from None
    except OSError as exc:
        raise InvalidInputError(f"cannot read bundle: {exc.strerror}", where=str(source)) from None
    if not source.is_file():
        raise InvalidInputError("not a folder or a regular file", where=str(source))
    if head.startswith(b"PK"):
        return ZipReader(source, limits)
    if head.startswith(b"\x1f\x8b"):
        return TarGzReader(source, limits)
    if source.suffix.lower() == ".zip":
        return ZipReader(source, limits)  # empty or damaged: ZipReader reports it
    raise InvalidInputError(
        "not a bundle: expected a folder, a .zip or a .tar.gz",
        where=str(source),
        hint="pack the folder with 'auditkit bundle pack'",
    )


def iter_chunks(stream: MemberStream) -> Iterator[memoryview]:
    """Read ``stream`` in 1 MiB chunks through one reused buffer."""
    buffer = bytearray(CHUNK_SIZE)
    view = memoryview(buffer)
    while n := stream.readinto(view):
        yield view[:n]
