"""Our one door to CEL: compile with load-time guards, evaluate with our functions.

Backed by the Rust ``common-expression-language`` package (module ``cel``), which is
fast but has sharp edges (DESIGN §6). Before the library sees an expression, the
guards of :mod:`.celguard` (on the tokens of :mod:`.lexer`) cap its size and
nesting and refuse ``map``/``filter``; after it compiles, calls the library cannot
evaluate are refused too. ``BaseException`` is caught around every library call (it
raises ``PanicException``). Evaluation isolation (worker processes, memory limit,
kill timer) lives in :mod:`auditkit.engine.workers`.
"""

from __future__ import annotations

import datetime as _dt
import functools
from dataclasses import dataclass
from typing import Any

from .celguard import KNOWN_FUNCTIONS, calls, structure
from .celguard import MAX_COMPREHENSION_DEPTH as MAX_COMPREHENSION_DEPTH
from .celguard import MAX_EXPR_CHARS as MAX_EXPR_CHARS
from .celguard import MAX_NESTING as MAX_NESTING
from .celguard import CelCompileError as CelCompileError


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
    shape = structure(source)
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
    calls(source, shape)
    unknown = sorted(f for f in functions if f[:1].isalpha() and f not in KNOWN_FUNCTIONS)
    if unknown:  # a call the token scan did not see: refuse rather than trust it
        raise CelCompileError(f"unknown function {unknown[0]!r}")
    return CompiledExpr(source, program, variables, functions, shape.bound, shape.params)


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
