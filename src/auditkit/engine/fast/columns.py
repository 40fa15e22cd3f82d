"""An ``each`` rule judged over all records at once, column by column.

Record fields become columns (built once per worker and shared by every check
reading the kind) and operators run over whole columns with C-level ``map()``;
results of operators are remembered too, so parts shared by several rules are
computed once (:class:`Columns`). Any doubt (a missing field, mixed types, an
element that would raise) abandons the attempt: the record-by-record closures
then decide, and they defer to CEL in turn. When no element raises anywhere,
evaluating both sides of ``&&`` and ``||`` changes nothing, so the column answer
is the closure answer.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter
from typing import Any

from .closures import Env, FastExpr, compile_node
from .nodes import And, Binary, Ident, Node, Not, Or, Select, free
from .parser import Unsupported, parse
from .values import ORDERED


class _Bail(Exception):  # noqa: N818
    """The column evaluation is not sure: judge record by record instead."""


@dataclass(frozen=True)
class _Col:
    values: list[Any]
    types: frozenset[type]
    key: Any = None
    """What the column is made of (fields, constants, operators), when that alone decides it."""


@dataclass(frozen=True)
class _Const:
    value: Any

    @property
    def key(self) -> Any:
        return ("const", type(self.value).__name__, repr(self.value))


Vec = _Col | _Const
VFn = Callable[[Env, list[Any], "Columns"], Vec]


class Columns:
    """Columns of record lists, built once per worker and kept with the records.

    Fields, and the results of operators over them: checks over the same evidence
    often share parts (``r.protected``, a comparison with the same parameter), and
    each part is then computed once. A result is remembered under what it is made
    of (:attr:`_Col.key`), so equal parts of different rules share it; at most
    ``MAX_REMEMBERED`` results are kept (oldest dropped first)."""

    MAX_REMEMBERED = 2048

    def __init__(self) -> None:
        self.cache: dict[tuple[int, str], tuple[list[Any], _Col]] = {}
        self.remembered: dict[tuple[int, Any], tuple[list[Any], _Col]] = {}

    def records(self, records: list[Any]) -> _Col:
        key = (id(records), "")
        hit = self.cache.get(key)
        if hit is None or hit[0] is not records:
            hit = (records, _Col(records, frozenset(map(type, records)), ("r",)))
            self.cache[key] = hit
        return hit[1]

    def remember(self, records: list[Any], key: Any, compute: Callable[[], _Col]) -> _Col:
        """``compute()``, or the column remembered under ``key`` for these records."""
        if key is None:
            return compute()
        slot = (id(records), key)
        hit = self.remembered.get(slot)
        if hit is not None and hit[0] is records:
            return hit[1]
        column = compute()
        while self.remembered and len(self.remembered) >= self.MAX_REMEMBERED:
            del self.remembered[next(iter(self.remembered))]
        self.remembered[slot] = (records, _Col(column.values, column.types, key))
        return self.remembered[slot][1]

    def field(self, records: list[Any], name: str) -> _Col:
        key = (id(records), name)
        hit = self.cache.get(key)
        if hit is None or hit[0] is not records:
            try:
                values = list(map(itemgetter(name), records))
            except Exception:  # noqa: BLE001 - a record without the field, or not a map
                raise _Bail from None
            hit = (records, _Col(values, frozenset(map(type, values)), ("field", name)))
            self.cache[key] = hit
        return hit[1]


def _key(*parts: Any) -> Any:
    """The key of an operator's column: None unless every operand has one."""
    return None if any(part is None for part in parts[1:]) else parts


def _column(vec: Vec, size: int) -> _Col:
    if isinstance(vec, _Col):
        return vec
    return _Col([vec.value] * size, frozenset([type(vec.value)]))


_BOOL = frozenset([bool])
_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq, "!=": operator.ne,
}


def _bools(values: list[Any]) -> _Col:
    return _Col(values, _BOOL if values else frozenset())


