"""Safe YAML loading with source positions, shared by catalog, profiles, manifests and evidence.

YAML is parsed into events (PyYAML's C parser when available) and turned into
plain Python values by our own builder, which:

* resolves plain scalars by the YAML 1.2 core schema (``NO`` stays a string,
  ``1:30`` stays a string, dates stay ISO strings for the schema to type; a plain
  ``=`` or ``<<`` value is the string it looks like);
* refuses, wherever they stand (keys included), every anchor (``&name``, even one
  never aliased), every alias (``*name``: billion-laughs) and every tag, the
  standard ones (``!!int "3"``, ``!!str``) as much as language tags such as
  ``!!python/object``, because a tag changes what a value means without showing it;
* refuses merge keys (a plain ``<<`` key), duplicate keys, keys that are not
  scalars, a second document, non-finite numbers, integers of more than
  :data:`MAX_INT_DIGITS` digits (CPython's int-to-text limit, so every integer read
  can be printed and hashed) and nesting deeper than ``max_depth``;
* records the line and column of every value by JSON pointer, so that schema
  errors can name ``file:line:col /pointer``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import InvalidInputError, shorten, shown

try:  # the C parser is ~10x faster; fall back to the pure-Python one
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _Loader = yaml.SafeLoader

DEFAULT_MAX_BYTES = 8 * 1024 * 1024
DEFAULT_MAX_DEPTH = 64
MAX_INT_DIGITS = 4300
"""Longest integer read, in decimal digits (CPython's default int-string conversion limit)."""

_STD = "tag:yaml.org,2002:"
_INT_LIMIT = 10**MAX_INT_DIGITS
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT10 = re.compile(r"^[-+]?[0-9]+$")
_INT8 = re.compile(r"^0o[0-7]+$")
_INT16 = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_NONFINITE = re.compile(r"^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$")


def escape_pointer_token(token: str | int) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def pointer(parts: tuple[str | int, ...] | list[str | int]) -> str:
    """JSON pointer (RFC 6901) for a path of keys and indexes."""
    return "".join("/" + escape_pointer_token(p) for p in parts)


@dataclass(frozen=True)
class Located:
    """A loaded YAML document with the source position of each value."""

    data: Any
    source: str
    positions: dict[str, tuple[int, int]] = field(default_factory=dict)

    def where(self, json_pointer: str = "") -> str:
        """``source:line:col`` of the value at ``json_pointer`` (or its nearest ancestor)."""
        ptr = json_pointer
        while True:
            pos = self.positions.get(ptr)
            if pos is not None:
                return f"{self.source}:{pos[0]}:{pos[1]}"
            if not ptr:
                return self.source
            ptr = ptr.rsplit("/", 1)[0]


def _integer(text: str, base: int, where: str) -> int:
    digits = text.lstrip("+-")
    if base == 10 and len(digits) > MAX_INT_DIGITS:
        value = None
    else:
        value = int(text if base == 10 else text[2:], base)
        if abs(value) >= _INT_LIMIT:
            value = None
    if value is None:
        raise InvalidInputError(
            f"integer of more than {MAX_INT_DIGITS} digits",
            where=where,
            hint="quote it if it is an identifier, or check the file",
        )
    return value


def _resolve_plain(value: str, where: str) -> Any:
    if _NULL.match(value):
        return None
    if value in _BOOL:
        return _BOOL[value]
    if _INT10.match(value):
        return _integer(value, 10, where)
    if _INT8.match(value):
        return _integer(value, 8, where)
    if _INT16.match(value):
        return _integer(value, 16, where)
    if _FLOAT.match(value):
        number = float(value)
        if math.isfinite(number):
            return number
    if _NONFINITE.match(value):
        raise InvalidInputError(
            f"non-finite number {shown(value)} is not allowed", where=where, hint="write a finite number"
        )
    return value


def _tag_text(tag: str) -> str:
    return "!!" + tag[len(_STD):] if tag.startswith(_STD) else tag


def _position(event: yaml.Event) -> tuple[int, int]:
    mark = event.start_mark
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


class _Open:
    """A mapping or sequence being built, and (for a mapping) the key awaiting its value."""

    __slots__ = ("key", "path", "value")

    def __init__(self, value: dict[str, Any] | list[Any], path: list[str | int]):
        self.value = value
        self.path = path
        self.key: str | None = None


class _Builder:
    def __init__(self, source: str, max_depth: int):
        self.source = source
        self.max_depth = max_depth
        self.positions: dict[str, tuple[int, int]] = {}

    def where(self, event: yaml.Event) -> str:
        line, column = _position(event)
        return f"{self.source}:{line}:{column}"

    def refuse(self, event: yaml.Event, message: str, hint: str | None = None) -> InvalidInputError:
        return InvalidInputError(message, where=self.where(event), hint=hint)

    def check_node(self, event: Any) -> None:
        """Anchors and tags are refused on every node, keys included."""
        if event.anchor is not None:
            raise self.refuse(
                event, f"YAML aliases and anchors are not allowed (anchor &{shorten(event.anchor, 60)})",
                "write the value out in full and remove the anchor",
            )
        if event.tag is not None:
            raise self.refuse(
                event, f"YAML tag {shown(_tag_text(event.tag))} is not allowed",
                "remove it; quote the value if it must be a string",
            )

    def build(self, events: Any) -> Any:  # noqa: C901 - one branch per event kind
        stack: list[_Open] = []
        root: Any = None
        documents = 0
        for event in events:
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise self.refuse(event, "more than one YAML document (a second '---')",
                                      "keep one document per file")
                continue
            if isinstance(event, yaml.AliasEvent):
                alias = shorten(event.anchor or "", 60)
                raise self.refuse(event, f"YAML aliases and anchors are not allowed (alias *{alias})",
                                  "write the value out in full")
            if isinstance(event, yaml.CollectionEndEvent):
                done = stack.pop()
                if stack:
                    self.place(stack[-1], done.value)
                else:
                    root = done.value
                continue
            if not isinstance(event, yaml.NodeEvent):
                continue  # stream start/end, document end
            self.check_node(event)
            parent = stack[-1] if stack else None
            if parent is not None and isinstance(parent.value, dict) and parent.key is None:
                self.key(parent, event)
                continue
            path = [] if parent is None else [*parent.path, parent.key if parent.key is not None
                                              else len(parent.value)]
            if len(path) > self.max_depth:
                raise self.refuse(event, f"nesting deeper than {self.max_depth} levels")
            self.positions[pointer(path)] = _position(event)
            if isinstance(event, yaml.ScalarEvent):
                value = event.value if event.style else _resolve_plain(event.value, self.where(event))
                if parent is None:
                    root = value
                else:
                    self.place(parent, value)
            else:
                stack.append(_Open({} if isinstance(event, yaml.MappingStartEvent) else [], path))
        return root

    def key(self, mapping: _Open, event: Any) -> None:
        if not isinstance(event, yaml.ScalarEvent):
            raise self.refuse(event, "mapping keys must be scalars (text), not lists or mappings")
        if not event.style and event.value == "<<":
            raise self.refuse(event, "YAML merge keys (<<) are not allowed", "write the keys out in full")
        assert isinstance(mapping.value, dict)
        if event.value in mapping.value:
            raise self.refuse(event, f"duplicate key {shown(event.value)}")
        mapping.key = event.value

    @staticmethod
    def place(parent: _Open, value: Any) -> None:
        if isinstance(parent.value, dict):
            assert parent.key is not None
            parent.value[parent.key] = value
            parent.key = None
        else:
            parent.value.append(value)


def _unreadable(exc: yaml.reader.ReaderError) -> str:
    if isinstance(exc.character, int) and "UTF-8" not in str(exc.reason) and "utf-8" not in exc.encoding:
        return f"character U+{exc.character:04X} is not allowed in YAML ({exc.reason})"
    shown = f" (byte 0x{exc.character:02X})" if isinstance(exc.character, int) else ""
    return f"file is not valid UTF-8{shown}"


def _byte_place(text: str | bytes, offset: int) -> str:
    """``:line:col`` of byte ``offset`` of the UTF-8 form of ``text`` (libyaml counts bytes)."""
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    prefix = raw[: max(0, offset)].removeprefix(b"\xef\xbb\xbf")
    start = prefix.rfind(b"\n") + 1
    line = prefix.count(b"\n") + 1
    return f":{line}:{len(prefix[start:].decode('utf-8', 'replace')) + 1}"


def loads(text: str | bytes, source: str = "<string>", *, max_depth: int = DEFAULT_MAX_DEPTH) -> Located:
    """Parse one YAML document from ``text``; ``source`` names it in errors."""
    builder = _Builder(source, max_depth)
    try:
        data = builder.build(yaml.parse(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        problem = exc.problem or exc.context or "invalid YAML"
        raise InvalidInputError(f"YAML syntax error: {problem}", where=where) from None
    except yaml.reader.ReaderError as exc:
        raise InvalidInputError(_unreadable(exc), where=source + _byte_place(text, exc.position)) from None
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"YAML error: {exc}".splitlines()[0], where=source) from None
    except UnicodeDecodeError:
        raise InvalidInputError("file is not valid UTF-8", where=source) from None
    if not builder.positions:
        return Located(None, source, {"": (1, 1)})
    return Located(data, source, builder.positions)


def load(
    path: Path,
    *,
    display: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> Located:
    """Load a YAML file, refusing files over ``max_bytes`` before reading them."""
    source = display or str(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InvalidInputError("file not found", where=source) from None
    except OSError as exc:
        raise InvalidInputError(f"cannot read file: {exc.strerror}", where=source) from None
    if size > max_bytes:
        raise InvalidInputError(
            f"file is {size} bytes, over the {max_bytes}-byte limit for YAML input",
            where=source,
            hint="split it or check it is the right file",
        )
    with path.open("rb") as handle:
        raw = handle.read(max_bytes + 1)
    return loads(raw, source, max_depth=max_depth)
