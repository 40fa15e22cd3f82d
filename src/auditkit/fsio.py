"""Safe output: every file auditkit writes goes through :func:`atomic_writer`.

What the output path names decides how it is written:

* nothing yet, or a regular file: the content goes to a temp file beside it,
  which is renamed over the path once complete. A crash or a refusal half-way
  never leaves a partial output, and an existing file is replaced only by a
  complete new one;
* a character device or a FIFO (``-o /dev/null``, ``-o /dev/stdout``, a named
  pipe, the ``/dev/fd/N`` path of a shell's ``>(…)``): the content is collected
  first and written through to it only once complete. Nothing is ever renamed
  over a device or a pipe;
* a symbolic link is refused, unless it leads to a character device or a FIFO
  (``/dev/stdout`` and ``/dev/fd/N`` are such links); a directory, block device,
  socket or other special file is refused too. Refusals are
  :class:`~auditkit.errors.InvalidInputError` (exit 3) naming the path.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from .errors import InvalidInputError, UsageError

_SPOOL_IN_MEMORY = 8 * 1024 * 1024


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def _write_through(mode: int) -> bool:
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)


def output_kind(path: Path) -> str:
    """``"file"`` (renamed into place) or ``"stream"`` (written through); raise if refused."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return "file"
    except OSError as exc:
        raise InvalidInputError(f"cannot use this output path: {exc.strerror}", where=str(path)) from None
    if stat.S_ISREG(info.st_mode):
        return "file"
    if _write_through(info.st_mode):
        return "stream"
    if stat.S_ISLNK(info.st_mode):
        try:
            target = os.stat(path)
        except OSError:
            target = None
        if target is not None and _write_through(target.st_mode):
            return "stream"
        raise InvalidInputError(
            "the output path is a symbolic link; auditkit neither follows it nor replaces it",
            where=str(path), hint="give the real path of the file to write",
        )
    raise InvalidInputError(
        f"the output path is {_kind(info.st_mode)}, not a file auditkit can write",
        where=str(path), hint="give the path of a file to create or replace",
    )


@contextlib.contextmanager
def atomic_writer(path: Path, mode: int = 0o644) -> Iterator[IO[bytes]]:
    """Yield a binary handle; on success the content replaces (or streams to) ``path``."""
    path = Path(path)
    if output_kind(path) == "stream":
        with _streaming_writer(path) as handle:
            yield handle
        return
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError("output folder does not exist", where=str(parent), hint="create it first")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def _streaming_writer(path: Path) -> Iterator[IO[bytes]]:
    """Collect the content, then write it to the device or FIFO at ``path`` in one go."""
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY) as spool:
        yield spool
        spool.flush()
        spool.seek(0)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NOCTTY)
        except OSError as exc:
            raise InvalidInputError(f"cannot open the output: {exc.strerror}", where=str(path)) from None
        with os.fdopen(fd, "wb") as out:
            if not _write_through(os.fstat(out.fileno()).st_mode):  # swapped since it was checked
                raise InvalidInputError("the output path changed while auditkit was writing", where=str(path))
            shutil.copyfileobj(spool, out, 1024 * 1024)


def write_bytes(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` (see :func:`atomic_writer`)."""
    with atomic_writer(path, mode) as handle:
        handle.write(data)


def write_text(path: Path, text: str, mode: int = 0o644) -> None:
    """Write UTF-8 ``text`` to ``path`` (see :func:`atomic_writer`)."""
    write_bytes(path, text.encode("utf-8"), mode)
