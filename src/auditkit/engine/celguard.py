"""Load-time guards on CEL expressions, judged on the tokens CEL itself sees.

The Rust-backed CEL library has sharp edges (DESIGN §6): no cost limit, a segfault
on huge flat expressions, a ``PanicException`` on deep nesting, ``map``/``filter``
quadratic in list length, and functions that compile but do not exist at run time.
So before an expression is accepted it is tokenized by :mod:`.lexer` (CEL's own
lexical grammar: comments, raw, triple-quoted and bytes strings cannot hide
anything) and refused when it:

* is longer than :data:`MAX_EXPR_CHARS` characters;
* nests brackets deeper than :data:`MAX_NESTING` or comprehensions (``all``,
  ``exists``, ``exists_one``) deeper than :data:`MAX_COMPREHENSION_DEPTH`;
* uses ``map`` or ``filter``;
* calls a function the library does not provide at run time, with a wrong number of
  arguments, or on a literal of a type it has no overload for (:data:`GLOBAL_CALLS`,
  :data:`METHOD_CALLS`; measured against ``common-expression-language`` 0.10, and
  ``tests/engine/test_celguard.py`` holds the tables to the installed library).

:func:`structure` runs before the library compiles the expression, :func:`calls`
after (it needs balanced brackets, which compiling proves).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn

from .lexer import LITERALS, LexError, Token, line_col, tokenize

MAX_EXPR_CHARS = 4000
MAX_NESTING = 24
MAX_COMPREHENSION_DEPTH = 3
COMPREHENSIONS = frozenset({"all", "exists", "exists_one"})
FORBIDDEN_MACROS = frozenset({"map", "filter"})

_ANY = None
_NUMERIC_TEXT = frozenset({"int", "uint", "double", "string"})
GLOBAL_CALLS: dict[str, tuple[int, frozenset[str] | None]] = {
    "size": (1, frozenset({"string", "bytes", "list", "map"})),
    "int": (1, _NUMERIC_TEXT),
    "uint": (1, _NUMERIC_TEXT),
    "double": (1, _NUMERIC_TEXT),
    "string": (1, _NUMERIC_TEXT | {"bytes", "timestamp", "duration"}),
    "bytes": (1, frozenset({"string", "bytes"})),
    "timestamp": (1, frozenset({"string", "timestamp"})),
    "duration": (1, frozenset({"string", "duration"})),
    "type": (1, _ANY),
    "dyn": (1, _ANY),
    "has": (1, _ANY),
    "days_between": (2, frozenset({"string"})),
}
"""Global functions the library evaluates: argument count, and the argument types it has
overloads for (None: any)."""
_TEXT = frozenset({"string"})
_TIME_PARTS = ("getFullYear", "getMonth", "getDate", "getDayOfMonth", "getDayOfWeek", "getDayOfYear")
_CLOCK_PARTS = ("getHours", "getMinutes", "getSeconds", "getMilliseconds")
METHOD_CALLS: dict[str, tuple[int, frozenset[str] | None, frozenset[str] | None]] = {
    "size": (0, frozenset({"string", "bytes", "list", "map"}), _ANY),
    **{name: (1, _TEXT, _TEXT) for name in ("contains", "startsWith", "endsWith", "matches")},
    **{name: (0, frozenset({"timestamp"}), _ANY) for name in _TIME_PARTS},
    **{name: (0, frozenset({"timestamp", "duration"}), _ANY) for name in _CLOCK_PARTS},
}
"""Methods the library evaluates: argument count, receiver types, argument types."""
KNOWN_FUNCTIONS = frozenset(GLOBAL_CALLS) | frozenset(METHOD_CALLS) | COMPREHENSIONS
_RETURNS = {"timestamp": "timestamp", "duration": "duration", "string": "string", "int": "int",
            "uint": "uint", "double": "double", "bytes": "bytes", "size": "int", "days_between": "int"}
_LITERAL_KIND = {"int": "int", "uint": "uint", "float": "double", "str": "string", "bytes": "bytes",
                 "bool": "bool", "null": "null"}
_STRING_EXTENSIONS = frozenset({"charAt", "indexOf", "lastIndexOf", "lowerAscii", "upperAscii", "replace", "split",
                                "substring", "trim", "join", "format", "quote", "reverse", "strings"})
_CLOSERS = {")": "(", "]": "[", "}": "{"}
_VALUE_END = frozenset({"int", "uint", "float", "str", "bytes", "bool", "null", "id"})


class CelCompileError(ValueError):
    """An expression is refused by a guard or does not compile; the message is one line."""


@dataclass(frozen=True)
class Structure:
    """What the structural pass learnt: the tokens and the names the expression binds and reads."""

    tokens: tuple[Token, ...]
    match: dict[int, int]
    """Index of each opening bracket's token -> index of its closing one."""
    bound: frozenset[str]
    params: frozenset[str]

    @functools.cached_property
    def opening(self) -> dict[int, int]:
        """Index of each closing bracket's token -> index of its opening one."""
        return {close: open_ for open_, close in self.match.items()}


