"""Safe YAML loading with source positions, shared by catalog, profiles, manifests and evidence.

YAML is parsed into nodes (PyYAML's C composer when available) and turned into
plain Python values by our own constructor, which:

* resolves plain scalars by the YAML 1.2 core schema (``NO`` stays a string,
  ``1:30`` stays a string, dates stay ISO strings for the schema to type);
* refuses aliases and anchors outright (billion-laughs), language tags such as
  ``!!python/object``, duplicate keys, non-finite numbers and excessive nesting;
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

from .errors import InvalidInputError

try:  # the C composer is ~10x faster; fall back to the pure-Python one
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _Loader = yaml.SafeLoader

DEFAULT_MAX_BYTES = 8 * 1024 * 1024
DEFAULT_MAX_DEPTH = 64

_STD = "tag:yaml.org,2002:"
_ALLOWED_TAGS = {_STD + t for t in ("str", "int", "float", "bool", "null", "seq", "map", "timestamp")}
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT10 = re.compile(r"^[-+]?[0-9]+$")
_INT8 = re.compile(r"^0o[0-7]+$")
_INT16 = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_NONFINITE = re.compile(r"^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$")
_RESOLVER = yaml.resolver.Resolver()


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


def _resolve_plain(value: str, where: str) -> Any:
    if _NULL.match(value):
        return None
    if value in _BOOL:
        return _BOOL[value]
    if _INT10.match(value):
        return int(value)
    if _INT8.match(value):
        return int(value[2:], 8)
    if _INT16.match(value):
        return int(value[2:], 16)
    if _FLOAT.match(value):
        number = float(value)
        if math.isfinite(number):
            return number
    if _NONFINITE.match(value):
        raise InvalidInputError(
            f"non-finite number {value!r} is not allowed", where=where, hint="write a finite number"
        )
    return value


class _Builder:
    def __init__(self, source: str, max_depth: int):
        self.source = source
        self.max_depth = max_depth
        self.positions: dict[str, tuple[int, int]] = {}
        self.seen: set[int] = set()

    def where(self, node: yaml.Node) -> str:
        return f"{self.source}:{node.start_mark.line + 1}:{node.start_mark.column + 1}"

    def build(self, node: yaml.Node, path: list[str | int]) -> Any:
        if id(node) in self.seen:
            raise InvalidInputError(
                "YAML aliases and anchors are not allowed",
                where=self.where(node),
                hint="write the value out in full",
            )
        self.seen.add(id(node))
        if len(path) > self.max_depth:
            raise InvalidInputError(
                f"nesting deeper than {self.max_depth} levels", where=self.where(node)
            )
        if node.tag not in _ALLOWED_TAGS:
            raise InvalidInputError(
                f"YAML tag {node.tag!r} is not allowed",
                where=self.where(node),
                hint="remove the tag; only plain YAML data is accepted",
            )
        self.positions[pointer(path)] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.ScalarNode):
            if node.style:  # quoted or block scalar: always a string (plain is None or "")
                return node.value
            implicit = _RESOLVER.resolve(yaml.ScalarNode, node.value, (True, False))  # type: ignore[no-untyped-call]
            if node.tag == _STD + "str" and implicit != node.tag:  # explicit !!str
                return node.value
            return _resolve_plain(node.value, self.where(node))
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, [*path, i]) for i, item in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise InvalidInputError("mapping keys must be plain scalars", where=self.where(key_node))
                if key_node.tag == _STD + "merge":
                    raise InvalidInputError("YAML merge keys (<<) are not allowed", where=self.where(key_node))
                key = key_node.value
                if key in result:
                    raise InvalidInputError(f"duplicate key {key!r}", where=self.where(key_node))
                result[key] = self.build(value_node, [*path, key])
            return result
        raise InvalidInputError("unsupported YAML node", where=self.where(node))  # pragma: no cover


def loads(text: str | bytes, source: str = "<string>", *, max_depth: int = DEFAULT_MAX_DEPTH) -> Located:
    """Parse one YAML document from ``text``; ``source`` names it in errors."""
    try:
        node = yaml.compose(text, Loader=_Loader)  # noqa: S506 - SafeLoader composer, no construction
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        problem = exc.problem or exc.context or "invalid YAML"
        raise InvalidInputError(f"YAML syntax error: {problem}", where=where) from None
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"YAML error: {exc}".splitlines()[0], where=source) from None
    except UnicodeDecodeError:
        raise InvalidInputError("file is not valid UTF-8", where=source) from None
    if node is None:
        return Located(None, source, {"": (1, 1)})
    builder = _Builder(source, max_depth)
    data = builder.build(node, [])
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
