"""``.zip`` bundles, checked from the end record and central directory before any data is read.

The entry count is read from the end-of-central-directory record before
``zipfile`` parses the directory; then names, types (links, devices), encryption,
declared sizes, compression methods (stored, deflate, bzip2, lzma), compression ratios
and distinct, non-overlapping member data are checked. Each thread reads through its own ``ZipFile`` handle.
"""

from __future__ import annotations

import contextlib
import stat
import struct
import threading
import zipfile
from pathlib import Path
from typing import BinaryIO, cast

from ..errors import InvalidInputError
from .limits import Limits
from .members import READ_ERRORS, Member, MemberStream, Reader
from .names import show


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


_COMPRESSIONS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA})


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
            if info.compress_type not in _COMPRESSIONS:
                self._problems.add(
                    name, f"uses compression method {info.compress_type}; only stored, deflate, "
                    "bzip2 and lzma are accepted"
                )
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
        except READ_ERRORS as exc:
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
