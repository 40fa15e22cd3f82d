"""A user cache of validated catalogs, so that a large catalog is not re-parsed on every run.

Loading 1,000 controls (YAML with positions, JSON Schema, semantic checks, CEL
compilation, digest) takes seconds; reading the same catalog back from the cache
takes milliseconds. An entry is keyed by the SHA-256 of everything the result
depends on: the auditkit version, the source of the modules that validate a
catalog, and each file's name as shown in messages and its bytes. So any change
to a file, or to auditkit, is a miss.

The cache must not be a way to change results. Entries are JSON (never pickle,
which would run code) and carry an HMAC-SHA256 made with a per-user key kept
*outside* the cache folder (``$XDG_CONFIG_HOME/auditkit/cache-key``, mode 0600;
``AUDITKIT_CONFIG_DIR`` moves it),
so that a cache folder copied in from elsewhere (a restored CI cache, a shared
disk) cannot forge an entry. The folder, the key and every entry must belong to
the current user and be writable by no one else; otherwise the cache is not used.
Any entry that does not verify is ignored and rebuilt. A same-user attacker who
can write the key can also change auditkit itself: that is outside what a cache
can defend. ``AUDITKIT_NO_CACHE=1`` turns the cache off; ``AUDITKIT_CACHE_DIR``
moves it (default ``$XDG_CACHE_HOME/auditkit``, i.e. ``~/.cache/auditkit``).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import stat
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import __version__

MAX_ENTRY_BYTES = 256 * 1024 * 1024
_KEY_BYTES = 32
_TAG = hashlib.sha256().digest_size * 2
# the code that decides what a valid catalog is and how it is modelled (globs under the package)
_SOURCES = ("catalog/*.py", "schemas/*.json", "oscal/*.py", "engine/cel.py", "engine/celguard.py", "engine/lexer.py",
            "yamlio.py", "canonjson.py")


def _home(variable: str, fallback: str) -> Path:
    value = os.environ.get(variable)
    return Path(value) if value else Path.home() / fallback


def cache_dir() -> Path:
    """Where entries live."""
    explicit = os.environ.get("AUDITKIT_CACHE_DIR")
    return Path(explicit) if explicit else _home("XDG_CACHE_HOME", ".cache") / "auditkit"


def key_path() -> Path:
    """The HMAC key file (outside the cache folder; ``AUDITKIT_CONFIG_DIR`` moves it)."""
    explicit = os.environ.get("AUDITKIT_CONFIG_DIR")
    folder = Path(explicit) if explicit else _home("XDG_CONFIG_HOME", ".config") / "auditkit"
    return folder / "cache-key"


def enabled() -> bool:
    return os.environ.get("AUDITKIT_NO_CACHE", "") in ("", "0")


def _private(path: Path, *, folder: bool) -> bool:
    """Owned by us, of the right type, and writable by no one else (not followed if a link)."""
    try:
        info = path.lstat()
    except OSError:
        return False
    kind = stat.S_ISDIR(info.st_mode) if folder else stat.S_ISREG(info.st_mode)
    return kind and info.st_uid == os.geteuid() and not info.st_mode & 0o022


def _make_private_dir(path: Path) -> bool:
    with contextlib.suppress(OSError):
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return _private(path, folder=True)


def _key(create: bool) -> bytes | None:
    path = key_path()
    if not _private(path, folder=False):
        if not create or path.exists() or path.is_symlink() or not _make_private_dir(path.parent):
            return None
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except OSError:
            return None
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(_KEY_BYTES))
    try:
        key = path.read_bytes()
    except OSError:
        return None
    return key if len(key) == _KEY_BYTES else None


@contextlib.contextmanager
def _no_errors() -> Any:
    """A cache that cannot be read or written is a miss, never a failure of the command."""
    with contextlib.suppress(OSError, ValueError):
        yield


def entry_key(kind: str, files: Sequence[tuple[str, bytes]]) -> str:
    """The entry name for ``files`` (display name and bytes of each, in load order)."""
    digest = hashlib.sha256(f"auditkit {__version__} {kind}\n".encode())
    package = Path(__file__).resolve().parent.parent
    for pattern in _SOURCES:
        for path in sorted(package.glob(pattern)):
            with contextlib.suppress(OSError):
                digest.update(hashlib.sha256(path.read_bytes()).digest())
    for display, data in files:
        digest.update(hashlib.sha256(display.encode("utf-8", "surrogateescape")).digest())
        digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()


def get(name: str) -> bytes | None:
    """The verified payload of entry ``name``, or None."""
    if not enabled():
        return None
    folder = cache_dir()
    path = folder / f"{name}.json"
    with _no_errors():
        if not (_private(folder, folder=True) and _private(path, folder=False)):
            return None
        if path.stat().st_size > MAX_ENTRY_BYTES:
            return None
        key = _key(create=False)
        if key is None:
            return None
        raw = path.read_bytes()
        tag, payload = raw[:_TAG], raw[_TAG + 1 :]
        expected = hmac.new(key, name.encode() + b"\n" + payload, hashlib.sha256).hexdigest().encode()
        if raw[_TAG : _TAG + 1] == b"\n" and hmac.compare_digest(tag, expected):
            return payload
    return None


def put(name: str, payload: bytes) -> None:
    """Store ``payload`` under ``name`` (atomically; silently skipped if the cache is unusable)."""
    if not enabled() or len(payload) > MAX_ENTRY_BYTES:
        return
    folder = cache_dir()
    with _no_errors():
        key = _key(create=True)
        if key is None or not _make_private_dir(folder):
            return
        tag = hmac.new(key, name.encode() + b"\n" + payload, hashlib.sha256).hexdigest().encode()
        fd, temp = tempfile.mkstemp(dir=folder, prefix=".entry-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(tag + b"\n" + payload)
            os.replace(temp, folder / f"{name}.json")
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
