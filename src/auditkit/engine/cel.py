"""Our one door to CEL: compile with load-time guards, evaluate with our functions.

Backed by the Rust ``common-expression-language`` package (module ``cel``), which is
fast but has sharp edges (DESIGN §6): no cost limit, a segfault on huge flat
expressions, ``PanicException`` (a ``BaseException``) on deep nesting, and
quadratic ``map``/``filter``. So before the library sees an expression we cap its
size, its parenthesis and comprehension nesting, refuse ``map``/``filter`` and
unknown functions (reading its tokens from :mod:`.lexer`, the lexer the fast path
parses with), and we catch ``BaseException`` around every library call.
Evaluation isolation (worker processes, memory limit, kill timer) lives in
:mod:`auditkit.engine.workers`.
"""

from __future__ import annotations

import datetime as _dt
import functools
from dataclasses import dataclass
from typing import Any

from .lexer import Token, tokens

MAX_EXPR_CHARS = 4000
MAX_NESTING = 24
MAX_COMPREHENSION_DEPTH = 3
_COMPREHENSIONS = {"all", "exists", "exists_one"}
_FORBIDDEN_MACROS = {"map", "filter"}
_MACRO_NAMES = _COMPREHENSIONS | _FORBIDDEN_MACROS
_FUNCTIONS = {
    "size", "contains", "startsWith", "endsWith", "matches", "lowerAscii", "upperAscii",
    "int", "uint", "double", "string", "bool", "bytes", "timestamp", "duration", "type", "dyn",
    "getFullYear", "getMonth", "getDayOfMonth", "getDayOfYear", "getDayOfWeek", "getDate",
    "getHours", "getMinutes", "getSeconds", "trim", "split", "join", "replace", "indexOf",
    "in", "days_between",
}
class CelCompileError(ValueError):
    """An expression is refused by a guard or does not compile; the message is one line."""


def guard(source: str) -> list[Token]:
    """Refuse what the CEL library cannot be trusted with; return the tokens (:mod:`.lexer`).

    Too long, brackets nested too deep, comprehensions nested too deep, or a
    ``map``/``filter`` macro: :class:`CelCompileError`. What is inside a string is
    never taken for code."""
    if len(source) > MAX_EXPR_CHARS:
        raise CelCompileError(f"expression is {len(source)} characters, over the {MAX_EXPR_CHARS} limit")
    found = tokens(source)
    stack: list[bool] = []
    comprehension = 0
    for index, token in enumerate(found):
        if token.kind != "op":
            continue
        if token.value in ("(", "[", "{"):
            macro = False
            name = _member_call(found, index)
            if name in _FORBIDDEN_MACROS:
                raise CelCompileError(
                    f"'{name}' is not allowed (quadratic in the CEL library); use all/exists/exists_one/size"
                )
            macro = name in _COMPREHENSIONS
            stack.append(macro)
            comprehension += macro
            if len(stack) > MAX_NESTING:
                raise CelCompileError(f"nesting deeper than {MAX_NESTING} levels")
            if comprehension > MAX_COMPREHENSION_DEPTH:
                raise CelCompileError(f"comprehensions nested deeper than {MAX_COMPREHENSION_DEPTH}")
        elif token.value in (")", "]", "}") and stack:
            comprehension -= stack.pop()
    return found


def _member_call(found: list[Token], index: int) -> str | None:
    """``NAME`` when the ``(`` at ``index`` opens a member call ``.NAME(``."""
    if found[index].value == "(" and index >= 2 and found[index - 1].kind == "id":
        dot = found[index - 2]
        if dot.kind == "op" and dot.value == ".":
            return str(found[index - 1].value)
    return None


def _bound(found: list[Token]) -> frozenset[str]:
    """Names bound by comprehensions: ``.all(NAME, …``."""
    names = set()
    for index, token in enumerate(found[:-2]):
        if token.kind == "op" and token.value == "(" and _member_call(found, index) in _MACRO_NAMES:
            name, comma = found[index + 1], found[index + 2]
            if name.kind == "id" and comma.kind == "op" and comma.value == ",":
                names.add(str(name.value))
    return frozenset(names)


def param_references(found: list[Token]) -> frozenset[str]:
    """Parameters read as ``params.NAME`` or ``params["NAME"]`` (not ``x.params.NAME``)."""
    names = set()
    for index, token in enumerate(found[:-2]):
        if token.kind != "id" or token.value != "params":
            continue
        if index and found[index - 1].kind == "op" and found[index - 1].value == ".":
            continue
        after, name = found[index + 1], found[index + 2]
        if after.kind == "op" and after.value == "." and name.kind == "id":
            names.add(str(name.value))
        elif (after.kind == "op" and after.value == "[" and name.kind == "str"
              and found[index + 3].kind == "op" and found[index + 3].value == "]"):
            names.add(str(name.value))
    return frozenset(names)


@dataclass(frozen=True)
class CompiledExpr:
    """A guarded, compiled CEL expression and what it references."""

    source: str
    program: Any
    variables: frozenset[str]
    functions: frozenset[str]
    bound: frozenset[str]
    params: frozenset[str]

    @property
    def free_variables(self) -> frozenset[str]:
        """Variables the context must supply (comprehension-bound names removed)."""
        return self.variables - self.bound


@functools.lru_cache(maxsize=65536)
def compile_expr(source: str) -> CompiledExpr:
    """Compile ``source`` after the guards; raise :class:`CelCompileError` on any refusal.

    Cached: the catalog loader, the planner and the workers ask for the same expressions."""
    found = guard(source)
    import cel

    try:
        program = cel.compile(source)
        variables = frozenset(program.variables())
        functions = frozenset(program.functions())
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - the Rust binding raises PanicException
        message = str(exc).splitlines()
        detail = next((line for line in message if "ERROR" in line or "error" in line), message[0] if message else "")
        detail = detail.split("ERROR: <input>:", 1)[-1].strip()
        raise CelCompileError(f"CEL does not compile: {detail[:300]}") from None
    named = {f for f in functions if f[:1].isalpha()}
    unknown = sorted(named - _FUNCTIONS)
    if unknown:
        raise CelCompileError(f"unknown function {unknown[0]!r}")
    return CompiledExpr(source, program, variables, functions, _bound(found), param_references(found))


def _as_date(value: Any) -> _dt.date:
    if not isinstance(value, str) or len(value) < 10:
        raise ValueError(f"days_between expects ISO date strings, got {value!r}")
    return _dt.date.fromisoformat(value[:10])


def days_between(start: Any, end: Any) -> int:
    """Whole days from ``start`` to ``end`` (ISO date or timestamp strings)."""
    return (_as_date(end) - _as_date(start)).days


FUNCTIONS: dict[str, Any] = {"days_between": days_between}


def make_context(variables: dict[str, Any]) -> Any:
    """A reusable CEL context holding ``variables`` and our functions."""
    import cel

    return cel.Context(variables, FUNCTIONS)
