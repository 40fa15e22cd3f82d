"""Resource limits for reading evidence bundles, and parsing of sizes such as ``512MiB``.

Every bundle is read under a :class:`Limits`: caps on member count, sizes,
compression ratio and parsing effort. The defaults suit a quarterly bundle of a
large organization; the CLI exposes each as an option (``--max-files`` …).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from ..errors import UsageError

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB

CHUNK_SIZE = 1 * MiB

_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "kib": KiB,
    "m": 1000**2,
    "mb": 1000**2,
    "mib": MiB,
    "g": 1000**3,
    "gb": 1000**3,
    "gib": GiB,
    "t": 1000**4,
    "tb": 1000**4,
    "tib": 1024 * GiB,
}
_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*$")


@dataclass(frozen=True)
class Limits:
    """Caps applied while reading a bundle; every one is checked before data is read."""

    max_files: int = 10_000
    """Most members (files and folders) a bundle may hold."""
    max_total_size: int = 2 * GiB
    """Most bytes all members may hold together, uncompressed."""
    max_file_size: int = 512 * MiB
    """Most bytes one member may hold, uncompressed."""
    max_ratio: float = 100.0
    """Highest compression ratio (uncompressed / compressed) of a member or an archive."""
    ratio_floor: int = 1 * MiB
    """Members smaller than this are exempt from the per-member ratio check."""
    max_manifest_size: int = 8 * MiB
    """Most bytes ``manifest.yaml`` may hold."""
    max_parse_size: int = 128 * MiB
    """Largest JSON, YAML or CSV file that is parsed; larger ones are ``too-large``."""
    max_depth: int = 64
    """Deepest nesting of JSON or YAML evidence."""
    max_csv_rows: int = 1_000_000
    """Most data rows in one CSV file."""
    workers: int = 0
    """Threads used for hashing; 0 means one per CPU core."""

    def __post_init__(self) -> None:
        for name in (
            "max_files",
            "max_total_size",
            "max_file_size",
            "max_manifest_size",
            "max_parse_size",
            "max_depth",
            "max_csv_rows",
        ):
            if getattr(self, name) < 1:
                raise UsageError(f"limit {name} must be at least 1")
        if self.max_ratio < 1:
            raise UsageError("limit max_ratio must be at least 1")
        if self.workers < 0:
            raise UsageError("limit workers must not be negative")

    @property
    def threads(self) -> int:
        """How many hashing threads to use."""
        return self.workers or max(1, os.cpu_count() or 1)


def parse_size(text: str) -> int:
    """``"512MiB"`` → 536870912; decimal (kB, MB, GB) and binary (KiB, MiB, GiB) units."""
    match = _SIZE.match(text)
    unit = match.group(2).lower() if match else None
    if match is None or unit not in _UNITS:
        raise UsageError(
            f"cannot read size {text!r}", hint="write a number of bytes or e.g. 512MiB, 2GiB, 100MB"
        )
    return int(float(match.group(1)) * _UNITS[unit])


def format_size(size: int) -> str:
    """``536870912`` → ``"512.0 MiB"``."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover
