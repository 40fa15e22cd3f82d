"""Control text with parameter values put in: statements and assessment objectives as lines.

OSCAL prose inserts parameters as ``{{ insert: param, ID }}``. Here each part
becomes a line (its label, its depth in the list, its prose cut into segments)
and each insertion a segment holding the value in force, or, when the profile
assigned none, the NIST placeholder: ``[Assignment: organization-defined LABEL]``
or ``[Selection (one or more): A; B]``. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from .models import Param, Part

INSERT = re.compile(r"\{\{\s*insert:\s*param,\s*([^\s}]+)\s*\}\}")
MAX_DEPTH = 12


def placeholder(name: str, param: Param | None, params: Mapping[str, Param], depth: int = 0) -> str:
    """What the text says where a parameter has no value."""
    if param is None:
        return f"[Assignment: {name}]"
    if param.select is not None and depth < MAX_DEPTH:
        choices = "; ".join(substitute(c, {}, params, depth + 1) for c in param.select.choice)
        many = " (one or more)" if param.select.how_many == "one-or-more" else ""
        return f"[Selection{many}: {choices}]"
    what = param.label or param.description or name
    return f"[Assignment: organization-defined {what}]"


def value_text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _value(name: str, values: Mapping[str, Any], params: Mapping[str, Param]) -> str | None:
    if name in values:
        return value_text(values[name])
    param = params.get(name)
    if param is not None and param.aggregates:
        parts = [values.get(other) for other in param.aggregates]
        if all(p is not None for p in parts):
            return "; ".join(value_text(p) for p in parts)
    return None


def segments(prose: str, values: Mapping[str, Any], params: Mapping[str, Param]) -> list[dict[str, Any]]:
    """``prose`` cut at its insertions: plain text, and per insertion its value or placeholder."""
    out: list[dict[str, Any]] = []
    at = 0
    for match in INSERT.finditer(prose):
        if match.start() > at:
            out.append({"text": prose[at:match.start()]})
        name = match.group(1)
        value = _value(name, values, params)
        if value is None:
            out.append({"text": placeholder(name, params.get(name), params), "param": name, "assigned": False})
        else:
            out.append({"text": value, "param": name, "assigned": True})
        at = match.end()
    if at < len(prose):
        out.append({"text": prose[at:]})
    return out


def substitute(prose: str, values: Mapping[str, Any], params: Mapping[str, Param], depth: int = 0) -> str:
    """``prose`` as plain text with values (or placeholders) in place of its insertions."""
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        value = _value(name, values, params)
        return value if value is not None else placeholder(name, params.get(name), params, depth + 1)

    return INSERT.sub(one, prose)


def lines(parts: Iterable[Part], values: Mapping[str, Any], params: Mapping[str, Param],
          level: int = 0) -> list[dict[str, Any]]:
    """Every part below ``parts`` as a line: id, label, list depth and segments."""
    out: list[dict[str, Any]] = []
    for part in parts:
        if part.prose or part.label:
            out.append({"id": part.id, "label": part.label, "level": level,
                        "segments": segments(part.prose or "", values, params)})
            out.extend(lines(part.parts, values, params, level + 1))
        else:  # a container without text of its own: its items at the same depth
            out.extend(lines(part.parts, values, params, level))
    return out
