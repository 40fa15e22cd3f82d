"""Evidence file parsers: the format of a file from its extension, and its parsed content.

* JSON: UTF-8, nesting capped (checked by a linear scan before parsing, so a
  100,000-deep ``[[[…`` is refused without recursion), no duplicate keys, no
  ``NaN``/``Infinity``; no number beyond the float range (``1e400``) and no integer of
  more than 4,300 digits (both named by line:col); no unpaired surrogate escape such
  as ``"\\ud800"`` (named by JSON pointer).
  Parsed by orjson where that is certain to give the same value
  (:mod:`.fastjson`); otherwise, and for every refusal, by the standard library.
* YAML: :func:`auditkit.yamlio.loads` (YAML 1.2 scalars, no aliases, no tags).
* CSV: a list of row maps keyed by the header (required; empty or duplicate
  names refused), row count capped. Cells are typed by a documented contract
  (docs/writing-controls.md): exactly ``true``/``false`` → bool,
  ``-?(0|[1-9][0-9]*)`` → int, ``-?(0|[1-9][0-9]*)\\.[0-9]+`` → float, empty → None,
  anything else stays a string.
* Opaque formats (PDF, text, images): content ``None``; only hashes and
  procedures cover them.

Every refusal is an :class:`~auditkit.errors.InvalidInputError` naming the file
(and line where known).
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import re
from typing import Any

from ..errors import InvalidInputError, shown

SUFFIXES: dict[str, str] = {
    ".json": "json",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".csv": "csv",
    ".pdf": "pdf",
    ".txt": "text",
    ".md": "text",
    ".png": "image",
    ".jpg": "image",
    ".jpeg": "image",
}
STRUCTURED = frozenset({"json", "yaml", "csv"})
DEFAULT_MAX_DEPTH = 64
DEFAULT_MAX_ROWS = 1_000_000

_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?")  # group 1: the decimal part
_NUMERIC_START = frozenset("-0123456789")
_CHECKED: dict[str, Any] = {}
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_STRING = re.compile(rb'"[^"]*"')
_TEXT_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_BRACKETS = bytes(range(256)).translate(None, b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def format_of(path: str) -> str | None:
    """The evidence format of ``path`` by its extension, or None if unsupported."""
    dot = path.rfind(".")
    if dot <= path.rfind("/"):
        return None
    return SUFFIXES.get(path[dot:].lower())


def json_depth(data: bytes) -> int:
    """Deepest nesting of arrays and objects in JSON ``data``, found without recursion."""
    without_strings = _STRING.sub(b"", _ESCAPE.sub(b"", data))
    brackets = without_strings.translate(None, _BRACKETS)
    if not brackets:
        return 0
    return max(0, max(itertools.accumulate(map(_STEP.__getitem__, brackets))))


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name} is not allowed")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"duplicate key {shown(key)}")
            seen.add(key)
    return result


class _BadNumber(ValueError):
    """A JSON number Python cannot hold faithfully; ``literal`` is its text."""

    def __init__(self, message: str, literal: str):
        super().__init__(message)
        self.literal = literal


def _parse_int(text: str) -> int:
    from .. import yamlio  # not at the top: `bundle verify` imports this module before hashing starts

    if len(text) > yamlio.MAX_INT_DIGITS and len(text.lstrip("-")) > yamlio.MAX_INT_DIGITS:
        raise _BadNumber(f"integer of more than {yamlio.MAX_INT_DIGITS} digits", text)
    return int(text)


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        shown = text if len(text) <= 40 else text[:40] + "…"
        raise _BadNumber(f"number {shown} is out of range (non-finite numbers are not allowed)", text)
    return value


def _number_place(text: str, literal: str) -> str:
    """``:line:col`` of the number ``literal`` in JSON ``text`` (strings skipped), or ""."""
    blank = _TEXT_STRING.sub(lambda m: " " * len(m.group()), text)
    found = re.search(rf"(?<![0-9.eE+-]){re.escape(literal)}(?![0-9.eE+-])", blank)
    if found is None:  # pragma: no cover - the parser saw it
        return ""
    line = text.count("\n", 0, found.start()) + 1
    return f":{line}:{found.start() - text.rfind(chr(10), 0, found.start())}"


def _surrogate_at(value: Any) -> str | None:
    """JSON pointer of the first key or string in ``value`` holding an unpaired surrogate."""
    from .. import yamlio

    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return yamlio.pointer(path)
        elif isinstance(item, dict):
            for key, child in item.items():
                if _SURROGATE.search(key):
                    return yamlio.pointer((*path, key.encode("utf-8", "backslashreplace").decode()))
                stack.append((child, (*path, key)))
        elif isinstance(item, list):
            stack.extend((child, (*path, index)) for index, child in enumerate(item))
    return None


def _decode(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(
            f"not valid UTF-8 (byte {exc.start})", where=where, hint="export the file as UTF-8"
        ) from None


def parse_json(data: bytes, where: str, *, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """Parse JSON evidence, refusing deep nesting, non-finite numbers and duplicate keys."""
    return _parse_json(data, where, max_depth)[0]


def _parse_json(data: bytes, where: str, max_depth: int) -> tuple[Any, bool]:
    """The value, and whether orjson gave it (then it is plain: see :mod:`.fastjson`).

    orjson parses it when that is certain to give the same value; otherwise, and
    for every refusal, the exact parser decides."""
    from . import fastjson

    value = fastjson.loads(data, max_depth)
    if value is not fastjson.UNSURE:
        return value, True
    return parse_json_exact(data, where, max_depth=max_depth), False


def parse_json_exact(data: bytes, where: str, *, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """:func:`parse_json` with the standard library only (the reference the fast path must equal)."""
    depth = json_depth(data)
    if depth > max_depth:
        raise InvalidInputError(
            f"JSON nested {depth} levels deep, over the limit of {max_depth}", where=where
        )
    text = _decode(data, where)
    try:
        value = json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_int=_parse_int,
            parse_float=_parse_float,
            object_pairs_hook=_no_duplicates,
        )
    except _BadNumber as exc:
        raise InvalidInputError(f"invalid JSON: {exc}", where=where + _number_place(text, exc.literal)) from None
    except json.JSONDecodeError as exc:
        raise InvalidInputError(
            f"invalid JSON: {exc.msg}", where=f"{where}:{exc.lineno}:{exc.colno}"
        ) from None
    except (ValueError, RecursionError) as exc:
        raise InvalidInputError(f"invalid JSON: {str(exc)[:200]}", where=where) from None
    if _SURROGATE_ESCAPE.search(text):  # \ud800-style escapes: pairs are fine, a lone one is not text
        bad = _surrogate_at(value)
        if bad is not None:
            raise InvalidInputError(
                "invalid JSON: string holds an unpaired surrogate escape (not valid Unicode)",
                where=f"{where} {bad or '/'}",
            )
    return value


def parse_yaml(data: bytes, where: str, *, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """Parse YAML evidence with the project's safe loader."""
    from .. import yamlio

    return yamlio.loads(data, where, max_depth=max_depth).data


