"""Option helpers shared by several commands (only click and the standard library here)."""

from __future__ import annotations

import datetime as _dt

import click


def parse_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> _dt.date | None:
    """Click callback: ``YYYY-MM-DD`` to a date (None stays None)."""
    if value is None:
        return None
    try:
        return _dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None
