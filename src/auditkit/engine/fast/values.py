"""Value semantics of the fast subset: CEL's answer on plain Python values, or :class:`Fallback`.

Measured against the installed CEL library (``common-expression-language`` 0.10),
including where it departs from the CEL spec: ``size()`` of a string counts UTF-8
bytes; different scalar types are unequal, but an int compared with a double is
left to CEL. Whenever the answer is not certain (a type mix, an overflow, a
division by zero) :class:`Fallback` is raised and CEL decides.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..cel import days_between
from .parser import INT_MAX, INT_MIN

NUMERIC = (int, float, bool)
ORDERED = (str, int, float, bool)
MISSING = object()


class Fallback(Exception):  # noqa: N818 - a signal, not an error
    """The fast path is not sure of CEL's answer here: evaluate with CEL instead."""


def int64(value: int) -> int:
    if value < INT_MIN or value > INT_MAX:
        raise Fallback("int64 overflow")
    return value


def as_bool(value: Any) -> bool:
    if value is True or value is False:
        return value
    raise Fallback("not a bool")


def equal(a: Any, b: Any) -> bool:
    """CEL ``==`` where it is certain; different scalar types are unequal, as in CEL."""
    ta = type(a)
    tb = type(b)
    if ta is tb:
        if ta is list or ta is dict:
            raise Fallback("aggregate equality")
        return bool(a == b)
    if ta in NUMERIC and tb in NUMERIC:
        if ta is bool or tb is bool:
            return False
        raise Fallback("int compared with double")
    return False


def _cmp_types(a: Any, b: Any) -> None:
    ta = type(a)
    if ta is not type(b) or ta not in ORDERED:
        raise Fallback("ordering of different types")


def _lt(a: Any, b: Any) -> bool:
    _cmp_types(a, b)
    return bool(a < b)


def _le(a: Any, b: Any) -> bool:
    _cmp_types(a, b)
    return bool(a <= b)


def _gt(a: Any, b: Any) -> bool:
    _cmp_types(a, b)
    return bool(a > b)


def _ge(a: Any, b: Any) -> bool:
    _cmp_types(a, b)
    return bool(a >= b)


def _ne(a: Any, b: Any) -> bool:
    return not equal(a, b)


def contains(item: Any, collection: Any) -> bool:
    """CEL ``item in collection`` for lists and maps."""
    tc = type(collection)
    ta = type(item)
    if tc is list:
        if ta is str or item is None:
            return item in collection
        if ta is int or ta is bool or (ta is float and item == item):
            for element in collection:
                te = type(element)
                if te is not ta and te in NUMERIC:
                    raise Fallback("mixed numeric list")
                if te is list or te is dict:
                    raise Fallback("aggregate in list")
            return item in collection
        raise Fallback("in with an aggregate")
    if tc is dict:
        if ta is not str and ta is not int and ta is not bool:
            raise Fallback("not a map key type")  # CEL raises for null, double, list, map
        return item in collection
    raise Fallback("in over a non-collection")


def _add(a: Any, b: Any) -> Any:
    ta = type(a)
    if ta is not type(b):
        raise Fallback("mixed types")
    if ta is int:
        return int64(a + b)
    if ta is float or ta is str or ta is list:
        return a + b
    raise Fallback("+")


def _sub(a: Any, b: Any) -> Any:
    ta = type(a)
    if ta is not type(b):
        raise Fallback("mixed types")
    if ta is int:
        return int64(a - b)
    if ta is float:
        return a - b
    raise Fallback("-")


def _mul(a: Any, b: Any) -> Any:
    ta = type(a)
    if ta is not type(b):
        raise Fallback("mixed types")
    if ta is int:
        return int64(a * b)
    if ta is float:
        return a * b
    raise Fallback("*")


def _div(a: Any, b: Any) -> Any:
    ta = type(a)
    if ta is not type(b):
        raise Fallback("mixed types")
    if ta is int:
        if b == 0:
            raise Fallback("division by zero")
        quotient = abs(a) // abs(b)
        return int64(quotient if (a < 0) == (b < 0) else -quotient)
    if ta is float:
        if b == 0.0:
            raise Fallback("division by zero")
        return a / b
    raise Fallback("/")


def _mod(a: Any, b: Any) -> Any:
    if type(a) is not int or type(b) is not int:
        raise Fallback("% on non-ints")
    if b == 0:
        raise Fallback("modulo by zero")
    if a == INT_MIN and b == -1:
        raise Fallback("overflow")
    rest = abs(a) % abs(b)
    return -rest if a < 0 else rest


def size(value: Any) -> int:
    """CEL ``size``: list and map length; for a string the library counts UTF-8 bytes."""
    tv = type(value)
    if tv is str:
        return len(value) if value.isascii() else len(value.encode("utf-8"))
    if tv is list or tv is dict:
        return len(value)
    raise Fallback("size of a scalar")


def double(value: Any) -> float:
    tv = type(value)
    if tv is float:
        return float(value)
    if tv is int:
        return float(value)
    raise Fallback("double() of a non-number")


def days(a: Any, b: Any) -> int:
    if type(a) is not str or type(b) is not str:
        raise Fallback("days_between of non-strings")
    return days_between(a, b)


def str_method(name: str) -> Callable[[Any, Any], bool]:
    def method(target: Any, arg: Any) -> bool:
        if type(target) is not str or type(arg) is not str:
            raise Fallback(f"{name} on non-strings")
        if name == "startsWith":
            return target.startswith(arg)
        if name == "endsWith":
            return target.endswith(arg)
        return arg in target

    return method


BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "<": _lt, "<=": _le, ">": _gt, ">=": _ge, "==": equal, "!=": _ne, "in": contains,
    "+": _add, "-": _sub, "*": _mul, "/": _div, "%": _mod,
}