def compile_columns(node: Node, var: str) -> VFn:  # noqa: C901 - one case per node kind
    """The column function of ``node`` over the records bound to ``var``."""
    if var not in free(node):
        scalar = compile_node(node)

        def constant(env: Env, records: list[Any], columns: Columns) -> Vec:
            try:
                return _Const(scalar(env))
            except Exception:  # noqa: BLE001
                raise _Bail from None

        return constant
    if isinstance(node, Ident):  # the record variable itself
        return lambda env, records, columns: columns.records(records)
    if isinstance(node, Select):
        target, name = compile_columns(node.target, var), node.field

        def select(env: Env, records: list[Any], columns: Columns) -> Vec:
            base = target(env, records, columns)
            assert isinstance(base, _Col)
            if base.values is records:
                return columns.field(records, name)
            try:
                values = list(map(itemgetter(name), base.values))
            except Exception:  # noqa: BLE001
                raise _Bail from None
            return _Col(values, frozenset(map(type, values)))

        return select
    if isinstance(node, Not):
        inner = compile_columns(node.operand, var)

        def negate(env: Env, records: list[Any], columns: Columns) -> Vec:
            col = _column(inner(env, records, columns), len(records))
            if not col.types <= _BOOL:
                raise _Bail
            return columns.remember(records, _key("not", col.key),
                                    lambda: _bools(list(map(operator.not_, col.values))))

        return negate
    if isinstance(node, And | Or):
        left, right = compile_columns(node.left, var), compile_columns(node.right, var)
        decisive = isinstance(node, Or)
        tag = "or" if decisive else "and"
        combine = operator.or_ if decisive else operator.and_

        def logic(env: Env, records: list[Any], columns: Columns) -> Vec:
            a = left(env, records, columns)
            if isinstance(a, _Const):
                if a.value is decisive:
                    return a
                if a.value is not (not decisive):
                    raise _Bail
                b = _column(right(env, records, columns), len(records))
                if not b.types <= _BOOL:
                    raise _Bail
                return b
            b = _column(right(env, records, columns), len(records))
            if not a.types <= _BOOL or not b.types <= _BOOL:
                raise _Bail
            return columns.remember(records, _key(tag, a.key, b.key),
                                    lambda: _bools(list(map(combine, a.values, b.values))))

        return logic
    if isinstance(node, Binary) and node.op in _OPS:
        return _vcompare(node.op, compile_columns(node.left, var), compile_columns(node.right, var))
    if isinstance(node, Binary) and node.op == "in":
        return _vcontains(compile_columns(node.left, var), compile_columns(node.right, var))
    scalar = compile_node(node)

    def each_record(env: Env, records: list[Any], columns: Columns) -> Vec:
        values = []
        try:
            for record in records:
                env[var] = record
                values.append(scalar(env))
        except Exception:  # noqa: BLE001
            raise _Bail from None
        return _Col(values, frozenset(map(type, values)))

    return each_record


def _vcompare(op: str, left: VFn, right: VFn) -> VFn:
    function = _OPS[op]
    ordering = op not in ("==", "!=")

    def compare(env: Env, records: list[Any], columns: Columns) -> Vec:
        a, b = left(env, records, columns), right(env, records, columns)
        return columns.remember(records, _key(op, a.key, b.key), lambda: computed(a, b, len(records)))

    def computed(a: Vec, b: Vec, size: int) -> _Col:
        if isinstance(b, _Const) and isinstance(a, _Col) and not ordering:
            constant = b.value
            if type(constant) is str:  # equal only to the same string, in CEL and Python
                return _bools(list(map(function, a.values, repeat(constant))))
            if constant is None or type(constant) is bool:
                same = operator.is_ if op == "==" else operator.is_not
                return _bools(list(map(same, a.values, repeat(constant))))
        ca, cb = _column(a, size), _column(b, size)
        kinds = ca.types | cb.types
        if len(kinds) > 1 or not kinds <= frozenset(ORDERED):
            if kinds:
                raise _Bail
            return _bools([])
        return _bools(list(map(function, ca.values, cb.values)))

    return compare


def _vcontains(left: VFn, right: VFn) -> VFn:
    def member(env: Env, records: list[Any], columns: Columns) -> Vec:
        a, b = left(env, records, columns), right(env, records, columns)
        if not isinstance(b, _Const) or isinstance(a, _Const):
            raise _Bail
        return columns.remember(records, _key("in", a.key, b.key), lambda: computed(a, b))

    def computed(a: _Col, b: _Const) -> _Col:
        collection = b.value
        if type(collection) is list and all(type(e) is str for e in collection):
            if not a.types <= frozenset([str, type(None)]):
                raise _Bail
            return _bools(list(map(frozenset(collection).__contains__, a.values)))
        if type(collection) is dict and a.types <= frozenset([str]):
            return _bools(list(map(collection.__contains__, a.values)))
        raise _Bail

    return member


@dataclass(frozen=True)
class FastRule:
    """An ``each`` rule over record variable ``r``: judged over columns, or record by record."""

    record: FastExpr
    columns: VFn

    def judge_all(self, env: Env, records: list[Any], columns: Columns) -> list[bool] | None:
        """Every record's verdict when all are certain bools; None to go record by record."""
        try:
            result = self.columns(env, records, columns)
        except _Bail:
            return None
        except Exception:  # noqa: BLE001
            return None
        if isinstance(result, _Const):
            return [result.value] * len(records) if type(result.value) is bool else None
        return result.values if result.types <= _BOOL else None


def compile_rule(source: str, var: str = "r") -> FastRule | None:
    """Compile an ``each`` rule once for both ways of judging it; None outside the subset."""
    node = parse(source)
    if node is None:
        return None
    try:
        return FastRule(FastExpr(source, compile_node(node)), compile_columns(node, var))
    except (Unsupported, RecursionError):
        return None