def _at(source: str, offset: int) -> str:
    line, column = line_col(source, offset)
    return f"expression {line}:{column}"


def _method_name(tokens: Sequence[Token], index: int) -> str | None:
    """The method name when ``tokens[index]`` is the ``(`` of ``x.name(``, else None."""
    dot = tokens[index - 2] if index >= 2 else None
    if dot is not None and dot.kind == "op" and dot.value == "." and tokens[index - 1].kind == "id":
        before = tokens[index - 3] if index >= 3 else None
        if before is not None and (before.kind in _VALUE_END or before.value in _CLOSERS):
            return str(tokens[index - 1].value)
    return None


def structure(source: str) -> Structure:
    """Size, lexical validity, nesting and forbidden macros; raise :class:`CelCompileError`."""
    if len(source) > MAX_EXPR_CHARS:
        raise CelCompileError(f"expression is {len(source)} characters, over the {MAX_EXPR_CHARS} limit")
    try:
        tokens = tokenize(source)
    except LexError as exc:
        raise CelCompileError(f"CEL does not compile: {exc.message} ({_at(source, exc.offset)})") from None
    stack: list[tuple[int, bool]] = []
    match: dict[int, int] = {}
    bound: set[str] = set()
    params: set[str] = set()
    comprehensions = 0
    for index, token in enumerate(tokens):
        if token.kind == "id" and token.value == "params" and not (index and tokens[index - 1].value == "."):
            after = tokens[index + 1 : index + 4]
            if len(after) >= 2 and after[0].value == "." and after[0].kind == "op" and after[1].kind == "id":
                params.add(str(after[1].value))
            elif len(after) == 3 and after[0].value == "[" and after[1].kind == "str" and after[2].value == "]":
                params.add(str(after[1].value))
        if token.kind != "op":
            continue
        if token.value in ("(", "[", "{"):
            macro = False
            if token.value == "(":
                name = _method_name(tokens, index)
                if name in FORBIDDEN_MACROS:
                    raise CelCompileError(f"'{name}' is not allowed (quadratic in the CEL library; "
                                          f"{_at(source, tokens[index - 1].start)}); use all/exists/exists_one/size")
                macro = name in COMPREHENSIONS
                if macro and tokens[index + 1].kind == "id" and tokens[index + 2].value == ",":
                    bound.add(str(tokens[index + 1].value))
            stack.append((index, macro))
            comprehensions += macro
            if len(stack) > MAX_NESTING:
                raise CelCompileError(f"nesting deeper than {MAX_NESTING} levels ({_at(source, token.start)})")
            if comprehensions > MAX_COMPREHENSION_DEPTH:
                raise CelCompileError(f"comprehensions nested deeper than {MAX_COMPREHENSION_DEPTH} "
                                      f"({_at(source, token.start)})")
        elif token.value in _CLOSERS and stack:
            opened, macro = stack.pop()
            match[opened] = index
            comprehensions -= macro
    return Structure(tuple(tokens), match, frozenset(bound), frozenset(params))


def _arguments(found: Structure, open_index: int) -> list[tuple[int, int]]:
    """The token spans (first, last) of the arguments of the call whose ``(`` is at ``open_index``."""
    close = found.match[open_index]
    spans: list[tuple[int, int]] = []
    start = index = open_index + 1
    while index < close:
        token = found.tokens[index]
        if token.kind == "op" and token.value in ("(", "[", "{"):
            index = found.match.get(index, close)
        elif token.kind == "op" and token.value == ",":
            spans.append((start, index - 1))
            start = index + 1
        index += 1
    if start < close:
        spans.append((start, close - 1))
    return spans


