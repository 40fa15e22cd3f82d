"""Quarantine: the evidence verifier run on a received archive in a private folder of its own.

Only :func:`auditkit.evidence.verify.verify_bundle` judges a bundle (never a verifier
of the intake's own). Its refusals become reasons without server paths, each
bounded; a crash of the verifier rejects the bundle (fail closed) and goes to the
server log.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import AuditkitError, IntegrityError
from .models import INTEGRITY_PREFIX
from .problems import Unavailable

if TYPE_CHECKING:
    from ..evidence.limits import Limits

LOG = logging.getLogger("auditkit.intake")
MAX_REASONS = 50
MAX_REASON_CHARS = 500
_FORMATS = {"zip": b"PK\x03\x04", "tar.gz": b"\x1f\x8b"}


@dataclass(frozen=True)
class Received:
    """A complete upload on local disk, hashed while it arrived."""

    path: Path
    sha256: str
    size: int


@dataclass(frozen=True)
class Verdict:
    """What the verifier said, and where the archive now is."""

    accepted: bool
    reasons: tuple[str, ...]
    report: Any
    archive_format: str
    archive: Path | None = None
    """The archive in its quarantine folder (removed by the caller when done)."""


def _sniff(path: Path) -> str | None:
    with open(path, "rb") as handle:
        head = handle.read(4)
    for name, magic in _FORMATS.items():
        if head.startswith(magic):
            return name
    return None


def _clean(lines: list[str], archive: Path) -> tuple[str, ...]:
    """Reasons without server paths, each bounded, at most ``MAX_REASONS``."""
    folder = str(archive.parent) + os.sep
    cleaned = [line.replace(folder, "")[:MAX_REASON_CHARS] for line in lines[:MAX_REASONS]]
    if len(lines) > MAX_REASONS:
        cleaned.append(f"... and {len(lines) - MAX_REASONS} more problems")
    return tuple(cleaned) or ("rejected by the verifier (no reason given)",)


def verify_in_quarantine(received: Received, quarantine: Path, limits: Limits | None) -> Verdict:
    """Run the evidence verifier on the archive inside a fresh folder under ``quarantine``."""
    fmt = _sniff(received.path)
    if fmt is None:
        reason = "upload is not a .zip or .tar.gz archive (unknown leading bytes)"
        return Verdict(False, (reason,), None, "unknown")
    try:
        from ..evidence.verify import verify_bundle  # the one verifier (auditkit.evidence)
    except ImportError:
        raise Unavailable(
            "the bundle verifier is not installed on this server", hint="retry later"
        ) from None
    folder = Path(tempfile.mkdtemp(prefix="q-", dir=quarantine))
    archive = folder / f"bundle.{fmt}"
    os.replace(received.path, archive)
    try:
        report = verify_bundle(archive, limits=limits)
    except AuditkitError as exc:
        lines = exc.lines
        if exc.exit_code == IntegrityError.exit_code:  # a signed marker: the client then exits 4
            lines = [f"{INTEGRITY_PREFIX}{line}" for line in lines]
        return Verdict(False, _clean(lines, archive), None, fmt, archive)
    except Exception:  # noqa: BLE001 - fail closed, keep the server up
        LOG.exception("bundle verifier crashed on %s", received.sha256)
        reason = (
            "the verifier failed on this bundle (internal error, reported to the "
            "operator); the bundle was not accepted"
        )
        return Verdict(False, (reason,), None, fmt, archive)
    return Verdict(True, (), report, fmt, archive)
