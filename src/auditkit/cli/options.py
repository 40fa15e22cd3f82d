"""Option helpers shared by several commands (only click and the standard library here)."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import click

OUTPUT_FILE = click.Path(path_type=Path)
"""An output file. What the path names is judged when writing (``auditkit.fsio``): a regular
file is replaced atomically, a device or FIFO written through, anything else refused (exit 3)."""


def parse_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> _dt.date | None:
    """Click callback: ``YYYY-MM-DD`` to a date (None stays None)."""
    if value is None:
        return None
    try:
        return _dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None