def _kind(found: Structure, first: int, last: int) -> str | None:
    """The type of the expression spanning tokens first..last when a literal shows it, else None."""
    tokens = found.tokens
    head = tokens[first]
    if first == last and head.kind in LITERALS:
        return _LITERAL_KIND[head.kind]
    if head.kind == "op" and head.value == "-" and first + 1 == last and tokens[last].kind in ("int", "float"):
        return _LITERAL_KIND[tokens[last].kind]
    if head.kind == "op" and head.value in ("[", "{") and found.match.get(first) == last:
        return "list" if head.value == "[" else "map"
    if (head.kind == "id" and head.value in _RETURNS and first + 1 < last and tokens[first + 1].value == "("
            and found.match.get(first + 1) == last):
        return _RETURNS[str(head.value)]
    return None


def _receiver(found: Structure, dot: int) -> str | None:
    """The type of the receiver ending just before the ``.`` at ``dot``, when a literal shows it."""
    last = dot - 1
    token = found.tokens[last]
    if token.kind in LITERALS:
        return _kind(found, last, last)
    if token.kind == "op" and token.value in _CLOSERS:
        opened = found.opening.get(last)
        if opened is None:
            return None
        before = found.tokens[opened - 1] if opened else None
        if token.value == ")" and before is not None and before.kind == "id":
            if opened >= 2 and found.tokens[opened - 2].value == ".":
                return None
            return _kind(found, opened - 1, last)
        if token.value != ")" and (before is None or not (before.kind in _VALUE_END or before.value in _CLOSERS)):
            return _kind(found, opened, last)
    return None


def _available() -> str:
    names = sorted(set(GLOBAL_CALLS) | set(METHOD_CALLS) | COMPREHENSIONS)
    return ", ".join(names)


def calls(source: str, found: Structure) -> None:
    """Refuse a call the CEL library cannot evaluate (see the module docstring)."""
    tokens = found.tokens
    for index, token in enumerate(tokens):
        if not (token.kind == "op" and token.value == "(" and index and tokens[index - 1].kind == "id"):
            continue
        name = str(tokens[index - 1].value)
        where = _at(source, tokens[index - 1].start)
        args = _arguments(found, index)
        method = _method_name(tokens, index)
        if method is not None:
            if name in COMPREHENSIONS:
                if len(args) != 2 or args[0][0] != args[0][1] or tokens[args[0][0]].kind != "id":
                    raise CelCompileError(f"{name}() takes a variable name and a condition ({where})")
                continue
            if name not in METHOD_CALLS:
                _unknown(name, where, method=True)
            count, receivers, accepted = METHOD_CALLS[name]
            kind = _receiver(found, index - 2)
            arg_kinds = [_kind(found, a, b) for a, b in args]
        else:
            if name not in GLOBAL_CALLS:
                _unknown(name, where, method=False)
            count, accepted = GLOBAL_CALLS[name]
            receivers, kind = None, None
            arg_kinds = [_kind(found, a, b) for a, b in args]
        label = f"{'.' if method else ''}{name}()"
        if len(args) != count:
            extra = " (time zones are not supported by the CEL library)" if name in _TIME_PARTS + _CLOCK_PARTS else ""
            raise CelCompileError(f"{label} takes {count or 'no'} argument{'s' if count != 1 else ''} here, "
                                  f"not {len(args)}{extra} ({where})")
        if receivers is not None and kind is not None and kind not in receivers:
            raise CelCompileError(f"{label} is not defined on {_a(kind)} in the CEL library ({where}); "
                                  f"it is defined on {_choices(receivers)}")
        for arg_kind in arg_kinds:
            if accepted is not None and arg_kind is not None and arg_kind not in accepted:
                raise CelCompileError(f"{label} of {_a(arg_kind)} is not supported by the CEL library ({where}); "
                                      f"it takes {_choices(accepted)}")


def _a(kind: str) -> str:
    return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"


def _choices(kinds: frozenset[str]) -> str:
    names = sorted(kinds)
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _unknown(name: str, where: str, *, method: bool) -> NoReturn:
    if name in _STRING_EXTENSIONS:
        raise CelCompileError(f"function '{name}' is not provided by the CEL library ({where}): it has no "
                              "string extension functions; use contains, startsWith, endsWith or matches")
    if method and name in GLOBAL_CALLS:
        raise CelCompileError(f"'{name}' is a function, not a method ({where}): write {name}(x)")
    if not method and name in METHOD_CALLS:
        raise CelCompileError(f"'{name}' is a method, not a function ({where}): write x.{name}(…)")
    if name == "bool":
        raise CelCompileError(f"function 'bool' is not provided by the CEL library ({where}); "
                              "compare instead, e.g. x == \"true\"")
    raise CelCompileError(f"unknown function '{name}' ({where}); the CEL library provides {_available()}")
