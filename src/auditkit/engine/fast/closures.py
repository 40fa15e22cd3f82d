"""Typed nodes compiled once into a tree of Python closures over an environment dict.

A closure returns CEL's value or raises :class:`~.values.Fallback` (or any other
exception, which :class:`FastExpr` turns into one); the engine then asks CEL.
``&&`` and ``||`` absorb an error on one side when the other decides, and
``all``/``exists`` stop at the first deciding element but fail on an error met
before it, as the library does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import values as v
from .nodes import (
    And,
    Binary,
    Call,
    Comprehension,
    Cond,
    Has,
    Ident,
    Index,
    ListLit,
    Lit,
    Method,
    Neg,
    Node,
    Not,
    Or,
    Select,
)
from .parser import Unsupported, parse
from .values import MISSING, Fallback

Env = dict[str, Any]
Fn = Callable[[Env], Any]


def compile_node(node: Node) -> Fn:  # noqa: C901 - one case per node kind
    """The closure computing ``node``'s value over an environment."""
    match node:
        case Lit(value):
            return lambda env: value
        case Ident(name):
            return lambda env: env[name]
        case Select(Ident(var), field):
            return lambda env: env[var][field]  # KeyError/TypeError: Fallback at the top
        case Select(target_node, field):
            target = compile_node(target_node)
            return lambda env: target(env)[field]
        case Index(target_node, key_node):
            return _index(compile_node(target_node), compile_node(key_node))
        case ListLit(items_nodes):
            items = [compile_node(item) for item in items_nodes]
            return lambda env: [item(env) for item in items]
        case Not(operand):
            return _negate(compile_node(operand))
        case Neg(operand):
            return _minus(compile_node(operand))
        case And(left, right):
            return _and(compile_node(left), compile_node(right))
        case Or(left, right):
            return _or(compile_node(left), compile_node(right))
        case Cond(test, then, other):
            return _choose(compile_node(test), compile_node(then), compile_node(other))
        case Binary(op, left, right):
            return _binary(op, left, right)
        case Has(target_node, field):
            return _has(compile_node(target_node), field)
        case Call(name, args_nodes):
            args = [compile_node(a) for a in args_nodes]
            if name == "size":
                return lambda env: v.size(args[0](env))
            if name == "double":
                return lambda env: v.double(args[0](env))
            return lambda env: v.days(args[0](env), args[1](env))
        case Method("size", target_node, _):
            target = compile_node(target_node)
            return lambda env: v.size(target(env))
        case Method(name, target_node, (arg_node,)):
            method, target, arg = v.str_method(name), compile_node(target_node), compile_node(arg_node)
            return lambda env: method(target(env), arg(env))
        case Comprehension(macro, target_node, var, body):
            return _comprehension(macro, compile_node(target_node), var, compile_node(body))
    raise Unsupported(type(node).__name__)  # pragma: no cover - the parser makes no other node


def _negate(inner: Fn) -> Fn:
    def negate(env: Env) -> bool:
        value = inner(env)
        if value is True:
            return False
        if value is False:
            return True
        raise Fallback("! of a non-bool")

    return negate


def _minus(inner: Fn) -> Fn:
    def minus(env: Env) -> Any:
        value = inner(env)
        if type(value) is int:
            return v.int64(-value)
        if type(value) is float:
            return -value
        raise Fallback("- of a non-number")

    return minus


def _choose(test: Fn, then: Fn, other: Fn) -> Fn:
    def choose(env: Env) -> Any:
        decided = test(env)
        if decided is True:
            return then(env)
        if decided is False:
            return other(env)
        raise Fallback("?: on a non-bool")

    return choose


def _has(target: Fn, field: str) -> Fn:
    def has(env: Env) -> bool:
        value = target(env)
        if type(value) is not dict:
            raise Fallback("has() on a non-map")
        return field in value

    return has


