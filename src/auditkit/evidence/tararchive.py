"""``.tar.gz`` bundles: read once, in order, regular members spooled to a private folder.

The decompressed stream is bounded (:class:`_Bounded`) before ``tarfile`` sees it,
so gzip bombs and oversized pax or long-name headers are refused before their
bytes exist. Only ``isreg()`` members are read, through ``TarFile.extractfile``,
into a private temporary folder (mode 0700) under numbered names, and hashed on
the way; nothing is ever extracted by name.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tarfile
import tempfile
import zlib
from pathlib import Path
from typing import Any, BinaryIO, cast

from ..errors import InvalidInputError
from .limits import CHUNK_SIZE, Limits, format_size
from .members import Member, MemberStream, Reader
from .names import show


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
