"""A plain-Python evaluator for the common subset of CEL, equal to CEL wherever it answers.

Converting evidence into a CEL context costs ~6 µs a record; the same predicates
evaluated over plain Python values cost ~0.1 µs. An expression is parsed once
(:mod:`.parser`, over the tokens of :mod:`auditkit.engine.lexer`, the lexer the
CEL load-time guards of :mod:`auditkit.engine.celguard` read too) into typed nodes (:mod:`.nodes`), compiled into
closures (:mod:`.closures`) whose operators follow CEL's value semantics
(:mod:`.values`); an ``each`` rule is also compiled to run over whole columns of
records (:mod:`.columns`). :mod:`.plain` tells whether CEL would read a value
exactly as Python holds it.

Subset: int/double/string/bool/null and list literals, identifiers, ``a.b``,
``a[i]``, ``size``, ``has``, ``days_between``, ``double``, the methods
``startsWith``/``endsWith``/``contains``/``size``, the macros
``all``/``exists``/``exists_one``, and the operators ``! - * / % + - < <= > >= ==
!= in && || ?:``. Anything else compiles to None and the engine uses CEL.

Rule: on the happy path the answer is exactly what the installed CEL library
(``common-expression-language`` 0.10) answers; whenever the evaluator is not sure
— a missing key, a type mix, an overflow, a division by zero, a non-bool where a
bool is due, anything unexpected — it raises :class:`Fallback` and the engine
re-evaluates the check with CEL, which then gives the real result or error.
Differential tests against the library keep it so (``tests/engine/test_fast.py``).
"""

from __future__ import annotations

from .closures import FastExpr, compile_fast
from .columns import Columns, FastRule, compile_rule
from .parser import INT_MAX, INT_MIN, parse
from .plain import plain
from .values import Fallback

__all__ = ["INT_MAX", "INT_MIN", "Columns", "Fallback", "FastExpr", "FastRule", "compile_fast", "compile_rule",
           "parse", "plain"]