def _index(target: Fn, key: Fn) -> Fn:
    def index(env: Env) -> Any:
        container = target(env)
        k = key(env)
        tc = type(container)
        if tc is list:
            if type(k) is not int or not 0 <= k < len(container):
                raise Fallback("bad list index")
            return container[k]
        if tc is dict:
            if type(k) is not str:
                raise Fallback("non-string map key")
            return container[k]
        raise Fallback("index into a scalar")

    return index


def _and(left: Fn, right: Fn) -> Fn:
    def conjunction(env: Env) -> bool:
        try:
            a = left(env)
        except Exception:  # noqa: BLE001 - CEL lets a false right side absorb the error
            a = MISSING
        if a is False:
            return False
        b = right(env)
        if a is True:
            return v.as_bool(b)
        if b is False:
            return False
        raise Fallback("&& with an error or non-bool")

    return conjunction


def _or(left: Fn, right: Fn) -> Fn:
    def disjunction(env: Env) -> bool:
        try:
            a = left(env)
        except Exception:  # noqa: BLE001 - CEL lets a true right side absorb the error
            a = MISSING
        if a is True:
            return True
        b = right(env)
        if a is False:
            return v.as_bool(b)
        if b is True:
            return True
        raise Fallback("|| with an error or non-bool")

    return disjunction


def _binary(op: str, left_node: Node, right_node: Node) -> Fn:
    left, right = compile_node(left_node), compile_node(right_node)
    constant = right_node.value if isinstance(right_node, Lit) else MISSING
    if op in ("==", "!=") and (type(constant) is str or constant is None or type(constant) is bool):
        # str, null and bool equal only themselves in CEL and in Python (identity for null/bool)
        if type(constant) is str:
            if op == "==":
                return lambda env: left(env) == constant
            return lambda env: left(env) != constant
        if op == "==":
            return lambda env: left(env) is constant
        return lambda env: left(env) is not constant
    function = v.BINARY[op]
    return lambda env: function(left(env), right(env))


def _comprehension(macro: str, target: Fn, var: str, body: Fn) -> Fn:
    def run(env: Env) -> bool:
        items = target(env)
        if type(items) is not list:
            raise Fallback(f"{macro} over a non-list")
        saved = env.get(var, MISSING)
        try:
            if macro == "all":
                for item in items:
                    env[var] = item
                    value = body(env)
                    if value is False:
                        return False
                    if value is not True:
                        raise Fallback("all() body is not a bool")
                return True
            if macro == "exists":
                for item in items:
                    env[var] = item
                    value = body(env)
                    if value is True:
                        return True
                    if value is not False:
                        raise Fallback("exists() body is not a bool")
                return False
            count = 0
            for item in items:
                env[var] = item
                value = body(env)
                if value is True:
                    count += 1
                elif value is not False:
                    raise Fallback("exists_one() body is not a bool")
            return count == 1
        finally:
            if saved is MISSING:
                env.pop(var, None)
            else:
                env[var] = saved

    return run


@dataclass(frozen=True)
class FastExpr:
    """A compiled fast-path expression: ``value(env)`` and ``test(env)``, or raise Fallback."""

    source: str
    fn: Fn

    def value(self, env: Env) -> Any:
        """The expression's value over ``env`` (plain Python values); Fallback when unsure."""
        try:
            return self.fn(env)
        except Fallback:
            raise
        except Exception as exc:  # noqa: BLE001 - anything unexpected: let CEL decide
            raise Fallback(f"{type(exc).__name__}: {exc}") from None

    def test(self, env: Env) -> bool:
        """The expression's value, which must be a bool."""
        value = self.value(env)
        if value is True or value is False:
            return value
        raise Fallback("result is not a bool")


def compile_fast(source: str) -> FastExpr | None:
    """Compile ``source`` for the fast path once; None when it is outside the subset."""
    node = parse(source)
    if node is None:
        return None
    try:
        return FastExpr(source, compile_node(node))
    except (Unsupported, RecursionError):
        return None
