"""Our one door to CEL: compile with load-time guards, evaluate with our functions.

Backed by the Rust ``common-expression-language`` package (module ``cel``), which is
fast but has sharp edges (DESIGN §6): no cost limit, a segfault on huge flat
expressions, ``PanicException`` (a ``BaseException``) on deep nesting, and
quadratic ``map``/``filter``. So before the library sees an expression we cap its
size, its parenthesis and comprehension nesting, refuse ``map``/``filter`` and
unknown functions, and we catch ``BaseException`` around every library call.
Evaluation isolation (worker processes, memory limit, kill timer) lives in
:mod:`auditkit.engine.workers`.
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
from dataclasses import dataclass
from typing import Any

MAX_EXPR_CHARS = 4000
MAX_NESTING = 24
MAX_COMPREHENSION_DEPTH = 3
_COMPREHENSIONS = {"all", "exists", "exists_one"}
_FORBIDDEN_MACROS = {"map", "filter"}
_FUNCTIONS = {
    "size", "contains", "startsWith", "endsWith", "matches", "lowerAscii", "upperAscii",
    "int", "uint", "double", "string", "bool", "bytes", "timestamp", "duration", "type", "dyn",
    "getFullYear", "getMonth", "getDayOfMonth", "getDayOfYear", "getDayOfWeek", "getDate",
    "getHours", "getMinutes", "getSeconds", "trim", "split", "join", "replace", "indexOf",
    "in", "days_between",
}
_MEMBER_CALL = re.compile(r"\.\s*([A-Za-z_][A-Za-z0-9_]*)\s*\($")
_BOUND = re.compile(r"\.\s*(?:all|exists|exists_one|map|filter)\s*\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*,")
PARAM_REF = re.compile(r"\bparams\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)|\bparams\s*\[\s*['\"]([^'\"]+)['\"]\s*\]")


class CelCompileError(ValueError):
    """An expression is refused by a guard or does not compile; the message is one line."""


def _strip_strings(source: str) -> str:
    """Blank out string literals so the guards only see code."""
    out: list[str] = []
    quote: str | None = None
    escaped = False
    for ch in source:
        if quote is None:
            if ch in "\"'":
                quote = ch
            out.append(ch)
        else:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = None
                out.append(ch)
                continue
            out.append(" " if ch != "\n" else "\n")
    return "".join(out)


def _guard(source: str) -> str:
    if len(source) > MAX_EXPR_CHARS:
        raise CelCompileError(f"expression is {len(source)} characters, over the {MAX_EXPR_CHARS} limit")
    code = _strip_strings(source)
    stack: list[bool] = []
    depth = comprehension = deepest = 0
    for index, ch in enumerate(code):
        if ch in "([{":
            macro = False
            if ch == "(":
                found = _MEMBER_CALL.search(code[max(0, index - 40) : index + 1])
                if found and found.group(1) in _FORBIDDEN_MACROS:
                    raise CelCompileError(
                        f"'{found.group(1)}' is not allowed (quadratic in the CEL library); "
                        "use all/exists/exists_one/size"
                    )
                macro = bool(found and found.group(1) in _COMPREHENSIONS)
            stack.append(macro)
            depth += 1
            comprehension += macro
            deepest = max(deepest, comprehension)
            if depth > MAX_NESTING:
                raise CelCompileError(f"nesting deeper than {MAX_NESTING} levels")
            if deepest > MAX_COMPREHENSION_DEPTH:
                raise CelCompileError(f"comprehensions nested deeper than {MAX_COMPREHENSION_DEPTH}")
        elif ch in ")]}":
            if stack:
                comprehension -= stack.pop()
                depth -= 1
    return code


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
    code = _guard(source)
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
    # names from the source at the spans found in the string-blanked code: params["ac-02_odp.01"] keeps its key
    params = frozenset(m.group(1) or source[m.start(2):m.end(2)] for m in PARAM_REF.finditer(code))
    return CompiledExpr(
        source, program, variables, functions, frozenset(_BOUND.findall(code)), params
    )


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
