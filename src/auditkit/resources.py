"""Where the shipped catalog, profiles, templates, samples and schemas live.

In a source checkout (or an editable install) they are the top-level folders of
the repository; in an installed wheel they are packaged under ``auditkit/_data``.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """Return the shipped folder ``name`` (controls, profiles, templates, evidence_samples)."""
    packaged = _PACKAGE / "_data" / name
    if packaged.is_dir():
        return packaged
    checkout = _PACKAGE.parent.parent / name
    return checkout


def schema_dir() -> Path:
    """The folder of the shipped JSON Schemas."""
    return _PACKAGE / "schemas"
