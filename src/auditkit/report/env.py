"""The Jinja environment of the report: autoescaped, strict, with the report's filters.

Templates live in the shipped ``templates/`` folder (:func:`auditkit.resources.data_dir`).
Every value from the results is escaped; no filter returns markup.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from ..resources import data_dir

MAX_OFFENDER_COLUMNS = 6
MAX_CELL_CHARS = 400


def template_dir() -> Path:
    """The folder of the report templates and stylesheet."""
    return data_dir("templates")


def _label(value: Any) -> str:
    text = str(value).replace("_", " ").replace("-", " ")
    return text[:1].upper() + text[1:]


_REFERENCE_LABELS = {
    "agreement": "Agreement",
    "nist_800_53": "NIST SP 800-53 rev5",
    "iso_27001": "ISO/IEC 27001:2022",
    "iso27001": "ISO/IEC 27001:2022",
}


def _reference_label(key: str) -> str:
    return _REFERENCE_LABELS.get(key, _label(key))


def _num(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def _score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def _credit(value: float | None) -> str:
    return "not scored" if value is None else f"{value * 100:.0f}%"


def _traceval(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _cell(value: Any) -> str:
    """A cell value as one bounded line of text (lists joined, nested data as compact JSON)."""
    if value is None:
        text = ""
    elif isinstance(value, str):
        text = value
    elif isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        text = ", ".join(str(v) for v in value)
    elif isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    else:
        text = str(value)
    return text if len(text) <= MAX_CELL_CHARS else text[: MAX_CELL_CHARS - 1] + "…"


def _offender_columns(rows: Iterable[Any], limit: int | None = MAX_OFFENDER_COLUMNS) -> list[str]:
    columns: list[str] = []
    for row in rows:
        if isinstance(row, dict):
            for key in row:
                if key not in columns:
                    columns.append(str(key))
    return columns if limit is None else columns[:limit]


def _sentence(value: Any, end: str = ".") -> str:
    """``value`` as a sentence ending in exactly one full stop (``end=''``: with none), never "..": "GRC-77).." """
    text = str(value).rstrip()
    while text.endswith(".") and not text.endswith("..."):
        text = text[:-1]
    if text.endswith(("!", "?", "...", "…")):
        return text
    return text + end


def _filesize(value: int) -> str:
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(value)


def _score_color(score: float, ratings: list[dict[str, Any]]) -> str:
    palette = ["#2f855a", "#c98a16", "#b83232", "#7b341e"]
    for index, rating in enumerate(ratings):
        if score >= float(rating.get("min_score", 0)):
            return palette[min(index, len(palette) - 1)]
    return palette[-1]


def _css_string(value: Any) -> Markup:
    """``value`` as a quoted CSS string, every character but ASCII letters, digits and spaces
    escaped (``\\3c `` for ``<``), so that nothing in it can end the string or the ``<style>``."""
    escaped = "".join(ch if (ch.isascii() and ch.isalnum()) or ch == " " else f"\\{ord(ch):x} "
                      for ch in str(value))
    return Markup(f'"{escaped}"')  # noqa: S704 - every character that could end it is escaped above


def make_environment(folder: Path | None = None) -> jinja2.Environment:
    """A fresh environment over ``folder`` (default: the shipped templates)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder or template_dir())),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
        keep_trailing_newline=True,
    )
    env.filters.update(
        label=_label,
        reference_label=_reference_label,
        num=_num,
        score=_score,
        credit=_credit,
        traceval=_traceval,
        cell=_cell,
        offender_columns=_offender_columns,
        filesize=_filesize,
        sentence=_sentence,
        score_color=_score_color,
        css_string=_css_string,
    )
    return env
