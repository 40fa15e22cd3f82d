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

from pathlib import Path

from ..errors import InvalidInputError
from .folder import FolderReader
from .limits import Limits
from .members import Member, MemberStream, Problems, Reader, iter_chunks, nested_archive
from .tararchive import TarGzReader
from .ziparchive import ZipReader, zip_entry_count

__all__ = [
    "FolderReader",
    "Member",
    "MemberStream",
    "Problems",
    "Reader",
    "TarGzReader",
    "ZipReader",
    "iter_chunks",
    "nested_archive",
    "open_reader",
    "zip_entry_count",
]


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