def coerce_cell(cell: str) -> Any:
    """Type one CSV cell by the documented contract (see the module docstring)."""
    if not cell:
        return None
    if cell[0] in _NUMERIC_START:
        match = _NUMBER.fullmatch(cell)
        if match is None:
            return cell
        if match.group(1) is None:
            try:
                return int(cell)
            except ValueError:  # more digits than Python converts; keep the text
                return cell
        number = float(cell)
        if not math.isfinite(number):
            raise ValueError(f"number {cell[:40]}… is out of range")
        return number
    if cell == "true":
        return True
    if cell == "false":
        return False
    return cell


def parse_csv(
    data: bytes, where: str, *, max_rows: int = DEFAULT_MAX_ROWS, collect: bool = True
) -> list[dict[str, Any]]:
    """Parse CSV evidence into a list of row maps keyed by the header row.

    With ``collect=False`` the file is checked completely but no rows are kept
    (verification without the memory of the parsed rows).
    """
    text = _decode(data, where)
    lines = (match.group() for match in _LINE.finditer(text))  # as StringIO(newline=""), lazily
    reader = csv.reader(lines, strict=True)
    line = 0
    try:
        header = next(reader, None)
        line = reader.line_num
        if not header or all(name == "" for name in header):
            raise InvalidInputError(
                "CSV has no header row", where=where, hint="add a header naming each column"
            )
        seen: set[str] = set()
        for position, name in enumerate(header, start=1):
            if name.strip() == "":
                raise InvalidInputError(
                    f"CSV header column {position} has no name", where=f"{where}:1"
                )
            if name in seen:
                raise InvalidInputError(
                    f"CSV header names column {shown(name)} twice", where=f"{where}:1"
                )
            seen.add(name)
        rows: list[dict[str, Any]] = []
        width = len(header)
        for record in reader:
            line = reader.line_num
            if not record:
                continue
            if len(record) != width:
                raise InvalidInputError(
                    f"row has {len(record)} cells but the header has {width}",
                    where=f"{where}:{line}",
                )
            if len(rows) >= max_rows:
                raise InvalidInputError(f"CSV has more than {max_rows} rows", where=where)
            if collect:
                rows.append(dict(zip(header, map(coerce_cell, record), strict=True)))
            else:
                rows.append(_CHECKED)
                for cell in record:
                    coerce_cell(cell)
        return rows if collect else []
    except csv.Error as exc:
        raise InvalidInputError(
            f"invalid CSV: {exc}", where=f"{where}:{reader.line_num or line}"
        ) from None
    except ValueError as exc:
        raise InvalidInputError(
            f"invalid CSV: {exc}", where=f"{where}:{reader.line_num or line}"
        ) from None


def parse_content(
    data: bytes,
    fmt: str,
    where: str,
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_rows: int = DEFAULT_MAX_ROWS,
    collect: bool = True,
) -> Any:
    """Parse ``data`` in format ``fmt``; opaque formats give None.

    ``collect=False`` only checks CSV files (their content is then an empty list).
    """
    return parse_evidence(data, fmt, where, max_depth=max_depth, max_rows=max_rows, collect=collect)[0]


def parse_evidence(
    data: bytes,
    fmt: str,
    where: str,
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_rows: int = DEFAULT_MAX_ROWS,
    collect: bool = True,
) -> tuple[Any, bool]:
    """:func:`parse_content`, and whether the value is known to be plain JSON data.

    Plain: valid UTF-8 strings, 64-bit integers, finite doubles, bools, null, lists
    and maps with string keys; the engine then skips its own scan of the value."""
    if fmt == "json":
        return _parse_json(data, where, max_depth)
    if fmt == "yaml":
        return parse_yaml(data, where, max_depth=max_depth), False
    if fmt == "csv":
        return parse_csv(data, where, max_rows=max_rows, collect=collect), False
    return None, False
